"""Messages parsed from Meta and X webhook calls: normalised as polling does, own ones skipped."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from siar.connectors import PermanentError
from siar.connectors.http import HttpConnector
from siar.connectors.registry import NETWORK_CONNECTORS
from siar.connectors.x_auth import crc_response
from tests.unit.connectors.webhook_fakes import (
    instagram_comment,
    meta_call,
    page_comment,
    page_dm,
    threads_reply,
    x_call,
    x_dm,
    x_tweet,
)

AT = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
PAGE = "1001"


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


def connector(network: str, http: httpx.AsyncClient) -> HttpConnector:
    return next(cls for cls in NETWORK_CONNECTORS if cls.network == network)(http)


def body(payload: object) -> bytes:
    return json.dumps(payload, ensure_ascii=False).encode()


async def test_facebook_comments_replies_and_dms(http: httpx.AsyncClient) -> None:
    fb = connector("facebook", http)
    call = meta_call(
        "page",
        page_comment(PAGE, "c2", "Balasan 👍🏽", AT + timedelta(seconds=5), parent_id="c1"),
        page_comment(PAGE, "c1", "Kapan restock? 日本語 ok", AT),
        page_comment(PAGE, "c3", "ours", AT, author_id=PAGE),  # the Page itself
        page_comment(PAGE, "c4", "edited", AT, verb="edited"),
        page_dm(PAGE, "m.1", "psid_9", "halo kak", AT + timedelta(seconds=9)),
    )
    found = fb.parse_webhook(body(call))
    assert [(acct, m.network_message_id) for acct, m in found] == [
        (PAGE, "c1"),
        (PAGE, "c2"),
        (PAGE, "m.1"),
    ]
    first, reply, dm = (m for _, m in found)
    assert (first.kind, first.network_post_id, first.parent_network_id) == (
        "comment",
        f"{PAGE}_100",
        None,
    )
    assert first.text == "Kapan restock? 日本語 ok"  # mixed scripts intact
    assert (reply.kind, reply.parent_network_id, reply.text) == ("reply", "c1", "Balasan 👍🏽")
    assert (dm.kind, dm.author_handle, dm.sent_at) == ("dm", "psid_9", AT + timedelta(seconds=9))


async def test_messenger_echo_is_our_own(http: httpx.AsyncClient) -> None:
    dm = page_dm(PAGE, "m.2", PAGE, "we said this", AT)
    dm["messaging"][0]["message"]["is_echo"] = True
    assert connector("facebook", http).parse_webhook(body(meta_call("page", dm))) == []


async def test_instagram_comment(http: httpx.AsyncClient) -> None:
    found = connector("instagram", http).parse_webhook(
        body(meta_call("instagram", instagram_comment("ig_me", "17890", "Love it 😍", AT)))
    )
    [(account, message)] = found
    assert account == "ig_me"
    assert (message.kind, message.author_handle, message.network_post_id) == (
        "comment",
        "fan.gram",
        "media_1",
    )
    assert message.sent_at == AT


async def test_threads_reply(http: httpx.AsyncClient) -> None:
    found = connector("threads", http).parse_webhook(body(threads_reply("th_me", "r9", "nice", AT)))
    [(account, message)] = found
    assert account == "th_me"
    assert (message.kind, message.network_post_id, message.parent_network_id) == (
        "reply",
        "root_1",
        "root_1",
    )
    assert message.sent_at == AT


async def test_x_mentions_replies_and_dms(http: httpx.AsyncClient) -> None:
    me = "42"
    call = x_call(
        me,
        tweets=[
            x_tweet(me, "7002", "@brand the app is down &amp; nobody answers", AT, reply_to="7000"),
            x_tweet(me, "7001", "@brand hi", AT - timedelta(minutes=1), followers=90_000),
        ],
        dms=[x_dm(me, "9001", "77", "tolong dibantu 🙏", AT), x_dm(me, "9002", me, "ours", AT)],
    )
    found = connector("x", http).parse_webhook(body(call))
    assert [m.network_message_id for _, m in found] == ["7001", "7002", "9001"]
    mention, comment, dm = (m for _, m in found)
    assert (mention.kind, mention.author_followers) == ("mention", 90_000)
    assert (comment.kind, comment.parent_network_id, comment.text) == (
        "comment",
        "7000",
        "@brand the app is down & nobody answers",
    )
    assert (dm.kind, dm.parent_network_id, dm.author_handle) == ("dm", "42-77", "dm_fan")
    assert dm.author_followers == 250_000
    assert {account for account, _ in found} == {me}


async def test_x_own_posts_are_skipped(http: httpx.AsyncClient) -> None:
    own = x_tweet("42", "7003", "our post", AT)
    own["user"]["id_str"] = "42"
    assert connector("x", http).parse_webhook(body(x_call("42", tweets=[own]))) == []


def test_x_crc_answer_is_the_documented_hmac() -> None:
    # From X's docs: base64(HMAC-SHA256(consumer secret, crc_token)) prefixed "sha256=".
    digest = hmac.new(b"secret", b"tok", hashlib.sha256).digest()
    assert crc_response("tok", "secret") == {
        "response_token": "sha256=" + base64.b64encode(digest).decode()
    }


@pytest.mark.parametrize("raw", [b"not json", b"[1, 2]", b"\xff\xfe"])
@pytest.mark.parametrize("network", ["facebook", "x"])
async def test_malformed_bodies_are_refused(
    http: httpx.AsyncClient, network: str, raw: bytes
) -> None:
    with pytest.raises(PermanentError, match="webhook body"):
        connector(network, http).parse_webhook(raw)


async def test_networks_without_message_webhooks_say_so(http: httpx.AsyncClient) -> None:
    with pytest.raises(PermanentError, match="messages by webhook"):
        connector("mastodon", http).parse_webhook(b"{}")

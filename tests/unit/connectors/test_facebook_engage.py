"""Facebook Pages inbox, engagement, metrics, webhooks and pages against the Graph API (respx)."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
import respx

from siar.connectors import Engagement, PermanentError
from siar.connectors.facebook import FacebookPagesConnector
from tests.unit.connectors.facebook_fakes import (
    ACCOUNT,
    APP_SECRET,
    CREDENTIAL,
    GRAPH,
    PAGE,
    POST_ID,
    TOKEN,
)
from tests.unit.connectors.meta_fakes import form, graph_error


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as router:
        yield router


@pytest.fixture
async def fb() -> AsyncIterator[FacebookPagesConnector]:
    async with httpx.AsyncClient() as http:
        yield FacebookPagesConnector(http, app_secret=APP_SECRET)


# -- inbox ---------------------------------------------------------------------------------
def comments_page() -> dict[str, Any]:
    return {
        "data": [
            {
                "id": POST_ID,
                "comments": {
                    "data": [
                        {
                            "id": "777_3",
                            "message": "Thanks!",
                            "from": {"id": PAGE, "name": "Siar Bakery"},
                            "created_time": "2024-05-01T10:07:00+0000",
                            "parent": {"id": "777_2"},
                        },
                        {
                            "id": "777_2",
                            "message": "Do you deliver?",
                            "from": {"id": "9001", "name": "Ana"},
                            "created_time": "2024-05-01T10:05:00+0000",
                            "parent": {"id": "777_1"},
                        },
                        {
                            "id": "777_1",
                            "message": "Yum",
                            "created_time": "2024-05-01T10:03:00+0000",
                        },
                    ]
                },
            },
            {"id": "1015_5"},
        ]
    }


async def test_fetch_messages_returns_others_comments_oldest_first_with_a_cursor(
    api: respx.MockRouter, fb: FacebookPagesConnector
) -> None:
    route = api.get(f"{GRAPH}/{PAGE}/posts").respond(200, json=comments_page())
    page = await fb.fetch_messages(ACCOUNT, CREDENTIAL, None)
    fields = route.calls.last.request.url.params["fields"]
    assert "comments.filter(stream).order(reverse_chronological)" in fields
    assert [m.network_message_id for m in page.messages] == ["777_1", "777_2"]
    first, second = page.messages
    assert (first.author_handle, first.kind, first.network_post_id) == (
        "unknown",
        "comment",
        POST_ID,
    )
    assert (second.author_handle, second.author_name, second.kind) == ("9001", "Ana", "reply")
    assert second.parent_network_id == "777_1"
    assert page.cursor is not None
    again = await fb.fetch_messages(ACCOUNT, CREDENTIAL, page.cursor)
    assert again.messages == []
    assert again.cursor == page.cursor


# -- engagement ----------------------------------------------------------------------------
async def test_engagements_use_the_documented_edges(
    api: respx.MockRouter, fb: FacebookPagesConnector
) -> None:
    reply = api.post(f"{GRAPH}/777_2/comments").respond(200, json={"id": "777_4"})
    like = api.post(f"{GRAPH}/777_2/likes").respond(200, json={"success": True})
    hide = api.post(f"{GRAPH}/777_2").respond(200, json={"success": True})
    delete = api.delete(f"{GRAPH}/777_2").respond(200, json={"success": True})
    result = await fb.engage(
        ACCOUNT, CREDENTIAL, Engagement(action="reply", target_network_id="777_2", text="Yes!")
    )
    assert result.network_id == "777_4"
    assert form(reply.calls.last.request) == {"message": "Yes!"}
    await fb.engage(ACCOUNT, CREDENTIAL, Engagement(action="like", target_network_id="777_2"))
    assert like.called
    await fb.engage(ACCOUNT, CREDENTIAL, Engagement(action="hide", target_network_id="777_2"))
    assert form(hide.calls.last.request) == {"is_hidden": "true"}
    await fb.engage(ACCOUNT, CREDENTIAL, Engagement(action="delete", target_network_id="777_2"))
    assert delete.calls.last.request.headers["authorization"] == f"Bearer {TOKEN}"
    with pytest.raises(PermanentError, match="does not support dm"):
        await fb.engage(ACCOUNT, CREDENTIAL, Engagement(action="dm", target_network_id="9001"))
    with pytest.raises(PermanentError, match="needs text"):
        await fb.engage(ACCOUNT, CREDENTIAL, Engagement(action="reply", target_network_id="1"))


async def test_hide_answered_with_success_false_is_an_error(
    api: respx.MockRouter, fb: FacebookPagesConnector
) -> None:
    api.post(f"{GRAPH}/777_2").respond(200, json={"success": False})
    with pytest.raises(PermanentError):
        await fb.engage(ACCOUNT, CREDENTIAL, Engagement(action="hide", target_network_id="777_2"))


# -- metrics -------------------------------------------------------------------------------
async def test_account_metrics_read_followers_and_page_insights(
    api: respx.MockRouter, fb: FacebookPagesConnector
) -> None:
    api.get(f"{GRAPH}/{PAGE}").respond(200, json={"followers_count": 1200, "id": PAGE})
    insights = api.get(f"{GRAPH}/{PAGE}/insights").respond(
        200,
        json={
            "data": [
                {
                    "name": "page_media_view",
                    "period": "day",
                    "values": [{"value": 90}, {"value": 120}],
                },
                {
                    "name": "page_total_media_view_unique",
                    "period": "day",
                    "values": [{"value": 80}],
                },
                {"name": "page_post_engagements", "period": "day", "values": [{"value": 14}]},
            ]
        },
    )
    snapshot = await fb.account_metrics(ACCOUNT, CREDENTIAL)
    assert snapshot.metrics == {"followers": 1200, "views": 120, "reach": 80, "engagements": 14}
    assert not snapshot.partial
    params = insights.calls.last.request.url.params
    assert params["metric"] == "page_media_view,page_total_media_view_unique,page_post_engagements"
    assert params["period"] == "day"


async def test_account_metrics_are_partial_when_insights_are_refused(
    api: respx.MockRouter, fb: FacebookPagesConnector
) -> None:
    api.get(f"{GRAPH}/{PAGE}").respond(200, json={"followers_count": 40})
    api.get(f"{GRAPH}/{PAGE}/insights").respond(
        400, json=graph_error(100, "(#100) The value must be a valid insights metric")
    )
    snapshot = await fb.account_metrics(ACCOUNT, CREDENTIAL)
    assert snapshot.metrics == {"followers": 40}
    assert snapshot.partial


async def test_post_metrics_read_counts_and_post_insights(
    api: respx.MockRouter, fb: FacebookPagesConnector
) -> None:
    fields = api.get(f"{GRAPH}/{POST_ID}").respond(
        200,
        json={
            "id": POST_ID,
            "reactions": {"data": [], "summary": {"total_count": 31}},
            "comments": {"data": [], "summary": {"total_count": 4}},
        },
    )
    api.get(f"{GRAPH}/{POST_ID}/insights").respond(
        200,
        json={
            "data": [
                {"name": "post_media_view", "period": "lifetime", "values": [{"value": 500}]},
                {
                    "name": "post_total_media_view_unique",
                    "period": "lifetime",
                    "values": [{"value": 410}],
                },
                {"name": "post_clicks", "period": "lifetime", "values": [{"value": 12}]},
            ]
        },
    )
    snapshot = await fb.post_metrics(ACCOUNT, CREDENTIAL, POST_ID)
    assert snapshot.metrics == {
        "likes": 31,
        "comments": 4,
        "shares": 0,
        "views": 500,
        "reach": 410,
        "clicks": 12,
    }
    assert not snapshot.partial
    assert "reactions.summary(total_count)" in fields.calls.last.request.url.params["fields"]


# -- webhooks and pages --------------------------------------------------------------------
def test_webhook_signature(fb: FacebookPagesConnector) -> None:
    body = b'{"object":"page"}'
    signature = "sha256=" + hmac.new(b"s3", body, hashlib.sha256).hexdigest()
    assert fb.verify_webhook({"x-hub-signature-256": signature}, body, "s3")
    assert not fb.verify_webhook({"x-hub-signature-256": signature}, body, "s4")


async def test_managed_pages_hand_out_page_tokens(
    api: respx.MockRouter, fb: FacebookPagesConnector
) -> None:
    api.get(f"{GRAPH}/me/accounts").respond(
        200,
        json={
            "data": [
                {
                    "id": PAGE,
                    "name": "Siar Bakery",
                    "username": "siarbakery",
                    "access_token": "EAAP",
                },
                {"id": "1016", "name": "No token"},
            ]
        },
    )
    pages = await fb.managed_pages(CREDENTIAL)
    assert [(p.handle, p.network_account_id) for p in pages] == [("siarbakery", PAGE)]
    assert pages[0].credential.access_token.get_secret_value() == "EAAP"

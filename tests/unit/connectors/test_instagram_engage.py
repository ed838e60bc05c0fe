"""Instagram inbox, engagement, metrics and webhooks against the Instagram Graph API (respx)."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import respx

from siar.connectors import Engagement, PermanentError
from siar.connectors.instagram import InstagramConnector
from tests.unit.connectors.instagram_fakes import ACCOUNT, CREDENTIAL, GRAPH, IG_USER, MEDIA_ID
from tests.unit.connectors.meta_fakes import FakeHost, form, graph_error


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as router:
        yield router


@pytest.fixture
def host() -> FakeHost:
    return FakeHost()


@pytest.fixture
async def ig(host: FakeHost) -> AsyncIterator[InstagramConnector]:
    async with httpx.AsyncClient() as http:
        yield InstagramConnector(http, media_host=host, poll_interval_s=0, poll_timeout_s=5)


# -- inbox ---------------------------------------------------------------------------------
async def test_fetch_messages_flattens_comments_and_replies(
    api: respx.MockRouter, ig: InstagramConnector
) -> None:
    route = api.get(f"{GRAPH}/{IG_USER}/media").respond(
        200,
        json={
            "data": [
                {
                    "id": MEDIA_ID,
                    "comments": {
                        "data": [
                            {
                                "id": "180",
                                "text": "Recipe?",
                                "username": "ana",
                                "timestamp": "2024-05-01T10:02:00+0000",
                                "replies": {
                                    "data": [
                                        {
                                            "id": "181",
                                            "text": "Soon!",
                                            "username": "SiarBakery",
                                            "timestamp": "2024-05-01T10:03:00+0000",
                                        },
                                        {
                                            "id": "182",
                                            "text": "+1",
                                            "username": "ben",
                                            "timestamp": "2024-05-01T10:04:00+0000",
                                        },
                                    ]
                                },
                            }
                        ]
                    },
                },
                {"id": "2"},
            ]
        },
    )
    page = await ig.fetch_messages(ACCOUNT, CREDENTIAL, None)
    assert "replies{" in route.calls.last.request.url.params["fields"]
    assert [(m.network_message_id, m.kind, m.author_handle) for m in page.messages] == [
        ("180", "comment", "ana"),
        ("182", "reply", "ben"),
    ]
    assert page.messages[1].parent_network_id == "180"
    assert page.messages[1].network_post_id == MEDIA_ID
    again = await ig.fetch_messages(ACCOUNT, CREDENTIAL, page.cursor)
    assert again.messages == []


# -- engagement ----------------------------------------------------------------------------
async def test_engagements(api: respx.MockRouter, ig: InstagramConnector) -> None:
    reply = api.post(f"{GRAPH}/180/replies").respond(200, json={"id": "183"})
    hide = api.post(f"{GRAPH}/180").respond(200, json={"success": True})
    delete = api.delete(f"{GRAPH}/180").respond(200, json={"success": True})
    result = await ig.engage(
        ACCOUNT, CREDENTIAL, Engagement(action="reply", target_network_id="180", text="Soon!")
    )
    assert result.network_id == "183"
    assert form(reply.calls.last.request) == {"message": "Soon!"}
    await ig.engage(ACCOUNT, CREDENTIAL, Engagement(action="hide", target_network_id="180"))
    assert form(hide.calls.last.request) == {"hide": "true"}
    await ig.engage(ACCOUNT, CREDENTIAL, Engagement(action="delete", target_network_id="180"))
    assert delete.called
    for action in ("like", "repost", "dm"):
        engagement = Engagement.model_validate({"action": action, "target_network_id": "180"})
        with pytest.raises(PermanentError, match=f"does not support {action}"):
            await ig.engage(ACCOUNT, CREDENTIAL, engagement)


# -- metrics -------------------------------------------------------------------------------
async def test_account_metrics(api: respx.MockRouter, ig: InstagramConnector) -> None:
    api.get(f"{GRAPH}/{IG_USER}").respond(
        200, json={"followers_count": 5000, "follows_count": 80, "media_count": 312}
    )
    demographics = api.get(
        f"{GRAPH}/{IG_USER}/insights", params={"metric": "follower_demographics"}
    ).mock(side_effect=demographics_answers)
    insights = api.get(f"{GRAPH}/{IG_USER}/insights").respond(
        200,
        json={
            "data": [
                {"name": "reach", "period": "day", "total_value": {"value": 900}},
                {"name": "views", "period": "day", "total_value": {"value": 2500}},
                {"name": "accounts_engaged", "period": "day", "total_value": {"value": 70}},
            ]
        },
    )
    snapshot = await ig.account_metrics(ACCOUNT, CREDENTIAL)
    assert snapshot.metrics == {
        "followers": 5000,
        "following": 80,
        "posts": 312,
        "reach": 900,
        "views": 2500,
        "engagements": 70,
    }
    assert snapshot.partial  # total_interactions was not returned
    params = insights.calls.last.request.url.params
    assert params["metric_type"] == "total_value"
    assert params["period"] == "day"
    # Followers by age and gender as shares; city refused (too few followers), country empty.
    assert snapshot.dimensions == {
        "age": {"18-24": 0.25, "25-34": 0.75},
        "gender": {"female": 0.6, "male": 0.4},
    }
    asked = [c.request.url.params["breakdown"] for c in demographics.calls]
    assert asked == ["age", "gender", "country", "city"]
    assert {c.request.url.params["period"] for c in demographics.calls} == {"lifetime"}


def demographics_answers(request: httpx.Request) -> httpx.Response:
    """follower_demographics by one breakdown, as the Graph API answers it."""
    results = {
        "age": [("18-24", 250), ("25-34", 750)],
        "gender": [("F", 3), ("M", 2)],
        "country": [],
    }
    breakdown = request.url.params["breakdown"]
    if breakdown not in results:
        return httpx.Response(400, json=graph_error(100, "Not enough followers for demographics"))
    rows = [{"dimension_values": [k], "value": v} for k, v in results[breakdown]]
    body = {
        "data": [
            {
                "name": "follower_demographics",
                "period": "lifetime",
                "total_value": {"breakdowns": [{"dimension_keys": [breakdown], "results": rows}]},
            }
        ]
    }
    return httpx.Response(200, json=body)


async def test_post_metrics_are_partial_when_insights_are_refused(
    api: respx.MockRouter, ig: InstagramConnector
) -> None:
    api.get(f"{GRAPH}/{MEDIA_ID}").respond(200, json={"like_count": 12, "comments_count": 3})
    api.get(f"{GRAPH}/{MEDIA_ID}/insights").mock(
        side_effect=[
            httpx.Response(
                200,
                json={
                    "data": [
                        {"name": n, "period": "lifetime", "values": [{"value": v}]}
                        for n, v in (
                            ("reach", 40),
                            ("views", 60),
                            ("saved", 2),
                            ("shares", 1),
                            ("total_interactions", 18),
                        )
                    ]
                },
            ),
            httpx.Response(
                400, json=graph_error(100, "(#100) metric not supported for this media")
            ),
        ]
    )
    full = await ig.post_metrics(ACCOUNT, CREDENTIAL, MEDIA_ID)
    assert full.metrics["saves"] == 2
    assert not full.partial
    partial = await ig.post_metrics(ACCOUNT, CREDENTIAL, MEDIA_ID)
    assert partial.metrics == {"likes": 12, "comments": 3}
    assert partial.partial


def test_webhook_signature(ig: InstagramConnector) -> None:
    body = b'{"object":"instagram"}'
    signature = "sha256=" + hmac.new(b"s3", body, hashlib.sha256).hexdigest()
    assert ig.verify_webhook({"X-Hub-Signature-256": signature}, body, "s3")
    assert not ig.verify_webhook({"X-Hub-Signature-256": signature}, b"{}", "s3")

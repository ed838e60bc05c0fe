"""LinkedIn connector inbox, engagement and metrics against documented /rest shapes (respx)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import respx

from siar.connectors import Engagement, PermanentError
from siar.connectors.linkedin import LinkedInConnector
from tests.unit.connectors.linkedin_fakes import (
    API,
    COMMENT,
    CREDENTIAL,
    ORG,
    ORG_Q,
    PERSON,
    SHARE,
    SHARE_Q,
    account,
    body_of,
    created,
)


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as router:
        yield router


@pytest.fixture
async def linkedin() -> AsyncIterator[LinkedInConnector]:
    async with httpx.AsyncClient() as http:
        yield LinkedInConnector(http, poll_interval_s=0)


# -- inbox -----------------------------------------------------------------------------
def comment_element(post: str, cid: str, actor: str, text: str, ms: int) -> dict[str, Any]:
    activity = post.replace("share", "activity")
    return {
        "actor": actor,
        "commentUrn": f"urn:li:comment:({activity},{cid})",
        "created": {"actor": actor, "time": ms},
        "id": cid,
        "message": {"text": text},
        "object": activity,
    }


async def test_fetch_messages_collects_others_comments_newer_than_the_cursor(
    api: respx.MockRouter, linkedin: LinkedInConnector
) -> None:
    second = "urn:li:share:2"
    api.get(url__startswith=f"{API}/rest/posts").respond(
        200, json={"elements": [{"id": SHARE}, {"id": second}]}
    )
    first_comments = api.get(f"{API}/rest/socialActions/{SHARE_Q}/comments").respond(
        200,
        json={
            "paging": {"start": 0, "count": 100, "total": 3},
            "elements": [
                comment_element(SHARE, "30", "urn:li:person:ana", "Great!", 3_000),
                comment_element(SHARE, "20", ORG, "Thanks", 2_500),
                comment_element(SHARE, "10", "urn:li:person:bo", "seen", 1_000),
            ],
        },
    )
    api.get(f"{API}/rest/socialActions/urn%3Ali%3Ashare%3A2/comments").respond(
        200, json={"elements": [comment_element(second, "40", "urn:li:person:cy", "Hi", 2_000)]}
    )
    cursor = "1000|urn:li:comment:(urn:li:activity:6844785523593134080,10)"

    page = await linkedin.fetch_messages(account(), CREDENTIAL, cursor)

    assert [m.text for m in page.messages] == ["Hi", "Great!"]
    great = page.messages[1]
    assert great.author_handle == "urn:li:person:ana"
    assert great.network_post_id == SHARE
    assert great.sent_at == datetime.fromtimestamp(3, UTC)
    assert page.cursor == "3000|urn:li:comment:(urn:li:activity:6844785523593134080,30)"
    assert first_comments.calls.last.request.url.params["count"] == "100"


# -- engagement ------------------------------------------------------------------------
async def test_replies_to_posts_and_to_comments(
    api: respx.MockRouter, linkedin: LinkedInConnector
) -> None:
    on_post = api.post(f"{API}/rest/socialActions/{SHARE_Q}/comments").respond(
        201, headers={"x-restli-id": "urn:li:comment:(urn:li:activity:1,2)"}
    )
    encoded = COMMENT.replace(":", "%3A").replace("(", "%28").replace(")", "%29")
    on_comment = api.post(
        f"{API}/rest/socialActions/{encoded.replace(',', '%2C')}/comments"
    ).respond(201, json={"commentUrn": "urn:li:comment:(urn:li:activity:1,3)"})

    first = await linkedin.engage(
        account(), CREDENTIAL, Engagement(action="reply", target_network_id=SHARE, text="Yes")
    )
    second = await linkedin.engage(
        account(), CREDENTIAL, Engagement(action="reply", target_network_id=COMMENT, text="No")
    )

    assert first.network_id == "urn:li:comment:(urn:li:activity:1,2)"
    assert second.network_id == "urn:li:comment:(urn:li:activity:1,3)"
    assert body_of(on_post.calls.last.request)["object"] == SHARE
    assert body_of(on_comment.calls.last.request) == {
        "actor": ORG,
        "object": "urn:li:activity:6844785523593134080",
        "message": {"text": "No"},
        "parentComment": COMMENT,
    }


async def test_like_repost_and_delete(api: respx.MockRouter, linkedin: LinkedInConnector) -> None:
    like = api.post(f"{API}/rest/reactions", params={"actor": ORG}).respond(201)
    repost = api.post(f"{API}/rest/posts").mock(return_value=created("urn:li:share:99"))
    delete_post = api.delete(f"{API}/rest/posts/{SHARE_Q}").respond(204)
    delete_comment = api.delete(
        url__startswith=f"{API}/rest/socialActions/urn%3Ali%3Aactivity%3A6844785523593134080"
    ).respond(204)

    await linkedin.engage(account(), CREDENTIAL, Engagement(action="like", target_network_id=SHARE))
    shared = await linkedin.engage(
        account(), CREDENTIAL, Engagement(action="repost", target_network_id=SHARE)
    )
    await linkedin.engage(
        account(), CREDENTIAL, Engagement(action="delete", target_network_id=SHARE)
    )
    await linkedin.engage(
        account(), CREDENTIAL, Engagement(action="delete", target_network_id=COMMENT)
    )

    assert str(like.calls.last.request.url) == f"{API}/rest/reactions?actor={ORG_Q}"
    assert body_of(like.calls.last.request) == {"root": SHARE, "reactionType": "LIKE"}
    assert shared.network_id == "urn:li:share:99"
    assert body_of(repost.calls.last.request)["reshareContext"] == {"parent": SHARE}
    assert delete_post.called
    assert str(delete_comment.calls.last.request.url) == (
        f"{API}/rest/socialActions/urn%3Ali%3Aactivity%3A6844785523593134080"
        f"/comments/6844790000000000000?actor={ORG_Q}"
    )


@pytest.mark.parametrize("action", ["dm", "hide"])
async def test_dm_and_hide_are_not_offered(linkedin: LinkedInConnector, action: Any) -> None:
    with pytest.raises(PermanentError, match="LinkedIn does not support"):
        await linkedin.engage(
            account(), CREDENTIAL, Engagement(action=action, target_network_id=SHARE, text="x")
        )


# -- metrics ---------------------------------------------------------------------------
TOTALS = {
    "uniqueImpressionsCount": 900,
    "shareCount": 4,
    "engagement": 0.05,
    "clickCount": 30,
    "likeCount": 25,
    "impressionCount": 1200,
    "commentCount": 6,
}


async def test_organization_account_metrics(
    api: respx.MockRouter, linkedin: LinkedInConnector
) -> None:
    size = api.get(f"{API}/rest/networkSizes/{ORG_Q}").respond(200, json={"firstDegreeSize": 5400})
    stats = api.get(url__startswith=f"{API}/rest/organizationalEntityShareStatistics").respond(
        200,
        json={
            "paging": {"start": 0, "count": 10},
            "elements": [{"totalShareStatistics": TOTALS, "organizationalEntity": ORG}],
        },
    )

    snapshot = await linkedin.account_metrics(account(), CREDENTIAL)

    assert snapshot.metrics == {
        "followers": 5400.0,
        "impressions": 1200.0,
        "unique_impressions": 900.0,
        "clicks": 30.0,
        "likes": 25.0,
        "comments": 6.0,
        "shares": 4.0,
        "engagement_rate": 0.05,
    }
    assert not snapshot.partial
    assert size.calls.last.request.url.params["edgeType"] == "COMPANY_FOLLOWED_BY_MEMBER"
    assert str(stats.calls.last.request.url).endswith(
        f"?q=organizationalEntity&organizationalEntity={ORG_Q}"
    )


async def test_member_account_metrics(api: respx.MockRouter, linkedin: LinkedInConnector) -> None:
    api.get(f"{API}/rest/memberFollowersCount", params={"q": "me"}).respond(
        200, json={"elements": [{"memberFollowersCount": 321}]}
    )
    snapshot = await linkedin.account_metrics(account(PERSON), CREDENTIAL)
    assert snapshot.metrics == {"followers": 321.0}
    assert not snapshot.partial


async def test_post_metrics_for_organizations_and_members(
    api: respx.MockRouter, linkedin: LinkedInConnector
) -> None:
    stats = api.get(url__startswith=f"{API}/rest/organizationalEntityShareStatistics").respond(
        200, json={"elements": [{"totalShareStatistics": {"impressionCount": 10, "likeCount": 2}}]}
    )
    social = api.get(f"{API}/rest/socialMetadata/{SHARE_Q}").respond(
        200,
        json={
            "reactionSummaries": {
                "LIKE": {"reactionType": "LIKE", "count": 7},
                "PRAISE": {"reactionType": "PRAISE", "count": 2},
            },
            "commentSummary": {"count": 3, "topLevelCount": 2},
            "entity": SHARE,
        },
    )

    org = await linkedin.post_metrics(account(), CREDENTIAL, SHARE)
    member = await linkedin.post_metrics(account(PERSON), CREDENTIAL, SHARE)

    assert str(stats.calls.last.request.url).endswith(f"&shares=List({SHARE_Q})")
    assert org.metrics == {"impressions": 10.0, "likes": 2.0}
    assert org.partial
    assert social.called
    assert member.metrics == {"reactions": 9.0, "comments": 3.0}
    assert member.partial

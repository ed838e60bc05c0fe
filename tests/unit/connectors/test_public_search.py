"""Research calls (public search, public profiles) against the networks' documented shapes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
import respx

from siar.connectors import PermanentError, RateLimitedError, sandbox_research
from siar.connectors.bluesky import BlueskyConnector
from siar.connectors.linkedin import LinkedInConnector
from siar.connectors.mastodon import MastodonConnector
from siar.connectors.x import XConnector
from tests.unit.connectors import bluesky_fakes as bsky
from tests.unit.connectors import mastodon_fakes as masto
from tests.unit.connectors import x_fakes as xf

SINCE = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def bsky_post(rkey: str, text: str, at: str, likes: int) -> dict[str, object]:
    return {
        "uri": f"at://{bsky.BOB}/app.bsky.feed.post/{rkey}",
        "cid": bsky.CID,
        "author": {"did": bsky.BOB, "handle": "bob.test", "displayName": "Bob"},
        "record": {"$type": "app.bsky.feed.post", "text": text, "createdAt": at},
        "replyCount": 1,
        "repostCount": 2,
        "likeCount": likes,
        "indexedAt": at,
    }


async def test_bluesky_search_asks_for_the_latest_posts_since_the_cursor(
    api: respx.MockRouter, http: httpx.AsyncClient
) -> None:
    route = api.get(bsky.xrpc("app.bsky.feed.searchPosts")).respond(
        200,
        json={
            "posts": [
                bsky_post("3a", "old #siar", "2026-03-01T11:00:00Z", 1),
                bsky_post("3b", "love #siar", "2026-03-02T09:30:00.000Z", 7),
            ],
            "hitsTotal": 2,
        },
    )
    found = await BlueskyConnector(http).search_public(
        bsky.ACCOUNT, bsky.CREDENTIAL, "#siar", SINCE
    )
    params = route.calls.last.request.url.params
    assert params["q"] == "#siar"
    assert params["sort"] == "latest"
    assert params["since"] == "2026-03-01T12:00:00Z"
    assert route.calls.last.request.headers["authorization"] == f"Bearer {bsky.ACCESS}"
    # The post older than the cursor is dropped even if the AppView returned it.
    assert [p.text for p in found] == ["love #siar"]
    assert found[0].author_handle == "bob.test"
    assert (found[0].likes, found[0].reposts, found[0].replies) == (7, 2, 1)
    assert found[0].url == f"https://bsky.app/profile/{bsky.BOB}/post/3b"


async def test_bluesky_profile_reads_public_counts(
    api: respx.MockRouter, http: httpx.AsyncClient
) -> None:
    route = api.get(bsky.xrpc("app.bsky.actor.getProfile")).respond(
        200,
        json={
            "did": bsky.BOB,
            "handle": "rival.bsky.social",
            "displayName": "Rival",
            "followersCount": 1200,
            "followsCount": 80,
            "postsCount": 455,
        },
    )
    profile = await BlueskyConnector(http).public_profile(
        bsky.ACCOUNT, bsky.CREDENTIAL, "@rival.bsky.social"
    )
    assert route.calls.last.request.url.params["actor"] == "rival.bsky.social"
    assert profile.metrics == {"followers": 1200, "following": 80, "posts": 455}
    assert profile.display_name == "Rival"


async def test_mastodon_hashtags_read_the_tag_timeline_and_keywords_use_search(
    api: respx.MockRouter, http: httpx.AsyncClient
) -> None:
    recent = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
    tag = api.get(f"{masto.BASE}/api/v1/timelines/tag/siar").respond(
        200,
        json=[masto.status("1", "<p>Hi <a>#siar</a></p>", created_at=recent, favourites_count=3)],
    )
    search = api.get(f"{masto.BASE}/api/v2/search").respond(
        200,
        json={"accounts": [], "hashtags": [], "statuses": [masto.status("2", "<p>siar app</p>")]},
    )
    mastodon = MastodonConnector(http)
    tagged = await mastodon.search_public(masto.ACCOUNT, masto.CREDENTIAL, "#siar", None)
    keyword = await mastodon.search_public(masto.ACCOUNT, masto.CREDENTIAL, "siar app", None)
    assert [p.text for p in tagged] == ["Hi #siar"]
    assert tagged[0].likes == 3
    assert tagged[0].author_handle == "siar"
    assert [p.text for p in keyword] == ["siar app"]
    assert search.calls.last.request.url.params["type"] == "statuses"
    assert search.calls.last.request.url.params["q"] == "siar app"
    assert tag.called


async def test_mastodon_profile_looks_the_account_up(
    api: respx.MockRouter, http: httpx.AsyncClient
) -> None:
    route = api.get(f"{masto.BASE}/api/v1/accounts/lookup").respond(
        200,
        json={
            "id": "7",
            "acct": "rival@mastodon.social",
            "display_name": "Rival",
            "followers_count": 310,
            "following_count": 12,
            "statuses_count": 99,
        },
    )
    profile = await MastodonConnector(http).public_profile(
        masto.ACCOUNT, masto.CREDENTIAL, "@rival@mastodon.social"
    )
    assert route.calls.last.request.url.params["acct"] == "rival@mastodon.social"
    assert profile.metrics == {"followers": 310, "following": 12, "posts": 99}


async def test_x_recent_search_joins_authors_and_counts(
    api: respx.MockRouter, http: httpx.AsyncClient
) -> None:
    route = api.get(f"{xf.API}/2/tweets/search/recent").respond(
        200,
        json={
            "data": [
                {
                    "id": "1901",
                    "text": "trying siar",
                    "author_id": "77",
                    "created_at": "2026-03-02T10:00:00.000Z",
                    "public_metrics": {
                        "retweet_count": 2,
                        "reply_count": 1,
                        "like_count": 9,
                        "quote_count": 1,
                    },
                }
            ],
            "includes": {"users": [{"id": "77", "username": "ana", "name": "Ana"}]},
            "meta": {"result_count": 1, "newest_id": "1901"},
        },
    )
    found = await XConnector(http, poll_cap_s=0).search_public(
        xf.ACCOUNT, xf.CREDENTIAL, "siar -is:retweet", SINCE
    )
    params = route.calls.last.request.url.params
    assert params["query"] == "siar -is:retweet"
    assert params["start_time"] == "2026-03-01T12:00:00Z"
    assert params["expansions"] == "author_id"
    assert found[0].author_handle == "ana"
    assert found[0].url == "https://x.com/ana/status/1901"
    assert (found[0].likes, found[0].reposts, found[0].replies) == (9, 3, 1)


async def test_x_profile_and_its_errors(api: respx.MockRouter, http: httpx.AsyncClient) -> None:
    api.get(f"{xf.API}/2/users/by/username/rival").respond(
        200,
        json={
            "data": {
                "id": "9",
                "username": "rival",
                "name": "Rival",
                "public_metrics": {
                    "followers_count": 5000,
                    "following_count": 10,
                    "tweet_count": 800,
                    "listed_count": 3,
                },
            }
        },
    )
    api.get(f"{xf.API}/2/users/by/username/ghost").respond(
        200, json={"errors": [{"title": "Not Found Error", "detail": "Could not find user"}]}
    )
    api.get(f"{xf.API}/2/users/by/username/busy").respond(
        429, headers={"x-rate-limit-reset": "30"}, json={"title": "Too Many Requests"}
    )
    x = XConnector(http, poll_cap_s=0)
    profile = await x.public_profile(xf.ACCOUNT, xf.CREDENTIAL, "@rival")
    assert profile.metrics == {"followers": 5000, "following": 10, "posts": 800}
    with pytest.raises(PermanentError):
        await x.public_profile(xf.ACCOUNT, xf.CREDENTIAL, "ghost")
    with pytest.raises(RateLimitedError):
        await x.public_profile(xf.ACCOUNT, xf.CREDENTIAL, "busy")


async def test_a_network_without_public_search_says_so(http: httpx.AsyncClient) -> None:
    linkedin = LinkedInConnector(http)
    with pytest.raises(PermanentError, match="does not support public search"):
        await linkedin.search_public(masto.ACCOUNT, masto.CREDENTIAL, "siar", None)
    with pytest.raises(PermanentError, match="does not support public profile"):
        await linkedin.public_profile(masto.ACCOUNT, masto.CREDENTIAL, "rival")


def test_sandbox_mentions_are_seeded_incremental_and_within_a_week() -> None:
    now = datetime(2026, 3, 10, 15, 30, tzinfo=UTC)
    everything = sandbox_research.search("#siar", None, now)
    assert everything == sandbox_research.search("#siar", None, now)
    assert everything, "a seeded term has mentions"
    assert all(now - timedelta(days=7) < p.posted_at <= now for p in everything)
    since = now - timedelta(hours=6)
    newer = sandbox_research.search("#siar", since, now)
    assert all(p.posted_at > since for p in newer)
    assert {p.network_post_id for p in newer} <= {p.network_post_id for p in everything}
    assert sandbox_research.search("#other", None, now) != everything


def test_sandbox_competitor_grows_over_time() -> None:
    march = sandbox_research.profile("rival.sandbox", datetime(2026, 3, 1, tzinfo=UTC))
    june = sandbox_research.profile("rival.sandbox", datetime(2026, 6, 1, tzinfo=UTC))
    assert june.metrics["followers"] > march.metrics["followers"] > 0
    assert march == sandbox_research.profile("rival.sandbox", datetime(2026, 3, 1, tzinfo=UTC))

"""Research calls: public search and public profiles, on networks whose APIs offer them.

Each function takes the network's connector (for its HTTP plumbing and error
classification) and answers in Siar's shapes, :class:`PublicPost` and
:class:`PublicProfile`. Documented endpoints used:

- Bluesky: ``app.bsky.feed.searchPosts`` (``q``, ``since``, ``sort=latest``) and
  ``app.bsky.actor.getProfile``, through the account's PDS (which proxies to the AppView).
- Mastodon: ``GET /api/v1/timelines/tag/:hashtag`` for hashtags, ``GET /api/v2/search``
  (``type=statuses``) for keywords, ``GET /api/v1/accounts/lookup`` for profiles.
- X: ``GET /2/tweets/search/recent`` (last 7 days) and ``GET /2/users/by/username/:u``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from siar.connectors.bluesky_lexicon import parse_time as bsky_time
from siar.connectors.errors import PermanentError
from siar.connectors.mastodon_inbox import html_to_text
from siar.connectors.mastodon_inbox import parse_time as mastodon_time
from siar.connectors.models import AccountRef, Credential, PublicPost, PublicProfile

if TYPE_CHECKING:
    from siar.connectors.bluesky import BlueskyConnector
    from siar.connectors.mastodon import MastodonConnector
    from siar.connectors.x import XConnector

PAGE = 100


def _num(value: Any) -> float:
    return float(value) if isinstance(value, int | float) else 0.0


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _metrics(raw: Any, names: dict[str, str]) -> dict[str, float]:
    source = _obj(raw)
    return {name: _num(source[key]) for key, name in names.items() if key in source}


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _after(posts: list[PublicPost], since: datetime | None) -> list[PublicPost]:
    kept = [p for p in posts if since is None or p.posted_at > since]
    return sorted(kept, key=lambda p: p.posted_at, reverse=True)


# -- Bluesky -------------------------------------------------------------------------------
async def bluesky_search(
    connector: BlueskyConnector, credential: Credential, query: str, since: datetime | None
) -> list[PublicPost]:
    """Latest posts matching ``query`` (Lucene-like syntax; ``#tag`` matches the tag)."""
    params: dict[str, Any] = {"q": query, "sort": "latest", "limit": PAGE}
    if since is not None:
        params["since"] = _iso(since)
    body = await connector.xcall("GET", "app.bsky.feed.searchPosts", credential, params=params)
    found = []
    for post in body.get("posts") or []:
        if not isinstance(post, dict) or not isinstance(post.get("uri"), str):
            continue
        record, author = _obj(post.get("record")), _obj(post.get("author"))
        handle = str(author.get("handle") or author.get("did") or "")
        found.append(
            PublicPost(
                network_post_id=post["uri"],
                author_handle=handle,
                text=str(record.get("text") or ""),
                posted_at=bsky_time(record.get("createdAt") or post.get("indexedAt"))
                or datetime.now(UTC),
                url=connector.permalink(post["uri"]),
                likes=_num(post.get("likeCount")),
                reposts=_num(post.get("repostCount")),
                replies=_num(post.get("replyCount")),
            )
        )
    return _after(found, since)


async def bluesky_profile(
    connector: BlueskyConnector, credential: Credential, handle: str
) -> PublicProfile:
    """Followers, follows and posts of any public Bluesky account."""
    actor = handle.removeprefix("@")
    body = await connector.xcall(
        "GET", "app.bsky.actor.getProfile", credential, params={"actor": actor}
    )
    names = {"followersCount": "followers", "followsCount": "following", "postsCount": "posts"}
    return PublicProfile(
        handle=str(body.get("handle") or actor),
        display_name=body.get("displayName") if isinstance(body.get("displayName"), str) else None,
        collected_at=datetime.now(UTC),
        metrics=_metrics(body, names),
    )


# -- Mastodon ------------------------------------------------------------------------------
def _status(status: dict[str, Any]) -> PublicPost:
    account = _obj(status.get("account"))
    url = status.get("url")
    return PublicPost(
        network_post_id=str(status.get("uri") or status["id"]),
        author_handle=str(account.get("acct") or ""),
        text=html_to_text(str(status.get("content") or "")),
        posted_at=mastodon_time(status.get("created_at")),
        url=url if isinstance(url, str) else None,
        likes=_num(status.get("favourites_count")),
        reposts=_num(status.get("reblogs_count")),
        replies=_num(status.get("replies_count")),
    )


async def mastodon_search(
    connector: MastodonConnector,
    account: AccountRef,
    credential: Credential,
    query: str,
    since: datetime | None,
) -> list[PublicPost]:
    """A hashtag's timeline, or a keyword search (only what the instance's index allows)."""
    base = connector.base_url(account, credential)
    if query.startswith("#") and " " not in query.strip():
        tag = quote(query.strip()[1:], safe="")
        body = await connector.call(
            "GET", f"{base}/api/v1/timelines/tag/{tag}", credential=credential, params={"limit": 40}
        )
        statuses = body
    else:
        body = await connector.call(
            "GET",
            f"{base}/api/v2/search",
            credential=credential,
            params={"q": query, "type": "statuses", "limit": 40, "resolve": "false"},
        )
        statuses = body.get("statuses") if isinstance(body, dict) else None
    if not isinstance(statuses, list):
        raise PermanentError("Mastodon answered a search with something other than statuses")
    found = [_status(s) for s in statuses if isinstance(s, dict) and "id" in s]
    return _after(found, since)


async def mastodon_profile(
    connector: MastodonConnector, account: AccountRef, credential: Credential, handle: str
) -> PublicProfile:
    """Followers, following and statuses of ``user`` or ``user@instance``."""
    base = connector.base_url(account, credential)
    acct = handle.removeprefix("@")
    body = await connector.call(
        "GET", f"{base}/api/v1/accounts/lookup", credential=credential, params={"acct": acct}
    )
    if not isinstance(body, dict):
        raise PermanentError("Mastodon answered an account lookup with something unexpected")
    names = {
        "followers_count": "followers",
        "following_count": "following",
        "statuses_count": "posts",
    }
    name = body.get("display_name")
    return PublicProfile(
        handle=str(body.get("acct") or acct),
        display_name=name if isinstance(name, str) and name else None,
        collected_at=datetime.now(UTC),
        metrics=_metrics(body, names),
    )


# -- X ---------------------------------------------------------------------------------------
async def x_search(
    connector: XConnector, credential: Credential, query: str, since: datetime | None
) -> list[PublicPost]:
    """Recent posts (the last 7 days) matching an X search query."""
    params: dict[str, Any] = {
        "query": query,
        "max_results": PAGE,
        "tweet.fields": "created_at,public_metrics,author_id",
        "expansions": "author_id",
        "user.fields": "username",
    }
    if since is not None:
        params["start_time"] = _iso(since)
    body = await connector.call(
        "GET", "/2/tweets/search/recent", credential=credential, params=params
    )
    body = body if isinstance(body, dict) else {}
    users = {
        str(u.get("id")): str(u.get("username") or "")
        for u in (body.get("includes") or {}).get("users") or []
        if isinstance(u, dict)
    }
    found = []
    for tweet in body.get("data") or []:
        if not isinstance(tweet, dict) or not isinstance(tweet.get("id"), str):
            continue
        counts = _obj(tweet.get("public_metrics"))
        username = users.get(str(tweet.get("author_id")), "")
        found.append(
            PublicPost(
                network_post_id=tweet["id"],
                author_handle=username,
                text=str(tweet.get("text") or ""),
                posted_at=mastodon_time(tweet.get("created_at")),
                url=f"https://x.com/{username or 'i'}/status/{tweet['id']}",
                likes=_num(counts.get("like_count")),
                reposts=_num(counts.get("retweet_count")) + _num(counts.get("quote_count")),
                replies=_num(counts.get("reply_count")),
            )
        )
    return _after(found, since)


async def x_profile(connector: XConnector, credential: Credential, handle: str) -> PublicProfile:
    """Followers, following and posts of any public X account."""
    username = quote(handle.removeprefix("@"), safe="")
    body = await connector.call(
        "GET",
        f"/2/users/by/username/{username}",
        credential=credential,
        params={"user.fields": "public_metrics"},
    )
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, dict):
        raise PermanentError(f"X has no public account @{handle.removeprefix('@')}")
    names = {"followers_count": "followers", "following_count": "following", "tweet_count": "posts"}
    return PublicProfile(
        handle=str(data.get("username") or username),
        display_name=data.get("name") if isinstance(data.get("name"), str) else None,
        collected_at=datetime.now(UTC),
        metrics=_metrics(data.get("public_metrics"), names),
    )

"""LinkedIn reads: the author's recent posts, comments on them, and statistics.

Comments come from ``GET /rest/socialActions/{post}/comments`` for the author's most
recent posts (``GET /rest/posts?q=author``); the cursor is the newest comment seen,
``<created ms>|<comment URN>``. Organizations get follower counts from
``/rest/networkSizes`` and impressions, clicks and engagement from
``/rest/organizationalEntityShareStatistics``; members get follower counts from
``/rest/memberFollowersCount`` and per-post reaction and comment counts from
``/rest/socialMetadata`` (LinkedIn shows members' impressions to their owners only).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from siar.connectors.linkedin_media import urn_path
from siar.connectors.models import Credential, FetchedMessage, MetricsSnapshot, Page

if TYPE_CHECKING:
    from siar.connectors.linkedin import LinkedInConnector

_SHARE_STATISTICS = {
    "impressionCount": "impressions",
    "uniqueImpressionsCount": "unique_impressions",
    "clickCount": "clicks",
    "likeCount": "likes",
    "commentCount": "comments",
    "shareCount": "shares",
    "engagement": "engagement_rate",
}


def _elements(body: Any) -> list[dict[str, Any]]:
    rows = body.get("elements") if isinstance(body, dict) else None
    return [row for row in rows if isinstance(row, dict)] if isinstance(rows, list) else []


def millis(value: Any) -> datetime:
    """A LinkedIn epoch-milliseconds timestamp as a UTC datetime (now if absent)."""
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value / 1000, UTC)
    return datetime.now(UTC)


def _is_organization(author: str) -> bool:
    return author.startswith("urn:li:organization:")


async def recent_posts(
    connector: LinkedInConnector, credential: Credential, author: str, count: int
) -> list[dict[str, Any]]:
    """The author's ``count`` most recently created posts, newest first."""
    body = await connector.api(
        "GET",
        f"/rest/posts?author={urn_path(author)}&q=author&count={count}&sortBy=CREATED",
        credential,
    )
    return _elements(body)


async def comments(
    connector: LinkedInConnector, credential: Credential, author: str, cursor: str | None
) -> Page:
    """Others' comments on the author's recent posts newer than ``cursor``, oldest first."""
    stamp, _, last = (cursor or "").partition("|")
    after = (int(stamp), last) if stamp.isdigit() else None
    found: list[tuple[tuple[int, str], FetchedMessage]] = []
    for post in await recent_posts(connector, credential, author, connector.recent_posts):
        post_urn = str(post.get("id", ""))
        body = await connector.api(
            "GET", f"/rest/socialActions/{urn_path(post_urn)}/comments?count=100", credential
        )
        for comment in _elements(body):
            urn = str(comment.get("commentUrn") or comment.get("$URN") or comment.get("id"))
            created = (comment.get("created") or {}).get("time")
            key = (int(created) if isinstance(created, int | float) else 0, urn)
            if (after is not None and key <= after) or comment.get("actor") == author:
                continue
            found.append((key, _message(comment, urn, post_urn)))
    found.sort(key=lambda pair: pair[0])
    page = Page(messages=[message for _, message in found], cursor=cursor)
    if found:
        newest = found[-1][0]
        page.cursor = f"{newest[0]}|{newest[1]}"
    return page


def _message(comment: dict[str, Any], urn: str, post_urn: str) -> FetchedMessage:
    message = comment.get("message") or {}
    return FetchedMessage(
        network_message_id=urn,
        kind="comment",
        # Names need the member's profile, which LinkedIn does not share: the URN stands in.
        author_handle=str(comment.get("actor", "")),
        text=str(message.get("text", "")),
        network_post_id=post_urn,
        parent_network_id=comment.get("parentComment") or post_urn,
        sent_at=millis((comment.get("created") or {}).get("time")),
    )


def _snapshot(found: dict[str, float], expected: int) -> MetricsSnapshot:
    return MetricsSnapshot(
        collected_at=datetime.now(UTC), metrics=found, partial=len(found) < expected
    )


def _share_statistics(body: Any) -> dict[str, float]:
    rows = _elements(body)
    totals = rows[0].get("totalShareStatistics") if rows else None
    totals = totals if isinstance(totals, dict) else {}
    return {
        ours: float(totals[theirs])
        for theirs, ours in _SHARE_STATISTICS.items()
        if isinstance(totals.get(theirs), int | float)
    }


async def account_metrics(
    connector: LinkedInConnector, credential: Credential, author: str
) -> MetricsSnapshot:
    """Followers, and for an organization its lifetime share statistics."""
    found: dict[str, float] = {}
    if not _is_organization(author):
        body = await connector.api("GET", "/rest/memberFollowersCount?q=me", credential)
        rows = _elements(body)
        count = rows[0].get("memberFollowersCount") if rows else None
        if isinstance(count, int):
            found["followers"] = float(count)
        return _snapshot(found, 1)
    size = await connector.api(
        "GET",
        f"/rest/networkSizes/{urn_path(author)}?edgeType=COMPANY_FOLLOWED_BY_MEMBER",
        credential,
    )
    if isinstance(size, dict) and isinstance(size.get("firstDegreeSize"), int):
        found["followers"] = float(size["firstDegreeSize"])
    stats = await connector.api(
        "GET",
        "/rest/organizationalEntityShareStatistics?q=organizationalEntity"
        f"&organizationalEntity={urn_path(author)}",
        credential,
    )
    found.update(_share_statistics(stats))
    return _snapshot(found, 1 + len(_SHARE_STATISTICS))


async def post_metrics(
    connector: LinkedInConnector, credential: Credential, author: str, post_urn: str
) -> MetricsSnapshot:
    """An organization post's share statistics, or a member post's social counts."""
    if _is_organization(author):
        kind = "ugcPosts" if post_urn.startswith("urn:li:ugcPost:") else "shares"
        body = await connector.api(
            "GET",
            "/rest/organizationalEntityShareStatistics?q=organizationalEntity"
            f"&organizationalEntity={urn_path(author)}&{kind}=List({urn_path(post_urn)})",
            credential,
        )
        return _snapshot(_share_statistics(body), len(_SHARE_STATISTICS))
    body = await connector.api("GET", f"/rest/socialMetadata/{urn_path(post_urn)}", credential)
    body = body if isinstance(body, dict) else {}
    found: dict[str, float] = {}
    reactions = body.get("reactionSummaries")
    if isinstance(reactions, dict):
        found["reactions"] = float(
            sum(r.get("count", 0) for r in reactions.values() if isinstance(r, dict))
        )
    summary = body.get("commentSummary")
    if isinstance(summary, dict) and isinstance(summary.get("count"), int):
        found["comments"] = float(summary["count"])
    # Impressions of a member's post are not available here: always partial.
    return MetricsSnapshot(collected_at=datetime.now(UTC), metrics=found, partial=True)

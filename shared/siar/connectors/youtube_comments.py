"""YouTube comments: fetching the channel's comment threads and acting on comments.

``commentThreads.list`` with ``allThreadsRelatedToChannelId`` returns the threads on
the channel's videos, newest first, with up to five replies each (``replies`` part).
The cursor is ``<publishedAt>|<ids at that instant>`` of the newest comment delivered,
so comments sharing a second are neither lost nor delivered twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from siar.connectors.errors import PermanentError
from siar.connectors.models import (
    AccountRef,
    Credential,
    Engagement,
    EngagementResult,
    FetchedMessage,
    Page,
)

if TYPE_CHECKING:
    from siar.connectors.youtube import YouTubeConnector


def parse_cursor(cursor: str | None) -> tuple[datetime | None, set[str]]:
    """The instant and the ids already delivered at it."""
    if not cursor:
        return None, set()
    stamp, _, ids = cursor.partition("|")
    return datetime.fromisoformat(stamp), {i for i in ids.split(",") if i}


def make_cursor(messages: list[FetchedMessage], cutoff: datetime | None, seen: set[str]) -> str:
    """The cursor after ``messages`` (sorted oldest first)."""
    newest = messages[-1].sent_at
    ids = {m.network_message_id for m in messages if m.sent_at == newest}
    if cutoff == newest:
        ids |= seen
    return f"{newest.isoformat()}|{','.join(sorted(ids))}"


def _message(comment: dict[str, Any], channel_id: str) -> FetchedMessage | None:
    snippet = comment.get("snippet") or {}
    author = (snippet.get("authorChannelId") or {}).get("value")
    published = snippet.get("publishedAt")
    if not comment.get("id") or not isinstance(published, str) or author == channel_id:
        return None  # the channel's own comments are not inbox material
    name = str(snippet.get("authorDisplayName") or "")
    return FetchedMessage(
        network_message_id=str(comment["id"]),
        kind="comment",
        author_handle=name or str(author or "unknown"),
        author_name=name or None,
        # textOriginal is only guaranteed to the author; textDisplay is plain text here.
        text=str(snippet.get("textDisplay") or snippet.get("textOriginal") or ""),
        network_post_id=snippet.get("videoId"),
        parent_network_id=snippet.get("parentId"),
        sent_at=datetime.fromisoformat(published),
    )


def _comments(thread: dict[str, Any]) -> list[dict[str, Any]]:
    snippet = thread.get("snippet") or {}
    top = snippet.get("topLevelComment")
    replies = (thread.get("replies") or {}).get("comments") or []
    found = [top] if isinstance(top, dict) else []
    return found + [reply for reply in replies if isinstance(reply, dict)]


async def fetch(
    connector: YouTubeConnector, account: AccountRef, credential: Credential, cursor: str | None
) -> Page:
    """Comments newer than ``cursor``: the first page if none, else pages back to it."""
    channel_id = await connector.channel_id(account, credential)
    cutoff, seen = parse_cursor(cursor)
    found: dict[str, FetchedMessage] = {}
    token: str | None = None
    for _ in range(connector.max_comment_pages):
        params: dict[str, Any] = {
            "part": "snippet,replies",
            "allThreadsRelatedToChannelId": channel_id,
            "maxResults": 100,
            "order": "time",
            "textFormat": "plainText",
        }
        if token:
            params["pageToken"] = token
        body = await connector.call("GET", "/commentThreads", credential=credential, params=params)
        reached_cutoff = False
        for thread in body.get("items") or []:
            for comment in _comments(thread):
                message = _message(comment, channel_id)
                if message is None:
                    continue
                if cutoff is not None and (
                    message.sent_at < cutoff
                    or (message.sent_at == cutoff and message.network_message_id in seen)
                ):
                    reached_cutoff = True
                    continue
                found[message.network_message_id] = message
        token = body.get("nextPageToken")
        if cutoff is None or reached_cutoff or not token:
            break
    messages = sorted(found.values(), key=lambda m: (m.sent_at, m.network_message_id))
    if not messages:
        return Page(cursor=cursor)
    return Page(messages=messages, cursor=make_cursor(messages, cutoff, seen))


async def engage(
    connector: YouTubeConnector, credential: Credential, engagement: Engagement
) -> EngagementResult:
    """Reply, like (a video), hide or delete (a comment); DMs and reposts do not exist."""
    target = engagement.target_network_id
    if engagement.action == "reply":
        if not engagement.text:
            raise PermanentError("a reply needs text")
        # Replies hang off the thread's top-level comment; a reply's id is "<top>.<own>".
        body = await connector.call(
            "POST",
            "/comments",
            credential=credential,
            params={"part": "snippet"},
            json={"snippet": {"parentId": target.split(".")[0], "textOriginal": engagement.text}},
        )
        return EngagementResult(network_id=body.get("id") if isinstance(body, dict) else None)
    if engagement.action == "like":
        await connector.call(
            "POST",
            "/videos/rate",
            credential=credential,
            params={"id": target, "rating": "like"},
        )
        return EngagementResult()
    if engagement.action == "hide":
        await connector.call(
            "POST",
            "/comments/setModerationStatus",
            credential=credential,
            params={"id": target, "moderationStatus": "rejected"},
        )
        return EngagementResult()
    if engagement.action == "delete":
        await connector.call("DELETE", "/comments", credential=credential, params={"id": target})
        return EngagementResult()
    raise connector.unsupported(engagement.action)

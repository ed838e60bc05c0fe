"""X inbox: mentions (and replies to the account) and direct messages, with a cursor.

Mentions come from ``GET /2/users/:id/mentions`` with ``since_id``; DMs from
``GET /2/dm_events``, which has no ``since_id``, so paging stops at the newest event
already seen. The cursor keeps both marks: ``d:<dm event id>|m:<post id>``.
"""

from __future__ import annotations

import html
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from siar.connectors.models import Credential, FetchedMessage, Page

if TYPE_CHECKING:
    from siar.connectors.x import XConnector

_TWEET_FIELDS = "created_at,author_id,conversation_id,in_reply_to_user_id,referenced_tweets"


def when(value: Any) -> datetime:
    """A timestamp as X writes it (``2025-01-02T03:04:05.000Z``), or now if absent."""
    if isinstance(value, str):
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    return datetime.now(UTC)


def _rows(body: Any, key: str = "data") -> list[dict[str, Any]]:
    rows = body.get(key) if isinstance(body, dict) else None
    return [row for row in rows if isinstance(row, dict)] if isinstance(rows, list) else []


def _users(body: Any) -> dict[str, dict[str, Any]]:
    includes = body.get("includes") if isinstance(body, dict) else None
    return {str(user.get("id")): user for user in _rows(includes, "users")}


def _meta(body: Any) -> dict[str, Any]:
    meta = body.get("meta") if isinstance(body, dict) else None
    return meta if isinstance(meta, dict) else {}


async def fetch(connector: XConnector, credential: Credential, me: str, cursor: str | None) -> Page:
    """Messages newer than ``cursor``, oldest first, and the cursor for the next call."""
    marks = dict(part.split(":", 1) for part in (cursor or "").split("|") if ":" in part)
    messages, newest = await _mentions(connector, credential, me, marks.get("m"))
    if newest:
        marks["m"] = newest
    if connector.include_dms:
        dms, newest = await _dms(connector, credential, me, marks.get("d"))
        messages.extend(dms)
        if newest:
            marks["d"] = newest
    messages.sort(key=lambda m: (m.sent_at, int(m.network_message_id)))
    text = "|".join(f"{key}:{value}" for key, value in sorted(marks.items()) if value)
    return Page(messages=messages, cursor=text or None)


async def _mentions(
    connector: XConnector, credential: Credential, me: str, since_id: str | None
) -> tuple[list[FetchedMessage], str | None]:
    params: dict[str, Any] = {
        "max_results": 100,
        "tweet.fields": _TWEET_FIELDS,
        "expansions": "author_id",
        "user.fields": "username,name,public_metrics",
    }
    if since_id:
        params["since_id"] = since_id
    found: list[FetchedMessage] = []
    newest: str | None = None
    for _ in range(connector.max_pages):
        body = await connector.call(
            "GET", f"/2/users/{me}/mentions", credential=credential, params=params
        )
        meta = _meta(body)
        newest = newest or meta.get("newest_id")
        users = _users(body)
        found.extend(_mention(tweet, users, me) for tweet in _rows(body))
        # Without a since_id only the newest page matters: older ones are history.
        if not since_id or not meta.get("next_token"):
            break
        params["pagination_token"] = meta["next_token"]
    return found, newest


def _mention(tweet: dict[str, Any], users: dict[str, dict[str, Any]], me: str) -> FetchedMessage:
    author = users.get(str(tweet.get("author_id")), {})
    parent = next(
        (
            str(ref["id"])
            for ref in _rows(tweet, "referenced_tweets")
            if ref.get("type") == "replied_to"
        ),
        None,
    )
    followers = (author.get("public_metrics") or {}).get("followers_count")
    return FetchedMessage(
        network_message_id=str(tweet["id"]),
        # A reply to one of the account's posts is a comment; anything else a mention.
        kind="comment" if parent and tweet.get("in_reply_to_user_id") == me else "mention",
        author_handle=str(author.get("username") or tweet.get("author_id", "")),
        author_name=author.get("name"),
        author_followers=followers if isinstance(followers, int) else None,
        text=html.unescape(str(tweet.get("text", ""))),
        network_post_id=tweet.get("conversation_id"),
        parent_network_id=parent,
        sent_at=when(tweet.get("created_at")),
    )


async def _dms(
    connector: XConnector, credential: Credential, me: str, since_id: str | None
) -> tuple[list[FetchedMessage], str | None]:
    params: dict[str, Any] = {
        "max_results": 100,
        "event_types": "MessageCreate",
        "dm_event.fields": "id,text,created_at,sender_id,dm_conversation_id",
        "expansions": "sender_id",
        # Follower counts let the inbox flag DMs from influencers too.
        "user.fields": "username,name,public_metrics",
    }
    found: list[FetchedMessage] = []
    newest: str | None = None
    for _ in range(connector.max_pages):
        body = await connector.call("GET", "/2/dm_events", credential=credential, params=params)
        users = _users(body)
        for event in _rows(body):
            if since_id and int(event["id"]) <= int(since_id):
                return found, newest
            newest = newest or str(event["id"])
            if event.get("sender_id") == me:
                continue
            sender = users.get(str(event.get("sender_id")), {})
            followers = (sender.get("public_metrics") or {}).get("followers_count")
            found.append(
                FetchedMessage(
                    network_message_id=str(event["id"]),
                    kind="dm",
                    author_handle=str(sender.get("username") or event.get("sender_id", "")),
                    author_name=sender.get("name"),
                    author_followers=followers if isinstance(followers, int) else None,
                    text=str(event.get("text", "")),
                    parent_network_id=event.get("dm_conversation_id"),
                    sent_at=when(event.get("created_at")),
                )
            )
        token = _meta(body).get("next_token")
        if not token or not since_id:
            break
        params["pagination_token"] = token
    return found, newest

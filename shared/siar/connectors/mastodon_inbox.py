"""Mastodon inbox, engagement and metrics.

Mentions (replies to the account's posts, mentions elsewhere, and direct messages,
which are mentions with ``visibility: direct``) come from ``GET /api/v1/notifications``
filtered to ``mention``; Siar's cursor is the newest notification id, passed back as
``min_id``. A reply is attached to its thread's root through the status context.
Statuses are HTML; the inbox gets them as plain text.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import TYPE_CHECKING, Any

from siar.connectors.errors import PermanentError, RetryableError
from siar.connectors.models import (
    Credential,
    Engagement,
    EngagementResult,
    FetchedMessage,
    MetricsSnapshot,
    Page,
)

if TYPE_CHECKING:
    from siar.connectors.mastodon import MastodonConnector

PAGE_SIZE = 40


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.parts.append("\n")
        elif tag == "p" and self.parts:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_to_text(html: str) -> str:
    """A status's HTML content as the plain text its author wrote (links unshortened)."""
    parser = _Text()
    parser.feed(html)
    parser.close()
    return "".join(parser.parts)


def parse_time(value: Any) -> datetime:
    """A Mastodon ISO 8601 timestamp (now, if missing or malformed)."""
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return datetime.now(UTC)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return datetime.now(UTC)


def _id_key(value: str) -> tuple[int, str]:
    # Mastodon ids are numeric strings (snowflakes) that sort by length, then value.
    return (len(value), value)


async def _thread_root(
    connector: MastodonConnector, base: str, credential: Credential, status_id: str
) -> str | None:
    context = await connector.call(
        "GET", f"{base}/api/v1/statuses/{status_id}/context", credential=credential
    )
    ancestors = context.get("ancestors") if isinstance(context, dict) else None
    if isinstance(ancestors, list) and ancestors and isinstance(ancestors[0], dict):
        root = ancestors[0].get("id")
        return root if isinstance(root, str) else None
    return None


async def _message(
    connector: MastodonConnector, base: str, credential: Credential, note: dict[str, Any], me: str
) -> FetchedMessage | None:
    status, author = note.get("status"), note.get("account")
    if not isinstance(status, dict) or not isinstance(author, dict):
        return None
    parent = status.get("in_reply_to_id") if isinstance(status.get("in_reply_to_id"), str) else None
    if status.get("visibility") == "direct":
        kind = "dm"
    elif parent and me and status.get("in_reply_to_account_id") == me:
        kind = "comment"
    else:
        kind = "mention"
    root = await _thread_root(connector, base, credential, str(status["id"])) if parent else None
    followers = author.get("followers_count")
    return FetchedMessage(
        network_message_id=str(status["id"]),
        kind=kind,
        author_handle=str(author.get("acct") or author.get("username") or "unknown"),
        author_name=author.get("display_name") or None,
        author_followers=followers if isinstance(followers, int) else None,
        text=html_to_text(str(status.get("content") or "")),
        network_post_id=root,
        parent_network_id=parent,
        sent_at=parse_time(status.get("created_at")),
    )


async def fetch_messages(
    connector: MastodonConnector, base: str, credential: Credential, me: str, cursor: str | None
) -> Page:
    """Mention notifications newer than ``cursor`` (a notification id), oldest first."""
    params = [("types[]", "mention"), ("limit", str(PAGE_SIZE))]
    if cursor:
        params.append(("min_id", cursor))
    notes = await connector.call(
        "GET", f"{base}/api/v1/notifications", credential=credential, params=params
    )
    if not isinstance(notes, list):
        raise RetryableError("Mastodon answered the notifications call with no list")
    notes = sorted(
        (n for n in notes if isinstance(n, dict) and isinstance(n.get("id"), str)),
        key=lambda n: _id_key(n["id"]),
    )
    messages = []
    for note in notes:
        if note.get("type") == "mention":
            message = await _message(connector, base, credential, note, me)
            if message is not None:
                messages.append(message)
    newest = notes[-1]["id"] if notes else cursor
    return Page(messages=messages, cursor=newest)


def _key(*parts: str) -> str:
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


async def _reply(
    connector: MastodonConnector,
    base: str,
    credential: Credential,
    engagement: Engagement,
    visibility: str | None = None,
) -> EngagementResult:
    if not engagement.text:
        raise PermanentError(f"a Mastodon {engagement.action} needs text")
    target = engagement.target_network_id
    parent = await connector.call("GET", f"{base}/api/v1/statuses/{target}", credential=credential)
    author = parent.get("account") if isinstance(parent, dict) else None
    acct = author.get("acct") if isinstance(author, dict) else None
    text = engagement.text
    # Without a mention the author is not notified of the reply.
    if isinstance(acct, str) and f"@{acct}".lower() not in text.lower():
        text = f"@{acct} {text}"
    body = {
        "status": text,
        "in_reply_to_id": target,
        "visibility": visibility or str(parent.get("visibility") or "public"),
    }
    status = await connector.post_status(base, credential, body, _key("reply", target, text))
    return EngagementResult(network_id=str(status["id"]))


async def engage(
    connector: MastodonConnector, base: str, credential: Credential, engagement: Engagement
) -> EngagementResult:
    """Reply, DM, favourite, reblog or delete one of the account's statuses."""
    action, target = engagement.action, engagement.target_network_id
    if action == "reply":
        return await _reply(connector, base, credential, engagement)
    if action == "dm":
        recipient = (engagement.recipient_network_id or "").removeprefix("@")
        if not recipient:
            return await _reply(connector, base, credential, engagement, visibility="direct")
        if not engagement.text:
            raise PermanentError("a Mastodon DM needs text")
        text = f"@{recipient} {engagement.text}"
        body = {"status": text, "visibility": "direct"}
        status = await connector.post_status(base, credential, body, _key("dm", recipient, text))
        return EngagementResult(network_id=str(status["id"]))
    paths = {"like": "favourite", "repost": "reblog"}
    if action in paths:
        url = f"{base}/api/v1/statuses/{target}/{paths[action]}"
        status = await connector.call("POST", url, credential=credential)
        found = status.get("id") if isinstance(status, dict) else None
        return EngagementResult(network_id=found if isinstance(found, str) else target)
    if action == "delete":
        await connector.call("DELETE", f"{base}/api/v1/statuses/{target}", credential=credential)
        return EngagementResult(network_id=target)
    raise connector.unsupported(action)


def snapshot(source: Any, fields: dict[str, str]) -> MetricsSnapshot:
    """Metrics named by ``fields`` (response key → Siar name); partial when some are missing."""
    source = source if isinstance(source, dict) else {}
    metrics = {
        name: float(source[key])
        for key, name in fields.items()
        if isinstance(source.get(key), int | float)
    }
    return MetricsSnapshot(
        collected_at=datetime.now(UTC), metrics=metrics, partial=len(metrics) < len(fields)
    )

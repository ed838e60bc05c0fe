"""Comments and DMs in Meta webhook calls (Facebook Pages, Instagram, Threads).

Meta posts ``{"object": ..., "entry": [{"id": <account>, "time": ..., "changes": [...],
"messaging": [...]}]}``: ``changes`` carry feed/comment events, ``messaging`` carries
Messenger and Instagram DMs. Threads sends one event per call as ``{"target_id":
<user>, "values": {"field": "replies"|"mentions", "value": {...}}}``. Each message is
returned with the network account it is for, normalised exactly as polling does, so a
message seen both ways is stored once. Events without text to show (edits, removals,
reactions, our own echoes) are skipped.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from siar.connectors.errors import PermanentError
from siar.connectors.meta_graph import parse_time
from siar.connectors.models import FetchedMessage

Delivery = list[tuple[str, FetchedMessage]]


def load(body: bytes, network: str) -> dict[str, Any]:
    """The JSON object of a webhook call, or a PermanentError naming what is wrong."""
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, ValueError) as err:
        raise PermanentError(f"{network} webhook body is not JSON") from err
    if not isinstance(payload, dict):
        raise PermanentError(f"{network} webhook body is not a JSON object")
    return payload


def as_dict(value: Any) -> dict[str, Any]:
    """``value`` if it is a JSON object, else an empty one (payloads omit what is empty)."""
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[dict[str, Any]]:
    """The JSON objects of ``value`` if it is a list, else none."""
    return [row for row in value if isinstance(row, dict)] if isinstance(value, list) else []


def _epoch(value: Any, *, millis: bool = False) -> datetime | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value / 1000 if millis else value, UTC)
    if isinstance(value, str):
        return parse_time(value)
    return None


def parse(network: str, body: bytes) -> Delivery:
    """Messages of a verified Meta webhook call for ``network``, oldest first."""
    payload = load(body, network)
    found: Delivery = []
    if network == "threads" and "values" in payload:
        found += _threads(str(payload.get("target_id", "")), as_dict(payload.get("values")))
    for entry in as_list(payload.get("entry")):
        account = str(entry.get("id", ""))
        for change in as_list(entry.get("changes")):
            found += _change(network, account, change, _epoch(entry.get("time")))
        for event in as_list(entry.get("messaging")):
            found += _dm(account, event)
    found.sort(key=lambda pair: pair[1].sent_at)
    return found


def _change(network: str, account: str, change: dict[str, Any], at: datetime | None) -> Delivery:
    if network == "facebook":
        return _page_comment(account, change, at)
    if network == "instagram":
        return _instagram_comment(account, change, at)
    if network == "threads":
        return _threads(account, change)
    return []


def _page_comment(page: str, change: dict[str, Any], at: datetime | None) -> Delivery:
    value = as_dict(change.get("value"))
    author = as_dict(value.get("from"))
    if change.get("field") != "feed" or value.get("item") != "comment":
        return []
    if value.get("verb") != "add" or str(author.get("id")) == page or "comment_id" not in value:
        return []
    post_id = str(value.get("post_id") or "")
    parent = str(value.get("parent_id") or "")
    is_reply = bool(parent) and parent != post_id
    sent = _epoch(value.get("created_time")) or at
    if sent is None:
        return []
    return [
        (
            page,
            FetchedMessage(
                network_message_id=str(value["comment_id"]),
                kind="reply" if is_reply else "comment",
                author_handle=str(author.get("id") or "unknown"),
                author_name=author.get("name"),
                text=str(value.get("message") or ""),
                network_post_id=post_id or None,
                parent_network_id=parent if is_reply else None,
                sent_at=sent,
            ),
        )
    ]


def _instagram_comment(user: str, change: dict[str, Any], at: datetime | None) -> Delivery:
    # "mentions" carry only ids (the text needs a Graph call): polling picks those up.
    value = as_dict(change.get("value"))
    if change.get("field") not in ("comments", "live_comments") or "id" not in value:
        return []
    author = as_dict(value.get("from"))
    if str(author.get("id")) == user or at is None:
        return []
    parent = value.get("parent_id")
    return [
        (
            user,
            FetchedMessage(
                network_message_id=str(value["id"]),
                kind="reply" if parent else "comment",
                author_handle=str(author.get("username") or "unknown"),
                text=str(value.get("text") or ""),
                network_post_id=str(as_dict(value.get("media")).get("id") or "") or None,
                parent_network_id=str(parent) if parent else None,
                sent_at=at,
            ),
        )
    ]


def _threads(user: str, change: dict[str, Any]) -> Delivery:
    field, value = change.get("field"), as_dict(change.get("value"))
    sent = _epoch(value.get("timestamp"))
    if field not in ("replies", "mentions") or "id" not in value or sent is None:
        return []
    root = as_dict(value.get("root_post"))
    if str(root.get("owner_id", "")) == user and value.get("username") == root.get("username"):
        return []  # the profile's own reply in its own thread
    parent = as_dict(value.get("replied_to")).get("id")
    return [
        (
            user,
            FetchedMessage(
                network_message_id=str(value["id"]),
                kind="reply" if field == "replies" else "mention",
                author_handle=str(value.get("username") or "unknown"),
                text=str(value.get("text") or ""),
                network_post_id=str(root.get("id") or value["id"]),
                parent_network_id=str(parent) if parent else None,
                sent_at=sent,
            ),
        )
    ]


def _dm(account: str, event: dict[str, Any]) -> Delivery:
    message = as_dict(event.get("message"))
    sender = str(as_dict(event.get("sender")).get("id", ""))
    sent = _epoch(event.get("timestamp"), millis=True)
    # Echoes are our own messages; a message without text (a sticker, a reaction) is skipped.
    if message.get("is_echo") or sender in ("", account) or "mid" not in message or sent is None:
        return []
    if not isinstance(message.get("text"), str):
        return []
    return [
        (
            account,
            FetchedMessage(
                network_message_id=str(message["mid"]),
                kind="dm",
                author_handle=sender,
                text=message["text"],
                sent_at=sent,
            ),
        )
    ]

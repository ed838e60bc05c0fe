"""Bluesky inbox, engagement and metrics.

Replies, mentions and quotes come from ``app.bsky.notification.listNotifications``
(newest first, paged backwards with its own cursor; Siar's cursor is the newest
``indexedAt`` already fetched). Likes and reposts are records whose subject is the
target's strong reference; a reply references the thread's root and its parent.
Only the account's own records can be deleted. DMs go through the Bluesky chat
service, proxied by the PDS (``atproto-proxy``); the app password must allow DMs.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from siar.connectors.bluesky_lexicon import POST, AtUri, now_iso, parse_time
from siar.connectors.errors import PermanentError
from siar.connectors.models import (
    Credential,
    Engagement,
    EngagementResult,
    FetchedMessage,
    MetricsSnapshot,
    Page,
)

if TYPE_CHECKING:
    from siar.connectors.bluesky import BlueskyConnector

REASON_KINDS = {"reply": "comment", "mention": "mention", "quote": "mention"}
ENGAGE_COLLECTIONS = {"like": "app.bsky.feed.like", "repost": "app.bsky.feed.repost"}
CHAT_PROXY = {"atproto-proxy": "did:web:api.bsky.chat#bsky_chat"}
PAGE_SIZE = 50
MAX_PAGES = 5


def _uri(ref: Any) -> str | None:
    return ref.get("uri") if isinstance(ref, dict) and isinstance(ref.get("uri"), str) else None


def _message(note: dict[str, Any], indexed: datetime) -> FetchedMessage | None:
    kind = REASON_KINDS.get(str(note.get("reason")))
    record, author = note.get("record"), note.get("author")
    if kind is None or not isinstance(record, dict) or not isinstance(author, dict):
        return None
    reply = record.get("reply")
    reply = reply if isinstance(reply, dict) else {}
    root, parent = _uri(reply.get("root")), _uri(reply.get("parent"))
    subject = note.get("reasonSubject")
    return FetchedMessage(
        network_message_id=str(note["uri"]),
        kind=kind,
        author_handle=str(author.get("handle") or author.get("did") or "unknown"),
        author_name=author.get("displayName") or None,
        text=str(record.get("text", "")),
        network_post_id=root if root else (subject if isinstance(subject, str) else None),
        parent_network_id=parent,
        sent_at=parse_time(record.get("createdAt")) or indexed,
    )


async def fetch_messages(
    connector: BlueskyConnector, credential: Credential, cursor: str | None
) -> Page:
    """Notifications newer than ``cursor`` (an ``indexedAt``), oldest first."""
    since = parse_time(cursor)
    newest, newest_raw = since, cursor
    found: list[tuple[datetime, FetchedMessage]] = []
    page_cursor: str | None = None
    for _ in range(MAX_PAGES if since else 1):
        params = [("limit", str(PAGE_SIZE)), *(("reasons", r) for r in REASON_KINDS)]
        if page_cursor:
            params.append(("cursor", page_cursor))
        body = await connector.xcall(
            "GET",
            "app.bsky.notification.listNotifications",
            credential,
            params=params,
        )
        notes = body.get("notifications")
        reached = False
        for note in notes if isinstance(notes, list) else []:
            indexed = parse_time(note.get("indexedAt")) if isinstance(note, dict) else None
            if indexed is None or not isinstance(note.get("uri"), str):
                continue
            if since is not None and indexed <= since:
                reached = True
                continue
            if newest is None or indexed > newest:
                newest, newest_raw = indexed, str(note["indexedAt"])
            message = _message(note, indexed)
            if message is not None:
                found.append((indexed, message))
        page_cursor = body.get("cursor") if isinstance(body.get("cursor"), str) else None
        if reached or not page_cursor:
            break
    found.sort(key=lambda pair: pair[0])
    return Page(messages=[m for _, m in found], cursor=newest_raw)


async def _reply(
    connector: BlueskyConnector, did: str, credential: Credential, engagement: Engagement
) -> EngagementResult:
    if not engagement.text:
        raise PermanentError("a Bluesky reply needs text")
    parent = await connector.get_record(credential, engagement.target_network_id)
    parent_ref = {"uri": parent["uri"], "cid": parent["cid"]}
    reply = parent["value"].get("reply")
    root = reply.get("root") if isinstance(reply, dict) else None
    has_root = isinstance(root, dict) and _uri(root) and isinstance(root.get("cid"), str)
    root_ref = root if has_root else parent_ref
    record = await connector.post_record(
        credential, engagement.text, reply={"root": root_ref, "parent": parent_ref}
    )
    ref = await connector.create_record(credential, did, POST, record)
    return EngagementResult(network_id=ref["uri"])


async def _dm(
    connector: BlueskyConnector, credential: Credential, engagement: Engagement
) -> EngagementResult:
    recipient = engagement.recipient_network_id or engagement.target_network_id
    if not engagement.text or not recipient:
        raise PermanentError("a Bluesky DM needs text and a recipient")
    if not recipient.startswith("did:"):
        dids = await connector.mention_dids(credential, [recipient.removeprefix("@")])
        recipient = dids.get(recipient.removeprefix("@").lower(), "")
        if not recipient:
            raise PermanentError(f"Bluesky handle {engagement.recipient_network_id} not found")
    convo = await connector.xcall(
        "GET",
        "chat.bsky.convo.getConvoForMembers",
        credential,
        params={"members": recipient},
        headers=CHAT_PROXY,
    )
    convo_id = convo.get("convo", {}).get("id") if isinstance(convo.get("convo"), dict) else None
    if not isinstance(convo_id, str):
        raise PermanentError("Bluesky chat did not open a conversation with the recipient")
    sent = await connector.xcall(
        "POST",
        "chat.bsky.convo.sendMessage",
        credential,
        json={"convoId": convo_id, "message": {"text": engagement.text}},
        headers=CHAT_PROXY,
    )
    return EngagementResult(network_id=sent.get("id") if isinstance(sent.get("id"), str) else None)


async def engage(
    connector: BlueskyConnector, did: str, credential: Credential, engagement: Engagement
) -> EngagementResult:
    """Reply, like, repost, delete one of the account's records, or send a DM."""
    action = engagement.action
    if action == "reply":
        return await _reply(connector, did, credential, engagement)
    if action == "dm":
        return await _dm(connector, credential, engagement)
    if action == "delete":
        at = AtUri.parse(engagement.target_network_id)
        if at.repo != did:
            raise PermanentError("Bluesky only lets an account delete its own posts")
        await connector.xcall(
            "POST",
            "com.atproto.repo.deleteRecord",
            credential,
            json={"repo": did, "collection": at.collection, "rkey": at.rkey},
        )
        return EngagementResult(network_id=engagement.target_network_id)
    collection = ENGAGE_COLLECTIONS.get(action)
    if collection is None:
        raise connector.unsupported(action)
    target = await connector.get_record(credential, engagement.target_network_id)
    record = {
        "$type": collection,
        "subject": {"uri": target["uri"], "cid": target["cid"]},
        "createdAt": now_iso(),
    }
    ref = await connector.create_record(credential, did, collection, record)
    return EngagementResult(network_id=ref["uri"])


def _snapshot(source: dict[str, Any], fields: dict[str, str]) -> MetricsSnapshot:
    metrics = {
        name: float(source[key])
        for key, name in fields.items()
        if isinstance(source.get(key), int | float)
    }
    return MetricsSnapshot(
        collected_at=datetime.now(UTC), metrics=metrics, partial=len(metrics) < len(fields)
    )


async def account_metrics(
    connector: BlueskyConnector, did: str, credential: Credential
) -> MetricsSnapshot:
    """Followers, follows and posts of the account."""
    body = await connector.xcall(
        "GET",
        "app.bsky.actor.getProfile",
        credential,
        params={"actor": did},
    )
    fields = {"followersCount": "followers", "followsCount": "following", "postsCount": "posts"}
    return _snapshot(body, fields)


async def post_metrics(
    connector: BlueskyConnector, credential: Credential, uri: str
) -> MetricsSnapshot:
    """Likes, reposts, replies and quotes of one post."""
    body = await connector.xcall(
        "GET",
        "app.bsky.feed.getPosts",
        credential,
        params={"uris": uri},
    )
    posts = body.get("posts")
    if not isinstance(posts, list) or not posts or not isinstance(posts[0], dict):
        raise PermanentError(f"Bluesky has no post {uri} (deleted?)")
    fields = {
        "likeCount": "likes",
        "repostCount": "reposts",
        "replyCount": "comments",
        "quoteCount": "quotes",
    }
    return _snapshot(posts[0], fields)

"""The inbox's MongoDB store."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Sequence
from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from siar.runtime.mongo import Document, IndexSpec, TenantCollection
from siar_inbox.domain import Conversation, Message
from siar_inbox.ingest import fold_triage
from siar_inbox.search import merge_terms

INDEXES = (
    IndexSpec("conversations", [("workspace_id", ASCENDING), ("last_message_at", DESCENDING)]),
    IndexSpec("messages", [("workspace_id", ASCENDING), ("conversation_id", ASCENDING)]),
    IndexSpec("pollers", [("active", ASCENDING)]),
    IndexSpec("posts", [("workspace_id", ASCENDING), ("network_post_id", ASCENDING)]),
)


def searchable(message: Message, existing: Iterable[str] = ()) -> list[str]:
    """A conversation's search terms once ``message`` (text and author) is in it."""
    return merge_terms(
        existing, f"{message.text} {message.author_handle} {message.author_name or ''}"
    )


def folded(current: Document | None, message: Message, conversation: Conversation) -> Document:
    """The thread's document once ``message`` is in it (``current`` is changed in place)."""
    if current is None:
        doc = conversation.model_dump(exclude={"id"})
        doc.update(_id=conversation.id, message_count=1, last_message_text=message.text[:280])
        doc.update(first_message_at=message.sent_at, search_terms=searchable(message))
        doc["last_ts"] = message.sent_at.timestamp()  # the inbox's sort key (listing.py)
        return doc
    latest = max(current["last_message_at"], message.sent_at)
    current.update(
        message_count=int(current.get("message_count", 0)) + 1,
        last_message_at=latest,
        last_ts=latest.timestamp(),
        status="open",  # a new message also wakes a snoozed conversation
        snoozed_until=None,
        snoozed_until_ts=None,
        first_message_at=min(current.get("first_message_at") or latest, message.sent_at),
        search_terms=searchable(message, current.get("search_terms") or ()),
    )
    if latest == message.sent_at:
        current["last_message_text"] = message.text[:280]
    if current.get("post_id") is None and conversation.post_id is not None:
        current["post_id"] = conversation.post_id  # the post became known since the thread began
    fold_triage(current, conversation, newest=latest == message.sent_at)
    return current


POLL_LEASES = "poll_leases"


def _older_than(changed_ts: float) -> list[dict[str, Any]]:
    return [{"changed_ts": {"$lte": changed_ts}}, {"changed_ts": {"$exists": False}}]


class InboxStore:
    """Conversations, messages, published posts and polling state."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.conversations = TenantCollection(db["conversations"])
        self.messages = TenantCollection(db["messages"])
        self.posts = TenantCollection(db["posts"])
        self.pollers = TenantCollection(db["pollers"])
        # The pollers' leases (siar.runtime.leases; system-wide, keyed by account id).
        self.poll_leases = db[POLL_LEASES]

    async def has_message(self, workspace_id: str, message_id: str) -> bool:
        """Whether a message is already stored (deduplication)."""
        return await self.messages.find_one(workspace_id, {"_id": message_id}) is not None

    async def add_message(
        self, message: Message, conversation: Conversation, session: AsyncClientSession
    ) -> list[Document]:
        """Store a message and fold it into its conversation (see :meth:`add_messages`)."""
        return await self.add_messages([(message, conversation)], session)

    async def add_messages(
        self, pairs: Sequence[tuple[Message, Conversation]], session: AsyncClientSession
    ) -> list[Document]:
        """Store one workspace's new messages and fold each into its thread, in bulk.

        Threads are read once, folded in memory in the order given, then written as
        whole documents: no $max/$set of datetimes, which the embedded nx-27017 stores
        as strings on existing documents. Returns the threads a message reopened (they
        were closed or snoozed), so the caller can announce it.
        """
        if not pairs:
            return []
        ws = pairs[0][0].workspace_id
        await self.messages.raw.insert_many(
            [{**m.model_dump(), "_id": m.id, "workspace_id": ws} for m, _ in pairs],
            session=session,
        )
        ids = sorted({conv.id for _, conv in pairs})
        found = await self.conversations.find(ws, {"_id": {"$in": ids}}, session=session)
        threads: dict[str, Document] = {str(doc["_id"]): doc for doc in found}
        existed = set(threads)
        resting = {i for i, doc in threads.items() if doc.get("status") in ("closed", "snoozed")}
        for message, conv in pairs:
            threads[conv.id] = folded(threads.get(conv.id), message, conv)
        fresh = [{**doc, "workspace_id": ws} for i, doc in threads.items() if i not in existed]
        if fresh:
            await self.conversations.raw.insert_many(fresh, session=session)
        await self.conversations.replace_many(
            ws, [doc for i, doc in threads.items() if i in existed], session=session
        )
        return [threads[i] for i in sorted(resting)]

    async def posts_by_network_id(
        self, workspace_id: str, network_post_ids: Iterable[str]
    ) -> dict[str, Document]:
        """The Siar posts behind network post ids (those we know of)."""
        wanted = sorted(set(network_post_ids))
        if not wanted:
            return {}
        docs = await self.posts.find(workspace_id, {"network_post_id": {"$in": wanted}})
        return {str(doc["network_post_id"]): doc for doc in docs}

    async def known_messages(self, workspace_id: str, message_ids: Iterable[str]) -> set[str]:
        """Which of these messages are already stored (deduplication)."""
        docs = await self.messages.find(
            workspace_id, {"_id": {"$in": sorted(set(message_ids))}}, projection={"_id": 1}
        )
        return {str(doc["_id"]) for doc in docs}

    async def conversation(self, workspace_id: str, conversation_id: str) -> Conversation | None:
        """One conversation."""
        doc = await self.conversations.find_one(workspace_id, {"_id": conversation_id})
        return Conversation.model_validate({**doc, "id": doc["_id"]}) if doc else None

    async def messages_of(self, workspace_id: str, conversation_id: str) -> list[Message]:
        """A conversation's messages, oldest first."""
        docs = await self.messages.find(
            workspace_id, {"conversation_id": conversation_id}, sort=[("sent_at", ASCENDING)]
        )
        return [Message.model_validate(d) for d in docs]

    async def add_outbound(self, message: Message, session: AsyncClientSession) -> None:
        """Store one of our own replies (not counted as a new incoming message)."""
        await self.messages.insert(
            message.workspace_id, {**message.model_dump(), "_id": message.id}, session=session
        )

    async def message(self, workspace_id: str, message_id: str) -> Message | None:
        """One message."""
        doc = await self.messages.find_one(workspace_id, {"_id": message_id})
        return Message.model_validate(doc) if doc else None

    async def latest_inbound(self, workspace_id: str, conversation_id: str) -> Message | None:
        """The newest message the network sent us in a conversation."""
        docs = await self.messages.find(
            workspace_id,
            {"conversation_id": conversation_id, "direction": {"$ne": "outbound"}},
            sort=[("sent_at", DESCENDING)],
            limit=1,
        )
        return Message.model_validate(docs[0]) if docs else None

    async def save_message(self, message: Message, session: AsyncClientSession) -> None:
        """Write a message's new state (whole document: see TenantCollection.replace_one)."""
        await self.messages.replace_one(
            message.workspace_id, {"_id": message.id}, message.model_dump(), session=session
        )

    async def touch_conversation(
        self, workspace_id: str, conversation_id: str, session: AsyncClientSession
    ) -> None:
        """Mark a thread changed when only one of its messages or actions did.

        The live stream watches conversations, not messages: bumping ``version`` in the
        same unit of work is what makes it announce a delivery or an action's outcome.
        ``$inc`` of a number is safe on nx-27017 (only datetimes are not).
        """
        await self.conversations.update_one(
            workspace_id, {"_id": conversation_id}, {"$inc": {"version": 1}}, session=session
        )

    async def record_post(self, workspace_id: str, post: dict[str, Any]) -> None:
        """Remember a published post, to thread its comments to it."""
        await self.posts.update_one(
            workspace_id,
            {"network_post_id": post["network_post_id"], "account_id": post["account_id"]},
            {"$set": post},
            upsert=True,
        )

    async def link_threads_to_post(
        self, workspace_id: str, network_post_id: str, post_id: str
    ) -> None:
        """Attach threads that started before we heard the post was published."""
        await self.conversations.update_many(
            workspace_id,
            {"network_post_id": network_post_id, "post_id": None},
            {"$set": {"post_id": post_id}},
        )

    async def post_for(self, workspace_id: str, network_post_id: str) -> Document | None:
        """The Siar post behind a network post id."""
        return await self.posts.find_one(workspace_id, {"network_post_id": network_post_id})

    async def switch_poller(
        self, workspace_id: str, account_id: str, fields: dict[str, Any], changed_ts: float
    ) -> bool:
        """Start or stop polling an account, unless a later account event did already.

        ``account.connected`` and ``account.disconnected`` are two topics, so a reconnect
        may be read before the disconnect it follows; the newest event wins. A start
        also frees the account's poll lease if it rests after a refused token, so a
        fresh one is read at once. False if a newer event had switched it.
        """
        with contextlib.suppress(DuplicateKeyError):
            # Plain insert first: nx-27017 ignores _id in $setOnInsert (docs/embedded-stack.md).
            await self.pollers.insert(
                workspace_id, {"_id": account_id, **fields, "changed_ts": changed_ts}
            )
            return True
        matched = await self.pollers.update_one(
            workspace_id,
            {"$and": [{"_id": account_id}, {"$or": _older_than(changed_ts)}]},
            {"$set": {**fields, "changed_ts": changed_ts}},
        )
        if matched and fields.get("active"):
            await self.poll_leases.update_one(
                {"_id": account_id, "holder": None}, {"$set": {"lease_until": 0.0}}
            )
        return matched == 1

    async def set_poller(self, workspace_id: str, account_id: str, fields: dict[str, Any]) -> None:
        """Start, stop or update polling of an account."""
        await self.pollers.update_one(
            workspace_id, {"_id": account_id}, {"$set": fields}, upsert=True
        )

    async def active_pollers(self) -> list[Document]:
        """Accounts to poll across all workspaces (the poller is a system task)."""
        return await self.pollers.raw.find({"active": True}).to_list()

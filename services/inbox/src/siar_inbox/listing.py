"""Running the unified inbox's query against the store: one page, and the sidebar counts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pymongo import ASCENDING, DESCENDING

from siar.runtime.mongo import Document, IndexSpec
from siar_inbox.domain import Conversation
from siar_inbox.errors import ConversationNotFound
from siar_inbox.queries import (
    SORT,
    InboxFilter,
    after_cursor,
    counts_pipeline,
    encode_cursor,
    read_counts,
)
from siar_inbox.store import InboxStore

INDEXES = (
    # The main view: one status (usually open), newest first.
    IndexSpec(
        "conversations",
        [("workspace_id", ASCENDING), ("status", ASCENDING), ("last_message_at", DESCENDING)],
    ),
    IndexSpec("conversations", [("workspace_id", ASCENDING), ("search_terms", ASCENDING)]),
)

HIDDEN = {"search_terms": 0}
"""Never sent back: the search index of a thread can hold a thousand words."""


@dataclass(frozen=True)
class ConversationPage:
    """One page of the inbox and where the next one starts."""

    items: list[Conversation]
    next_cursor: str | None


def to_conversation(doc: Document) -> Conversation:
    """A stored conversation as the API shows it."""
    return Conversation.model_validate({**doc, "id": doc["_id"]})


class ConversationQueries:
    """The inbox's read side over :class:`InboxStore`'s conversations."""

    def __init__(self, store: InboxStore) -> None:
        self.store = store

    async def page(
        self, workspace_id: str, inbox: InboxFilter, *, me: str, cursor: str | None, limit: int
    ) -> ConversationPage:
        """Conversations matching ``inbox``, newest activity first, after ``cursor``."""
        if inbox.matches_nothing():
            return ConversationPage([], None)
        query = inbox.query(me)
        if cursor:
            query = {**query, **after_cursor(cursor)}  # flat: see queries._and
        docs = await self.store.conversations.find(
            workspace_id, query, sort=SORT, limit=limit + 1, projection=HIDDEN
        )
        more = len(docs) > limit
        docs = docs[:limit]
        last = docs[-1] if docs and more else None
        return ConversationPage(
            [to_conversation(d) for d in docs],
            encode_cursor(last["last_message_at"], last["_id"]) if last else None,
        )

    async def counts(self, workspace_id: str, inbox: InboxFilter, *, me: str) -> dict[str, Any]:
        """Conversations per status, kind, network, account, priority, sentiment, tag, assignee."""
        if inbox.matches_nothing():
            return read_counts([], me)
        rows = await self.store.conversations.aggregate(workspace_id, counts_pipeline(inbox, me))
        return read_counts(rows, me)

    async def get(self, workspace_id: str, conversation_id: str) -> Conversation:
        """One conversation, or :class:`ConversationNotFound` (also for another workspace's)."""
        docs = await self.store.conversations.find(
            workspace_id, {"_id": conversation_id}, limit=1, projection=HIDDEN
        )
        if not docs:
            raise ConversationNotFound(f"conversation {conversation_id} not found")
        return to_conversation(docs[0])

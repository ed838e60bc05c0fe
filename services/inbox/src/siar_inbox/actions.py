"""Acting on a thread: DM the author, like, hide or delete a comment, repost.

Each action is recorded on the thread and sent to the publisher as
``engagement.requested`` through the outbox, in one unit of work; the publisher's
``engagement.completed`` then shows the outcome on the thread. A DM is also a message
of the thread (our own, outbound), like a public reply.
"""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import BaseModel
from pymongo import ASCENDING
from pymongo.asynchronous.client_session import AsyncClientSession

from siar.connectors.rules import Capability
from siar.contracts import EngagementCompleted, EngagementRequested, utcnow
from siar.runtime.mongo import Document, IndexSpec, TenantCollection
from siar.runtime.outbox import Outbox
from siar.runtime.uow import UnitOfWork
from siar_inbox.domain import Conversation, Message
from siar_inbox.errors import ActionNotSupported, ConversationNotFound, NothingToActOn
from siar_inbox.metrics import FIRST_RESPONSE
from siar_inbox.networks import CAPABILITIES, DISPLAY_NAMES
from siar_inbox.response_metrics import conversation_event, mark_responded
from siar_inbox.store import InboxStore

ThreadAction = Literal["dm", "like", "hide", "delete", "repost"]

NEEDS: dict[str, Capability] = {
    "dm": Capability.DM,
    "like": Capability.LIKE,
    "hide": Capability.HIDE_COMMENT,
    "delete": Capability.DELETE_COMMENT,
    "repost": Capability.REPOST,
}
WHAT = {
    "dm": "private replies by DM",
    "like": "liking",
    "hide": "hiding comments",
    "delete": "deleting comments",
    "repost": "reposting",
}
INDEXES = (IndexSpec("actions", [("workspace_id", ASCENDING), ("conversation_id", ASCENDING)]),)


class ActionRecord(BaseModel):
    """An action taken on a thread and where it stands."""

    id: str
    conversation_id: str
    action: ThreadAction
    message_id: str | None
    target_network_id: str
    state: Literal["requested", "done", "failed"]
    reason: str | None = None
    requested_by: str


async def record_response(
    store: InboxStore,
    outbox: Outbox,
    conversation: Conversation,
    actor: str,
    session: AsyncClientSession,
) -> None:
    """Note our first answer on the thread (once) and announce it, in the caller's work."""
    ws = conversation.workspace_id
    doc = await store.conversations.find_one(ws, {"_id": conversation.id}, session=session)
    if doc is not None and mark_responded(doc, utcnow(), actor):
        await store.conversations.replace_one(ws, {"_id": conversation.id}, doc, session=session)
        await outbox.add(conversation_event(doc, "responded", actor), session=session)
        FIRST_RESPONSE.labels(conversation.network).observe(float(doc["first_response_s"]))


def delivered(message: Message, event: EngagementCompleted) -> Message:
    """One of our own messages (a reply or a DM) with the publisher's outcome on it."""
    return message.model_copy(
        update={
            "delivery": "sent" if event.ok else "failed",
            "network_message_id": event.network_id,
            "delivery_error": event.reason,
        }
    )


def require_capability(conv: Conversation, action: str) -> None:
    """Refuse an action the conversation's network does not offer, naming both."""
    if NEEDS[action] not in CAPABILITIES.get(conv.network, frozenset()):
        name = DISPLAY_NAMES.get(conv.network, conv.network)
        raise ActionNotSupported(f"{name} does not support {WHAT[action]}")


class Actions:
    """Thread actions beside the public reply of :class:`~siar_inbox.service.InboxService`."""

    def __init__(self, store: InboxStore, uow: UnitOfWork) -> None:
        self.store = store
        self.uow = uow
        self.records = TenantCollection(store.conversations.raw.database["actions"])

    async def _target(self, conv: Conversation, action: str, message_id: str | None) -> Message:
        store = self.store
        if message_id is not None:
            message = await store.message(conv.workspace_id, message_id)
            if message is None or message.conversation_id != conv.id:
                raise NothingToActOn(f"message {message_id} is not in this conversation")
        else:
            message = await store.latest_inbound(conv.workspace_id, conv.id)
        if message is None or message.network_message_id is None:
            raise NothingToActOn(f"nothing in this conversation to {action} yet")
        return message

    async def act(
        self,
        *,
        workspace_id: str,
        conversation_id: str,
        action: ThreadAction,
        actor: str,
        message_id: str | None = None,
        text: str | None = None,
    ) -> ActionRecord:
        """Record ``action`` on the thread and ask the publisher to perform it."""
        conv = await self.store.conversation(workspace_id, conversation_id)
        if conv is None:
            raise ConversationNotFound(f"conversation {conversation_id} not found")
        require_capability(conv, action)
        target = await self._target(conv, action, message_id)
        record = ActionRecord(
            id=f"msg_{uuid.uuid4().hex[:24]}" if action == "dm" else f"act_{uuid.uuid4().hex}",
            conversation_id=conv.id,
            action=action,
            message_id=target.id,
            target_network_id=str(target.network_message_id),
            state="requested",
            requested_by=actor,
        )
        request = EngagementRequested.new(
            workspace_id=workspace_id,
            request_id=record.id,
            account_id=conv.account_id,
            network=conv.network,
            action=action,
            target_network_id=record.target_network_id,
            text=text if action == "dm" else None,
            requested_by=actor,
        )
        dm = self._dm(conv, target, record.id, text or "", actor) if action == "dm" else None

        async def work(session: AsyncClientSession) -> None:
            doc = {**record.model_dump(exclude={"id"}), "_id": record.id, "at": utcnow()}
            await self.records.insert(workspace_id, doc, session=session)
            if dm is not None:
                await self.store.add_outbound(dm, session)
                await record_response(self.store, self.uow.outbox, conv, actor, session)
            await self.uow.outbox.add(request, session=session)

        await self.uow.run(work)
        return record

    @staticmethod
    def _dm(conv: Conversation, target: Message, request_id: str, text: str, actor: str) -> Message:
        now = utcnow()
        return Message(
            id=request_id,
            workspace_id=conv.workspace_id,
            conversation_id=conv.id,
            account_id=conv.account_id,
            network=conv.network,
            network_message_id=None,
            kind="dm",
            author_handle="",
            text=text,
            sent_at=now,
            received_at=now,
            direction="outbound",
            delivery="sending",
            sent_by=actor,
            in_reply_to=target.id,
        )

    async def of(self, workspace_id: str, conversation_id: str) -> list[ActionRecord]:
        """A thread's actions, oldest first."""
        if await self.store.conversation(workspace_id, conversation_id) is None:
            raise ConversationNotFound(f"conversation {conversation_id} not found")
        docs = await self.records.find(
            workspace_id, {"conversation_id": conversation_id}, sort=[("at", ASCENDING)]
        )
        return [ActionRecord.model_validate({**d, "id": d["_id"]}) for d in docs]

    async def completed(self, event: EngagementCompleted, consumer: str) -> None:
        """Show an action's outcome: on its record, its DM, and a hidden/deleted comment."""
        ws = event.workspace_id
        record = await self.records.find_one(ws, {"_id": event.request_id})
        if record is None:
            return  # not one of ours (or from before actions were recorded)

        async def work(session: AsyncClientSession) -> None:
            state = "done" if event.ok else "failed"
            record.update(state=state, reason=event.reason)
            await self.records.replace_one(ws, {"_id": record["_id"]}, record, session=session)
            if event.action == "dm":
                await self._settle_message(ws, event.request_id, event, session)
            elif event.ok and event.action in ("hide", "delete"):
                await self._moderate(
                    ws, record, "hidden" if event.action == "hide" else "deleted", session
                )
            # Only the record and a message changed: announce it on the thread's stream.
            await self.store.touch_conversation(ws, str(record["conversation_id"]), session)

        await self.uow.run_once(consumer, str(event.event_id), work)

    async def _settle_message(
        self, ws: str, message_id: str, event: EngagementCompleted, session: AsyncClientSession
    ) -> None:
        message = await self.store.message(ws, message_id)
        if message is not None:
            await self.store.save_message(delivered(message, event), session)

    async def _moderate(
        self,
        ws: str,
        record: Document,
        outcome: Literal["hidden", "deleted"],
        session: AsyncClientSession,
    ) -> None:
        message = await self.store.message(ws, str(record["message_id"]))
        if message is not None:
            await self.store.save_message(
                message.model_copy(update={"moderation": outcome}), session
            )

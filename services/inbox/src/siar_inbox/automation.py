"""Workspace rules and inbox settings: stored, managed, and applied to each new message.

Rules run inside the message's own transaction, so a message is never stored without
its tags, nor a hide or auto-reply asked for a message that was not stored. Compiled
rules and settings are cached per workspace for a few seconds (rule changes through
this process clear the cache at once) to keep ingest to its own writes.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from siar.connectors.rules import Capability
from siar.contracts import EngagementRequested, Event, utcnow
from siar.runtime.mongo import Document, IndexSpec, TenantCollection
from siar_inbox.actions import NEEDS, ActionRecord
from siar_inbox.domain import Conversation, Message, higher_priority
from siar_inbox.errors import InboxError
from siar_inbox.networks import CAPABILITIES
from siar_inbox.rules import CompiledRule, InboxSettings, Outcome, RuleSpec, evaluate

INDEXES = (IndexSpec("rules", [("workspace_id", ASCENDING), ("name", ASCENDING)]),)
CACHE_S = 5.0
MAX_RULES = 100


class RuleNotFound(InboxError):
    """No such rule in this workspace."""


class TooManyRules(InboxError):
    """The workspace already has the most rules allowed."""


class Automation:
    """Rules CRUD, inbox settings, and :class:`~siar_inbox.service.IngestRules`."""

    def __init__(self, db: AsyncDatabase[Document], *, cache_s: float = CACHE_S) -> None:
        self.rules = TenantCollection(db["rules"])
        self.settings = TenantCollection(db["inbox_settings"])
        self.auto_replies = TenantCollection(db["auto_replies"])
        self.messages = TenantCollection(db["messages"])
        self.actions = TenantCollection(db["actions"])
        self.cache_s = cache_s
        self._cache: dict[str, tuple[float, list[CompiledRule], InboxSettings]] = {}

    # -- management ------------------------------------------------------------------
    async def list_rules(self, workspace_id: str) -> list[tuple[str, RuleSpec]]:
        """The workspace's rules, by name."""
        docs = await self.rules.find(workspace_id, sort=[("name", ASCENDING)])
        return [(str(d["_id"]), RuleSpec.model_validate(d["spec"])) for d in docs]

    async def create_rule(self, workspace_id: str, spec: RuleSpec, author: str) -> str:
        """Store a new rule (already validated, so its regex is safe)."""
        if await self.rules.count(workspace_id) >= MAX_RULES:
            raise TooManyRules(f"a workspace may have at most {MAX_RULES} rules")
        rule_id = f"rul_{uuid.uuid4().hex[:20]}"
        doc = {"_id": rule_id, "name": spec.name, "spec": spec.model_dump(), "by": author}
        await self.rules.insert(workspace_id, doc)
        self._cache.pop(workspace_id, None)
        return rule_id

    async def replace_rule(self, workspace_id: str, rule_id: str, spec: RuleSpec) -> None:
        """Replace a rule's definition."""
        doc = {"_id": rule_id, "name": spec.name, "spec": spec.model_dump()}
        if not await self.rules.replace_one(workspace_id, {"_id": rule_id}, doc):
            raise RuleNotFound(f"rule {rule_id} not found")
        self._cache.pop(workspace_id, None)

    async def delete_rule(self, workspace_id: str, rule_id: str) -> None:
        """Remove a rule."""
        if not await self.rules.delete_one(workspace_id, {"_id": rule_id}):
            raise RuleNotFound(f"rule {rule_id} not found")
        self._cache.pop(workspace_id, None)

    async def get_settings(self, workspace_id: str) -> InboxSettings:
        """The workspace's inbox settings (defaults until changed)."""
        doc = await self.settings.find_one(workspace_id, {"_id": workspace_id})
        return InboxSettings.model_validate(doc["settings"]) if doc else InboxSettings()

    async def put_settings(self, workspace_id: str, settings: InboxSettings) -> None:
        """Replace the workspace's inbox settings."""
        doc = {"_id": workspace_id, "settings": settings.model_dump()}
        if not await self.settings.replace_one(workspace_id, {"_id": workspace_id}, doc):
            await self.settings.insert(workspace_id, doc)
        self._cache.pop(workspace_id, None)

    # -- at ingest -------------------------------------------------------------------
    async def _loaded(self, workspace_id: str) -> tuple[list[CompiledRule], InboxSettings]:
        cached = self._cache.get(workspace_id)
        if cached and time.monotonic() - cached[0] < self.cache_s:
            return cached[1], cached[2]
        rules = [CompiledRule.of(i, spec) for i, spec in await self.list_rules(workspace_id)]
        settings = await self.get_settings(workspace_id)
        self._cache[workspace_id] = (time.monotonic(), rules, settings)
        return rules, settings

    async def influencer_followers(self, workspace_id: str) -> int:
        """Followers from which an author counts as an influencer in this workspace."""
        return (await self._loaded(workspace_id))[1].influencer_followers

    async def apply(
        self, message: Message, conversation: Conversation, session: AsyncClientSession
    ) -> tuple[Message, Conversation, list[Event]]:
        """Tag, assign, prioritise; ask for hides and auto-replies (inside the transaction)."""
        rules, settings = await self._loaded(message.workspace_id)
        outcome = evaluate(rules, message.text, message.kind)
        if not outcome.rule_ids:
            return message, conversation, []
        priority = higher_priority(message.priority, outcome.priority or "low")
        tags = sorted({*message.tags, *outcome.tags})
        message = message.model_copy(update={"tags": tags, "priority": priority})
        conversation = conversation.model_copy(
            update={
                "tags": sorted({*conversation.tags, *tags}),
                "priority": higher_priority(conversation.priority, priority),
                "assignee": conversation.assignee or outcome.assign,
            }
        )
        events: list[Event] = []
        # Only where the network can hide a comment; elsewhere the rule tags and assigns.
        if outcome.hide and message.kind in ("comment", "reply") and _can(message, "hide"):
            hide = self._engagement(message, "hide", None, outcome)
            await self._record(message, hide, session)
            events.append(hide)
        reply = await self._auto_reply(message, outcome, settings, session)
        if reply is not None:
            events.append(reply)
        return message, conversation, events

    async def _auto_reply(
        self,
        message: Message,
        outcome: Outcome,
        settings: InboxSettings,
        session: AsyncClientSession,
    ) -> EngagementRequested | None:
        now = utcnow()
        closed_since = settings.closed_since(now)
        if outcome.auto_reply is None or closed_since is None or outcome.hide:
            return None
        if message.sent_at < closed_since:
            # Written before we closed (e.g. history fetched when an account is connected):
            # an "we are away" answer to it would be wrong.
            return None
        ws = message.workspace_id
        key = f"{message.conversation_id}|{closed_since.isoformat()}"
        if await self.auto_replies.find_one(ws, {"_id": key}, session=session) is not None:
            return None  # already answered in this out-of-hours period
        await self.auto_replies.insert(
            ws, {"_id": key, "rule_id": outcome.auto_reply_rule, "at": now}, session=session
        )
        action = "dm" if message.kind == "dm" else "reply"
        if not _can(message, action):
            return None
        request = self._engagement(message, action, outcome.auto_reply, outcome)
        # Shown in the thread like a person's reply; its delivery follows engagement.completed.
        outbound = _outbound(message, request, outcome)
        await self.messages.insert(
            ws, {**outbound.model_dump(), "_id": outbound.id}, session=session
        )
        if action == "dm":
            await self._record(message, request, session)
        return request

    async def _record(
        self, message: Message, request: EngagementRequested, session: AsyncClientSession
    ) -> None:
        """Record a hide or DM like a person's thread action (actions.py), so its outcome
        shows on the thread: the comment marked hidden, the DM sent or failed."""
        record = ActionRecord(
            id=request.request_id,
            conversation_id=message.conversation_id,
            action="dm" if request.action == "dm" else "hide",
            message_id=message.id,
            target_network_id=request.target_network_id,
            state="requested",
            requested_by=request.requested_by or "rule",
        )
        doc = {**record.model_dump(exclude={"id"}), "_id": record.id, "at": utcnow()}
        await self.actions.insert(message.workspace_id, doc, session=session)

    @staticmethod
    def _engagement(
        message: Message, action: Any, text: str | None, outcome: Outcome
    ) -> EngagementRequested:
        return EngagementRequested.new(
            workspace_id=message.workspace_id,
            # A DM's or reply's id is also its outbound message's id (as in actions.py).
            request_id=f"act_{uuid.uuid4().hex}"
            if action == "hide"
            else f"msg_{uuid.uuid4().hex[:24]}",
            account_id=message.account_id,
            network=message.network,
            action=action,
            target_network_id=message.network_message_id or "",
            text=text,
            requested_by=f"rule:{outcome.auto_reply_rule or outcome.rule_ids[0]}",
        )


def _can(message: Message, action: str) -> bool:
    needed = NEEDS.get(action, Capability.REPLY)
    return needed in CAPABILITIES.get(message.network, frozenset())


def _outbound(message: Message, request: EngagementRequested, outcome: Outcome) -> Message:
    now = utcnow()
    return Message(
        id=request.request_id,
        workspace_id=message.workspace_id,
        conversation_id=message.conversation_id,
        account_id=message.account_id,
        network=message.network,
        network_message_id=None,
        kind="dm" if message.kind == "dm" else "reply",
        author_handle="",
        text=request.text or "",
        network_post_id=message.network_post_id,
        sent_at=max(now, message.sent_at),
        received_at=now,
        direction="outbound",
        delivery="sending",
        sent_by=f"rule:{outcome.auto_reply_rule}",
        in_reply_to=message.id,
    )

"""Inbox use cases: ingest messages once, thread them, and serve the unified inbox."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol

from prometheus_client import Counter
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import DuplicateKeyError

from siar.connectors import FetchedMessage
from siar.contracts import (
    EngagementCompleted,
    EngagementRequested,
    Event,
    PostPublished,
    utcnow,
)
from siar.runtime.mongo import Document
from siar.runtime.tracing import continued_spans, trace_headers
from siar.runtime.uow import UnitOfWork
from siar_inbox.actions import Actions, delivered, record_response
from siar_inbox.domain import Conversation, Message, message_id
from siar_inbox.errors import ConversationNotFound, NothingToReplyTo
from siar_inbox.ingest import DEFAULT_INFLUENCER_FOLLOWERS, normalise, received_event
from siar_inbox.response_metrics import conversation_event
from siar_inbox.store import InboxStore

log = logging.getLogger(__name__)

MESSAGES_INGESTED = Counter(
    "siar_inbox_messages_ingested",
    "Messages stored by the inbox, by network and kind.",
    ["network", "kind"],
)
MESSAGES_DUPLICATE = Counter(
    "siar_inbox_messages_duplicate",
    "Messages seen again and dropped, by network.",
    ["network"],
)


class IngestRules(Protocol):
    """A workspace's automation, applied to each new message inside its transaction."""

    async def influencer_followers(self, workspace_id: str) -> int:
        """Followers from which an author counts as an influencer."""
        ...

    async def apply(
        self, message: Message, conversation: Conversation, session: AsyncClientSession
    ) -> tuple[Message, Conversation, list[Event]]:
        """The message and thread with rules applied, and the actions they ask for."""
        ...


class InboxService:
    """Everything the inbox does, behind its API, its poller and its handlers."""

    def __init__(
        self, *, store: InboxStore, uow: UnitOfWork, rules: IngestRules | None = None
    ) -> None:
        self.store = store
        self.uow = uow
        # Workspace rules and thresholds applied at ingest (automation.py); None in tests.
        self.rules = rules
        self.actions = Actions(store, uow)

    async def ingest(
        self, *, workspace_id: str, account_id: str, network: str, fetched: FetchedMessage
    ) -> Message | None:
        """Store one fetched message (once), thread and triage it, emit ``message.received``."""
        stored = await self.ingest_many(
            workspace_id=workspace_id, account_id=account_id, network=network, fetched=[fetched]
        )
        return stored[0] if stored else None

    async def ingest_many(
        self,
        *,
        workspace_id: str,
        account_id: str,
        network: str,
        fetched: Sequence[FetchedMessage],
    ) -> list[Message]:
        """Store an account's new messages in one unit of work; returns those that were new.

        Messages already stored, or repeated in the batch, are dropped (one message per
        network message id); the rest are folded into their threads in the network's
        time order, so a late, older message never becomes a thread's latest.
        """
        unseen = await self._unseen(workspace_id, network, fetched)
        if not unseen:
            return []
        posts = await self.store.posts_by_network_id(
            workspace_id, (f.network_post_id for f in unseen if f.network_post_id)
        )
        pairs = await self._normalised(workspace_id, account_id, network, unseen, posts)
        # Each comment continues the trace of the post it answers (stored on post.published).
        parents = [posts.get(f.network_post_id or "", {}).get("trace") for f in unseen]
        try:
            with continued_spans("inbox.ingest", parents, {"siar.network": network}):
                stored = await self.uow.run(self._store_work(pairs))
        except DuplicateKeyError:
            # Another delivery stored one of them meanwhile: keep the others, one by one.
            if len(unseen) == 1:
                MESSAGES_DUPLICATE.labels(network).inc()
                return []
            single = [
                await self.ingest_many(
                    workspace_id=workspace_id, account_id=account_id, network=network, fetched=[f]
                )
                for f in unseen
            ]
            return [m for found in single for m in found]
        for message in stored:
            MESSAGES_INGESTED.labels(network, message.kind).inc()
        await self._link_published(workspace_id, stored, set(posts))
        return stored

    async def _link_published(
        self, workspace_id: str, stored: list[Message], known: set[str]
    ) -> None:
        """Thread new comments to a post whose ``post.published`` came while they were stored.

        The two topics are not ordered: the handler links the threads it finds, and this
        links those it could not find yet (one of the two always sees the other's write).
        """
        missing = {m.network_post_id for m in stored if m.network_post_id} - known
        posts = await self.store.posts_by_network_id(workspace_id, missing)
        for network_post_id, post in posts.items():
            await self.store.link_threads_to_post(
                workspace_id, network_post_id, str(post["post_id"])
            )

    async def _normalised(
        self,
        workspace_id: str,
        account_id: str,
        network: str,
        unseen: list[FetchedMessage],
        posts: dict[str, Document],
    ) -> list[tuple[Message, Conversation]]:
        """Messages and threads to store, triaged, in the network's time order."""
        threshold = (
            await self.rules.influencer_followers(workspace_id)
            if self.rules
            else DEFAULT_INFLUENCER_FOLLOWERS
        )
        now = utcnow()
        return [
            normalise(
                workspace_id=workspace_id,
                account_id=account_id,
                network=network,
                fetched=f,
                post_id=str(posts[f.network_post_id]["post_id"])
                if f.network_post_id in posts
                else None,
                received_at=now,
                influencer_followers=threshold,
            )
            for f in sorted(unseen, key=lambda f: f.sent_at)
        ]

    async def _unseen(
        self, workspace_id: str, network: str, fetched: Sequence[FetchedMessage]
    ) -> list[FetchedMessage]:
        by_id = {message_id(workspace_id, network, f.network_message_id): f for f in fetched}
        known = await self.store.known_messages(workspace_id, by_id)
        if dropped := len(fetched) - len(by_id) + len(known):
            MESSAGES_DUPLICATE.labels(network).inc(dropped)
        return [f for i, f in by_id.items() if i not in known]

    def _store_work(
        self, pairs: list[tuple[Message, Conversation]]
    ) -> Callable[[AsyncClientSession], Awaitable[list[Message]]]:
        rules = self.rules

        async def work(session: AsyncClientSession) -> list[Message]:
            done: list[tuple[Message, Conversation]] = []
            events: list[Event] = []
            for message, conv in pairs:
                applied = (
                    await rules.apply(message, conv, session) if rules else (message, conv, [])
                )
                done.append((applied[0], applied[1]))
                events += [received_event(applied[0]), *applied[2]]
            reopened = await self.store.add_messages(done, session)
            # A new message reopens a closed or snoozed thread: analytics hears of it.
            events += [conversation_event(doc, "reopened", None) for doc in reopened]
            await self.uow.outbox.add_many(events, session=session)
            return [message for message, _ in done]

        return work

    async def reply(
        self, *, workspace_id: str, conversation_id: str, text: str, author: str
    ) -> Message:
        """Answer a conversation publicly: store the reply and ask the publisher to send it."""
        conv = await self.store.conversation(workspace_id, conversation_id)
        if conv is None:
            raise ConversationNotFound(f"conversation {conversation_id} not found")
        target = await self.store.latest_inbound(workspace_id, conversation_id)
        if target is None or target.network_message_id is None:
            raise NothingToReplyTo("the conversation has no message from the network yet")
        now = utcnow()
        message = Message(
            id=f"msg_{uuid.uuid4().hex[:24]}",
            workspace_id=workspace_id,
            conversation_id=conversation_id,
            account_id=conv.account_id,
            network=conv.network,
            network_message_id=None,
            kind="reply",
            author_handle="",
            text=text,
            network_post_id=conv.network_post_id,
            sent_at=now,
            received_at=now,
            direction="outbound",
            delivery="sending",
            sent_by=author,
            in_reply_to=target.id,
        )
        request = EngagementRequested.new(
            workspace_id=workspace_id,
            request_id=message.id,
            account_id=conv.account_id,
            network=conv.network,
            action="reply",
            target_network_id=target.network_message_id,
            text=text,
            requested_by=author,
        )

        async def work(session: AsyncClientSession) -> None:
            await self.store.add_outbound(message, session)
            await self.uow.outbox.add(request, session=session)
            await record_response(self.store, self.uow.outbox, conv, author, session)

        await self.uow.run(work)
        return message

    async def engagement_completed(self, event: EngagementCompleted, consumer: str) -> None:
        """Show the outcome of one of our replies (or another thread action) on its thread."""
        if event.action != "reply":
            await self.actions.completed(event, consumer)
            return
        message = await self.store.message(event.workspace_id, event.request_id)
        if message is None or message.direction != "outbound":
            return
        done = delivered(message, event)

        async def work(session: AsyncClientSession) -> None:
            await self.store.save_message(done, session)
            await self.store.touch_conversation(done.workspace_id, done.conversation_id, session)

        await self.uow.run_once(consumer, str(event.event_id), work)

    async def post_published(self, event: PostPublished) -> None:
        """Remember a published post so its comments thread to it."""
        await self.store.record_post(
            event.workspace_id,
            {
                "network_post_id": event.network_post_id,
                "account_id": event.account_id,
                "post_id": event.post_id,
                "network": event.network,
                "permalink": event.permalink,
                "trace": trace_headers(),  # its comments, found by polling, join this trace
            },
        )
        # A fan can be faster than our own event: thread earlier comments to the post.
        await self.store.link_threads_to_post(
            event.workspace_id, event.network_post_id, event.post_id
        )

    async def start_polling(
        self,
        workspace_id: str,
        account_id: str,
        network: str,
        handle: str = "",
        network_account_id: str | None = None,
        changed_ts: float | None = None,
    ) -> None:
        """Poll a newly connected (or reconnected) account; route its webhook calls to it.

        ``changed_ts`` is the event's time: a later ``account.disconnected`` wins.
        """
        # A reconnect brings a fresh token: read at once, not after a refused one's gap.
        fields: dict[str, Any] = {
            "network": network,
            "handle": handle,
            "active": True,
            "since": utcnow(),
            "auth_refused": False,
        }
        if network_account_id:
            fields["network_account_id"] = network_account_id
        at = time.time() if changed_ts is None else changed_ts
        await self.store.switch_poller(workspace_id, account_id, fields, at)

    async def stop_polling(
        self, workspace_id: str, account_id: str, changed_ts: float | None = None
    ) -> None:
        """Stop polling a disconnected account (unless it was reconnected after)."""
        at = time.time() if changed_ts is None else changed_ts
        await self.store.switch_poller(workspace_id, account_id, {"active": False}, at)

    async def save_cursor(self, workspace_id: str, account_id: str, cursor: str | None) -> None:
        """Remember how far an account has been read."""
        await self.store.set_poller(
            workspace_id, account_id, {"cursor": cursor, "polled_at": utcnow()}
        )

    async def messages(self, workspace_id: str, conversation_id: str) -> list[Message]:
        """One conversation's messages."""
        if await self.store.conversation(workspace_id, conversation_id) is None:
            raise ConversationNotFound(f"conversation {conversation_id} not found")
        return await self.store.messages_of(workspace_id, conversation_id)

"""Turning a fetched message into the inbox's message, thread and event (no I/O).

Whether it came from polling or a webhook, a network's message is normalised here:
one stable id per network message (deduplication), one stable thread per post, DM
partner or mention, and triage at ingest (language, sentiment, influencer, priority).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from siar.connectors import FetchedMessage
from siar.contracts import MessageReceived
from siar_inbox.domain import (
    Conversation,
    Message,
    Priority,
    Sentiment,
    conversation_id,
    higher_priority,
    message_id,
    priority_at_ingest,
)
from siar_inbox.language import detect_language
from siar_inbox.sentiment import sentiment

DEFAULT_INFLUENCER_FOLLOWERS = 10_000


def thread_key(fetched: FetchedMessage) -> str:
    """What a message threads by: its post, the message it answers, or its author (DMs)."""
    return fetched.network_post_id or fetched.parent_network_id or fetched.author_handle


def triage(
    fetched: FetchedMessage, influencer_followers: int
) -> tuple[str | None, Sentiment | None, bool, Priority]:
    """Language, sentiment, influencer flag and priority of a new message."""
    language = detect_language(fetched.text)
    mood = sentiment(fetched.text, language)
    followers = fetched.author_followers
    influencer = followers is not None and followers >= influencer_followers
    return language, mood, influencer, priority_at_ingest(mood, influencer)


def normalise(
    *,
    workspace_id: str,
    account_id: str,
    network: str,
    fetched: FetchedMessage,
    post_id: str | None,
    received_at: datetime,
    influencer_followers: int = DEFAULT_INFLUENCER_FOLLOWERS,
) -> tuple[Message, Conversation]:
    """The stored message and the thread it opens or joins, triaged."""
    language, mood, influencer, priority = triage(fetched, influencer_followers)
    conv = Conversation(
        id=conversation_id(workspace_id, account_id, fetched.kind, thread_key(fetched)),
        workspace_id=workspace_id,
        account_id=account_id,
        network=network,
        kind=fetched.kind,
        network_post_id=fetched.network_post_id,
        post_id=post_id,
        last_message_at=fetched.sent_at,
        sentiment=mood,
        language=language,
        priority=priority,
        influencer=influencer,
    )
    message = Message(
        id=message_id(workspace_id, network, fetched.network_message_id),
        workspace_id=workspace_id,
        conversation_id=conv.id,
        account_id=account_id,
        network=network,
        network_message_id=fetched.network_message_id,
        kind=fetched.kind,
        author_handle=fetched.author_handle,
        author_name=fetched.author_name,
        text=fetched.text,
        network_post_id=fetched.network_post_id,
        sent_at=fetched.sent_at,
        received_at=received_at,
        sentiment=mood,
        language=language,
        priority=priority,
        influencer=influencer,
        author_followers=fetched.author_followers,
    )
    return message, conv


def received_event(message: Message) -> MessageReceived:
    """``message.received`` for a stored inbound message."""
    return MessageReceived.new(
        workspace_id=message.workspace_id,
        message_id=message.id,
        conversation_id=message.conversation_id,
        account_id=message.account_id,
        network=message.network,
        network_message_id=message.network_message_id or "",
        kind=message.kind,
        author_handle=message.author_handle,
        author_name=message.author_name,
        text=message.text,
        network_post_id=message.network_post_id,
        sent_at=message.sent_at,
        sentiment=message.sentiment,
        language=message.language,
        influencer=message.influencer,
    )


def fold_triage(current: dict[str, Any], incoming: Conversation, newest: bool) -> None:
    """Fold a new message's triage into its stored thread (a document, changed in place).

    Priority only rises and the influencer flag only sets, so a calm reply never hides
    an angry message above it; sentiment and language follow the newest message.
    """
    current["priority"] = higher_priority(current.get("priority") or "normal", incoming.priority)
    current["influencer"] = bool(current.get("influencer")) or incoming.influencer
    current["tags"] = sorted({*(current.get("tags") or ()), *incoming.tags})
    if incoming.assignee and not current.get("assignee"):
        current["assignee"] = incoming.assignee
    if newest:
        current["sentiment"] = incoming.sentiment
        current["language"] = incoming.language

"""Inbox domain: messages and the conversations they thread into (no I/O)."""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, Field


class ConversationStatus(StrEnum):
    """Triage state of a conversation."""

    OPEN = "open"
    PENDING = "pending"
    CLOSED = "closed"
    SNOOZED = "snoozed"


Priority = Literal["low", "normal", "high", "urgent"]
Sentiment = Literal["positive", "neutral", "negative"]
PRIORITIES: tuple[Priority, ...] = ("low", "normal", "high", "urgent")


def higher_priority(a: Priority, b: Priority) -> Priority:
    """The more pressing of two priorities."""
    return a if PRIORITIES.index(a) >= PRIORITIES.index(b) else b


def priority_at_ingest(sentiment: Sentiment | None, influencer: bool) -> Priority:
    """Negative messages come first; a negative one from an influencer is urgent."""
    if sentiment == "negative":
        return "urgent" if influencer else "high"
    return "high" if influencer else "normal"


class Message(BaseModel):
    """One comment, mention or DM, normalised."""

    id: str
    workspace_id: str
    conversation_id: str
    account_id: str
    network: str
    network_message_id: str | None
    kind: str
    author_handle: str
    author_name: str | None = None
    text: str
    network_post_id: str | None = None
    sent_at: datetime
    received_at: datetime
    direction: Literal["inbound", "outbound"] = "inbound"
    delivery: Literal["sending", "sent", "failed"] | None = Field(
        default=None, description="For our own replies: where the engagement request is."
    )
    delivery_error: str | None = None
    sent_by: str | None = None
    in_reply_to: str | None = None
    moderation: Literal["hidden", "deleted"] | None = Field(
        default=None, description="Set once a hide or delete asked from the inbox succeeded."
    )
    # Triage at ingest (inbound messages only; see docs/inbox-ingestion.md).
    sentiment: Sentiment | None = None
    language: str | None = Field(default=None, description="ISO 639-1, None if unknown.")
    priority: Priority = "normal"
    influencer: bool = False
    author_followers: int | None = None
    tags: list[str] = Field(default_factory=list)


class Conversation(BaseModel):
    """A thread: a post's comments, a DM conversation or a mention."""

    id: str
    workspace_id: str
    account_id: str
    network: str
    kind: str
    network_post_id: str | None = None
    post_id: str | None = None
    status: ConversationStatus = ConversationStatus.OPEN
    message_count: int = 0
    last_message_at: datetime
    last_message_text: str = ""
    assignee: str | None = None
    tags: list[str] = Field(default_factory=list)
    snoozed_until: datetime | None = Field(
        default=None, description="While snoozed: when it wakes up (a new message wakes it too)."
    )
    first_message_at: datetime | None = Field(
        default=None, description="When the first message from the network arrived."
    )
    first_response_at: datetime | None = None
    first_response_s: float | None = Field(
        default=None, description="Seconds from the first message to our first answer."
    )
    responded_by: str | None = None
    closed_at: datetime | None = None
    resolution_s: float | None = Field(
        default=None, description="Seconds from the first message to the latest close."
    )
    closed_by: str | None = None
    # From triage at ingest: the latest inbound message's sentiment and language, the
    # highest priority any message raised it to, and whether an influencer wrote.
    sentiment: Sentiment | None = None
    language: str | None = None
    priority: Priority = "normal"
    influencer: bool = False


def render_saved_reply(template: str, values: dict[str, str]) -> str:
    """Fill ``{{first_name}}``-style variables; unknown ones are left for a person to see."""

    def fill(match: re.Match[str]) -> str:
        return values.get(match.group(1), match.group(0))

    return re.sub(r"\{\{\s*([a-z_]+)\s*\}\}", fill, template)


def conversation_id(workspace_id: str, account_id: str, kind: str, thread_key: str) -> str:
    """Stable id of a thread, so every message of it lands in one conversation."""
    digest = hashlib.sha256(f"{workspace_id}|{account_id}|{kind}|{thread_key}".encode())
    return f"cnv_{digest.hexdigest()[:24]}"


def message_id(workspace_id: str, network: str, network_message_id: str) -> str:
    """Stable id of a message: the same network message is stored once."""
    digest = hashlib.sha256(f"{workspace_id}|{network}|{network_message_id}".encode())
    return f"msg_{digest.hexdigest()[:24]}"

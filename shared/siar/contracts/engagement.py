"""Engagement: actions the inbox asks the publisher to take, and messages it received."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import AwareDatetime, Field

from siar.contracts.envelope import Event

EngagementAction = Literal["reply", "dm", "like", "hide", "delete", "repost"]
MessageKind = Literal["comment", "reply", "dm", "mention", "review"]


class EngagementRequested(Event):
    """Reply, DM, like, hide or repost on a network, on behalf of an account."""

    topic: ClassVar[str] = "engagement.requested"
    event_type: Literal["engagement.requested"] = "engagement.requested"
    schema_version: Literal[1] = 1
    request_id: str
    account_id: str
    network: str
    action: EngagementAction
    target_network_id: str = Field(description="Network id of the message or post acted on.")
    text: str | None = None
    requested_by: str | None = None


class EngagementCompleted(Event):
    """The outcome of an engagement request."""

    topic: ClassVar[str] = "engagement.completed"
    event_type: Literal["engagement.completed"] = "engagement.completed"
    schema_version: Literal[1] = 1
    request_id: str
    account_id: str
    network: str
    action: EngagementAction
    ok: bool
    network_id: str | None = None
    reason: str | None = None


class MessageReceived(Event):
    """A new comment, mention or DM, normalised across networks."""

    topic: ClassVar[str] = "message.received"
    event_type: Literal["message.received"] = "message.received"
    schema_version: Literal[1] = 1
    message_id: str = Field(description="Siar's id of the stored message.")
    conversation_id: str
    account_id: str
    network: str
    network_message_id: str
    kind: MessageKind
    author_handle: str
    author_name: str | None = None
    text: str
    network_post_id: str | None = None
    sent_at: AwareDatetime

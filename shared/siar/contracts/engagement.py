"""Engagement: actions the inbox asks the publisher to take, and messages it received."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import AwareDatetime, Field

from siar.contracts.envelope import Event

EngagementAction = Literal["reply", "dm", "like", "hide", "delete", "repost"]
MessageKind = Literal["comment", "reply", "dm", "mention", "review"]
Sentiment = Literal["positive", "neutral", "negative"]
ConversationChange = Literal["responded", "closed", "reopened", "assigned", "snoozed"]


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
    sentiment: Sentiment | None = Field(
        default=None, description="Offline sentiment of the text, when the inbox scored it."
    )
    language: str | None = Field(default=None, description="ISO 639-1 code, e.g. en, id.")
    influencer: bool = Field(default=False, description="Author's following is large.")


class ConversationUpdated(Event):
    """A conversation's triage state changed: answered, closed, reopened, assigned.

    Analytics turns these into response-time and resolution-time reports.
    """

    topic: ClassVar[str] = "conversation.updated"
    event_type: Literal["conversation.updated"] = "conversation.updated"
    schema_version: Literal[1] = 1
    conversation_id: str
    account_id: str
    network: str
    kind: MessageKind
    change: ConversationChange
    status: Literal["open", "pending", "closed", "snoozed"]
    actor_id: str | None = Field(default=None, description="User who acted; None for rules.")
    assignee_id: str | None = None
    first_message_at: AwareDatetime
    first_response_s: float | None = Field(
        default=None, description="Seconds from the first inbound message to the first answer."
    )
    resolution_s: float | None = Field(
        default=None, description="Seconds from the first inbound message to closing."
    )

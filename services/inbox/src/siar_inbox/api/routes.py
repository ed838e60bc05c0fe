"""The inbox's HTTP routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field, model_validator

from siar.runtime.auth import Principal, require
from siar.runtime.problems import ErrorMap
from siar.runtime.roles import Permission
from siar_inbox import errors
from siar_inbox.api.deps import Service
from siar_inbox.api.triage_routes import triage
from siar_inbox.domain import Message

router = APIRouter(prefix="/v1/workspaces/{ws}", tags=["inbox"])

ERRORS: ErrorMap = {
    errors.ConversationNotFound: (404, "not-found", "Conversation not found"),
    errors.NothingToReplyTo: (409, "nothing-to-reply-to", "Nothing to reply to"),
    errors.SavedReplyNotFound: (404, "not-found", "Saved reply not found"),
    errors.SnoozeNotAhead: (422, "snooze-not-ahead", "Snooze must end in the future"),
    errors.ActionNotSupported: (422, "action-not-supported", "Network cannot do that"),
    errors.NothingToActOn: (409, "nothing-to-act-on", "Nothing to act on"),
}


class ReplyCreate(BaseModel):
    """A public reply: its text, or a saved reply filled in for this conversation."""

    model_config = ConfigDict(extra="forbid")
    text: str | None = Field(default=None, min_length=1, max_length=10_000)
    saved_reply_id: str | None = Field(default=None, max_length=100)

    @model_validator(mode="after")
    def _one_source(self) -> ReplyCreate:
        if (self.text is None) == (self.saved_reply_id is None):
            raise ValueError("send either text or saved_reply_id")
        return self


class MessageList(BaseModel):
    """Messages of a conversation, oldest first."""

    items: list[Message]


@router.get("/conversations/{conversation_id}/messages", summary="A conversation's messages")
async def list_messages(
    ws: str,
    conversation_id: str,
    service: Service,
    _: Annotated[Principal, require(Permission.INBOX_READ)],
) -> MessageList:
    return MessageList(items=await service.messages(ws, conversation_id))


@router.post(
    "/conversations/{conversation_id}:reply",
    status_code=202,
    summary="Reply publicly; the outcome shows on the message (delivery: sent/failed)",
)
async def reply(
    ws: str,
    conversation_id: str,
    body: ReplyCreate,
    service: Service,
    request: Request,
    principal: Annotated[Principal, require(Permission.INBOX_REPLY)],
) -> Message:
    text = body.text or await triage(request).render(ws, conversation_id, body.saved_reply_id or "")
    return await service.reply(
        workspace_id=ws, conversation_id=conversation_id, text=text, author=principal.subject
    )

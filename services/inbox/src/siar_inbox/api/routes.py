"""The inbox's HTTP routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from siar.runtime.auth import Principal, require
from siar.runtime.problems import ErrorMap
from siar.runtime.roles import Permission
from siar_inbox import errors
from siar_inbox.api.deps import Service
from siar_inbox.domain import Conversation, Message

router = APIRouter(prefix="/v1/workspaces/{ws}", tags=["inbox"])

ERRORS: ErrorMap = {
    errors.ConversationNotFound: (404, "not-found", "Conversation not found"),
    errors.NothingToReplyTo: (409, "nothing-to-reply-to", "Nothing to reply to"),
}


class ReplyCreate(BaseModel):
    """A public reply on a conversation."""

    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=10_000)


class ConversationList(BaseModel):
    """Conversations, newest first."""

    items: list[Conversation]


class MessageList(BaseModel):
    """Messages of a conversation, oldest first."""

    items: list[Message]


@router.get("/conversations", summary="The unified inbox")
async def list_conversations(
    ws: str,
    service: Service,
    _: Annotated[Principal, require(Permission.INBOX_READ)],
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> ConversationList:
    return ConversationList(items=await service.conversations(ws, limit=limit))


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
    principal: Annotated[Principal, require(Permission.INBOX_REPLY)],
) -> Message:
    return await service.reply(
        workspace_id=ws, conversation_id=conversation_id, text=body.text, author=principal.subject
    )

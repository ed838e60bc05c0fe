"""Routes for working conversations: status, assignment, tags, notes, saved replies."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from siar.runtime.auth import Principal, require
from siar.runtime.roles import Permission
from siar_inbox.changes import Change
from siar_inbox.domain import Conversation, ConversationStatus
from siar_inbox.triage import Triage

router = APIRouter(prefix="/v1/workspaces/{ws}", tags=["inbox"])


def triage(request: Request) -> Triage:
    """The triage use cases wired at start-up."""
    found: Triage = request.app.state.triage
    return found


class ConversationChange(BaseModel):
    """Fields to change; leave one out to keep it."""

    model_config = ConfigDict(extra="forbid")
    status: Literal["open", "pending", "closed"] | None = Field(
        default=None, description="To snooze, use :snooze with a time."
    )
    assignee: str | None = Field(default=None, max_length=100)
    unassign: bool = False
    tags: list[str] | None = Field(default=None, max_length=30)


class NoteCreate(BaseModel):
    """An internal note (never sent to the network)."""

    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=5000)


class NotePublic(BaseModel):
    """An internal note."""

    id: str
    author: str
    text: str
    at: datetime


class SavedReplyCreate(BaseModel):
    """A reusable answer with variables: {{first_name}}, {{name}}, {{handle}}, {{account}}."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=100)
    text: str = Field(min_length=1, max_length=5000)


class SavedReplyPublic(BaseModel):
    """A saved reply."""

    id: str
    name: str
    text: str


@router.patch("/conversations/{conversation_id}", summary="Close, reopen, assign or tag")
async def change_conversation(
    ws: str,
    conversation_id: str,
    body: ConversationChange,
    request: Request,
    principal: Annotated[Principal, require(Permission.INBOX_REPLY)],
) -> Conversation:
    change = Change(
        status=ConversationStatus(body.status) if body.status else None,
        assignee=body.assignee,
        unassign=body.unassign,
        tags=body.tags,
    )
    return await triage(request).change(ws, conversation_id, change, principal.subject)


@router.post("/conversations/{conversation_id}/notes", status_code=201, summary="Add a note")
async def add_note(
    ws: str,
    conversation_id: str,
    body: NoteCreate,
    request: Request,
    principal: Annotated[Principal, require(Permission.INBOX_REPLY)],
) -> NotePublic:
    note = await triage(request).add_note(ws, conversation_id, principal.subject, body.text)
    return NotePublic(id=note["_id"], author=note["author"], text=note["text"], at=note["at"])


@router.get("/conversations/{conversation_id}/notes", summary="Internal notes")
async def list_notes(
    ws: str,
    conversation_id: str,
    request: Request,
    _: Annotated[Principal, require(Permission.INBOX_READ)],
) -> list[NotePublic]:
    notes = await triage(request).notes_of(ws, conversation_id)
    return [NotePublic(id=n["_id"], author=n["author"], text=n["text"], at=n["at"]) for n in notes]


@router.post("/saved-replies", status_code=201, summary="Save a reusable reply")
async def create_saved_reply(
    ws: str,
    body: SavedReplyCreate,
    request: Request,
    principal: Annotated[Principal, require(Permission.INBOX_REPLY)],
) -> SavedReplyPublic:
    saved = await triage(request).save_reply(ws, body.name, body.text, principal.subject)
    return SavedReplyPublic(id=saved["_id"], name=saved["name"], text=saved["text"])


@router.get("/saved-replies", summary="Saved replies")
async def list_saved_replies(
    ws: str, request: Request, _: Annotated[Principal, require(Permission.INBOX_READ)]
) -> list[SavedReplyPublic]:
    return [
        SavedReplyPublic(id=s["_id"], name=s["name"], text=s["text"])
        for s in await triage(request).saved_replies(ws)
    ]


@router.delete("/saved-replies/{reply_id}", status_code=204, summary="Delete a saved reply")
async def delete_saved_reply(
    ws: str,
    reply_id: str,
    request: Request,
    _: Annotated[Principal, require(Permission.INBOX_REPLY)],
) -> Response:
    await triage(request).delete_saved_reply(ws, reply_id)
    return Response(status_code=204)

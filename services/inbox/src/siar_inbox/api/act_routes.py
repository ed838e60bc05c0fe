"""Acting on conversations: thread actions, snooze, bulk changes; live stream; response times."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from siar.runtime.auth import Principal, require
from siar.runtime.problems import Problem
from siar.runtime.roles import Permission
from siar_inbox.actions import ActionRecord, ThreadAction
from siar_inbox.api.deps import Service
from siar_inbox.api.query_routes import queries
from siar_inbox.api.triage_routes import triage
from siar_inbox.bulk import BULK_LIMIT, BulkResult, bulk_change
from siar_inbox.changes import Change
from siar_inbox.domain import Conversation, ConversationStatus
from siar_inbox.response_metrics import ResponseTimes
from siar_inbox.stream import BadLastEventId, ConversationFeed, resume_token

router = APIRouter(prefix="/v1/workspaces/{ws}", tags=["inbox"])
MAX_SNOOZE = timedelta(days=366)
MAX_PERIOD = timedelta(days=366)


class ActionCreate(BaseModel):
    """A thread action; ``message_id`` defaults to the thread's latest message from the network."""

    model_config = ConfigDict(extra="forbid")
    action: ThreadAction
    message_id: str | None = Field(default=None, max_length=100)
    text: str | None = Field(default=None, min_length=1, max_length=10_000)

    @model_validator(mode="after")
    def _text_for_dm_only(self) -> ActionCreate:
        if (self.action == "dm") != (self.text is not None):
            raise ValueError("a dm needs text; other actions take none")
        return self


class SnoozeCreate(BaseModel):
    """Snooze until a time (with its offset); a new message wakes the conversation earlier."""

    model_config = ConfigDict(extra="forbid")
    until: AwareDatetime

    @model_validator(mode="after")
    def _not_too_far(self) -> SnoozeCreate:
        if self.until - datetime.now(self.until.tzinfo) > MAX_SNOOZE:
            raise ValueError("snooze at most a year ahead")
        return self


class BulkCreate(BaseModel):
    """One change for many conversations."""

    model_config = ConfigDict(extra="forbid")
    ids: list[str] = Field(min_length=1, max_length=BULK_LIMIT)
    action: Literal["close", "reopen", "assign", "unassign", "tag", "untag", "snooze"]
    assignee: str | None = Field(default=None, max_length=100)
    tags: list[str] = Field(default_factory=list, max_length=30)
    until: AwareDatetime | None = None

    @model_validator(mode="after")
    def _arguments(self) -> BulkCreate:
        needs = {"assign": self.assignee, "snooze": self.until}
        if self.action in needs and needs[self.action] is None:
            raise ValueError(
                f"{self.action} needs {'assignee' if self.action == 'assign' else 'until'}"
            )
        if self.action in ("tag", "untag") and not self.tags:
            raise ValueError(f"{self.action} needs tags")
        if self.until is not None and self.until - datetime.now(self.until.tzinfo) > MAX_SNOOZE:
            raise ValueError("snooze at most a year ahead")
        return self

    def change(self) -> Change:
        """The change each conversation gets."""
        return {
            "close": Change(status=ConversationStatus.CLOSED),
            "reopen": Change(status=ConversationStatus.OPEN),
            "assign": Change(assignee=self.assignee),
            "unassign": Change(unassign=True),
            "tag": Change(add_tags=tuple(self.tags)),
            "untag": Change(remove_tags=tuple(self.tags)),
            "snooze": Change(snooze_until=self.until),
        }[self.action]


class BulkOutcome(BaseModel):
    """Per-conversation results, in the order asked."""

    results: list[BulkResult]


@router.post(
    "/conversations/{conversation_id}/actions",
    status_code=202,
    summary="DM the author, like, hide or delete a comment, or repost; the outcome shows later",
)
async def act(
    ws: str,
    conversation_id: str,
    body: ActionCreate,
    service: Service,
    principal: Annotated[Principal, require(Permission.INBOX_REPLY)],
) -> ActionRecord:
    return await service.actions.act(
        workspace_id=ws,
        conversation_id=conversation_id,
        action=body.action,
        actor=principal.subject,
        message_id=body.message_id,
        text=body.text,
    )


@router.get("/conversations/{conversation_id}/actions", summary="A thread's actions")
async def list_actions(
    ws: str,
    conversation_id: str,
    service: Service,
    _: Annotated[Principal, require(Permission.INBOX_READ)],
) -> list[ActionRecord]:
    return await service.actions.of(ws, conversation_id)


@router.post("/conversations/{conversation_id}:snooze", summary="Snooze until a time")
async def snooze(
    ws: str,
    conversation_id: str,
    body: SnoozeCreate,
    request: Request,
    principal: Annotated[Principal, require(Permission.INBOX_REPLY)],
) -> Conversation:
    change = Change(snooze_until=body.until)
    return await triage(request).change(ws, conversation_id, change, principal.subject)


@router.post("/conversations:bulk", summary="Close, reopen, assign, tag or snooze many at once")
async def bulk(
    ws: str,
    body: BulkCreate,
    service: Service,
    principal: Annotated[Principal, require(Permission.INBOX_REPLY)],
) -> BulkOutcome:
    results = await bulk_change(service, ws, body.ids, body.change(), principal.subject)
    return BulkOutcome(results=results)


@router.get(
    "/conversations:stream",
    summary="Server-sent events of new and changed conversations (resume with Last-Event-ID)",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "An event stream."}},
)
async def stream(
    ws: str,
    request: Request,
    _: Annotated[Principal, require(Permission.INBOX_READ)],
    last_event_id: Annotated[str | None, Header(max_length=1024)] = None,
) -> StreamingResponse:
    try:
        resume_token(last_event_id)
    except BadLastEventId as err:
        raise Problem(400, "bad-last-event-id", "Bad Last-Event-ID", str(err)) from err
    feed: ConversationFeed = request.app.state.feed
    return StreamingResponse(
        feed.events(ws, last_event_id),
        media_type="text/event-stream",
        headers={"cache-control": "no-store", "x-accel-buffering": "no"},
    )


@router.get("/inbox/response-times", summary="First-response and resolution times")
async def get_response_times(
    ws: str,
    request: Request,
    _: Annotated[Principal, require(Permission.INBOX_READ)],
    start: Annotated[AwareDatetime, Query(alias="from")],
    end: Annotated[AwareDatetime, Query(alias="to")],
    items: Annotated[int, Query(ge=0, le=500)] = 100,
) -> ResponseTimes:
    if end <= start or end - start > MAX_PERIOD:
        raise Problem(
            422, "validation", "Request is not valid", "`to` must be after `from`, within a year"
        )
    return await queries(request).response_times(ws, start, end, items=items)

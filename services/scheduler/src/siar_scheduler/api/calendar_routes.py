"""Labels, bulk moves and deletes, workspace scheduler settings and the iCalendar feed."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from siar.contracts import utcnow
from siar.runtime.auth import Principal, require
from siar.runtime.problems import not_found
from siar.runtime.roles import Permission
from siar_scheduler.api.schemas import PostPublic
from siar_scheduler.api.workflow_deps import WorkflowDep, require_scheduling
from siar_scheduler.api.workflow_schemas import (
    BulkDelete,
    BulkDeleted,
    BulkMove,
    BulkMoved,
    FeedToken,
    LabelCreate,
    LabelList,
    LabelPublic,
    LabelUpdate,
    SettingsPublic,
    SettingsUpdate,
)
from siar_scheduler.calendar_feed import render_feed
from siar_scheduler.calendar_ops import CalendarFilter, Move
from siar_scheduler.labels import Label
from siar_scheduler.workspace_settings import WorkspaceSettings

router = APIRouter(prefix="/v1/workspaces/{ws}", tags=["calendar"])
# Who may call a route: a member whose role grants the permission (non-members get 404).
Reader = Annotated[Principal, require(Permission.POSTS_READ)]
Writer = Annotated[Principal, require(Permission.POSTS_WRITE)]
SettingsReader = Annotated[Principal, require(Permission.WORKSPACE_READ)]
Manager = Annotated[Principal, require(Permission.WORKSPACE_MANAGE)]

FEED_PAST = timedelta(days=90)
FEED_FUTURE = timedelta(days=366)
FEED_LIMIT = 5000


def _label(label: Label) -> LabelPublic:
    return LabelPublic.model_validate(label.model_dump())


@router.get("/labels", summary="Campaign labels")
async def list_labels(ws: str, workflow: WorkflowDep, _: Reader) -> LabelList:
    labels = await workflow.labels.all(ws)
    return LabelList(items=[_label(label) for label in labels])


@router.post("/labels", status_code=201, summary="Create a campaign label")
async def create_label(
    ws: str,
    body: LabelCreate,
    workflow: WorkflowDep,
    _: Writer,
) -> LabelPublic:
    label = await workflow.labels.create(ws, name=body.name, colour=body.colour)
    return _label(label)


@router.patch("/labels/{label_id}", summary="Rename or recolour a label")
async def update_label(
    ws: str,
    label_id: str,
    body: LabelUpdate,
    workflow: WorkflowDep,
    _: Writer,
) -> LabelPublic:
    label = await workflow.labels.update(ws, label_id, name=body.name, colour=body.colour)
    return _label(label)


@router.delete("/labels/{label_id}", status_code=204, summary="Delete a label (off every post)")
async def delete_label(
    ws: str,
    label_id: str,
    workflow: WorkflowDep,
    _: Writer,
) -> Response:
    await workflow.labels.delete(ws, label_id)
    return Response(status_code=204)


@router.post("/posts:bulk-move", summary="Move many posts: all or none")
async def bulk_move(
    ws: str,
    body: BulkMove,
    workflow: WorkflowDep,
    principal: Writer,
) -> BulkMoved:
    await require_scheduling(workflow, principal, ws)
    moves = [Move(post_id=m.post_id, scheduled_at=m.scheduled_at) for m in body.moves]
    moved = await workflow.calendar.bulk_move(ws, moves)
    return BulkMoved(items=[PostPublic.model_validate(p.model_dump()) for p in moved])


@router.post("/posts:bulk-delete", summary="Delete many posts: all or none")
async def bulk_delete(
    ws: str,
    body: BulkDelete,
    workflow: WorkflowDep,
    _: Writer,
) -> BulkDeleted:
    return BulkDeleted(deleted=await workflow.calendar.bulk_delete(ws, body.post_ids))


def _settings(found: WorkspaceSettings) -> SettingsPublic:
    return SettingsPublic(
        approvals_required=found.approvals_required,
        failure_webhook_url=found.failure_webhook_url,
        calendar_feed=found.calendar_feed,
    )


@router.get("/scheduler-settings", summary="The workspace's scheduling settings")
async def get_settings(ws: str, workflow: WorkflowDep, _: SettingsReader) -> SettingsPublic:
    return _settings(await workflow.settings.get(ws))


@router.patch("/scheduler-settings", summary="Require approvals; set the failure webhook")
async def update_settings(
    ws: str,
    body: SettingsUpdate,
    workflow: WorkflowDep,
    _: Manager,
) -> SettingsPublic:
    hook = body.failure_webhook
    found = await workflow.settings.update(
        ws,
        approvals_required=body.approvals_required,
        webhook=(str(hook.url), hook.secret.get_secret_value()) if hook else None,
        clear_webhook="failure_webhook" in body.model_fields_set and hook is None,
    )
    return _settings(found)


@router.post("/calendar-feed:rotate", summary="A new secret calendar feed URL (old one stops)")
async def rotate_feed(
    ws: str,
    request: Request,
    workflow: WorkflowDep,
    _: Manager,
) -> FeedToken:
    token = await workflow.settings.rotate_feed_token(ws)
    base = str(request.base_url).rstrip("/")
    url = f"{base}/v1/workspaces/{ws}/calendar.ics?token={token}"
    webcal = "webcal://" + url.split("://", 1)[1]
    return FeedToken(url=url, webcal_url=webcal, token=token, rotated_at=utcnow())


@router.delete("/calendar-feed", status_code=204, summary="Turn the calendar feed off")
async def revoke_feed(ws: str, workflow: WorkflowDep, _: Manager) -> Response:
    await workflow.settings.revoke_feed_token(ws)
    return Response(status_code=204)


# Calendar apps cannot send a bearer token: the secret URL is the credential, so this
# route is outside the bearer-token surface (and the OpenAPI document the tenant
# isolation test walks); a wrong token looks exactly like an unknown workspace.
@router.get("/calendar.ics", include_in_schema=False)
async def calendar_feed(
    ws: str,
    workflow: WorkflowDep,
    token: Annotated[str, Query(max_length=200)] = "",
) -> Response:
    if not await workflow.settings.feed_token_valid(ws, token):
        raise not_found("calendar feed")
    now = utcnow()
    posts = await workflow.calendar.find(
        ws, start=now - FEED_PAST, end=now + FEED_FUTURE, where=CalendarFilter(), limit=FEED_LIMIT
    )
    body = render_feed(
        workspace_id=ws, posts=posts, labels=await workflow.labels.all(ws), stamp=now
    )
    return Response(
        body,
        media_type="text/calendar; charset=utf-8",
        headers={"cache-control": "private, max-age=300"},
    )

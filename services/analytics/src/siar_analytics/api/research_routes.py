"""Research routes: tracked hashtags, keywords and competitors, their mentions and report."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from siar.runtime.auth import Principal, require
from siar.runtime.roles import Permission
from siar_analytics.api.report_deps import CSV, End, Research, Start, attachment
from siar_analytics.exports_csv import research_csv
from siar_analytics.research import ResearchReport, TrackedItem, TrackedItemCreate

router = APIRouter(prefix="/v1/workspaces/{ws}/research", tags=["research"])


@router.post("/items", status_code=201, summary="Track a hashtag, keyword or competitor")
async def create_item(
    ws: str,
    body: TrackedItemCreate,
    research: Research,
    principal: Annotated[Principal, require(Permission.POSTS_WRITE)],
) -> TrackedItem:
    return await research.create(ws, body, principal.subject)


@router.get("/items", summary="Tracked items, with their last poll and error")
async def list_items(
    ws: str, research: Research, _: Annotated[Principal, require(Permission.REPORTS_READ)]
) -> list[TrackedItem]:
    return await research.items(ws)


@router.get("/items/{item_id}", summary="One tracked item")
async def get_item(
    ws: str,
    item_id: str,
    research: Research,
    _: Annotated[Principal, require(Permission.REPORTS_READ)],
) -> TrackedItem:
    return await research.item(ws, item_id)


@router.delete("/items/{item_id}", status_code=204, summary="Stop tracking an item")
async def delete_item(
    ws: str,
    item_id: str,
    research: Research,
    _: Annotated[Principal, require(Permission.POSTS_WRITE)],
) -> Response:
    await research.remove(ws, item_id)
    return Response(status_code=204)


@router.get("/items/{item_id}/mentions", summary="Newest public mentions found for an item")
async def mentions(
    ws: str,
    item_id: str,
    research: Research,
    _: Annotated[Principal, require(Permission.REPORTS_READ)],
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[dict[str, Any]]:
    return await research.mentions(ws, item_id, limit)


@router.get("/report", summary="Trend lines, share of voice and competitor growth")
async def report(
    ws: str,
    research: Research,
    start: Start,
    end: End,
    _: Annotated[Principal, require(Permission.REPORTS_READ)],
) -> ResearchReport:
    return await research.report(ws, start, end)


@router.get(
    "/report.csv",
    summary="The research report as CSV",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}},
)
async def report_csv(
    ws: str,
    research: Research,
    start: Start,
    end: End,
    _: Annotated[Principal, require(Permission.REPORTS_READ)],
) -> Response:
    body = research_csv(await research.report(ws, start, end))
    return Response(body, media_type=CSV, headers=attachment("research", start, end))

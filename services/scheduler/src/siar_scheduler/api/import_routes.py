"""CSV import and export of posts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from pydantic import AwareDatetime

from siar.runtime.auth import Principal, require
from siar.runtime.problems import Problem
from siar.runtime.roles import Permission
from siar_scheduler.api.filters import CalendarQuery, for_caller
from siar_scheduler.api.routes import check_range
from siar_scheduler.api.workflow_deps import WorkflowDep, require_scheduling
from siar_scheduler.api.workflow_schemas import ImportReport, RowResult
from siar_scheduler.csv_io import MAX_BYTES, MAX_ROWS, ImportMode, write_csv
from siar_scheduler.errors import CsvTooLarge

router = APIRouter(prefix="/v1/workspaces/{ws}", tags=["import"])

EXPORT_MAX = MAX_ROWS

_CSV_BODY = {
    "requestBody": {
        "required": True,
        "content": {"text/csv": {"schema": {"type": "string", "format": "binary"}}},
    }
}


async def _read_limited(request: Request) -> bytes:
    """The body, refused as soon as it passes the limit (not after buffering it all)."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BYTES:
            raise CsvTooLarge(f"the file is over {MAX_BYTES} bytes; split it")
        chunks.append(chunk)
    return b"".join(chunks)


@router.post(
    "/posts:import",
    summary="Import posts from CSV (UTF-8, up to 5,000 rows)",
    openapi_extra=_CSV_BODY,
)
async def import_posts(
    ws: str,
    request: Request,
    workflow: WorkflowDep,
    principal: Annotated[Principal, require(Permission.POSTS_WRITE)],
    mode: ImportMode = ImportMode.ALL_OR_NOTHING,
    drafts: Annotated[bool, Query(description="Import as drafts, not scheduled.")] = False,
) -> ImportReport:
    if not drafts:
        await require_scheduling(workflow, principal, ws)
    result = await workflow.importer.run(
        ws, await _read_limited(request), author=principal.subject, mode=mode, drafts=drafts
    )
    rows = [RowResult(line=r.line, post_id=r.post_id, errors=r.errors) for r in result.rows]
    return ImportReport(
        mode=result.mode.value,
        imported=result.imported,
        invalid=sum(1 for r in rows if r.errors),
        rows=rows,
    )


@router.get("/posts.csv", summary="The calendar as CSV (re-importable)")
async def export_posts(
    ws: str,
    workflow: WorkflowDep,
    start: Annotated[AwareDatetime, Query(alias="from")],
    end: Annotated[AwareDatetime, Query(alias="to")],
    where: CalendarQuery,
    principal: Annotated[Principal, require(Permission.POSTS_READ)],
) -> Response:
    check_range(start, end)
    posts = await workflow.calendar.find(
        ws, start=start, end=end, where=for_caller(where, principal, ws), limit=EXPORT_MAX + 1
    )
    if len(posts) > EXPORT_MAX:
        # Never a silently cut file: a partial export re-imported would lose posts.
        raise Problem(
            422,
            "export-too-large",
            "Too many posts to export at once",
            f"more than {EXPORT_MAX} posts match; narrow the date range or filter",
        )
    names = {label.id: label.name for label in await workflow.labels.all(ws)}
    return Response(
        write_csv(posts, names),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="siar-posts-{ws}.csv"'},
    )

"""The media library's HTTP routes, for people and (internal) for services."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse

from siar.connectors.rules import MediaKind
from siar.runtime.auth import Principal, require, require_scope
from siar.runtime.problems import ErrorMap
from siar.runtime.roles import Permission
from siar_scheduler.api.media_schemas import MediaList, MediaPublic, MediaUpdate
from siar_scheduler.api.upload_stream import StreamingForm
from siar_scheduler.media import (
    InvalidMedia,
    MediaBusy,
    MediaInUse,
    MediaLibrary,
    MediaNotFound,
    MediaTooLarge,
    UnknownMedia,
    UnsupportedMedia,
    UploadDetails,
)

MEDIA_ERRORS: ErrorMap = {
    MediaNotFound: (404, "not-found", "Media not found"),
    MediaTooLarge: (413, "media-too-large", "Media too large"),
    UnsupportedMedia: (415, "unsupported-media-type", "Unsupported media type"),
    InvalidMedia: (422, "invalid-media", "Invalid media details"),
    UnknownMedia: (422, "unknown-media", "Unknown media"),
    MediaInUse: (409, "media-in-use", "Media in use"),
    MediaBusy: (409, "conflict", "Media changed concurrently"),
}
DUPLICATE_HEADER = "X-Siar-Duplicate"
READ_SCOPE = "media:read"

PUBLIC = "/v1/workspaces/{ws}/media"
INTERNAL = "/v1/internal/workspaces/{ws}/media"

router = APIRouter(tags=["media"])


def _problems(described: dict[int, str]) -> dict[int | str, dict[str, Any]]:
    return {
        code: {"description": text, "content": {"application/problem+json": {}}}
        for code, text in described.items()
    }


_UPLOAD_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "string", "format": "binary"},
                        "tags": {"type": "string", "description": "Comma-separated tags."},
                        "alt_text": {"type": "string"},
                    },
                }
            }
        },
    }
}


def get_media(request: Request) -> MediaLibrary:
    """The media library wired at start-up."""
    media: MediaLibrary = request.app.state.media
    return media


Media = Annotated[MediaLibrary, Depends(get_media)]
Reader = Annotated[Principal, require(Permission.POSTS_READ)]
Writer = Annotated[Principal, require(Permission.POSTS_WRITE)]
Service = Annotated[Principal, require_scope(READ_SCOPE)]


@router.post(
    PUBLIC,
    status_code=201,
    response_model=MediaPublic,
    summary="Upload an image or video (multipart field 'file', streamed)",
    responses={
        200: {
            "model": MediaPublic,
            "description": f"Already in the library ({DUPLICATE_HEADER}: true)",
        },
        **_problems(
            {
                413: "Larger than the limit of its kind",
                415: "Not an allowed type, or unreadable (names the detected type)",
            }
        ),
    },
    openapi_extra=_UPLOAD_BODY,
)
async def upload_media(ws: str, request: Request, media: Media, principal: Writer) -> JSONResponse:
    form = StreamingForm(request, file_field="file", max_file_bytes=media.limits.largest)
    uploaded = await media.upload(
        workspace_id=ws,
        created_by=principal.subject,
        content=form.file_chunks(),
        details=lambda: UploadDetails(
            filename=form.filename,
            tags=(form.field("tags") or "").split(","),
            alt_text=form.field("alt_text"),
        ),
    )
    body = MediaPublic.of(uploaded.item).model_dump(mode="json")
    if uploaded.duplicate:
        return JSONResponse(body, status_code=200, headers={DUPLICATE_HEADER: "true"})
    return JSONResponse(
        body, status_code=201, headers={"Location": f"/v1/workspaces/{ws}/media/{body['id']}"}
    )


@router.get(PUBLIC, summary="Search the library by tags, file name and kind")
async def list_media(
    ws: str,
    media: Media,
    _: Reader,
    tag: Annotated[list[str] | None, Query(description="Items carrying every tag given.")] = None,
    q: Annotated[str | None, Query(max_length=200, description="Part of the file name.")] = None,
    kind: MediaKind | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> MediaList:
    items = await media.search(ws, tags=tag or [], filename_contains=q, kind=kind, limit=limit)
    return MediaList(items=[MediaPublic.of(i) for i in items])


@router.get(PUBLIC + "/{media_id}", summary="One media item")
async def get_media_item(ws: str, media_id: str, media: Media, _: Reader) -> MediaPublic:
    return MediaPublic.of(await media.get(ws, media_id))


@router.get(
    PUBLIC + "/{media_id}/content", summary="The item's bytes", response_class=StreamingResponse
)
async def get_media_content(
    ws: str, media_id: str, request: Request, media: Media, _: Reader
) -> Response:
    return await _content(media, ws, media_id, request)


@router.patch(PUBLIC + "/{media_id}", summary="Change an item's tags or alt text")
async def update_media(
    ws: str, media_id: str, body: MediaUpdate, media: Media, _: Writer
) -> MediaPublic:
    alt_text = (body.alt_text or "") if "alt_text" in body.model_fields_set else None
    record = await media.update(
        workspace_id=ws, media_id=media_id, tags=body.tags, alt_text=alt_text
    )
    return MediaPublic.of(record)


@router.delete(
    PUBLIC + "/{media_id}",
    status_code=204,
    summary="Delete an item no pending post uses",
    responses=_problems({409: "A draft, scheduled or dispatched post uses it (media-in-use)"}),
)
async def delete_media(ws: str, media_id: str, media: Media, _: Writer) -> Response:
    await media.delete(workspace_id=ws, media_id=media_id)
    return Response(status_code=204)


@router.get(INTERNAL + "/{media_id}", summary="One media item (services)", tags=["internal"])
async def internal_media_item(ws: str, media_id: str, media: Media, _: Service) -> MediaPublic:
    return MediaPublic.of(await media.get(ws, media_id))


@router.get(
    INTERNAL + "/{media_id}/content",
    summary="The item's bytes (services)",
    tags=["internal"],
    response_class=StreamingResponse,
)
async def internal_media_content(
    ws: str, media_id: str, request: Request, media: Media, _: Service
) -> Response:
    return await _content(media, ws, media_id, request)


async def _content(media: MediaLibrary, ws: str, media_id: str, request: Request) -> Response:
    record, chunks = await media.open_content(ws, media_id)
    etag = f'"{record.checksum_sha256}"'
    headers = {
        "ETag": etag,
        "Cache-Control": "private, max-age=86400",  # the content of an id never changes
        "Content-Disposition": _inline(record.filename),
        # Served user content must not be sniffed into HTML or scripts.
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",
    }
    if etag in request.headers.get("if-none-match", ""):
        await chunks.aclose()
        return Response(status_code=304, headers=headers)
    headers["Content-Length"] = str(record.size_bytes)
    return StreamingResponse(chunks, media_type=record.mime_type, headers=headers)


def _inline(filename: str) -> str:
    fallback = "".join(
        c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in filename
    )
    return f"inline; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"

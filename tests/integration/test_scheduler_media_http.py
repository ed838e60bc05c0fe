"""The media library's HTTP routes on a real MongoDB, through ``httpx.ASGITransport``.

The app holds only what the routes need (problem handlers, the media router and
library); callers are told apart by a fake token verifier, since token checks have
their own tests.
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from PIL import Image
from pymongo.asynchronous.database import AsyncDatabase

from siar.runtime.auth import Principal, unauthorized
from siar.runtime.mongo import Document, ensure_indexes
from siar.runtime.problems import install_domain_errors, install_problem_handlers
from siar.runtime.roles import Role
from siar_scheduler.api.media_routes import MEDIA_ERRORS
from siar_scheduler.api.media_routes import router as media_router
from siar_scheduler.media import MediaError, MediaLibrary, UploadLimits
from siar_scheduler.media_store import MEDIA_INDEXES, MediaStore

from .conftest import unique

WS = unique("ws")
LIMITS = UploadLimits(image_bytes=64 * 1024, video_bytes=128 * 1024)


class FakeVerifier:
    """Tokens name their principal: ``editor``, ``viewer`` or ``publisher``."""

    async def verify(self, token: str) -> Principal:
        """The principal a token stands for."""
        if token in ("editor", "viewer"):
            return Principal(subject=f"usr_{token}", kind="user", roles={WS: Role(token)})
        if token == "publisher":
            return Principal(
                subject="svc_publisher", kind="service", scopes=frozenset({"media:read"})
            )
        raise unauthorized("unknown test token")


@pytest.fixture
async def client(db: AsyncDatabase[Document]) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client of an app serving the media routes on this test's database."""
    await ensure_indexes(db, MEDIA_INDEXES)
    app = FastAPI()
    install_problem_handlers(app)
    install_domain_errors(app, MediaError, MEDIA_ERRORS)
    app.include_router(media_router)
    app.state.media = MediaLibrary(MediaStore(db), LIMITS)
    app.state.token_verifier = FakeVerifier()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://scheduler") as http:
        yield http


def auth(token: str) -> dict[str, str]:
    """The header of a caller."""
    return {"authorization": f"Bearer {token}"}


def png(seed: int, size: tuple[int, int] = (40, 30)) -> bytes:
    """A real PNG; ``seed`` makes distinct content."""
    out = io.BytesIO()
    Image.new("RGB", size, (seed, 10, 10)).save(out, "PNG")
    return out.getvalue()


async def post_file(
    client: httpx.AsyncClient,
    data: bytes,
    *,
    name: str = "cat.png",
    who: str = "editor",
    **form: str,
) -> httpx.Response:
    """Upload as a browser would (the declared type is deliberately wrong)."""
    files = {"file": (name, data, "application/x-whatever")}
    return await client.post(
        f"/v1/workspaces/{WS}/media", files=files, data=form, headers=auth(who)
    )


async def test_upload_then_a_duplicate(client: httpx.AsyncClient) -> None:
    first = await post_file(client, png(1), tags="Cats, cute", alt_text="a cat")
    assert first.status_code == 201, first.text
    body = first.json()
    assert {k: body[k] for k in ("filename", "mime_type", "kind", "width", "height", "tags")} == {
        "filename": "cat.png",
        "mime_type": "image/png",
        "kind": "image",
        "width": 40,
        "height": 30,
        "tags": ["cats", "cute"],
    }
    assert (body["alt_text"], body["created_by"], body["duration_s"]) == (
        "a cat",
        "usr_editor",
        None,
    )
    assert first.headers["location"].endswith(body["id"])
    again = await post_file(client, png(1), name="other.png")
    assert (again.status_code, again.headers.get("x-siar-duplicate")) == (200, "true")
    assert again.json()["id"] == body["id"]


async def test_content_is_streamed_back_with_its_type(client: httpx.AsyncClient) -> None:
    data = png(2)
    media_id = (await post_file(client, data, name="søn.png")).json()["id"]
    got = await client.get(f"/v1/workspaces/{WS}/media/{media_id}/content", headers=auth("viewer"))
    assert got.status_code == 200
    assert (got.content, got.headers["content-type"]) == (data, "image/png")
    assert got.headers["x-content-type-options"] == "nosniff"
    assert "filename*=UTF-8''s%C3%B8n.png" in got.headers["content-disposition"]
    cached = await client.get(
        f"/v1/workspaces/{WS}/media/{media_id}/content",
        headers={**auth("viewer"), "if-none-match": got.headers["etag"]},
    )
    assert cached.status_code == 304


async def test_refusals_are_problems(client: httpx.AsyncClient) -> None:
    pdf = await post_file(client, b"%PDF-1.7\n" + bytes(100))
    assert pdf.status_code == 415
    assert pdf.headers["content-type"] == "application/problem+json"
    assert pdf.json()["type"] == "urn:siar:problem:unsupported-media-type"
    assert pdf.json()["detected_type"] == "application/pdf"
    big = await post_file(client, png(3, (400, 400)) + bytes(LIMITS.image_bytes))
    assert (big.status_code, big.json()["limit_bytes"]) == (413, LIMITS.image_bytes)
    huge = await post_file(client, bytes(2 << 20))  # refused by Content-Length, unread
    assert (huge.status_code, huge.json()["type"]) == (413, "urn:siar:problem:media-too-large")
    viewer = await post_file(client, png(4), who="viewer")
    assert viewer.status_code == 403
    no_file = await client.post(
        f"/v1/workspaces/{WS}/media", data={"tags": "x"}, headers=auth("editor")
    )
    assert no_file.status_code == 415  # a urlencoded form is not multipart
    empty_form = await client.post(
        f"/v1/workspaces/{WS}/media", files={"other": ("x", b"1")}, headers=auth("editor")
    )
    assert empty_form.status_code == 422
    listed = await client.get(f"/v1/workspaces/{WS}/media", headers=auth("viewer"))
    assert listed.json() == {"items": []}


async def test_search_edit_and_delete(
    client: httpx.AsyncClient, db: AsyncDatabase[Document]
) -> None:
    kept = (await post_file(client, png(5), name="Beach.png", tags="summer")).json()["id"]
    other = (await post_file(client, png(6), name="city.png", tags="summer,night")).json()["id"]
    url = f"/v1/workspaces/{WS}/media"
    found = await client.get(url, params={"tag": ["summer", "night"]}, headers=auth("viewer"))
    assert [i["id"] for i in found.json()["items"]] == [other]
    found = await client.get(url, params={"q": "beach", "kind": "image"}, headers=auth("viewer"))
    assert [i["id"] for i in found.json()["items"]] == [kept]
    edited = await client.patch(
        f"{url}/{kept}", json={"tags": ["Sea"], "alt_text": "waves"}, headers=auth("editor")
    )
    assert (edited.json()["tags"], edited.json()["alt_text"]) == (["sea"], "waves")
    cleared = await client.patch(f"{url}/{kept}", json={"alt_text": None}, headers=auth("editor"))
    assert (cleared.json()["tags"], cleared.json()["alt_text"]) == (["sea"], None)

    await db["posts"].insert_one(
        {"_id": "pst_m", "workspace_id": WS, "status": "draft", "media_ids": [kept]}
    )
    refused = await client.delete(f"{url}/{kept}", headers=auth("editor"))
    assert refused.status_code == 409
    assert (refused.json()["type"], refused.json()["post_ids"]) == (
        "urn:siar:problem:media-in-use",
        ["pst_m"],
    )
    assert (await client.delete(f"{url}/{other}", headers=auth("editor"))).status_code == 204
    gone = await client.get(f"{url}/{other}", headers=auth("viewer"))
    assert (gone.status_code, gone.json()["type"]) == (404, "urn:siar:problem:not-found")


async def test_internal_routes_need_the_service_scope(client: httpx.AsyncClient) -> None:
    data = png(7)
    media_id = (await post_file(client, data)).json()["id"]
    url = f"/v1/internal/workspaces/{WS}/media/{media_id}"
    meta = await client.get(url, headers=auth("publisher"))
    assert (meta.status_code, meta.json()["id"]) == (200, media_id)
    content = await client.get(url + "/content", headers=auth("publisher"))
    assert content.content == data
    assert (await client.get(url, headers=auth("editor"))).status_code == 403
    missing = await client.get(
        f"/v1/internal/workspaces/{WS}/media/med_none", headers=auth("publisher")
    )
    assert missing.status_code == 404

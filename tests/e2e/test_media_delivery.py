"""Media travel from the library to the network with the post, byte for byte."""

from __future__ import annotations

import hashlib
import io
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from PIL import Image
from pymongo import AsyncMongoClient

from siar.connectors.sandbox import SANDBOX_DATABASE
from tests.e2e.conftest import Stack
from tests.e2e.flows import eventually, new_tenant


def _png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 40, 90)).save(out, format="PNG")
    return out.getvalue()


async def test_an_image_from_the_library_is_published_with_the_post(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    scheduler = stack.urls["scheduler"]
    tenant = await new_tenant(http, stack.urls["vault"])
    ws = tenant.workspace_id
    image = _png(1200, 900)
    r = await http.post(
        f"{scheduler}/v1/workspaces/{ws}/media",
        files={"file": ("launch.png", image, "application/octet-stream")},
        data={"tags": "launch,spring"},
        headers=tenant.auth,
    )
    assert r.status_code == 201, r.text
    media = r.json()
    assert (media["kind"], media["mime_type"]) == ("image", "image/png")
    assert (media["width"], media["height"]) == (1200, 900)

    # A 3:1 banner breaks the sandbox's aspect-ratio rule: refused before scheduling.
    r = await http.post(
        f"{scheduler}/v1/workspaces/{ws}/media",
        files={"file": ("banner.png", _png(1500, 500), "image/png")},
        headers=tenant.auth,
    )
    banner = r.json()["id"]
    due = (datetime.now(UTC) + timedelta(seconds=3)).isoformat()
    r = await http.post(
        f"{scheduler}/v1/workspaces/{ws}/posts",
        json={
            "text": "wide",
            "account_ids": [tenant.account_id],
            "media_ids": [banner],
            "scheduled_at": due,
        },
        headers=tenant.auth,
    )
    assert r.status_code == 422, r.text
    assert r.json()["violations"][0]["rule"] == "media.aspect_ratio"

    r = await http.post(
        f"{scheduler}/v1/workspaces/{ws}/posts",
        json={
            "text": "Spring launch",
            "account_ids": [tenant.account_id],
            "media_ids": [media["id"]],
            "scheduled_at": due,
        },
        headers=tenant.auth,
    )
    assert r.status_code == 201, r.text
    post_id = r.json()["id"]

    # In use by a scheduled post: the library refuses to delete it.
    r = await http.delete(
        f"{scheduler}/v1/workspaces/{ws}/media/{media['id']}", headers=tenant.auth
    )
    assert r.status_code == 409, r.text

    async def published() -> dict[str, Any] | None:
        r = await http.get(f"{scheduler}/v1/workspaces/{ws}/posts/{post_id}", headers=tenant.auth)
        body: dict[str, Any] = r.json()
        return body if body["status"] in ("published", "failed") else None

    post = await eventually(published, within_s=40)
    assert post["status"] == "published", post
    network: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(stack.infra.mongodb_url)
    try:
        on_network = await network[SANDBOX_DATABASE].posts.find_one(
            {"_id": post["targets"][0]["network_post_id"]}
        )
    finally:
        await network.close()
    assert on_network is not None
    assert on_network["media"] == [
        {
            "filename": "launch.png",
            "mime_type": "image/png",
            "size_bytes": len(image),
            "sha256": hashlib.sha256(image).hexdigest(),
        }
    ]


async def test_signed_public_media_urls_work_until_they_expire_and_cannot_be_forged(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    scheduler, vault = stack.urls["scheduler"], stack.urls["vault"]
    tenant = await new_tenant(http, vault)
    ws = tenant.workspace_id
    image = _png(800, 800)
    r = await http.post(
        f"{scheduler}/v1/workspaces/{ws}/media",
        files={"file": ("square.png", image, "image/png")},
        headers=tenant.auth,
    )
    media_id = r.json()["id"]
    form = {
        "grant_type": "client_credentials",
        "client_id": "publisher",
        "client_secret": stack.platform.secrets.service_secrets["publisher"],
    }
    service = (await http.post(f"{vault}/v1/auth/token", data=form)).json()["access_token"]
    r = await http.get(
        f"{scheduler}/v1/internal/workspaces/{ws}/media/{media_id}:public-url",
        headers={"authorization": f"Bearer {service}"},
    )
    assert r.status_code == 200, r.text
    url = r.json()["url"]

    fetched = await http.get(url)  # no credentials: this is what Meta's servers do
    assert fetched.status_code == 200
    assert fetched.content == image
    assert fetched.headers["content-type"] == "image/png"
    forged = url.replace(f"/{media_id}?", "/med_0000000000000000?")
    assert (await http.get(forged)).status_code == 404
    stale = url.split("expires=")[0] + "expires=1000&" + url.split("&", 1)[1]
    assert (await http.get(stale)).status_code == 404
    # A person's token cannot mint URLs: only services with media:read.
    r = await http.get(
        f"{scheduler}/v1/internal/workspaces/{ws}/media/{media_id}:public-url",
        headers=tenant.auth,
    )
    assert r.status_code == 403

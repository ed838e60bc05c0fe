"""Every error of a Siar HTTP API is RFC 9457 problem+json with a stable type."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI, HTTPException
from pydantic import BaseModel, Field

from siar.runtime.problems import PROBLEM_JSON, Problem, install_problem_handlers, not_found

SECRET_TEXT = "db password is hunter2-hunter2"


class Item(BaseModel):
    name: str = Field(min_length=1)
    quantity: int = Field(ge=1)


def make_app() -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)

    @app.post("/items")
    async def create_item(item: Item) -> dict[str, str]:
        return {"name": item.name}

    @app.get("/locked/{post_id}")
    async def locked(post_id: str) -> None:
        raise Problem(
            409, "post-locked", "Post is locked", f"post {post_id} was dispatched", post_id=post_id
        )

    @app.get("/secret")
    async def secret() -> None:
        raise Problem(401, "unauthorized", "Authentication required", "missing bearer token")

    @app.get("/gone")
    async def gone() -> None:
        raise not_found("post")

    @app.get("/starlette")
    async def starlette() -> None:
        raise HTTPException(status_code=403, detail="not yours")

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError(SECRET_TEXT)

    return app


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=make_app(), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://siar.test") as http:
        yield http


def problem(response: httpx.Response, status: int, kind: str) -> dict[str, object]:
    """Assert ``response`` is a problem of ``status`` and ``kind``; return its body."""
    assert response.status_code == status
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    body = response.json()
    assert body["type"] == f"urn:siar:problem:{kind}"
    assert body["status"] == status
    assert isinstance(body["title"], str)
    assert body["title"]
    return body


async def test_valid_request_passes(client: httpx.AsyncClient) -> None:
    response = await client.post("/items", json={"name": "mug", "quantity": 2})
    assert response.status_code == 200
    assert response.json() == {"name": "mug"}


@pytest.mark.parametrize("raw", [b'{"name": "mug", ', b"{'name': 'mug'}", b"not json"])
async def test_malformed_json_is_400(client: httpx.AsyncClient, raw: bytes) -> None:
    response = await client.post(
        "/items", content=raw, headers={"content-type": "application/json"}
    )
    body = problem(response, 400, "malformed-json")
    assert body["instance"] == "/items"


async def test_validation_error_is_422_naming_the_field(client: httpx.AsyncClient) -> None:
    response = await client.post("/items", json={"name": "", "quantity": 0})
    body = problem(response, 422, "validation")
    assert isinstance(body["errors"], list)
    locations = {".".join(e["loc"]) for e in body["errors"]}
    assert locations == {"body.name", "body.quantity"}
    assert "body.quantity" in str(body["detail"])


async def test_missing_body_is_422(client: httpx.AsyncClient) -> None:
    problem(await client.post("/items"), 422, "validation")


async def test_unknown_route_is_404(client: httpx.AsyncClient) -> None:
    body = problem(await client.get("/no/such/route"), 404, "not-found")
    assert body["instance"] == "/no/such/route"


async def test_wrong_method_is_405(client: httpx.AsyncClient) -> None:
    problem(await client.delete("/items"), 405, "method-not-allowed")


async def test_raised_problem_renders_its_fields(client: httpx.AsyncClient) -> None:
    body = problem(await client.get("/locked/pst_9"), 409, "post-locked")
    assert body == {
        "type": "urn:siar:problem:post-locked",
        "title": "Post is locked",
        "status": 409,
        "detail": "post pst_9 was dispatched",
        "instance": "/locked/pst_9",
        "post_id": "pst_9",
    }


async def test_not_found_helper(client: httpx.AsyncClient) -> None:
    body = problem(await client.get("/gone"), 404, "not-found")
    assert body["title"] == "post not found"


async def test_401_problem_asks_for_a_bearer_token(client: httpx.AsyncClient) -> None:
    response = await client.get("/secret")
    problem(response, 401, "unauthorized")
    assert response.headers["www-authenticate"] == "Bearer"


async def test_http_exception_becomes_a_problem(client: httpx.AsyncClient) -> None:
    body = problem(await client.get("/starlette"), 403, "forbidden")
    assert body["title"] == "not yours"


async def test_unexpected_error_is_500_without_its_text(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    response = await client.get("/boom")
    body = problem(response, 500, "internal")
    assert "hunter2" not in response.text
    assert "RuntimeError" not in response.text
    assert "Traceback" not in response.text
    assert set(body) <= {"type", "title", "status", "instance"}
    # The operators still get the exception, in the logs.
    assert any(r.exc_info and r.exc_info[0] is RuntimeError for r in caplog.records)

"""Tenant isolation: every workspace-scoped and internal route, against every kind of bad token.

The routes come from each service's live OpenAPI document, so a new route is covered the
day it is added. Each is called with a valid-looking request for the victim's workspace
(real ids, a minimal valid body) by callers who must be turned away: another workspace's
owner (404: the workspace must not be revealed), a viewer trying to change things (403),
a service token on people's routes (404), people on service-only routes (403), and
broken tokens: tampered, ``alg: none``, expired, signed by a stranger's key, or none at
all (401). Every answer is problem+json with the documented status and type, never a
2xx or 5xx, and nothing in it belongs to the victim beyond the ids in the URL.

Last, the services' log files of this session are searched for every token, password and
secret the test knows of, and for anything shaped like one.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import httpx
import pytest

from siar.runtime.roles import PERMISSIONS, Permission, Role
from tests.e2e.conftest import Stack
from tests.e2e.isolation_routes import (
    MUTATING,
    SERVICES,
    Call,
    Route,
    World,
    bearer,
    build_call,
)
from tests.e2e.isolation_tenants import PASSWORD, build_world

PROBLEM_JSON = "application/problem+json"

# Mutating routes a viewer may call. None today: PERMISSIONS[VIEWER] holds only *.read
# permissions (checked below); add a route here if a viewer is ever allowed to write.
VIEWER_MAY_MUTATE: frozenset[tuple[str, str]] = frozenset()
# Reads a viewer may not do: the audit log is for owners (Permission.AUDIT_READ).
VIEWER_FORBIDDEN_READS = frozenset({("GET", "/v1/workspaces/{ws}/audit")})

# Nothing in any answer may look like a stored secret or its storage.
LEAK_MARKERS = ("sbx_", "srt_", "$argon2", "password_hash", "envelope", "wrapped_key")
JWT_SHAPE = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{16,}")
BEARER_JWT = re.compile(r"(?i)bearer\s+ey")

UNAUTHENTICATED = ("tampered", "alg_none", "expired", "foreign_key", "no_token")
TOKEN_KINDS = ("other_workspace", "viewer", "service", "owner", *UNAUTHENTICATED)


def expected(kind: str, route: Route) -> tuple[int, str] | None:
    """The status and problem type ``kind`` must get on ``route``; None: not a case."""
    if kind in UNAUTHENTICATED:
        return 401, "unauthorized"
    if route.internal:
        # People never reach service-only routes, whatever their role anywhere.
        return (403, "forbidden") if kind in ("owner", "other_workspace", "viewer") else None
    if kind in ("other_workspace", "service"):
        # Not a member (a service is nobody's member): the workspace does not exist.
        return 404, "not-found"
    if kind == "viewer":
        key = (route.method, route.path)
        writes = route.method in MUTATING and key not in VIEWER_MAY_MUTATE
        return (403, "forbidden") if writes or key in VIEWER_FORBIDDEN_READS else None
    return None


@pytest.fixture(scope="module")
async def world(stack: Stack) -> World:
    """Victim A (owner, sandbox account, far-future post, a conversation), a viewer of A,
    attacker B, and every token the matrix uses."""
    return await build_world(stack)


# --- the matrix -------------------------------------------------------------------------


def test_the_viewer_role_is_read_only() -> None:
    """The viewer expectations below hold only while viewers cannot write."""
    granted = PERMISSIONS[Role.VIEWER]
    assert all(p.value.endswith(".read") for p in granted), sorted(granted)
    assert Permission.AUDIT_READ not in granted


async def test_the_tokens_are_otherwise_good(world: World) -> None:
    """Refusals below are about the workspace, not broken tokens: each works at home."""
    vault = world.urls["vault"]
    async with httpx.AsyncClient(timeout=15.0) as http:
        home = f"{vault}/v1/workspaces/{world.attacker.workspace_id}/accounts"
        assert (await http.get(home, headers=world.attacker.auth)).status_code == 200
        mine = f"{vault}/v1/workspaces/{world.victim.workspace_id}/accounts"
        assert (await http.get(mine, headers=bearer(world.tokens["viewer"]))).status_code == 200
        ws, account = world.victim.workspace_id, world.victim.account_id
        internal = f"{vault}/v1/internal/workspaces/{ws}/accounts/{account}"
        r = await http.get(internal, headers=bearer(world.tokens["service"]))
        assert r.status_code == 200, r.text
    assert any(not r.internal for r in world.routes)
    assert any(r.internal for r in world.routes)


async def test_the_requests_are_valid_for_the_owner(world: World) -> None:
    """The matrix's reads succeed for the victim's owner: real ids, valid parameters."""
    reads = [r for r in world.routes if r.method == "GET" and not r.internal]
    async with httpx.AsyncClient(timeout=15.0) as http:
        for route in reads:
            call = build_call(route, world)
            headers = {**call.kwargs["headers"], **world.victim.auth}
            if "text/event-stream" in route.operation["responses"]["200"].get("content", {}):
                # A live stream never ends by itself: its status is the answer.
                kwargs = {**call.kwargs, "headers": headers}
                async with http.stream(call.method, call.url, **kwargs) as streamed:
                    assert streamed.status_code == 200, route.label
                continue
            r = await http.request(call.method, call.url, **{**call.kwargs, "headers": headers})
            assert r.status_code == 200, f"{route.label}: {r.status_code} {r.text[:300]}"


@pytest.mark.parametrize("kind", TOKEN_KINDS)
async def test_every_route_turns_away(kind: str, world: World, subtests: pytest.Subtests) -> None:
    """Each (route, token kind) is its own subtest, so every failing pair is reported."""
    cases = [(route, want) for route in world.routes if (want := expected(kind, route))]
    assert cases or kind == "owner", f"no routes to try with {kind}"
    token = world.tokens[kind]
    async with httpx.AsyncClient(timeout=15.0) as http:
        calls = [build_call(route, world) for route, _ in cases]
        responses = await asyncio.gather(
            *(
                http.request(
                    call.method,
                    call.url,
                    **{**call.kwargs, "headers": {**call.kwargs["headers"], **bearer(token)}},
                )
                for call in calls
            )
        )
    for (route, (status, problem)), call, response in zip(cases, calls, responses, strict=True):
        with subtests.test(msg=route.label, token=kind):
            _check(world, kind, token, call, response, status, problem)


def _check(
    world: World,
    kind: str,
    token: str | None,
    call: Call,
    response: httpx.Response,
    status: int,
    problem: str,
) -> None:
    where = (
        f"{call.method} {call.url} with {kind} token -> {response.status_code}: "
        f"{response.text[:500]}"
    )
    assert response.status_code == status, where
    assert response.headers.get("content-type", "").startswith(PROBLEM_JSON), where
    body = response.json()
    assert body.get("type") == f"urn:siar:problem:{problem}", where
    assert body.get("status") == status, where
    if status == 401:
        assert response.headers.get("www-authenticate", "").startswith("Bearer"), where
    if kind == "expired":
        assert body.get("detail") == "token expired", where
    text = response.text
    for marker in LEAK_MARKERS:
        assert marker not in text, f"{marker!r} in the answer: {where}"
    assert not JWT_SHAPE.search(text), f"a token in the answer: {where}"
    if token:
        assert token not in text, where
        signature = token.rsplit(".", 1)[-1]
        assert len(signature) < 16 or signature not in text, where
    url_path = httpx.URL(call.url).path
    leaked = sorted(s for s in world.victim_strings if s in text and s not in url_path)
    assert not leaked, f"victim data {leaked} in the answer: {where}"


# --- the logs ---------------------------------------------------------------------------


def _session_part(path: Path, port: int) -> str:
    """The part of an (appended-to) log file written by this session's service process.

    From the start-up just before the first line naming this session's port; the whole
    file if that is not found, which can only make the check stricter.
    """
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    first = next((i for i, line in enumerate(lines) if f"127.0.0.1:{port} " in line), None)
    if first is None:
        return "\n".join(lines)
    start = next((i for i in range(first, -1, -1) if "Started server process" in lines[i]), first)
    return "\n".join(lines[start:])


async def test_zz_logs_hold_no_secrets(stack: Stack, world: World) -> None:
    """Runs after the matrix (and whatever e2e modules ran before it in this session)."""
    await asyncio.sleep(0.5)  # let the services flush what the matrix made them log
    secrets = stack.platform.secrets
    literal: dict[str, str] = {"the tenants' password": PASSWORD, "the KEK": secrets.kek_b64}
    literal.update({f"{n}'s client secret": s for n, s in secrets.service_secrets.items()})
    for i, token in enumerate(sorted(world.seen_tokens)):
        literal[f"token #{i} ({token[:12]}...)"] = token
        signature = token.rsplit(".", 1)[-1]
        if len(signature) >= 20:
            literal[f"the signature of token #{i}"] = signature
    shapes = {
        "a sandbox access token (sbx_)": re.compile(re.escape("sbx_")),
        "a refresh token (srt_)": re.compile(re.escape("srt_")),
        "an argon2 hash": re.compile(re.escape("$argon2")),
        "a bearer JWT": BEARER_JWT,
        "a JWT": JWT_SHAPE,
    }
    found: list[str] = []
    for name in SERVICES:
        path = stack.platform.log_path(name)
        assert path.exists(), f"no log file {path}"
        text = _session_part(path, stack.platform.ports[name])
        assert text, f"{path} is empty"
        found += [f"{path.name}: {what}" for what, value in literal.items() if value in text]
        for what, pattern in shapes.items():
            match = pattern.search(text)
            if match:
                # Quote what precedes the match, not the secret itself.
                before = text[
                    max(text.rfind("\n", 0, match.start()) + 1, match.start() - 160) : match.start()
                ]
                found.append(f"{path.name}: {what} after {before!r}")
    assert not found, "secrets in the logs:\n" + "\n".join(found)

"""Token verification against a JWKS, the require() dependency and the permission matrix."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import httpx
import jwt
import pytest
import respx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi import FastAPI
from jwt.algorithms import ECAlgorithm

from siar.runtime.auth import JwksCache, Principal, TokenVerifier, require
from siar.runtime.problems import Problem, install_problem_handlers
from siar.runtime.roles import PERMISSIONS, Permission, Role, allows

ISSUER = "https://vault.siar.test"
AUDIENCE = "siar"
JWKS_URL = "https://vault.siar.test/.well-known/jwks.json"
KEY = ec.generate_private_key(ec.SECP256R1())
OTHER_KEY = ec.generate_private_key(ec.SECP256R1())


def jwk(key: ec.EllipticCurvePrivateKey, kid: str) -> dict[str, Any]:
    public: dict[str, Any] = ECAlgorithm.to_jwk(key.public_key(), as_dict=True)
    return {**public, "kid": kid, "use": "sig", "alg": "ES256"}


JWKS = {"keys": [jwk(KEY, "k1")]}


def claims(**changes: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    base: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "usr_1",
        "typ": "user",
        "iat": now,
        "nbf": now - timedelta(seconds=5),
        "exp": now + timedelta(minutes=5),
        "ws": {"ws_1": "editor", "ws_2": "viewer", "ws_3": "not-a-role"},
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def token(key: ec.EllipticCurvePrivateKey = KEY, kid: str | None = "k1", **changes: Any) -> str:
    headers = {"kid": kid} if kid is not None else {}
    return jwt.encode(claims(**changes), key, algorithm="ES256", headers=headers)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forged(header: dict[str, Any], payload: dict[str, Any], signature: bytes = b"") -> str:
    """A JWT assembled by hand, as an attacker would."""
    head = b64(json.dumps(header).encode())
    body = b64(json.dumps(payload, default=lambda d: int(d.timestamp())).encode())
    return f"{head}.{body}.{b64(signature)}"


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


def verifier(http: httpx.AsyncClient, *, min_refresh_s: float = 3600.0) -> TokenVerifier:
    cache = JwksCache(JWKS_URL, http, min_refresh_s=min_refresh_s)
    cache.set_keys(JWKS)
    return TokenVerifier(cache, issuer=ISSUER, audience=AUDIENCE)


async def rejected(v: TokenVerifier, raw: str, detail: str) -> None:
    with pytest.raises(Problem) as caught:
        await v.verify(raw)
    assert caught.value.status == 401
    assert caught.value.kind == "unauthorized"
    assert caught.value.detail == detail


async def test_good_user_token(http: httpx.AsyncClient) -> None:
    raw = token()
    principal = await verifier(http).verify(raw)
    assert principal.subject == "usr_1"
    assert principal.kind == "user"
    assert principal.roles == {"ws_1": Role.EDITOR, "ws_2": Role.VIEWER}
    assert principal.role_in("ws_1") is Role.EDITOR
    assert principal.role_in("ws_3") is None
    assert principal.token == raw
    assert raw not in repr(principal)


async def test_good_service_token(http: httpx.AsyncClient) -> None:
    raw = token(sub="svc:publisher", typ="service", ws=None, scope="credentials:read  posts:read")
    principal = await verifier(http).verify(raw)
    assert principal.kind == "service"
    assert principal.roles == {}
    assert principal.scopes == {"credentials:read", "posts:read"}


async def test_expired_token(http: httpx.AsyncClient) -> None:
    past = datetime.now(UTC) - timedelta(minutes=10)
    raw = token(iat=past, nbf=past, exp=past + timedelta(minutes=5))
    await rejected(verifier(http), raw, "token expired")


async def test_not_yet_valid_token(http: httpx.AsyncClient) -> None:
    raw = token(nbf=datetime.now(UTC) + timedelta(minutes=5))
    await rejected(verifier(http), raw, "invalid token")


@pytest.mark.parametrize(
    "changes",
    [
        {"aud": "another-platform"},
        {"iss": "https://evil.example"},
        {"sub": None},
        {"typ": None},
        {"exp": None},
        {"iat": None},
    ],
    ids=["audience", "issuer", "no-sub", "no-typ", "no-exp", "no-iat"],
)
async def test_wrong_or_missing_claims(http: httpx.AsyncClient, changes: dict[str, Any]) -> None:
    await rejected(verifier(http), token(**changes), "invalid token")


async def test_alg_none(http: httpx.AsyncClient) -> None:
    raw = forged({"alg": "none", "typ": "JWT", "kid": "k1"}, claims())
    await rejected(verifier(http), raw, "token algorithm not accepted")


async def test_hs256_signed_with_the_public_key(http: httpx.AsyncClient) -> None:
    """The classic key-confusion attack: HMAC keyed with the published public key."""
    public_pem = KEY.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    unsigned = forged({"alg": "HS256", "typ": "JWT", "kid": "k1"}, claims()).rsplit(".", 1)[0]
    signature = hmac.new(public_pem, unsigned.encode(), hashlib.sha256).digest()
    await rejected(verifier(http), f"{unsigned}.{b64(signature)}", "token algorithm not accepted")


async def test_es256_header_with_forged_signature(http: httpx.AsyncClient) -> None:
    raw = token(key=OTHER_KEY, kid="k1")  # claims to be k1, signed by another key
    await rejected(verifier(http), raw, "invalid token")


async def test_tampered_payload(http: httpx.AsyncClient) -> None:
    head, _, signature = token().split(".")
    _, escalated, _ = forged({}, claims(ws={"ws_1": "owner"})).split(".")
    raw = f"{head}.{escalated}.{signature}"
    await rejected(verifier(http), raw, "invalid token")


async def test_oversized_token(http: httpx.AsyncClient) -> None:
    raw = token(pad="x" * 9000)
    await rejected(verifier(http), raw, "token too large")


@pytest.mark.parametrize("raw", ["", "garbage", "a.b.c", "....."])
async def test_malformed_token(http: httpx.AsyncClient, raw: str) -> None:
    await rejected(verifier(http), raw, "malformed token")


async def test_token_without_kid(http: httpx.AsyncClient) -> None:
    await rejected(verifier(http), token(kid=None), "token has no key id")


async def test_unknown_kid_inside_refresh_interval_does_not_fetch(http: httpx.AsyncClient) -> None:
    with respx.mock(assert_all_called=False) as mock:
        route = mock.get(JWKS_URL).respond(200, json=JWKS)
        await rejected(
            verifier(http), token(key=OTHER_KEY, kid="k2"), "token signed by an unknown key"
        )
    assert route.call_count == 0


async def test_unknown_kid_refetches_jwks_once(http: httpx.AsyncClient) -> None:
    v = verifier(http, min_refresh_s=0.0)
    with respx.mock() as mock:
        route = mock.get(JWKS_URL).respond(200, json=JWKS)
        await rejected(v, token(key=OTHER_KEY, kid="k2"), "token signed by an unknown key")
    assert route.call_count == 1
    # The known key still works without another fetch.
    assert (await v.verify(token())).subject == "usr_1"


async def test_rotated_key_is_fetched(http: httpx.AsyncClient) -> None:
    v = verifier(http, min_refresh_s=0.0)
    rotated = {"keys": [jwk(KEY, "k1"), jwk(OTHER_KEY, "k2")]}
    with respx.mock() as mock:
        route = mock.get(JWKS_URL).respond(200, json=rotated)
        principal = await v.verify(token(key=OTHER_KEY, kid="k2"))
    assert principal.subject == "usr_1"
    assert route.call_count == 1


async def test_jwks_unreachable_is_503(http: httpx.AsyncClient) -> None:
    v = verifier(http, min_refresh_s=0.0)
    with respx.mock() as mock:
        mock.get(JWKS_URL).respond(500)
        with pytest.raises(Problem) as caught:
            await v.verify(token(key=OTHER_KEY, kid="k2"))
    assert caught.value.status == 503


# --- require() in a tiny app -------------------------------------------------------------


def make_app(v: TokenVerifier) -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)
    app.state.token_verifier = v

    @app.post("/v1/workspaces/{ws}/posts")
    async def create_post(
        ws: str, principal: Annotated[Principal, require(Permission.POSTS_WRITE)]
    ) -> dict[str, str]:
        return {"ws": ws, "by": principal.subject}

    return app


@pytest.fixture
async def api(http: httpx.AsyncClient) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=make_app(verifier(http)))
    async with httpx.AsyncClient(transport=transport, base_url="http://siar.test") as client:
        yield client


def bearer(raw: str) -> dict[str, str]:
    return {"authorization": f"Bearer {raw}"}


async def test_member_with_permission_is_allowed(api: httpx.AsyncClient) -> None:
    response = await api.post("/v1/workspaces/ws_1/posts", headers=bearer(token()))
    assert response.status_code == 200
    assert response.json() == {"ws": "ws_1", "by": "usr_1"}


@pytest.mark.parametrize("ws", ["ws_unknown", "ws_3"])
async def test_non_member_gets_404(api: httpx.AsyncClient, ws: str) -> None:
    response = await api.post(f"/v1/workspaces/{ws}/posts", headers=bearer(token()))
    assert response.status_code == 404
    assert response.json()["type"] == "urn:siar:problem:not-found"


async def test_service_token_is_not_a_member(api: httpx.AsyncClient) -> None:
    raw = token(typ="service", ws={"ws_1": "owner"})
    response = await api.post("/v1/workspaces/ws_1/posts", headers=bearer(raw))
    assert response.status_code == 404


async def test_member_lacking_permission_gets_403(api: httpx.AsyncClient) -> None:
    response = await api.post("/v1/workspaces/ws_2/posts", headers=bearer(token()))
    assert response.status_code == 403
    body = response.json()
    assert body["type"] == "urn:siar:problem:forbidden"
    assert "viewer" in body["detail"]
    assert "posts.write" in body["detail"]


@pytest.mark.parametrize(
    "headers",
    [{}, {"authorization": "Bearer "}, {"authorization": "Basic dXNyOnB3"}, {"authorization": "x"}],
    ids=["none", "empty-bearer", "basic", "garbage"],
)
async def test_no_token_gets_401(api: httpx.AsyncClient, headers: dict[str, str]) -> None:
    response = await api.post("/v1/workspaces/ws_1/posts", headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_bad_token_gets_401_not_500(api: httpx.AsyncClient) -> None:
    response = await api.post("/v1/workspaces/ws_1/posts", headers=bearer("not.a.jwt"))
    assert response.status_code == 401


# --- the permission matrix ---------------------------------------------------------------


def test_every_role_is_in_the_matrix() -> None:
    assert set(PERMISSIONS) == set(Role)


def test_owner_has_every_permission() -> None:
    assert all(allows(Role.OWNER, p) for p in Permission)


@pytest.mark.parametrize(
    ("role", "permission"),
    [
        (Role.VIEWER, Permission.POSTS_WRITE),
        (Role.VIEWER, Permission.POSTS_PUBLISH),
        (Role.VIEWER, Permission.INBOX_REPLY),
        (Role.CONTRIBUTOR, Permission.POSTS_PUBLISH),
        (Role.CONTRIBUTOR, Permission.POSTS_APPROVE),
        (Role.APPROVER, Permission.POSTS_WRITE),
        (Role.EDITOR, Permission.MEMBERS_MANAGE),
        (Role.EDITOR, Permission.ACCOUNTS_MANAGE),
    ],
)
def test_role_lacks_permission(role: Role, permission: Permission) -> None:
    assert not allows(role, permission)


@pytest.mark.parametrize(
    ("role", "permission"),
    [
        (Role.CONTRIBUTOR, Permission.POSTS_WRITE),
        (Role.EDITOR, Permission.POSTS_PUBLISH),
        (Role.APPROVER, Permission.POSTS_APPROVE),
        (Role.ADMIN, Permission.MEMBERS_MANAGE),
    ],
)
def test_role_has_permission(role: Role, permission: Permission) -> None:
    assert allows(role, permission)


def test_every_role_can_read_its_workspace() -> None:
    for role in Role:
        assert allows(role, Permission.WORKSPACE_READ)
        assert allows(role, Permission.POSTS_READ)


def test_only_owner_and_admin_manage_members() -> None:
    assert {r for r in Role if allows(r, Permission.MEMBERS_MANAGE)} == {Role.OWNER, Role.ADMIN}

"""Token verification (cached JWKS), the access dependency, and service tokens."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Annotated, Any

import httpx
import jwt
from fastapi import Depends, Request
from jwt import PyJWK

from siar.runtime.problems import Problem, not_found
from siar.runtime.roles import Permission, Role, allows

ALGORITHMS = ["ES256"]
MAX_TOKEN_BYTES = 8192


@dataclass(frozen=True)
class Principal:
    """Who is calling: a user with per-workspace roles, or a service with scopes."""

    subject: str
    kind: str
    roles: dict[str, Role] = field(default_factory=dict)
    scopes: frozenset[str] = frozenset()
    token: str = field(default="", repr=False)

    def role_in(self, workspace_id: str) -> Role | None:
        """The caller's role in ``workspace_id``, if a member."""
        return self.roles.get(workspace_id)


def unauthorized(detail: str) -> Problem:
    """A 401 problem."""
    return Problem(401, "unauthorized", "Authentication required", detail)


class JwksCache:
    """The vault's public keys, fetched once and refreshed on an unknown key id."""

    def __init__(self, jwks_url: str, http: httpx.AsyncClient, *, min_refresh_s: float = 5.0):
        self.jwks_url = jwks_url
        self.http = http
        self.min_refresh_s = min_refresh_s
        self._keys: dict[str, PyJWK] = {}
        self._fetched_at = 0.0
        self._lock = asyncio.Lock()

    def set_keys(self, jwks: dict[str, Any]) -> None:
        """Replace the keys (also used by the vault to verify its own tokens)."""
        self._keys = {k["kid"]: PyJWK(k) for k in jwks.get("keys", []) if "kid" in k}
        self._fetched_at = time.monotonic()

    async def key(self, kid: str) -> PyJWK | None:
        """The key ``kid``, refreshing at most every ``min_refresh_s`` for unknown ids."""
        if kid in self._keys:
            return self._keys[kid]
        async with self._lock:
            if kid not in self._keys and time.monotonic() - self._fetched_at > self.min_refresh_s:
                response = await self.http.get(self.jwks_url, timeout=5.0)
                response.raise_for_status()
                self.set_keys(response.json())
        return self._keys.get(kid)


class TokenVerifier:
    """Verifies Siar's JWTs: signature, algorithm, issuer, audience and expiry."""

    def __init__(self, jwks: JwksCache, *, issuer: str, audience: str) -> None:
        self.jwks = jwks
        self.issuer = issuer
        self.audience = audience

    async def verify(self, token: str) -> Principal:
        """The principal a token names, or a 401 problem."""
        if len(token) > MAX_TOKEN_BYTES:
            raise unauthorized("token too large")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as err:
            raise unauthorized("malformed token") from err
        if header.get("alg") not in ALGORITHMS:
            raise unauthorized("token algorithm not accepted")
        kid = header.get("kid")
        if not isinstance(kid, str):
            raise unauthorized("token has no key id")
        try:
            key = await self.jwks.key(kid)
        except httpx.HTTPError as err:
            raise Problem(503, "auth-unavailable", "Cannot verify tokens right now") from err
        if key is None:
            raise unauthorized("token signed by an unknown key")
        try:
            claims = jwt.decode(
                token,
                key=key.key,
                algorithms=ALGORITHMS,
                audience=self.audience,
                issuer=self.issuer,
                options={"require": ["exp", "iat", "sub", "typ"]},
            )
        except jwt.ExpiredSignatureError as err:
            raise unauthorized("token expired") from err
        except jwt.PyJWTError as err:
            raise unauthorized("invalid token") from err
        return principal_from_claims(claims, token)


def principal_from_claims(claims: dict[str, Any], token: str = "") -> Principal:
    """Build a principal from verified claims."""
    roles: dict[str, Role] = {}
    for ws, role in (claims.get("ws") or {}).items():
        if role in Role.__members__.values():
            roles[str(ws)] = Role(role)
    scopes = frozenset(str(claims.get("scope", "")).split())
    return Principal(
        subject=str(claims["sub"]),
        kind=str(claims["typ"]),
        roles=roles,
        scopes=scopes,
        token=token,
    )


def bearer_token(request: Request) -> str:
    """The bearer token of a request, or a 401 problem."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise unauthorized("missing bearer token")
    return token.strip()


async def current_principal(request: Request) -> Principal:
    """FastAPI dependency: the verified caller."""
    verifier: TokenVerifier = request.app.state.token_verifier
    return await verifier.verify(bearer_token(request))


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def require(permission: Permission) -> Any:
    """FastAPI dependency: a user allowed ``permission`` in the path's workspace ``ws``.

    A caller who is not a member gets 404, so workspace ids do not leak; a member
    whose role lacks the permission gets 403.
    """

    async def check(request: Request, principal: CurrentPrincipal) -> Principal:
        workspace_id = request.path_params.get("ws")
        if not isinstance(workspace_id, str):
            raise RuntimeError("require() needs a {ws} path parameter")
        role = principal.role_in(workspace_id) if principal.kind == "user" else None
        if role is None:
            raise not_found("workspace")
        if not allows(role, permission):
            raise Problem(
                403, "forbidden", "Not allowed", f"role {role.value} lacks {permission.value}"
            )
        # An API key's token carries the permissions it was limited to.
        if principal.scopes and permission.value not in principal.scopes:
            raise Problem(
                403, "forbidden", "Not allowed", f"this API key does not allow {permission.value}"
            )
        return principal

    return Depends(check)


def require_scope(scope: str) -> Any:
    """FastAPI dependency: a service principal holding ``scope``."""

    async def check(principal: CurrentPrincipal) -> Principal:
        if principal.kind != "service" or scope not in principal.scopes:
            raise Problem(403, "forbidden", "Not allowed", f"requires service scope {scope}")
        return principal

    return Depends(check)


class ServiceTokenClient:
    """Gets and caches this service's token from the vault (client credentials)."""

    def __init__(
        self, http: httpx.AsyncClient, vault_url: str, client_id: str, client_secret: str
    ) -> None:
        self.http = http
        self.url = vault_url.rstrip("/") + "/v1/auth/token"
        self.client_id = client_id
        self.client_secret = client_secret
        self._token = ""
        self._expires_at = 0.0
        self._lock = asyncio.Lock()

    async def token(self) -> str:
        """A valid service token, renewed a minute before it expires."""
        async with self._lock:
            if time.monotonic() < self._expires_at - 60:
                return self._token
            response = await self.http.post(
                self.url,
                data={
                    "grant_type": "client_credentials",
                    "client_id": self.client_id,
                    "client_secret": self.client_secret,
                },
                timeout=10.0,
            )
            response.raise_for_status()
            body = response.json()
            self._token = str(body["access_token"])
            self._expires_at = time.monotonic() + float(body.get("expires_in", 300))
            return self._token

    async def send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """A request with this service's token, fetching a new token once on a 401.

        Transport and token-endpoint failures surface as ``httpx.HTTPError``; a second
        401 is returned for the caller to report.
        """
        headers = dict(kwargs.pop("headers", None) or {})

        async def attempt() -> httpx.Response:
            headers["authorization"] = f"Bearer {await self.token()}"
            return await self.http.request(method, url, headers=headers, **kwargs)

        response = await attempt()
        if response.status_code == 401:
            self.forget()
            response = await attempt()
        return response

    def forget(self) -> None:
        """Drop the cached token (after a 401), so the next call fetches a new one."""
        self._expires_at = 0.0

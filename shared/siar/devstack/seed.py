"""Seed a demo manager, workspace and sandbox account through the vault's public API."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypeVar

import httpx
from pydantic import BaseModel, ConfigDict, ValidationError

DEMO_EMAIL = "demo@siar.dev"
# Dev-only and printed by siar-dev; it must not contain "demo" (the vault refuses
# passwords containing the e-mail's local part).
DEMO_PASSWORD = "siar-password-2026"  # noqa: S105
DEMO_NAME = "Demo Manager"
DEMO_WORKSPACE = "Demo Brand"
DEMO_NETWORK = "sandbox"
DEMO_HANDLE = "demo_brand"


class SeedError(RuntimeError):
    """The vault answered the seeding with something unexpected."""


@dataclass(frozen=True)
class DemoLogin:
    """The demo manager's login and the workspace and account seeded for them."""

    email: str
    password: str
    workspace_id: str
    account_id: str
    access_token: str


class _Reply(BaseModel):
    model_config = ConfigDict(extra="ignore")


class _Token(_Reply):
    access_token: str


class _Workspace(_Reply):
    id: str
    name: str


class _Workspaces(_Reply):
    items: list[_Workspace]


class _Account(_Reply):
    id: str
    network: str
    handle: str


class _Accounts(_Reply):
    items: list[_Account]


ReplyT = TypeVar("ReplyT", bound=_Reply)


async def seed_demo(urls: Mapping[str, str], *, http: httpx.AsyncClient | None = None) -> DemoLogin:
    """Create (or find) the demo user, workspace and sandbox account; idempotent."""
    vault = urls["vault"].rstrip("/")
    if http is not None:
        return await _seed(_Seeder(http, vault))
    # Loopback only: ignore proxy settings from the environment.
    async with httpx.AsyncClient(timeout=10.0, trust_env=False) as own:
        return await _seed(_Seeder(own, vault))


async def _seed(seeder: _Seeder) -> DemoLogin:
    await seeder.ensure_user()
    token = await seeder.token()
    workspace_id = await seeder.find_workspace(token)
    if workspace_id is None:
        workspace_id = await seeder.create_workspace(token)
        # Roles per workspace are claims in the token: a new workspace needs a new one.
        token = await seeder.token()
    account_id = await seeder.ensure_account(token, workspace_id)
    return DemoLogin(
        email=DEMO_EMAIL,
        password=DEMO_PASSWORD,
        workspace_id=workspace_id,
        account_id=account_id,
        access_token=token,
    )


class _Seeder:
    def __init__(self, http: httpx.AsyncClient, vault: str) -> None:
        self.http = http
        self.vault = vault

    async def ensure_user(self) -> None:
        response = await self.http.post(
            f"{self.vault}/v1/users",
            json={"email": DEMO_EMAIL, "password": DEMO_PASSWORD, "name": DEMO_NAME},
        )
        _check(response, 201, 409)  # 409: created by an earlier run

    async def token(self) -> str:
        response = await self.http.post(
            f"{self.vault}/v1/auth/token",
            data={"grant_type": "password", "username": DEMO_EMAIL, "password": DEMO_PASSWORD},
        )
        return _parse(_check(response, 200), _Token).access_token

    async def find_workspace(self, token: str) -> str | None:
        response = await self.http.get(f"{self.vault}/v1/workspaces", headers=_bearer(token))
        found = _parse(_check(response, 200), _Workspaces)
        return next((ws.id for ws in found.items if ws.name == DEMO_WORKSPACE), None)

    async def create_workspace(self, token: str) -> str:
        response = await self.http.post(
            f"{self.vault}/v1/workspaces", json={"name": DEMO_WORKSPACE}, headers=_bearer(token)
        )
        return _parse(_check(response, 201), _Workspace).id

    async def ensure_account(self, token: str, workspace_id: str) -> str:
        url = f"{self.vault}/v1/workspaces/{workspace_id}/accounts"
        listed = _parse(_check(await self.http.get(url, headers=_bearer(token)), 200), _Accounts)
        for account in listed.items:
            if account.network == DEMO_NETWORK and account.handle == DEMO_HANDLE:
                return account.id
        response = await self.http.post(
            url, json={"network": DEMO_NETWORK, "handle": DEMO_HANDLE}, headers=_bearer(token)
        )
        return _parse(_check(response, 201), _Account).id


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _check(response: httpx.Response, *expected: int) -> httpx.Response:
    if response.status_code not in expected:
        request = response.request
        raise SeedError(
            f"{request.method} {request.url} answered {response.status_code} "
            f"(expected {' or '.join(map(str, expected))}): {response.text[:2000]}"
        )
    return response


def _parse(response: httpx.Response, model: type[ReplyT]) -> ReplyT:
    try:
        return model.model_validate_json(response.content)
    except ValidationError as err:
        request = response.request
        raise SeedError(
            f"{request.method} {request.url} answered an unexpected body: {response.text[:2000]}"
        ) from err

"""Vault use cases: sign-in, tokens, workspaces, members (accounts: :mod:`siar_vault.accounts`)."""

from __future__ import annotations

import asyncio
import hmac
import secrets
import uuid
from dataclasses import dataclass, replace
from typing import Any

import httpx
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from pydantic import SecretStr
from pymongo.asynchronous.client_session import AsyncClientSession

from siar.connectors import AppCredentials, Connector
from siar.contracts import utcnow
from siar.runtime.roles import Role
from siar.runtime.uow import UnitOfWork
from siar_vault import crypto
from siar_vault.accounts import AccountUseCases
from siar_vault.apikeys import ApiKeys
from siar_vault.audit import AuditTrail
from siar_vault.domain import (
    AuditEntry,
    Membership,
    User,
    Workspace,
    check_password_rules,
    normalise_email,
)
from siar_vault.errors import InvalidCredentials, InvalidInput
from siar_vault.mfa import TwoFactor
from siar_vault.sessions import LoginThrottle, RefreshTokens
from siar_vault.store import VaultStore
from siar_vault.tokens import TokenIssuer

SERVICE_SCOPES = {
    "scheduler": "accounts:read",
    "publisher": "credentials:lease media:read",
    "inbox": "credentials:lease",
    "analytics": "credentials:lease",
}


@dataclass(frozen=True)
class IssuedToken:
    """An access token and its life in seconds."""

    access_token: str
    expires_in: int
    refresh_token: str | None = None


class VaultService(AccountUseCases):
    """Everything the vault does, behind its HTTP API (accounts in the base class)."""

    def __init__(
        self,
        *,
        store: VaultStore,
        uow: UnitOfWork,
        keyring: crypto.Keyring,
        issuer: TokenIssuer,
        connectors: dict[str, Connector],
        service_clients: dict[str, SecretStr],
        apps: dict[str, AppCredentials] | None = None,
        refresh_tokens: RefreshTokens,
        throttle: LoginThrottle,
        access_ttl_s: int,
        service_ttl_s: int,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        self.store = store
        self.http = http
        self._telling = set()
        self.uow = uow
        self.keyring = keyring
        self.issuer = issuer
        self.connectors = connectors
        self.service_clients = service_clients
        self.apps = apps or {}
        self.refresh_tokens = refresh_tokens
        self.throttle = throttle
        self.two_factor = TwoFactor(store.users, keyring)
        self.api_keys = ApiKeys(store.api_keys)
        self.audit_trail = AuditTrail(store)
        self.access_ttl_s = access_ttl_s
        self.service_ttl_s = service_ttl_s
        self.hasher = PasswordHasher()  # argon2id with the library's current defaults
        self._dummy_hash = self.hasher.hash(secrets.token_urlsafe(16))

    async def register_user(self, *, email: str, password: str, name: str) -> User:
        """Create a user with an argon2id password hash."""
        email = normalise_email(email)
        check_password_rules(password, email=email)
        password_hash = await asyncio.to_thread(self.hasher.hash, password)
        user = User(id=f"usr_{uuid.uuid4().hex}", email=email, name=name, created_at=utcnow())
        await self.store.insert_user(user, password_hash)
        return user

    async def login(
        self, *, email: str, password: str, address: str, totp_code: str | None = None
    ) -> IssuedToken:
        """Check a password (throttled) and issue access and refresh tokens."""
        try:
            email = normalise_email(email)
        except InvalidInput:
            email = ""
        await self.throttle.check(email, address)
        doc = await self.store.user_by_email(email) if email else None
        # Verify against a dummy hash for unknown users so timing does not reveal them.
        stored = str(doc["password_hash"]) if doc else self._dummy_hash
        try:
            await asyncio.to_thread(self.hasher.verify, stored, password)
        except (VerificationError, InvalidHashError) as err:
            await self.throttle.failed(email, address)
            raise InvalidCredentials("wrong e-mail or password") from err
        if doc is None:
            await self.throttle.failed(email, address)
            raise InvalidCredentials("wrong e-mail or password")
        try:
            await self.two_factor.check_sign_in(doc, totp_code)
        except InvalidCredentials:
            await self.throttle.failed(email, address)
            raise
        user_id = str(doc["_id"])
        issued = await self.user_token(user_id)
        return replace(issued, refresh_token=await self.refresh_tokens.issue(user_id))

    async def refresh_session(self, refresh_token: str) -> IssuedToken:
        """Rotate a refresh token; the new access token carries the user's current roles."""
        rotated = await self.refresh_tokens.rotate(refresh_token)
        if await self.store.user_by_id(rotated.user_id) is None:
            raise InvalidCredentials("the user no longer exists")
        issued = await self.user_token(rotated.user_id)
        return replace(issued, refresh_token=rotated.refresh_token)

    async def user_token(self, user_id: str) -> IssuedToken:
        """A fresh token for a user, with their current roles."""
        roles = {m.workspace_id: m.role.value for m in await self.store.memberships_of(user_id)}
        token = self.issuer.issue(user_id, "user", self.access_ttl_s, ws=roles)
        return IssuedToken(token, self.access_ttl_s)

    async def api_key_token(self, presented: str) -> IssuedToken:
        """A short-lived token limited to an API key's permissions and workspaces."""
        user_id, key = await self.api_keys.check(presented)
        memberships = await self.store.memberships_of(user_id)
        roles = {
            m.workspace_id: m.role.value
            for m in memberships
            if not key.workspace_ids or m.workspace_id in key.workspace_ids
        }
        scope = " ".join(p.value for p in key.permissions)
        token = self.issuer.issue(
            user_id, "user", self.access_ttl_s, ws=roles, scope=scope, akid=key.id
        )
        return IssuedToken(token, self.access_ttl_s)

    def service_token(self, *, client_id: str, client_secret: str) -> IssuedToken:
        """A token for a service that proved its client secret (constant-time)."""
        expected = self.service_clients.get(client_id)
        valid = expected is not None and hmac.compare_digest(
            expected.get_secret_value().encode(), client_secret.encode()
        )
        if not valid or client_id not in SERVICE_SCOPES:
            raise InvalidCredentials("unknown client or wrong secret")
        token = self.issuer.issue(
            f"service:{client_id}", "service", self.service_ttl_s, scope=SERVICE_SCOPES[client_id]
        )
        return IssuedToken(token, self.service_ttl_s)

    async def create_workspace(self, *, name: str, owner_id: str) -> Workspace:
        """Create a workspace with the caller as its owner."""
        workspace = Workspace(
            id=f"ws_{uuid.uuid4().hex[:20]}", name=name, created_at=utcnow(), created_by=owner_id
        )
        owner = Membership(workspace_id=workspace.id, user_id=owner_id, role=Role.OWNER)

        async def work(session: AsyncClientSession) -> None:
            await self.store.insert_workspace(workspace, owner, session)

        await self.uow.run(work)
        return workspace

    async def workspaces_of(self, roles: dict[str, Role]) -> list[tuple[Workspace, Role]]:
        """The caller's workspaces with their role in each."""
        found = await self.store.workspaces_by_ids(list(roles))
        return [(w, roles[w.id]) for w in found]

    async def members(self, workspace_id: str) -> list[Membership]:
        """Members of a workspace."""
        return await self.store.members_of(workspace_id)

    async def audit(
        self,
        workspace_id: str,
        actor: str,
        action: str,
        target: str,
        details: dict[str, Any] | None = None,
    ) -> AuditEntry:
        """Append to the workspace's hash-chained audit log."""
        return await self.audit_trail.append(workspace_id, actor, action, target, details)

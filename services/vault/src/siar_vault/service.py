"""Vault use cases: sign-in, workspaces, connecting accounts, leasing credentials."""

from __future__ import annotations

import asyncio
import hmac
import json
import secrets
import uuid
from dataclasses import dataclass, replace
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from pydantic import SecretStr
from pymongo.asynchronous.client_session import AsyncClientSession

from siar.connectors import (
    AccountRef,
    AppCredentials,
    ConnectedAccount,
    Connector,
    ConnectorError,
    Credential,
)
from siar.connectors.bluesky import BlueskyConnector
from siar.connectors.sandbox import SandboxConnector
from siar.contracts import AccountConnected, utcnow
from siar.runtime.roles import Role
from siar.runtime.uow import UnitOfWork
from siar_vault import crypto
from siar_vault.apikeys import ApiKeys
from siar_vault.audit import AuditTrail
from siar_vault.domain import (
    Account,
    AuditEntry,
    Membership,
    User,
    Workspace,
    check_password_rules,
    normalise_email,
)
from siar_vault.errors import (
    InvalidCredentials,
    InvalidInput,
    NetworkRefused,
    NotFound,
    UnsupportedNetwork,
)
from siar_vault.metrics import TOKEN_REFRESH
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


def credential_aad(workspace_id: str, account_id: str) -> bytes:
    """Associated data binding a credential to its workspace and account."""
    return f"siar-credential:{workspace_id}:{account_id}".encode()


@dataclass(frozen=True)
class IssuedToken:
    """An access token and its life in seconds."""

    access_token: str
    expires_in: int
    refresh_token: str | None = None


@dataclass(frozen=True)
class Lease:
    """A credential handed to a service for one use."""

    account: Account
    credential: Credential


class VaultService:
    """Everything the vault does, behind its HTTP API."""

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
    ) -> None:
        self.store = store
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

    async def add_member(self, *, workspace_id: str, email: str, role: Role) -> Membership:
        """Give an existing user a role in the workspace."""
        doc = await self.store.user_by_email(normalise_email(email))
        if doc is None:
            raise NotFound("no user with that e-mail")
        membership = Membership(workspace_id=workspace_id, user_id=str(doc["_id"]), role=role)
        await self.store.upsert_member(membership)
        return membership

    async def connect_account(
        self,
        *,
        workspace_id: str,
        network: str,
        handle: str,
        actor: str,
        app_password: str | None = None,
        manual: ConnectedAccount | None = None,
    ) -> Account:
        """Sign an account in on its network, store its credential encrypted, announce it.

        Three ways in: the sandbox by handle, Bluesky by handle and app password, and
        a manual token (e.g. a long-lived page token) for any network.
        """
        connector = self.connectors.get(network)
        if connector is None:
            raise UnsupportedNetwork(f"no connector for network {network!r}")
        try:
            if manual is not None:
                connected = manual
            elif isinstance(connector, SandboxConnector):
                connected = await connector.sign_in(handle)
            elif isinstance(connector, BlueskyConnector) and app_password:
                connected = await connector.sign_in(handle, app_password)
            else:
                raise UnsupportedNetwork(
                    f"{connector.display_name} accounts connect with OAuth or a manual token"
                    + (" or an app password" if isinstance(connector, BlueskyConnector) else "")
                )
        except ConnectorError as err:
            raise NetworkRefused(err.reason) from err
        existing = await self.store.account_by_network_id(
            workspace_id, network, connected.network_account_id
        )
        account_id = existing.id if existing else f"acc_{uuid.uuid4().hex[:20]}"
        envelope = self.seal_credential(workspace_id, account_id, connected.credential)
        if existing:
            await self.store.replace_credential(
                workspace_id, account_id, envelope, connected.credential.expires_at
            )
            await self.audit(workspace_id, actor, "account.reconnected", account_id)
            return existing
        account = Account(
            id=account_id,
            workspace_id=workspace_id,
            network=network,
            handle=connected.handle,
            display_name=connected.display_name,
            network_account_id=connected.network_account_id,
            token_expires_at=connected.credential.expires_at,
            connected_at=utcnow(),
            connected_by=actor,
        )
        event = AccountConnected.new(
            workspace_id=workspace_id,
            account_id=account.id,
            network=network,
            handle=account.handle,
            display_name=account.display_name,
            network_account_id=account.network_account_id,
        )

        async def work(session: AsyncClientSession) -> None:
            await self.store.insert_account(account, envelope, session)
            await self.uow.outbox.add(event, session=session)

        await self.uow.run(work)
        await self.audit(workspace_id, actor, "account.connected", account.id)
        return account

    async def accounts(self, workspace_id: str) -> list[Account]:
        """A workspace's accounts (never with secrets)."""
        return await self.store.list_accounts(workspace_id)

    async def account(self, workspace_id: str, account_id: str) -> Account:
        """One account, or :class:`NotFound`."""
        account = await self.store.account(workspace_id, account_id)
        if account is None:
            raise NotFound("account")
        return account

    async def lease(
        self, *, workspace_id: str, account_id: str, service: str, purpose: str
    ) -> Lease:
        """Decrypt an account's credential for a service; every lease is audited."""
        account = await self.account(workspace_id, account_id)
        envelope = await self.store.credential_envelope(workspace_id, account_id)
        if envelope is None:
            raise NotFound("credential")
        credential = self.open_credential(workspace_id, account_id, envelope)
        await self.audit(
            workspace_id, service, "credential.leased", account_id, {"purpose": purpose}
        )
        return Lease(account=account, credential=credential)

    async def refresh(self, *, workspace_id: str, account_id: str, service: str) -> Lease:
        """Refresh an expired credential at its network, store it, and lease the new one.

        An account whose credential cannot be refreshed is marked ``needs_reconnect``.
        """
        account = await self.account(workspace_id, account_id)
        envelope = await self.store.credential_envelope(workspace_id, account_id)
        connector = self.connectors.get(account.network)
        if envelope is None or connector is None:
            raise NotFound("credential")
        current = self.open_credential(workspace_id, account_id, envelope)
        try:
            fresh = await connector.refresh_credential(current, self.apps.get(account.network))
        except ConnectorError as err:
            TOKEN_REFRESH.labels(account.network, "failed").inc()
            await self.store.set_account_status(workspace_id, account_id, "needs_reconnect")
            await self.audit(
                workspace_id,
                service,
                "credential.refresh_failed",
                account_id,
                {"reason": err.reason},
            )
            raise NetworkRefused(err.reason) from err
        await self.store.replace_credential(
            workspace_id,
            account_id,
            self.seal_credential(workspace_id, account_id, fresh),
            fresh.expires_at,
        )
        TOKEN_REFRESH.labels(account.network, "ok").inc()
        await self.audit(workspace_id, service, "credential.refreshed", account_id)
        return Lease(account=await self.account(workspace_id, account_id), credential=fresh)

    def seal_credential(
        self, workspace_id: str, account_id: str, credential: Credential
    ) -> dict[str, Any]:
        """A credential encrypted for storage, bound to its workspace and account."""
        secret = json.dumps(
            {
                "access_token": credential.access_token.get_secret_value(),
                "refresh_token": credential.refresh_token.get_secret_value()
                if credential.refresh_token
                else None,
                "expires_at": credential.expires_at.isoformat() if credential.expires_at else None,
                "extra": credential.extra,
            }
        ).encode()
        return crypto.encrypt(self.keyring, secret, credential_aad(workspace_id, account_id))

    def open_credential(self, workspace_id: str, account_id: str, envelope: Any) -> Credential:
        """A stored credential decrypted (it fails if moved to another account)."""
        plain = crypto.decrypt(self.keyring, envelope, credential_aad(workspace_id, account_id))
        return Credential.model_validate(json.loads(plain))

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

    def account_ref(self, account: Account) -> AccountRef:
        """The connector's view of an account."""
        return AccountRef(
            workspace_id=account.workspace_id,
            account_id=account.id,
            network=account.network,
            handle=account.handle,
        )

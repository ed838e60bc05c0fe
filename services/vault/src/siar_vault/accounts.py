"""Vault use cases for connected accounts: connect, read, lease and refresh credentials.

:class:`AccountUseCases` is part of :class:`siar_vault.service.VaultService` (a base
class, so callers keep one service object); credentials are sealed with the vault's
keyring and bound to their workspace and account.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
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
from siar.contracts import AccountConnected, AccountDisconnected, utcnow
from siar.runtime import webhooks
from siar.runtime.uow import UnitOfWork
from siar.runtime.vault_client import token_sha256
from siar_vault import crypto
from siar_vault.audit import AuditTrail
from siar_vault.domain import Account
from siar_vault.errors import NetworkRefused, NotFound, UnsupportedNetwork
from siar_vault.metrics import TOKEN_REFRESH
from siar_vault.store import VaultStore
from siar_vault.workspace_webhook import webhook_target


def credential_aad(workspace_id: str, account_id: str) -> bytes:
    """Associated data binding a credential to its workspace and account."""
    return f"siar-credential:{workspace_id}:{account_id}".encode()


@dataclass(frozen=True)
class Lease:
    """A credential handed to a service for one use."""

    account: Account
    credential: Credential


class AccountUseCases:
    """Connected accounts and their credentials (the vault service's account half)."""

    store: VaultStore
    uow: UnitOfWork
    keyring: crypto.Keyring
    connectors: dict[str, Connector]
    apps: dict[str, AppCredentials]
    audit_trail: AuditTrail
    http: httpx.AsyncClient | None
    """For the workspace webhook; None where nothing is told (tests, the CLI)."""
    _telling: set[asyncio.Task[None]]

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
        connected = await self._sign_in(network, handle, app_password, manual)
        existing = await self.store.account_by_network_id(
            workspace_id, network, connected.network_account_id
        )
        account_id = existing.id if existing else f"acc_{uuid.uuid4().hex[:20]}"
        envelope = self.seal_credential(workspace_id, account_id, connected.credential)
        if existing:
            return await self._reconnect(existing, envelope, connected, actor)
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
        await self.audit_trail.append(workspace_id, actor, "account.connected", account.id)
        return account

    async def _reconnect(
        self, existing: Account, envelope: dict[str, Any], connected: ConnectedAccount, actor: str
    ) -> Account:
        """A fresh credential for a known account, announced again.

        A token that could not be refreshed was announced as ``account.disconnected``,
        which stops polling, collection and scheduling; ``account.connected`` starts them
        again (each consumer takes a repeat as a no-op).
        """
        ws, account_id = existing.workspace_id, existing.id
        expires = connected.credential.expires_at
        event = AccountConnected.new(
            workspace_id=ws,
            account_id=account_id,
            network=existing.network,
            handle=existing.handle,
            display_name=existing.display_name,
            network_account_id=existing.network_account_id,
        )

        async def work(session: AsyncClientSession) -> None:
            await self.store.replace_credential(ws, account_id, envelope, expires, session)
            await self.uow.outbox.add(event, session=session)

        await self.uow.run(work)
        await self.audit_trail.append(ws, actor, "account.reconnected", account_id)
        # As stored now: replace_credential made it healthy with the new expiry.
        return existing.model_copy(update={"status": "healthy", "token_expires_at": expires})

    async def _sign_in(
        self,
        network: str,
        handle: str,
        app_password: str | None,
        manual: ConnectedAccount | None,
    ) -> ConnectedAccount:
        connector = self.connectors.get(network)
        if connector is None:
            raise UnsupportedNetwork(f"no connector for network {network!r}")
        try:
            if manual is not None:
                return manual
            if isinstance(connector, SandboxConnector):
                return await connector.sign_in(handle)
            if isinstance(connector, BlueskyConnector) and app_password:
                return await connector.sign_in(handle, app_password)
        except ConnectorError as err:
            raise NetworkRefused(err.reason) from err
        raise UnsupportedNetwork(
            f"{connector.display_name} accounts connect with OAuth or a manual token"
            + (" or an app password" if isinstance(connector, BlueskyConnector) else "")
        )

    async def accounts(self, workspace_id: str) -> list[Account]:
        """A workspace's accounts (never with secrets)."""
        return await self.store.list_accounts(workspace_id)

    async def account(self, workspace_id: str, account_id: str) -> Account:
        """One account, or :class:`NotFound`."""
        account = await self.store.account(workspace_id, account_id)
        if account is None:
            raise NotFound("account")
        return account

    async def stored_credential(
        self, workspace_id: str, account_id: str
    ) -> tuple[Account, Credential]:
        """An account and its credential decrypted, or :class:`NotFound` (not audited)."""
        account = await self.account(workspace_id, account_id)
        envelope = await self.store.credential_envelope(workspace_id, account_id)
        if envelope is None:
            raise NotFound("credential")
        return account, self.open_credential(workspace_id, account_id, envelope)

    async def lease(
        self, *, workspace_id: str, account_id: str, service: str, purpose: str
    ) -> Lease:
        """Decrypt an account's credential for a service; every lease is audited."""
        account, credential = await self.stored_credential(workspace_id, account_id)
        await self.audit_trail.append(
            workspace_id, service, "credential.leased", account_id, {"purpose": purpose}
        )
        return Lease(account=account, credential=credential)

    async def refresh(
        self,
        *,
        workspace_id: str,
        account_id: str,
        service: str,
        refused_sha256: str | None = None,
    ) -> Lease:
        """Refresh an expired credential at its network, store it, and lease the new one.

        An account whose credential cannot be refreshed is marked ``needs_reconnect``
        and announced (event and workspace webhook) once, by whichever caller finds it
        first: the refresher, the publisher or the inbox. A caller that names the token
        the network refused (``refused_sha256``) gets the stored credential as it is if
        that is another token already (refreshed or reconnected since it leased).
        """
        account = await self.account(workspace_id, account_id)
        envelope = await self.store.credential_envelope(workspace_id, account_id)
        connector = self.connectors.get(account.network)
        if envelope is None or connector is None:
            raise NotFound("credential")
        current = self.open_credential(workspace_id, account_id, envelope)
        if refused_sha256 is not None and refused_sha256 != token_sha256(current):
            await self.audit_trail.append(
                workspace_id, service, "credential.leased", account_id, {"purpose": "newer"}
            )
            return Lease(account=account, credential=current)
        try:
            fresh = await connector.refresh_credential(current, self.apps.get(account.network))
        except ConnectorError as err:
            TOKEN_REFRESH.labels(account.network, "failed").inc()
            await self.audit_trail.append(
                workspace_id,
                service,
                "credential.refresh_failed",
                account_id,
                {"reason": err.reason},
            )
            if await self.store.credential_envelope(workspace_id, account_id) != envelope:
                # Reconnected (or refreshed) meanwhile: that credential is the answer.
                return Lease(*await self.stored_credential(workspace_id, account_id))
            await self._lost(account, err.reason)
            raise NetworkRefused(err.reason) from err
        await self.store.replace_credential(
            workspace_id,
            account_id,
            self.seal_credential(workspace_id, account_id, fresh),
            fresh.expires_at,
        )
        TOKEN_REFRESH.labels(account.network, "ok").inc()
        await self.audit_trail.append(workspace_id, service, "credential.refreshed", account_id)
        return Lease(account=await self.account(workspace_id, account_id), credential=fresh)

    async def _lost(self, account: Account, reason: str) -> None:
        """Mark the account and announce it, unless another caller did already."""
        event = AccountDisconnected.new(
            workspace_id=account.workspace_id,
            account_id=account.id,
            network=account.network,
            reason=f"needs_reconnect: {reason}",
            needs_reconnect=True,
        )

        async def work(session: AsyncClientSession) -> bool:
            if not await self.store.mark_needs_reconnect(account.workspace_id, account.id, session):
                return False
            await self.uow.outbox.add(event, session=session)
            return True

        if await self.uow.run(work) and self.http is not None:
            # In the background: a slow webhook must not hold up the caller's request.
            task = asyncio.create_task(self._tell_workspace(self.http, account, reason))
            self._telling.add(task)
            task.add_done_callback(self._telling.discard)

    async def _tell_workspace(self, http: httpx.AsyncClient, account: Account, reason: str) -> None:
        hook = await webhook_target(self, account.workspace_id)
        if hook is None:
            return
        url, secret = hook
        await webhooks.send(
            http,
            url,
            secret,
            kind="account.needs_reconnect",
            text=f"Siar: the {account.network} account @{account.handle} must be reconnected "
            f"({reason})",
            data={"workspace_id": account.workspace_id, "account_id": account.id, "reason": reason},
        )

    async def told(self) -> None:
        """Wait for the workspace webhooks still being sent (the refresher's pass does)."""
        while self._telling:
            await asyncio.gather(*list(self._telling), return_exceptions=True)

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

    def account_ref(self, account: Account) -> AccountRef:
        """The connector's view of an account."""
        return AccountRef(
            workspace_id=account.workspace_id,
            account_id=account.id,
            network=account.network,
            handle=account.handle,
        )

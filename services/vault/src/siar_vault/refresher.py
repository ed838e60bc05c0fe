"""Refreshes account tokens ahead of expiry; tells the workspace about those it cannot.

An account whose token cannot be refreshed is marked ``needs_reconnect`` (by the
refresh itself), announced as ``account.disconnected`` so polling and collection
stop, and reported to the workspace's webhook, so a person reconnects it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta

import httpx
from pymongo.asynchronous.client_session import AsyncClientSession

from siar.contracts import AccountDisconnected, utcnow
from siar.runtime import webhooks
from siar_vault.errors import NetworkRefused, VaultError
from siar_vault.service import VaultService
from siar_vault.workspace_webhook import webhook_target

log = logging.getLogger(__name__)


class TokenRefresher:
    """Background loop over accounts whose tokens expire soon."""

    def __init__(
        self,
        service: VaultService,
        http: httpx.AsyncClient,
        *,
        ahead_s: float,
        every_s: float,
    ) -> None:
        self.service = service
        self.http = http
        self.ahead = timedelta(seconds=ahead_s)
        self.every_s = every_s
        self._stopping = asyncio.Event()

    async def refresh_due(self) -> dict[str, int]:
        """One pass: refresh every healthy account expiring within the horizon."""
        counts = {"refreshed": 0, "failed": 0}
        for account in await self.service.store.accounts_expiring(utcnow() + self.ahead):
            try:
                await self.service.refresh(
                    workspace_id=account.workspace_id,
                    account_id=account.id,
                    service="vault:refresher",
                )
                counts["refreshed"] += 1
            except NetworkRefused as err:
                counts["failed"] += 1
                await self._tell_workspace(
                    account.workspace_id, account.id, account.network, account.handle, str(err)
                )
            except VaultError:
                log.exception("refreshing %s failed", account.id)
        return counts

    async def _tell_workspace(
        self, workspace_id: str, account_id: str, network: str, handle: str, reason: str
    ) -> None:
        event = AccountDisconnected.new(
            workspace_id=workspace_id,
            account_id=account_id,
            network=network,
            reason=f"needs_reconnect: {reason}",
        )

        async def work(session: AsyncClientSession) -> None:
            await self.service.uow.outbox.add(event, session=session)

        await self.service.uow.run(work)
        hook = await webhook_target(self.service, workspace_id)
        if hook is not None:
            url, secret = hook
            await webhooks.send(
                self.http,
                url,
                secret,
                kind="account.needs_reconnect",
                text=f"Siar: the {network} account @{handle} must be reconnected ({reason})",
                data={"workspace_id": workspace_id, "account_id": account_id, "reason": reason},
            )

    async def run(self) -> None:
        """Check now and then until stopped."""
        while not self._stopping.is_set():
            try:
                await self.refresh_due()
            except Exception:
                log.exception("token refresh pass failed; retrying later")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.every_s)

    def stop(self) -> None:
        """Stop after the current pass."""
        self._stopping.set()

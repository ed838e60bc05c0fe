"""Refreshes account tokens ahead of expiry; the workspace hears of those it cannot.

An account whose token cannot be refreshed is marked ``needs_reconnect`` (by the
refresh itself, see AccountUseCases.refresh), announced as ``account.disconnected`` so
polling and collection stop, and reported to the workspace's webhook, so a person
reconnects it.

Every vault replica runs the loop; each account is claimed (a lease in the vault's
database) before it is refreshed, so two replicas never refresh the same account: a
network that rotates refresh tokens would refuse the second, and a healthy account
would be marked ``needs_reconnect``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime, timedelta

from siar.contracts import utcnow
from siar.runtime.leases import Leases
from siar_vault.domain import Account
from siar_vault.errors import NetworkRefused, VaultError
from siar_vault.service import VaultService

log = logging.getLogger(__name__)

REFRESH_LEASES = "refresh_leases"
# Renewed every third of it while a refresh runs; a dead replica's claims last this long.
REFRESH_LEASE_S = 60.0


class TokenRefresher:
    """Background loop over accounts whose tokens expire soon."""

    def __init__(
        self,
        service: VaultService,
        *,
        ahead_s: float,
        every_s: float,
        leases: Leases | None = None,
    ) -> None:
        self.service = service
        self.ahead = timedelta(seconds=ahead_s)
        self.every_s = every_s
        self.leases = leases
        self._stopping = asyncio.Event()

    async def refresh_due(self) -> dict[str, int]:
        """One pass: refresh every healthy account expiring within the horizon."""
        counts = {"refreshed": 0, "failed": 0}
        horizon = utcnow() + self.ahead
        for account in await self.service.store.accounts_expiring(horizon):
            if self.leases is None:
                await self._refresh_one(account, counts)
                continue
            async with self.leases.holding(account.id) as lease:
                # Another replica may have refreshed it since the list was read.
                if lease.held and await self._still_due(account, horizon):
                    await self._refresh_one(account, counts)
        await self.service.told()
        return counts

    async def _still_due(self, listed: Account, horizon: datetime) -> bool:
        account = await self.service.store.account(listed.workspace_id, listed.id)
        expires = account.token_expires_at if account else None
        if account is None or account.status != "healthy" or expires is None:
            return False
        if expires.tzinfo is None:  # stored naive UTC by some servers
            expires = expires.replace(tzinfo=UTC)
        return expires < horizon

    async def _refresh_one(self, account: Account, counts: dict[str, int]) -> None:
        try:
            await self.service.refresh(
                workspace_id=account.workspace_id,
                account_id=account.id,
                service="vault:refresher",
            )
            counts["refreshed"] += 1
        except NetworkRefused:
            counts["failed"] += 1  # the refresh marked and announced it
        except VaultError:
            log.exception("refreshing %s failed", account.id)

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

"""Polls the accounts of networks without webhooks for new comments and DMs."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from siar.connectors import (
    AccountRef,
    AuthExpiredError,
    Capability,
    Connector,
    ConnectorError,
    Credential,
    Page,
    RateLimitedError,
)
from siar.runtime.leases import Leases
from siar.runtime.vault_client import VaultClient, VaultUnavailable
from siar_inbox.service import InboxService

log = logging.getLogger(__name__)

READABLE = frozenset({Capability.FETCH_COMMENTS, Capability.FETCH_DMS})
# How long a claim lasts unrenewed: a dead replica's accounts wait this long at most.
# Renewed every third of it while a read runs, so a slow network never loses it midway.
POLL_LEASE_S = 60.0
# An account whose token the network refused is read again this seldom until it works
# again (a reconnect): each read is an audited lease and a refused call at the network.
REFUSED_GAP_S = 60.0


class Poller:
    """One loop over every active account; credentials are leased (and briefly cached).

    Every inbox replica runs one; with ``leases`` each account is claimed before it is
    read and released not before its next due time, so N replicas still read an account
    once per interval (within its network's read limit), and a dead replica's claims
    run out for another to take over.
    """

    def __init__(
        self,
        *,
        service: InboxService,
        vault: VaultClient,
        connectors: dict[str, Connector],
        interval_s: float,
        min_interval_s: dict[str, float] | None = None,
        leases: Leases | None = None,
    ) -> None:
        self.service = service
        # Its lease cache spares the vault (and its audit log) a read every round.
        self.vault = vault
        self.connectors = connectors
        self.interval_s = interval_s
        self.min_interval_s = min_interval_s or {}
        self.leases = leases
        # Per account: when it may be read again (its network's read limit, Retry-After,
        # a refused token), and the account event that was current then: a reconnect since
        # (a newer ``changed_ts``) may be read at once.
        self._next_due: dict[str, tuple[float, object]] = {}
        self._stopping = asyncio.Event()

    async def _lease(self, workspace_id: str, account_id: str) -> tuple[AccountRef, Credential]:
        leased = await self.vault.lease(workspace_id, account_id, "poll-messages")
        if leased is None:
            raise VaultUnavailable(f"account {account_id} is unknown to the vault")
        return leased

    async def poll_account(self, poller: dict[str, Any]) -> int:
        """Fetch and ingest one account's new messages; returns how many were new."""
        ws, account_id = str(poller["workspace_id"]), str(poller["_id"])
        connector = self.connectors.get(str(poller["network"]))
        # Networks that offer no way to read comments or DMs are not polled at all.
        if connector is None or not connector.capabilities & READABLE:
            return 0
        account, credential = await self._lease(ws, account_id)
        if account.network_account_id and not poller.get("network_account_id"):
            # Accounts connected before events named it: webhook calls need the mapping.
            await self.service.store.set_poller(
                ws, account_id, {"network_account_id": account.network_account_id}
            )
        page = await self._fetch(poller, connector, account, credential)
        new = len(
            await self.service.ingest_many(
                workspace_id=ws,
                account_id=account_id,
                network=connector.network,
                fetched=page.messages,
            )
        )
        if page.cursor != poller.get("cursor"):
            await self.service.save_cursor(ws, account_id, page.cursor)
        return new

    async def _fetch(
        self,
        poller: dict[str, Any],
        connector: Connector,
        account: AccountRef,
        credential: Credential,
    ) -> Page:
        """One page of an account's messages; a refused token is handled as the publisher
        handles it: the vault refreshes it at the network, or, if it cannot, marks the
        account ``needs_reconnect`` (so an account that is only polled is not left
        "healthy"). The vault is asked once per episode, which a successful read ends."""
        ws, account_id = str(poller["workspace_id"]), str(poller["_id"])
        cursor = poller.get("cursor")
        try:
            try:
                page = await connector.fetch_messages(account, credential, cursor)
            except AuthExpiredError:
                self.vault.forget_lease(ws, account_id)
                if poller.get("auth_refused"):
                    raise  # the vault already knows; until the token works again
                leased = await self.vault.refresh(ws, account_id, refused=credential)
                if leased is None:
                    raise
                page = await connector.fetch_messages(*leased, cursor)
        except AuthExpiredError:
            if not poller.get("auth_refused"):
                await self.service.store.set_poller(ws, account_id, {"auth_refused": True})
            raise
        if poller.get("auth_refused"):
            await self.service.store.set_poller(ws, account_id, {"auth_refused": False})
        return page

    def _gap(self, poller: dict[str, Any], result: object) -> float:
        gap = max(self.interval_s, self.min_interval_s.get(str(poller["network"]), 0.0))
        if isinstance(result, RateLimitedError) and result.retry_after_s:
            gap = max(gap, result.retry_after_s)
        elif isinstance(result, AuthExpiredError):
            gap = max(gap, REFUSED_GAP_S)
        return gap

    def _pace(self, poller: dict[str, Any], result: object, now: float) -> None:
        due = now + self._gap(poller, result)
        self._next_due[str(poller["_id"])] = (due, poller.get("changed_ts"))

    def _due(self, poller: dict[str, Any], now: float) -> bool:
        due, changed = self._next_due.get(str(poller["_id"]), (0.0, None))
        return due <= now or changed != poller.get("changed_ts")

    async def _poll_claimed(self, poller: dict[str, Any]) -> int:
        """Poll an account only if this replica claims it; 0 when another holds it."""
        if self.leases is None:
            return await self.poll_account(poller)
        async with self.leases.holding(str(poller["_id"])) as lease:
            if not lease.held:
                return 0
            try:
                new = await self.poll_account(poller)
            except Exception as err:
                lease.free_at = time.time() + self._gap(poller, err)
                raise
            # Wall-clock: the claim is shared with other processes.
            lease.free_at = time.time() + self._gap(poller, new)
            return new

    async def poll_all(self) -> int:
        """Poll every active account that its network's read limit lets us read now."""
        now = time.monotonic()
        pollers = [p for p in await self.service.store.active_pollers() if self._due(p, now)]
        results = await asyncio.gather(
            *(self._poll_claimed(p) for p in pollers), return_exceptions=True
        )
        for poller, result in zip(pollers, results, strict=True):
            self._pace(poller, result, now)
            if isinstance(result, (ConnectorError, VaultUnavailable)):
                log.warning("polling %s failed: %s", poller["_id"], result)
            elif isinstance(result, BaseException):
                log.error("polling %s failed", poller["_id"], exc_info=result)
        return sum(r for r in results if isinstance(r, int))

    async def run(self) -> None:
        """Poll until stopped."""
        while not self._stopping.is_set():
            try:
                await self.poll_all()
            except Exception:
                log.exception("inbox polling round failed; retrying")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.interval_s)

    def stop(self) -> None:
        """Stop after the current round."""
        self._stopping.set()

"""The vault's operational metrics: credential reads, token refreshes, audit chain health."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable

from fastapi import FastAPI, Request, Response
from prometheus_client import Counter, Gauge
from pymongo.asynchronous.database import AsyncDatabase

from siar.runtime.mongo import Document
from siar.runtime.webhooks import count_from_zero
from siar_vault.audit import chain_problems

log = logging.getLogger(__name__)

LEASE_ROUTE = "/v1/internal/workspaces/{ws}/accounts/{account_id}:lease"

CREDENTIAL_READS = Counter(
    "siar_vault_credential_reads",
    "Credential lease requests by outcome: ok, denied (401/403) or failed (anything else).",
    ["outcome"],
)
TOKEN_REFRESH = Counter(
    "siar_vault_token_refresh",
    "Account token refreshes at the network, by network and outcome (ok, failed).",
    ["network", "outcome"],
)
AUDIT_CHAIN_OK = Gauge(
    "siar_vault_audit_chain_ok",
    "1 when the last verification found every workspace's audit hash chain intact, else 0.",
)


def start_at_zero(networks: Iterable[str]) -> None:
    """Create every known series now, so dashboards and alerts see zeros from the start."""
    for outcome in ("ok", "denied", "failed"):
        CREDENTIAL_READS.labels(outcome)
    for network in networks:
        for outcome in ("ok", "failed"):
            TOKEN_REFRESH.labels(network, outcome)
    count_from_zero("account.needs_reconnect")


def read_outcome(status: int) -> str:
    """How a lease response counts."""
    if status < 400:
        return "ok"
    return "denied" if status in (401, 403) else "failed"


def install_credential_read_metrics(app: FastAPI) -> None:
    """Count every credential lease by outcome, including those refused before the route."""

    @app.middleware("http")
    async def count_leases(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        if getattr(request.scope.get("route"), "path", None) == LEASE_ROUTE:
            CREDENTIAL_READS.labels(read_outcome(response.status_code)).inc()
        return response


class AuditChainWatch:
    """Verifies every workspace's audit chain now and every ``every_s`` seconds."""

    def __init__(self, db: AsyncDatabase[Document], every_s: float) -> None:
        self.db = db
        self.every_s = every_s
        self._stopping = asyncio.Event()

    async def check_once(self) -> list[str]:
        """Verify, set the gauge, and return the breaks found (empty when intact)."""
        problems = await chain_problems(self.db)
        AUDIT_CHAIN_OK.set(0 if problems else 1)
        for problem in problems[:20]:
            log.error("audit chain broken: %s", problem)
        return problems

    async def run(self) -> None:
        """Verify until stopped; a failed verification leaves the last value."""
        while not self._stopping.is_set():
            try:
                await self.check_once()
            except Exception as err:
                log.warning("audit chain not verified this round: %s", err)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.every_s)

    def stop(self) -> None:
        """Stop after the current round."""
        self._stopping.set()

"""Engagement actions (reply, DM, like, hide, delete, repost) performed once each."""

from __future__ import annotations

import asyncio
import logging

from prometheus_client import Counter
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from siar.connectors import Connector, ConnectorError, Engagement, PermanentError
from siar.contracts import EngagementCompleted, EngagementRequested, utcnow
from siar.runtime.mongo import Document, TenantCollection
from siar.runtime.uow import UnitOfWork
from siar.runtime.vault_client import VaultClient
from siar_publisher.domain import RetryPolicy

log = logging.getLogger(__name__)

ENGAGEMENT_OUTCOMES = Counter(
    "siar_engagement_outcomes",
    "Engagement actions by network, action and outcome.",
    ["network", "action", "outcome"],
)


class EngagementService:
    """Performs ``engagement.requested`` through the connector and reports the outcome."""

    def __init__(
        self,
        *,
        db: AsyncDatabase[Document],
        uow: UnitOfWork,
        vault: VaultClient,
        connectors: dict[str, Connector],
        retry: RetryPolicy,
    ) -> None:
        self.ledger = TenantCollection(db["engagements"])
        self.uow = uow
        self.vault = vault
        self.connectors = connectors
        self.retry = retry

    async def perform(self, request: EngagementRequested) -> None:
        """Do the action once per request id; redeliveries find the ledger entry."""
        ws = request.workspace_id
        try:
            await self.ledger.insert(
                ws, {"_id": request.request_id, "status": "pending", "created_at": utcnow()}
            )
        except DuplicateKeyError:
            existing = await self.ledger.find_one(ws, {"_id": request.request_id})
            if existing and existing["status"] != "pending":
                return
        network_id, error = await self._try(request)
        outcome = EngagementCompleted.new(
            workspace_id=ws,
            request_id=request.request_id,
            account_id=request.account_id,
            network=request.network,
            action=request.action,
            ok=error is None,
            network_id=network_id,
            reason=error.reason if error else None,
        )

        async def work(session: AsyncClientSession) -> None:
            await self.ledger.update_one(
                ws,
                {"_id": request.request_id},
                {"$set": {"status": "done" if error is None else "failed"}},
                session=session,
            )
            await self.uow.outbox.add(outcome, session=session)

        await self.uow.run(work)
        ENGAGEMENT_OUTCOMES.labels(
            request.network, request.action, "ok" if error is None else "failed"
        ).inc()

    async def _try(self, request: EngagementRequested) -> tuple[str | None, ConnectorError | None]:
        connector = self.connectors.get(request.network)
        if connector is None:
            return None, PermanentError(f"no connector for {request.network}")
        leased = await self.vault.lease(request.workspace_id, request.account_id, "engage")
        if leased is None:
            return None, PermanentError("the account is no longer connected in the vault")
        account, credential = leased
        engagement = Engagement(
            action=request.action, target_network_id=request.target_network_id, text=request.text
        )
        for attempt in range(1, self.retry.max_attempts + 1):
            try:
                result = await connector.engage(account, credential, engagement)
            except ConnectorError as err:
                if not err.retryable or attempt == self.retry.max_attempts:
                    log.info("engagement %s failed: %s", request.request_id, err.reason)
                    return None, err
                await asyncio.sleep(self.retry.delay_s(attempt, err.retry_after_s))
            else:
                return result.network_id, None
        return None, PermanentError("no attempt was made")

"""The publisher's delivery ledger."""

from __future__ import annotations

import time
from contextlib import AbstractAsyncContextManager

from pymongo import ASCENDING
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from siar.runtime.leases import KeptLease, Leases
from siar.runtime.mongo import Document, IndexSpec, TenantCollection
from siar_publisher.domain import Delivery, DeliveryStatus
from siar_publisher.errors import DeliveryBusy

INDEXES = (
    IndexSpec(
        "deliveries",
        [("workspace_id", ASCENDING), ("post_id", ASCENDING), ("account_id", ASCENDING)],
    ),
    IndexSpec("deliveries", [("workspace_id", ASCENDING), ("created_at", ASCENDING)]),
)


class PublisherStore:
    """Deliveries, unique on (post, account, occurrence) through their id."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.deliveries = TenantCollection(db["deliveries"])

    async def claim(
        self, delivery: Delivery, *, owner: str, lease_s: float
    ) -> tuple[Delivery, bool]:
        """Claim a delivery before calling the network; returns (delivery, seen_before).

        A new delivery is inserted pending. One seen before comes back as it is when
        finished; when pending, it is taken over only if its claim is ours or its
        lease ran out (the holder died), else :class:`DeliveryBusy` is raised.
        """
        now = time.time()
        mine = delivery.model_copy(update={"owner": owner, "lease_until": now + lease_s})
        try:
            await self.deliveries.insert(mine.workspace_id, {**mine.model_dump(), "_id": mine.id})
        except DuplicateKeyError:
            pass
        else:
            return mine, False
        existing = await self.get(delivery.workspace_id, delivery.id)
        if existing is None:
            raise DeliveryBusy(f"delivery {delivery.id} vanished while being claimed")
        if existing.status is not DeliveryStatus.PENDING:
            return existing, True
        taken = await self._leases(owner, lease_s).claim(
            delivery.id, now, where=self._pending(delivery.workspace_id)
        )
        if taken is None:
            raise DeliveryBusy(f"delivery {delivery.id} is being attempted by {existing.owner}")
        return Delivery.model_validate(taken), True

    def keeping(
        self, delivery: Delivery, *, owner: str, lease_s: float
    ) -> AbstractAsyncContextManager[KeptLease]:
        """Renew our claim at half its term while the delivery is worked on.

        Only while the delivery is pending and the claim still names us: once anyone
        records its outcome, or another publisher has taken the claim (even one that
        let it lapse since, having perhaps called the network), it is no longer renewed
        and :meth:`KeptLease.confirm` raises ``LeaseLost``.
        """
        leases = self._leases(owner, lease_s)
        return leases.keeping(delivery.id, where=self._pending(delivery.workspace_id))

    def _leases(self, owner: str, lease_s: float) -> Leases:
        # The claim is the delivery's own ``owner``/``lease_until`` (the _id is global).
        return Leases(self.deliveries.raw, lease_s=lease_s, holder=owner, holder_field="owner")

    @staticmethod
    def _pending(workspace_id: str) -> Document:
        return {"workspace_id": workspace_id, "status": DeliveryStatus.PENDING.value}

    async def get(self, workspace_id: str, delivery_id: str) -> Delivery | None:
        """One delivery."""
        doc = await self.deliveries.find_one(workspace_id, {"_id": delivery_id})
        return Delivery.model_validate(doc) if doc else None

    async def record(
        self,
        done: Delivery,
        session: AsyncClientSession | None = None,
        *,
        owner: str | None,
    ) -> bool:
        """Write a delivery's outcome if it is still pending (and, given ``owner``, still
        claimed by it); whether it was written. Never over an outcome already recorded."""
        query = {"_id": done.id, "status": DeliveryStatus.PENDING.value}
        if owner is not None:
            query["owner"] = owner
        written = await self.deliveries.replace_one(
            done.workspace_id, query, {**done.model_dump(), "_id": done.id}, session=session
        )
        return written == 1

    async def list(self, workspace_id: str, *, post_id: str | None, limit: int) -> list[Delivery]:
        """Deliveries of a workspace, newest first, optionally of one post."""
        query = {"post_id": post_id} if post_id else {}
        docs = await self.deliveries.find(
            workspace_id, query, sort=[("created_at", -1)], limit=limit
        )
        return [Delivery.model_validate(d) for d in docs]

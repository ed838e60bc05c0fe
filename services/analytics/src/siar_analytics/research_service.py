"""Research use cases: track items, collect public mentions and profiles, report them.

The collector is a loop that any number of analytics replicas may run: each item is
claimed with a short lease before it is polled, so one replica polls it at a time.
A network's rate limit moves the item's next poll past the reset time; a refused
token or an unsupported call is recorded on the item for people to see.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta

from siar.connectors import (
    AccountRef,
    Connector,
    ConnectorError,
    Credential,
    RateLimitedError,
)
from siar.runtime.leases import process_holder
from siar.runtime.mongo import Document
from siar.runtime.vault_client import VaultClient
from siar_analytics.domain import check_range, previous_period
from siar_analytics.errors import NotFound, ResearchUnsupported, TooManyItems
from siar_analytics.research import (
    MAX_ITEMS,
    ResearchReport,
    TrackedItem,
    TrackedItemCreate,
    normalise,
    research_report,
    search_query,
)
from siar_analytics.research_store import ResearchStore

log = logging.getLogger(__name__)
LEASE_S = 120.0
FIRST_LOOK_BACK = timedelta(days=1)


def offers(connector: Connector, method: str) -> bool:
    """Whether a connector implements a research call rather than inheriting the refusal."""
    return getattr(type(connector), method) is not getattr(Connector, method)


class ResearchService:
    """Tracked items per workspace and the loop that collects for them."""

    def __init__(
        self,
        *,
        store: ResearchStore,
        vault: VaultClient,
        connectors: Mapping[str, Connector],
        poll_interval_s: float,
        max_range_days: int,
    ) -> None:
        self.store = store
        # This replica's leases on the items it polls (one holder per service object).
        self.leases = store.leases(process_holder(), LEASE_S)
        self.vault = vault
        self.connectors = connectors
        self.poll_interval_s = poll_interval_s
        self.max_range_days = max_range_days
        self._stop = asyncio.Event()

    async def create(self, workspace_id: str, body: TrackedItemCreate, user: str) -> TrackedItem:
        """Track a hashtag, keyword or competitor through one of the workspace's accounts."""
        value = normalise(body.kind, body.value)
        if await self.store.count(workspace_id) >= MAX_ITEMS:
            raise TooManyItems(f"a workspace tracks at most {MAX_ITEMS} items")
        leased = await self.vault.lease(workspace_id, body.account_id, "research-check")
        if leased is None:
            raise NotFound("account", f"account {body.account_id} not found in this workspace")
        network = leased[0].network
        connector = self.connectors.get(network)
        needed = "public_profile" if body.kind == "competitor" else "search_public"
        if connector is None or not offers(connector, needed):
            what = "competitor profiles" if body.kind == "competitor" else "public search"
            raise ResearchUnsupported(f"{network} offers no {what} to Siar; use another account")
        item = TrackedItem(
            id=f"trk_{secrets.token_hex(8)}",
            workspace_id=workspace_id,
            kind=body.kind,
            value=value,
            account_id=body.account_id,
            network=network,
            created_by=user,
            created_at=datetime.now(UTC),
        )
        await self.store.add(item)
        return item

    async def items(self, workspace_id: str) -> list[TrackedItem]:
        """Every tracked item of a workspace."""
        return await self.store.all(workspace_id)

    async def item(self, workspace_id: str, item_id: str) -> TrackedItem:
        """One tracked item, or 404."""
        found = await self.store.get(workspace_id, item_id)
        if found is None:
            raise NotFound("tracked item")
        return found

    async def remove(self, workspace_id: str, item_id: str) -> None:
        """Stop tracking an item, or 404."""
        if not await self.store.remove(workspace_id, item_id):
            raise NotFound("tracked item")

    async def mentions(self, workspace_id: str, item_id: str, limit: int) -> list[Document]:
        """The newest public mentions found for an item."""
        return await self.store.recent_mentions(await self.item(workspace_id, item_id), limit)

    async def report(self, workspace_id: str, start: date, end: date) -> ResearchReport:
        """Trend lines, share of voice and competitor growth over [start, end]."""
        check_range(start, end, max_days=self.max_range_days)
        prev_start, prev_end = previous_period(start, end)
        items = await self.store.all(workspace_id)
        current = await self.store.daily_mentions(workspace_id, start, end)
        before = await self.store.daily_mentions(workspace_id, prev_start, prev_end)
        previous = {k: sum(n for n, _ in days.values()) for k, days in before.items()}
        followers = await self.store.followers(workspace_id, start, end)
        return research_report(start, end, items, current, previous, followers)

    # -- collection ----------------------------------------------------------------------
    async def collect_due(self, *, limit: int = 50) -> int:
        """Poll up to ``limit`` due items; returns how many were polled."""
        polled = 0
        while polled < limit:
            now = datetime.now(UTC).timestamp()
            doc = await self.store.claim_due(self.leases, now)
            if doc is None:
                break
            await self._poll(doc, now)
            polled += 1
        return polled

    async def _poll(self, doc: Document, now: float) -> None:
        item = TrackedItem.model_validate(doc)
        cursor = doc.get("cursor_ts")
        next_ts, error = now + self.poll_interval_s, None
        try:
            cursor = await self._collect(item, cursor if isinstance(cursor, float) else None)
        except RateLimitedError as err:
            next_ts = now + max(self.poll_interval_s, err.retry_after_s or 0.0)
            error = str(err)
        except ConnectorError as err:
            # Refused tokens and unsupported calls need a person; poll rarely until then.
            next_ts, error = now + 4 * self.poll_interval_s, str(err)
        except NotFound as err:
            next_ts, error = now + 4 * self.poll_interval_s, str(err)
        await self.store.polled(self.leases, doc, next_ts=next_ts, cursor_ts=cursor, error=error)

    async def _collect(self, item: TrackedItem, cursor_ts: float | None) -> float | None:
        account, credential, connector = await self._account(item)
        if item.kind == "competitor":
            await self.store.add_profile(
                item, await connector.public_profile(account, credential, item.value)
            )
            if not offers(connector, "search_public"):
                return cursor_ts
        since = (
            datetime.fromtimestamp(cursor_ts, UTC)
            if cursor_ts is not None
            else datetime.now(UTC) - FIRST_LOOK_BACK
        )
        found = await connector.search_public(account, credential, search_query(item), since)
        await self.store.add_mentions(item, found)
        newest = max((p.posted_at.timestamp() for p in found), default=None)
        return max(cursor_ts or 0.0, newest) if newest is not None else cursor_ts

    async def _account(self, item: TrackedItem) -> tuple[AccountRef, Credential, Connector]:
        leased = await self.vault.lease(item.workspace_id, item.account_id, "research")
        if leased is None:
            raise NotFound("account", f"account {item.account_id} is no longer connected")
        account, credential = leased
        connector = self.connectors.get(account.network)
        if connector is None:
            raise NotFound("network", f"no connector for {account.network}")
        return account, credential, connector

    async def run(self, tick_s: float) -> None:
        """Collect due items every ``tick_s`` until :meth:`stop`."""
        while not self._stop.is_set():
            try:
                await self.collect_due()
            except Exception:  # a bad round must not end the loop; the next one retries
                log.exception("research collection round failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), tick_s)

    def stop(self) -> None:
        """Ask :meth:`run` to return."""
        self._stop.set()

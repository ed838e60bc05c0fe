"""Research against a real MongoDB and the sandbox network: tracked items, collection,
share of voice."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from siar.connectors import AccountRef, Credential
from siar.connectors.linkedin import LinkedInConnector
from siar.connectors.sandbox import SandboxConnector
from siar.runtime.mongo import Document, ensure_indexes
from siar_analytics.errors import NotFound, ResearchUnsupported
from siar_analytics.report_wiring import REPORT_INDEXES
from siar_analytics.research import TrackedItemCreate
from siar_analytics.research_service import ResearchService
from siar_analytics.research_store import ResearchStore
from tests.integration.conftest import unique

WS = "ws_research"


class Vault:
    """The vault's lease API, answering from accounts signed in on the sandbox."""

    def __init__(self) -> None:
        self.accounts: dict[tuple[str, str], tuple[AccountRef, Credential]] = {}

    async def lease(
        self, workspace_id: str, account_id: str, purpose: str
    ) -> tuple[AccountRef, Credential] | None:
        return self.accounts.get((workspace_id, account_id))


@pytest.fixture
async def sandbox(mongo: AsyncMongoClient[Document]) -> AsyncIterator[SandboxConnector]:
    name = unique("siar_it_sbx")
    yield SandboxConnector(mongo, database=name)
    await mongo.drop_database(name)


async def test_research_tracks_collects_once_and_reports_share_of_voice(
    db: AsyncDatabase[Document], sandbox: SandboxConnector
) -> None:
    vault = Vault()
    signed = await sandbox.sign_in(unique("brand"))
    ref = AccountRef(workspace_id=WS, account_id="acc_s", network="sandbox", handle=signed.handle)
    vault.accounts[(WS, "acc_s")] = (ref, signed.credential)
    vault.accounts[(WS, "acc_li")] = (
        ref.model_copy(update={"network": "linkedin", "account_id": "acc_li"}),
        signed.credential,
    )
    await ensure_indexes(db, list(REPORT_INDEXES))
    async with httpx.AsyncClient() as http:
        research = ResearchService(
            store=ResearchStore(db),
            vault=vault,  # type: ignore[arg-type]
            connectors={"sandbox": sandbox, "linkedin": LinkedInConnector(http)},
            poll_interval_s=900,
            max_range_days=400,
        )
        tag = await research.create(
            WS, TrackedItemCreate(kind="hashtag", value="#Siar", account_id="acc_s"), "usr_1"
        )
        rival = await research.create(
            WS,
            TrackedItemCreate(kind="competitor", value="@rival.sandbox", account_id="acc_s"),
            "usr_1",
        )
        assert tag.value == "#siar"
        with pytest.raises(NotFound, match="acc_gone"):
            await research.create(
                WS, TrackedItemCreate(kind="keyword", value="siar", account_id="acc_gone"), "u"
            )
        with pytest.raises(ResearchUnsupported, match="linkedin"):
            await research.create(
                WS, TrackedItemCreate(kind="keyword", value="siar", account_id="acc_li"), "u"
            )

        assert await research.collect_due() == 2
        assert await research.collect_due() == 0  # nothing is due again before its interval
        found = await research.store.mentions.count(WS, {"item_id": tag.id})
        assert found > 0
        # Due again at once: the same posts are found again and not stored twice.
        await research.store.items.update_many(
            WS, {}, {"$set": {"next_poll_ts": 0.0, "cursor_ts": None}}
        )
        assert await research.collect_due() == 2
        assert await research.store.mentions.count(WS, {"item_id": tag.id}) == found

        today = datetime.now(UTC).date()
        report = await research.report(WS, today - timedelta(days=7), today)
        by_id = {t.item.id: t for t in report.items}
        assert by_id[tag.id].mentions.current == found
        shares = [t.share_of_voice_pct or 0 for t in report.items]
        assert sum(shares) == pytest.approx(100, abs=0.1)
        assert by_id[rival.id].followers
        assert by_id[rival.id].followers[-1][1] > 0
        items = await research.items(WS)
        assert all(i.last_polled_at is not None and i.last_error is None for i in items)
        mentions = await research.mentions(WS, tag.id, 5)
        assert len(mentions) == min(5, found)
        assert "#siar" in mentions[0]["text"]
        await research.remove(WS, rival.id)
        with pytest.raises(NotFound):
            await research.item(WS, rival.id)
        with pytest.raises(NotFound):
            await research.item("ws_other", tag.id)

"""The poller reads each account no faster than its network's read limit allows."""

from __future__ import annotations

from typing import Any, cast

from siar.connectors import (
    AccountRef,
    Capability,
    Connector,
    Credential,
    Page,
    RateLimitedError,
)
from siar.runtime.vault_client import VaultClient
from siar_inbox.polling import Poller
from siar_inbox.service import InboxService


class FakeConnector:
    capabilities = frozenset({Capability.FETCH_COMMENTS})

    def __init__(self, network: str, fail_with: Exception | None = None) -> None:
        self.network = network
        self.calls = 0
        self.fail_with = fail_with

    async def fetch_messages(
        self, account: AccountRef, credential: Credential, cursor: str | None
    ) -> Page:
        self.calls += 1
        if self.fail_with:
            raise self.fail_with
        return Page(messages=[], cursor=cursor)


class FakeStore:
    def __init__(self, pollers: list[dict[str, Any]]) -> None:
        self.pollers = pollers

    async def active_pollers(self) -> list[dict[str, Any]]:
        return self.pollers

    async def set_poller(self, *_: object) -> None:
        return None


class FakeService:
    def __init__(self, store: FakeStore) -> None:
        self.store = store


class FakeVault:
    async def lease(self, ws: str, account_id: str, purpose: str) -> tuple[AccountRef, Credential]:
        ref = AccountRef(workspace_id=ws, account_id=account_id, network="x", handle="h")
        return ref, Credential(access_token="t")  # type: ignore[arg-type]


def poller(connectors: dict[str, FakeConnector], pollers: list[dict[str, Any]]) -> Poller:
    return Poller(
        service=cast(InboxService, FakeService(FakeStore(pollers))),
        vault=cast(VaultClient, FakeVault()),
        connectors=cast(dict[str, Connector], connectors),
        interval_s=0.0,
        min_interval_s={"slow": 3600.0},
    )


def account(account_id: str, network: str) -> dict[str, Any]:
    return {"_id": account_id, "workspace_id": "ws", "network": network, "active": True}


async def test_a_network_read_limit_spaces_polls_of_an_account() -> None:
    slow, fast = FakeConnector("slow"), FakeConnector("fast")
    loop = poller({"slow": slow, "fast": fast}, [account("a1", "slow"), account("a2", "fast")])
    for _ in range(3):
        await loop.poll_all()
    assert (slow.calls, fast.calls) == (1, 3)


async def test_retry_after_from_the_network_is_honoured() -> None:
    limited = FakeConnector("fast", RateLimitedError("slow down", retry_after_s=900))
    loop = poller({"fast": limited}, [account("a1", "fast")])
    for _ in range(3):
        await loop.poll_all()
    assert limited.calls == 1

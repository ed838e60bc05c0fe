"""A token the network refuses while polling goes to the vault, as the publisher's does."""

from __future__ import annotations

import time
from typing import Any, cast

import pytest
from pydantic import SecretStr

from siar.connectors import (
    AccountRef,
    AuthExpiredError,
    Capability,
    Connector,
    Credential,
    Page,
)
from siar.runtime.vault_client import VaultClient
from siar_inbox.polling import REFUSED_GAP_S, Poller
from siar_inbox.service import InboxService

GOOD = "fresh-token"


class TokenCheckingConnector:
    """Reads only with the token ``GOOD``; any other is refused as a revoked token is."""

    network = "mastodon"
    capabilities = frozenset({Capability.FETCH_COMMENTS})

    def __init__(self) -> None:
        self.tokens: list[str] = []

    async def fetch_messages(
        self, account: AccountRef, credential: Credential, cursor: str | None
    ) -> Page:
        token = credential.access_token.get_secret_value()
        self.tokens.append(token)
        if token != GOOD:
            raise AuthExpiredError("Mastodon rejected the account's token")
        return Page(messages=[], cursor=cursor)


class RecordingStore:
    def __init__(self, doc: dict[str, Any]) -> None:
        self.doc = doc

    async def active_pollers(self) -> list[dict[str, Any]]:
        return [dict(self.doc)]

    async def set_poller(self, ws: str, account_id: str, fields: dict[str, Any]) -> None:
        self.doc.update(fields)


class FakeService:
    def __init__(self, store: RecordingStore) -> None:
        self.store = store

    async def ingest_many(self, **_: object) -> list[object]:
        return []


class Vault:
    """Leases ``token``; a refresh gives ``refreshed`` (None: the network refused it)."""

    def __init__(self, token: str, refreshed: str | None) -> None:
        self.token, self.refreshed = token, refreshed
        self.refreshes = 0
        self.forgotten = 0

    def _lease(self, ws: str, account_id: str, token: str) -> tuple[AccountRef, Credential]:
        ref = AccountRef(workspace_id=ws, account_id=account_id, network="mastodon", handle="h")
        return ref, Credential(access_token=SecretStr(token))

    async def lease(self, ws: str, account_id: str, purpose: str) -> tuple[AccountRef, Credential]:
        return self._lease(ws, account_id, self.token)

    def forget_lease(self, ws: str, account_id: str) -> None:
        self.forgotten += 1

    async def refresh(
        self, ws: str, account_id: str, refused: Credential | None = None
    ) -> tuple[AccountRef, Credential] | None:
        self.refreshes += 1
        # The poller names the token the network refused: the one it leased.
        assert refused is not None
        assert refused.access_token.get_secret_value() == self.token
        return None if self.refreshed is None else self._lease(ws, account_id, self.refreshed)


def setup(
    vault: Vault, interval_s: float = 0.5
) -> tuple[Poller, RecordingStore, TokenCheckingConnector]:
    store = RecordingStore({"_id": "acc_1", "workspace_id": "ws", "network": "mastodon"})
    connector = TokenCheckingConnector()
    loop = Poller(
        service=cast(InboxService, FakeService(store)),
        vault=cast(VaultClient, vault),
        connectors=cast(dict[str, Connector], {"mastodon": connector}),
        interval_s=interval_s,
    )
    return loop, store, connector


async def test_a_refused_token_that_cannot_be_refreshed_is_told_once_per_episode() -> None:
    vault = Vault("revoked", refreshed=None)
    loop, store, connector = setup(vault)

    for _ in range(3):
        with pytest.raises(AuthExpiredError):
            await loop.poll_account(dict(store.doc))

    # One refresh (the vault marks the account needs_reconnect); later polls do not ask.
    assert vault.refreshes == 1
    assert store.doc["auth_refused"] is True
    assert vault.forgotten == 3
    assert connector.tokens == ["revoked"] * 3


async def test_a_refused_account_is_read_seldom_until_it_works() -> None:
    # Polled back to back otherwise (interval 0), a refused account waits its gap.
    loop, store, connector = setup(Vault("revoked", refreshed=None), interval_s=0.0)
    await loop.poll_all()
    assert loop._next_due["acc_1"][0] - time.monotonic() > REFUSED_GAP_S - 10
    await loop.poll_all()
    assert connector.tokens == ["revoked"]  # not due again yet: nothing read
    # A reconnect (a newer account event on the poller row) is read at once.
    store.doc["changed_ts"] = time.time()
    await loop.poll_all()
    assert connector.tokens == ["revoked", "revoked"]


async def test_a_refreshed_token_reads_the_page_in_the_same_poll() -> None:
    vault = Vault("expired", refreshed=GOOD)
    loop, store, connector = setup(vault)

    assert await loop.poll_account(dict(store.doc)) == 0

    assert vault.refreshes == 1
    assert connector.tokens == ["expired", GOOD]
    assert "auth_refused" not in store.doc


async def test_a_token_that_works_again_ends_the_episode() -> None:
    vault = Vault("revoked", refreshed=None)
    loop, store, _ = setup(vault)
    with pytest.raises(AuthExpiredError):
        await loop.poll_account(dict(store.doc))
    vault.token = GOOD  # the person reconnected the account

    await loop.poll_account(dict(store.doc))
    assert store.doc["auth_refused"] is False

    vault.token = "revoked-again"
    with pytest.raises(AuthExpiredError):
        await loop.poll_account(dict(store.doc))
    assert vault.refreshes == 2  # a new episode asks the vault again

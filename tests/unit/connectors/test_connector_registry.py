"""Every connector in the registry describes itself fully and consistently."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from pymongo import AsyncMongoClient

from siar.connectors import Capability, Connector, PostFormat
from siar.connectors.registry import NETWORK_CONNECTORS, build_connectors


@pytest.fixture
async def connectors() -> AsyncIterator[dict[str, Connector]]:
    # The client never connects: building connectors does no I/O.
    mongo: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(
        "mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=1", connect=False
    )
    async with httpx.AsyncClient() as http:
        yield build_connectors(mongo, http)
    await mongo.close()


def test_every_network_has_its_own_name() -> None:
    names = [cls.network for cls in NETWORK_CONNECTORS]
    assert len(names) == len(set(names))
    assert "sandbox" not in names


async def test_each_connector_describes_itself(connectors: dict[str, Connector]) -> None:
    assert set(connectors) == {cls.network for cls in NETWORK_CONNECTORS} | {"sandbox"}
    for name, connector in connectors.items():
        assert connector.network == name
        assert connector.display_name
        assert connector.rules.max_text_chars > 0, name
        assert connector.rules.formats, name
        assert connector.rate_limit.calls > 0, name
        assert connector.rate_limit.per_seconds > 0, name
        assert connector.capabilities, name
        if connector.rules.max_media:
            assert connector.rules.image or connector.rules.video, name
        if PostFormat.THREAD in connector.rules.formats:
            assert Capability.THREAD in connector.capabilities, name


async def test_oauth_networks_use_https_endpoints(connectors: dict[str, Connector]) -> None:
    for name, connector in connectors.items():
        if connector.oauth is None:
            continue
        assert connector.oauth.authorize_url.startswith("https://"), name
        assert connector.oauth.token_url.startswith("https://"), name
        assert connector.oauth.scopes, name

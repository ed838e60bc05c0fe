"""The read-only network rules the console's composer counts with agree with validation."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from siar.connectors.base import Connector
from siar.connectors.registry import NETWORK_CONNECTORS
from siar.connectors.sandbox import SandboxConnector
from siar.connectors.validation import Draft, validate
from siar.runtime.auth import Principal, current_principal
from siar_scheduler.api.network_routes import NetworkRules, all_rules, router

CONNECTOR_CLASSES: list[type[Connector]] = [*NETWORK_CONNECTORS, SandboxConnector]
CLASSES = {cls.network: cls for cls in CONNECTOR_CLASSES}


def test_every_network_is_listed_once() -> None:
    names = [r.network for r in all_rules()]
    assert sorted(names) == sorted(CLASSES)
    assert len(names) == len(set(names))


@pytest.mark.parametrize("rules", all_rules(), ids=lambda r: r.network)
def test_the_limit_shown_is_the_limit_enforced(rules: NetworkRules) -> None:
    cls = CLASSES[rules.network]
    connector: Connector = cls.__new__(cls)  # only its rules are read: nothing to connect
    at_limit = Draft(text="a" * rules.max_text_chars)
    over = Draft(text="a" * (rules.max_text_chars + 1))
    assert "text.length" not in {v.rule for v in validate(connector, at_limit)}
    assert "text.length" in {v.rule for v in validate(connector, over)}


def test_x_counts_urls_as_shown() -> None:
    x = next(r for r in all_rules() if r.network == "x")
    assert x.counting == "twitter_text"
    assert x.url_length == 23
    sandbox = next(r for r in all_rules() if r.network == "sandbox")
    assert sandbox.counting == "code_points"
    assert sandbox.url_length is None


async def test_route_needs_a_signed_in_caller_and_answers_the_rules() -> None:
    app = FastAPI()
    app.include_router(router)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://scheduler") as client:
        # No verifier wired and no token: the dependency refuses (never answers rules).
        assert (await client.get("/v1/networks")).status_code >= 400
        app.dependency_overrides[current_principal] = lambda: Principal(
            subject="usr_1", kind="user", roles={}, scopes=frozenset()
        )
        body = (await client.get("/v1/networks")).json()
    by_name = {item["network"]: item for item in body["items"]}
    sandbox = SandboxConnector.rules
    assert by_name["sandbox"]["max_text_chars"] == sandbox.max_text_chars
    assert sandbox.image is not None
    assert by_name["sandbox"]["image"]["max_bytes"] == sandbox.image.max_bytes

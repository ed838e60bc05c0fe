"""Connecting an account through a network's consent screen (X's documented OAuth 2.0)."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
import respx

from siar.devstack import Infra
from siar_vault.settings import Settings
from tests.integration.conftest import unique
from tests.integration.vault_app import new_owner, platform_settings, vault_client

X_API = "https://api.x.com"
REDIRECT = "https://console.siar.example/oauth/return"


@pytest.fixture
async def vault(infra: Infra) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(
        database=unique("siar_it_oauth"),
        consumer_group=unique("it-oauth"),
        kek_keys={1: base64.b64encode(b"k" * 32).decode()},
        apps={"x": {"client_id": "siar-x-client", "client_secret": "siar-x-secret"}},
        platform=platform_settings(infra),
    )
    async with vault_client(settings) as client:
        yield client


async def _start(client: httpx.AsyncClient, ws: str, auth: dict[str, str]) -> dict[str, str]:
    r = await client.post(
        f"/v1/workspaces/{ws}/accounts:authorize",
        json={"network": "x", "redirect_uri": REDIRECT},
        headers=auth,
    )
    assert r.status_code == 200, r.text
    url = urlparse(r.json()["authorize_url"])
    assert f"{url.scheme}://{url.netloc}{url.path}" == "https://x.com/i/oauth2/authorize"
    return {k: v[0] for k, v in parse_qs(url.query).items()}


async def test_the_consent_flow_connects_an_x_account_with_pkce_and_a_single_use_state(
    vault: httpx.AsyncClient,
) -> None:
    ws, auth = await new_owner(vault)
    params = await _start(vault, ws, auth)
    assert params["client_id"] == "siar-x-client"
    assert params["redirect_uri"] == REDIRECT
    assert params["code_challenge_method"] == "S256"
    assert "tweet.write" in params["scope"].split(" ")

    token_calls: list[httpx.Request] = []

    def token_endpoint(request: httpx.Request) -> httpx.Response:
        token_calls.append(request)
        return httpx.Response(
            200,
            json={
                "token_type": "bearer",
                "access_token": "x-access-1",
                "refresh_token": "x-refresh-1",
                "expires_in": 7200,
                "scope": params["scope"],
            },
        )

    with respx.mock(assert_all_called=True) as network:
        network.post(f"{X_API}/2/oauth2/token").mock(side_effect=token_endpoint)
        me = network.get(f"{X_API}/2/users/me").mock(
            return_value=httpx.Response(
                200, json={"data": {"id": "1234", "username": "siarbrand", "name": "Siar Brand"}}
            )
        )
        r = await vault.get(
            "/v1/oauth/callback/x", params={"state": params["state"], "code": "the-code"}
        )
        assert r.status_code == 201, r.text
        assert me.calls.last.request.headers["authorization"] == "Bearer x-access-1"

    account = r.json()
    assert (account["network"], account["handle"]) == ("x", "siarbrand")
    assert "x-access-1" not in r.text
    form = parse_qs(token_calls[0].content.decode())
    assert form["grant_type"] == ["authorization_code"]
    assert form["code"] == ["the-code"]
    verifier = form["code_verifier"][0]
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    assert challenge.decode().rstrip("=") == params["code_challenge"]
    basic = base64.b64encode(b"siar-x-client:siar-x-secret").decode()
    assert token_calls[0].headers["authorization"] == f"Basic {basic}"

    # The state was spent: a replay is refused before any call to the network.
    with respx.mock(assert_all_mocked=True):
        r = await vault.get(
            "/v1/oauth/callback/x", params={"state": params["state"], "code": "the-code"}
        )
    assert r.status_code == 400
    assert r.json()["type"] == "urn:siar:problem:oauth-refused"


async def test_a_refusal_at_the_network_is_reported_and_spends_the_state(
    vault: httpx.AsyncClient,
) -> None:
    ws, auth = await new_owner(vault)
    params = await _start(vault, ws, auth)
    query: dict[str, Any] = {
        "state": params["state"],
        "error": "access_denied",
        "error_description": "The user denied access",
    }
    r = await vault.get("/v1/oauth/callback/x", params=query)
    assert r.status_code == 400
    assert "The user denied access" in r.json()["detail"]
    r = await vault.get("/v1/oauth/callback/x", params={"state": params["state"], "code": "c"})
    assert r.status_code == 400
    r = await vault.get(
        "/v1/oauth/callback/x", params={"state": "not-a-state-we-made", "code": "c"}
    )
    assert r.status_code == 400
    r = await vault.get(f"/v1/workspaces/{ws}/accounts", headers=auth)
    assert r.json()["items"] == []


async def test_a_network_without_siars_app_cannot_be_started(vault: httpx.AsyncClient) -> None:
    ws, auth = await new_owner(vault)
    r = await vault.post(
        f"/v1/workspaces/{ws}/accounts:authorize",
        json={"network": "linkedin", "redirect_uri": REDIRECT},
        headers=auth,
    )
    assert r.status_code == 422
    assert "SIAR_VAULT_APPS" in r.json()["detail"]


OAUTH_NETWORKS = (
    "x",
    "linkedin",
    "tiktok",
    "youtube",
    "pinterest",
    "mastodon",
    "facebook",
    "instagram",
    "threads",
)


@pytest.fixture
async def vault_all(infra: Infra) -> AsyncIterator[httpx.AsyncClient]:
    """A vault with Siar's app registered on every OAuth network."""
    apps = {n: {"client_id": f"siar-{n}", "client_secret": f"secret-{n}"} for n in OAUTH_NETWORKS}
    settings = Settings(
        database=unique("siar_it_oauth_all"),
        consumer_group=unique("it-oauth-all"),
        kek_keys={1: base64.b64encode(b"k" * 32).decode()},
        apps=apps,
        platform=platform_settings(infra),
    )
    async with vault_client(settings) as client:
        yield client


async def test_every_oauth_network_gets_an_authorize_url_with_state_and_its_pkce(
    vault_all: httpx.AsyncClient,
) -> None:
    app: Any = vault_all._transport.app  # type: ignore[attr-defined]
    connectors = app.state.service.connectors
    ws, auth = await new_owner(vault_all)
    states = set()
    for network in OAUTH_NETWORKS:
        r = await vault_all.post(
            f"/v1/workspaces/{ws}/accounts:authorize",
            json={"network": network, "redirect_uri": REDIRECT},
            headers=auth,
        )
        assert r.status_code == 200, (network, r.text)
        url = urlparse(r.json()["authorize_url"])
        config = connectors[network].oauth
        assert r.json()["authorize_url"].startswith(config.authorize_url), network
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        assert query[config.client_id_param] == f"siar-{network}", network
        assert query["redirect_uri"] == REDIRECT
        assert query["response_type"] == "code"
        assert query["scope"] == config.scope_separator.join(config.scopes), network
        assert ("code_challenge" in query) == config.pkce, network
        states.add(query["state"])
    assert len(states) == len(OAUTH_NETWORKS)

"""``identify`` for the Meta connectors (Threads, Facebook Pages, Instagram) against respx."""

from __future__ import annotations

import hashlib
import hmac

import httpx
import pytest
import respx
from pydantic import SecretStr

from siar.connectors import AuthExpiredError, Credential, Identity, PermanentError
from siar.connectors.facebook import FacebookPagesConnector
from siar.connectors.instagram import InstagramConnector
from siar.connectors.meta_connector import GraphConnector
from siar.connectors.threads import ThreadsConnector
from tests.unit.connectors.meta_fakes import graph_error

THREADS = "https://graph.threads.net/v1.0"
GRAPH = "https://graph.facebook.com/v24.0"
TOKEN = "EAAG-user-token"
APP_SECRET = "app-secret"
PROOF = hmac.new(APP_SECRET.encode(), TOKEN.encode(), hashlib.sha256).hexdigest()
CREDENTIAL = Credential(access_token=SecretStr(TOKEN))


def sent(route: respx.Route) -> httpx.Request:
    assert route.call_count == 1
    request: httpx.Request = route.calls.last.request
    assert request.method == "GET"
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    return request


# -- Threads -------------------------------------------------------------------------------
async def test_threads_identify_reads_me(api: respx.MockRouter, http: httpx.AsyncClient) -> None:
    route = api.get(f"{THREADS}/me").respond(
        200, json={"id": "8901234", "username": "siarbakery", "name": "Siar Bakery"}
    )
    who = await ThreadsConnector(http).identify(CREDENTIAL)
    request = sent(route)
    assert str(request.url.copy_with(query=None)) == f"{THREADS}/me"
    assert dict(request.url.params) == {"fields": "id,username,name"}
    assert who == Identity(
        network_account_id="8901234", handle="siarbakery", display_name="Siar Bakery"
    )


async def test_threads_identify_without_a_name(
    api: respx.MockRouter, http: httpx.AsyncClient
) -> None:
    api.get(f"{THREADS}/me").respond(200, json={"id": "8901234", "username": "siarbakery"})
    who = await ThreadsConnector(http).identify(CREDENTIAL)
    assert who == Identity(network_account_id="8901234", handle="siarbakery")


# -- Facebook Pages ------------------------------------------------------------------------
async def test_facebook_identify_takes_the_first_page_and_lists_all(
    api: respx.MockRouter, http: httpx.AsyncClient
) -> None:
    route = api.get(f"{GRAPH}/me/accounts").respond(
        200,
        json={
            "data": [
                {
                    "id": "1015",
                    "name": "Siar Bakery",
                    "username": "siarbakery",
                    "access_token": "page-token-1015",
                },
                {"id": "1016", "name": "Cakes; Pies", "access_token": "page-token-1016"},
            ],
            "paging": {"cursors": {"before": "QVFI", "after": "QVFJ"}},
        },
    )
    who = await FacebookPagesConnector(http, app_secret=APP_SECRET).identify(CREDENTIAL)
    request = sent(route)
    assert str(request.url.copy_with(query=None)) == f"{GRAPH}/me/accounts"
    assert dict(request.url.params) == {
        "fields": "id,name,username,access_token",
        "limit": "100",
        "appsecret_proof": PROOF,
    }
    # Publishing to a Page needs the Page's own token: it replaces the user token.
    assert who.access_token is not None
    assert who.access_token.get_secret_value() == "page-token-1015"
    assert who.model_copy(update={"access_token": None}) == Identity(
        network_account_id="1015",
        handle="siarbakery",
        display_name="Siar Bakery",
        extra={"pages": "1015:Siar Bakery;1016:Cakes, Pies"},
    )
    assert "page-token" not in repr(who)


async def test_facebook_identify_without_pages_is_permanent(
    api: respx.MockRouter, http: httpx.AsyncClient
) -> None:
    api.get(f"{GRAPH}/me/accounts").respond(200, json={"data": []})
    with pytest.raises(PermanentError, match="no Page"):
        await FacebookPagesConnector(http).identify(CREDENTIAL)


# -- Instagram -----------------------------------------------------------------------------
async def test_instagram_identify_takes_the_first_linked_account(
    api: respx.MockRouter, http: httpx.AsyncClient
) -> None:
    route = api.get(f"{GRAPH}/me/accounts").respond(
        200,
        json={
            "data": [
                {"id": "1015"},  # a Page without a linked Instagram account
                {
                    "id": "1016",
                    "instagram_business_account": {
                        "id": "17841405822304914",
                        "username": "siarbakery",
                        "name": "Siar Bakery",
                    },
                },
                {"id": "1017", "instagram_business_account": {"id": "17841400000000000"}},
            ]
        },
    )
    who = await InstagramConnector(http, app_secret=APP_SECRET).identify(CREDENTIAL)
    request = sent(route)
    assert str(request.url.copy_with(query=None)) == f"{GRAPH}/me/accounts"
    assert dict(request.url.params) == {
        "fields": "instagram_business_account{id,username,name}",
        "limit": "100",
        "appsecret_proof": PROOF,
    }
    assert who == Identity(
        network_account_id="17841405822304914", handle="siarbakery", display_name="Siar Bakery"
    )


async def test_instagram_identify_without_a_linked_account_is_permanent(
    api: respx.MockRouter, http: httpx.AsyncClient
) -> None:
    api.get(f"{GRAPH}/me/accounts").respond(200, json={"data": [{"id": "1015"}]})
    with pytest.raises(PermanentError, match="no Instagram professional account"):
        await InstagramConnector(http).identify(CREDENTIAL)


# -- errors --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("make", "url"),
    [
        (ThreadsConnector, f"{THREADS}/me"),
        (FacebookPagesConnector, f"{GRAPH}/me/accounts"),
        (InstagramConnector, f"{GRAPH}/me/accounts"),
    ],
)
async def test_identify_with_a_rejected_token_is_auth_expired(
    api: respx.MockRouter,
    http: httpx.AsyncClient,
    make: type[GraphConnector],
    url: str,
) -> None:
    api.get(url).respond(
        401, json=graph_error(190, "Error validating access token: Session has expired")
    )
    with pytest.raises(AuthExpiredError):
        await make(http).identify(CREDENTIAL)


async def test_identify_bare_401_is_auth_expired(
    api: respx.MockRouter, http: httpx.AsyncClient
) -> None:
    api.get(f"{THREADS}/me").respond(401, text="Unauthorized")
    with pytest.raises(AuthExpiredError):
        await ThreadsConnector(http).identify(CREDENTIAL)

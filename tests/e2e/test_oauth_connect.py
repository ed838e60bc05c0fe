"""Connecting a Mastodon account through its consent screen, end to end over real HTTP.

The vault starts the flow (state + PKCE), the person approves on the instance's own
authorize page (tests/e2e/fake_mastodon.py, a local instance built from Mastodon's
documented OAuth), the redirect's code and state come back to the vault's callback,
which exchanges the code at the instance's token endpoint and asks who the account is.
The account is stored with its token sealed, announced on ``account.connected`` (the
inbox then polls the instance with that token), and the token is never seen again in
any answer or log.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from pymongo import AsyncMongoClient

from tests.e2e.conftest import Stack
from tests.e2e.fake_mastodon import FakeMastodon, Seen, s256
from tests.e2e.flows import (
    Tenant,
    event_on,
    eventually,
    new_tenant,
    schedule_soon,
    wait_post_status,
)

REDIRECT = "https://console.siar.example/oauth/callback/mastodon"


def _query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


async def consent(
    http: httpx.AsyncClient, vault: str, tenant: Tenant, mastodon: FakeMastodon
) -> dict[str, str]:
    """Start at the vault, approve on the instance: the redirect's query (code, state)."""
    mastodon.allow_redirect(REDIRECT)  # Siar's app lists its redirect URIs on the instance
    r = await http.post(
        f"{vault}/v1/workspaces/{tenant.workspace_id}/accounts:authorize",
        json={"network": "mastodon", "redirect_uri": REDIRECT},
        headers=tenant.auth,
    )
    assert r.status_code == 200, r.text
    authorize_url = r.json()["authorize_url"]
    assert authorize_url.startswith(f"{mastodon.base}/oauth/authorize?")
    asked = _query(authorize_url)
    assert asked["client_id"] == mastodon.client_id
    assert asked["code_challenge_method"] == "S256"
    location = await mastodon.decide(http, authorize_url)
    assert location.startswith(f"{REDIRECT}?")
    back = _query(location)
    assert back["state"] == asked["state"]
    return back


def _asked(mastodon: FakeMastodon, state: str) -> Seen:
    """The authorize request (the consent page's GET) that carried ``state``."""
    [asked] = [
        s
        for s in mastodon.requests("/oauth/authorize")
        if s.method == "GET" and s.query.get("state") == state
    ]
    return asked


async def connect(
    http: httpx.AsyncClient, vault: str, tenant: Tenant, mastodon: FakeMastodon
) -> tuple[dict[str, Any], str]:
    """Connect (or reconnect) the instance's account: the account and its new token."""
    before = set(mastodon.tokens)
    back = await consent(http, vault, tenant, mastodon)
    r = await http.get(f"{vault}/v1/oauth/callback/mastodon", params=back)
    assert r.status_code == 201, r.text
    [token] = set(mastodon.tokens) - before
    return r.json(), token


async def accounts_of(http: httpx.AsyncClient, vault: str, tenant: Tenant) -> dict[str, Any]:
    """The workspace's accounts by id, as the vault lists them."""
    r = await http.get(f"{vault}/v1/workspaces/{tenant.workspace_id}/accounts", headers=tenant.auth)
    assert r.status_code == 200, r.text
    return {a["id"]: a for a in r.json()["items"]}


async def test_a_mastodon_account_connects_through_the_consent_screen(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    vault, mastodon = stack.urls["vault"], stack.mastodon
    tenant = await new_tenant(http, vault)
    # The instance is the stack's, shared by the tests: look only at what comes after.
    exchanges, tokens = len(mastodon.requests("/oauth/token")), set(mastodon.tokens)
    back = await consent(http, vault, tenant, mastodon)
    callback = f"{vault}/v1/oauth/callback/mastodon"

    # A state the vault never made is refused, and spends nothing.
    wrong = await http.get(callback, params={"state": "x" * 43, "code": back["code"]})
    assert wrong.status_code == 400
    assert wrong.headers["content-type"].startswith("application/problem+json")
    assert wrong.json()["type"] == "urn:siar:problem:oauth-refused"
    assert len(mastodon.requests("/oauth/token")) == exchanges

    r = await http.get(callback, params=back)
    assert r.status_code == 201, r.text
    account = r.json()
    host = urlsplit(mastodon.base).netloc
    assert account["network"] == "mastodon"
    assert account["handle"] == f"siarbrand@{host}"
    assert account["display_name"] == "Siar Brand"
    assert account["status"] == "healthy"
    assert account["token_expires_at"] is None  # Mastodon tokens do not expire

    # The instance saw one exchange: the app's client, the code, the redirect, and the
    # PKCE verifier whose S256 matches the challenge it was shown (it checked it too).
    [exchange] = mastodon.requests("/oauth/token")[exchanges:]
    asked = _asked(mastodon, back["state"])
    assert exchange.form["client_id"] == mastodon.client_id
    assert exchange.form["code"] == back["code"]
    assert exchange.form["redirect_uri"] == REDIRECT
    assert s256(exchange.form["code_verifier"]) == asked.query["code_challenge"]
    [token] = set(mastodon.tokens) - tokens
    who = mastodon.requests("/api/v1/accounts/verify_credentials")
    assert f"Bearer {token}" in {w.authorization for w in who}

    # The state works once: a replayed callback is refused before the instance is asked.
    replay = await http.get(callback, params=back)
    assert replay.status_code == 400
    assert replay.json()["type"] == "urn:siar:problem:oauth-refused"
    assert len(mastodon.requests("/oauth/token")) == exchanges + 1

    listed = await http.get(
        f"{vault}/v1/workspaces/{tenant.workspace_id}/accounts", headers=tenant.auth
    )
    [shown] = [a for a in listed.json()["items"] if a["id"] == account["id"]]
    assert (shown["status"], shown["token_expires_at"]) == ("healthy", None)

    event = await eventually(
        lambda: event_on(
            stack.infra.kafka_bootstrap, "account.connected", account_id=account["id"]
        ),
        within_s=60,
    )
    assert (event["network"], event["handle"]) == ("mastodon", account["handle"])
    assert event["network_account_id"] == mastodon.account["id"]

    async def polled() -> bool | None:
        # The inbox heard account.connected, read the credential from the vault, and
        # polls the account's own instance with the token.
        calls = mastodon.requests("/api/v1/notifications")
        return True if any(c.authorization == f"Bearer {token}" for c in calls) else None

    await eventually(polled, within_s=90)

    await _sealed_at_rest(stack, tenant.workspace_id, account["id"], token)
    for response in (r, replay, wrong, listed):
        assert token not in response.text
    _not_in_logs(stack.platform.log_dir, token)


async def test_a_revoked_token_asks_for_a_reconnect_which_the_consent_screen_gives(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    vault, scheduler, mastodon = stack.urls["vault"], stack.urls["scheduler"], stack.mastodon
    tenant = await new_tenant(http, vault)
    account, token = await connect(http, vault, tenant, mastodon)

    async def post(text: str, status: str) -> dict[str, Any]:
        post_id = await schedule_soon(http, scheduler, tenant, text, account_id=account["id"])
        return await wait_post_status(http, scheduler, tenant, post_id, status, within_s=90)

    # The publisher leases the sealed token from the vault and posts on the instance.
    text = f"Halo dari Siar {uuid.uuid4().hex[:6]}"
    await post(text, "published")
    [made] = [s for s in mastodon.statuses.values() if s["content"] == f"<p>{text}</p>"]
    assert made["account"]["id"] == mastodon.account["id"]

    # The person takes Siar's access back on the instance (Authorized apps → Revoke).
    r = await http.post(f"{mastodon.base}/oauth/revoke", data=mastodon.revoke_form(token))
    assert r.status_code == 200
    # The next post meets 401; Mastodon tokens cannot be refreshed, so the vault marks
    # the account for a reconnect and the post fails saying why.
    failed = await post(f"Tidak sampai {uuid.uuid4().hex[:6]}", "failed")
    [target] = failed["targets"]
    assert target["error"] == "Mastodon rejected the account's token: The access token is invalid"
    assert (await accounts_of(http, vault, tenant))[account["id"]]["status"] == "needs_reconnect"

    # Through the consent screen again: the same account, a fresh token, healthy, posting.
    again, fresh = await connect(http, vault, tenant, mastodon)
    assert (again["id"], again["status"]) == (account["id"], "healthy")
    assert fresh != token
    assert (await accounts_of(http, vault, tenant))[account["id"]]["status"] == "healthy"
    await post(f"Kembali lagi {uuid.uuid4().hex[:6]}", "published")


async def test_a_refusal_on_the_consent_screen_connects_nothing(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    vault, mastodon = stack.urls["vault"], stack.mastodon
    tenant = await new_tenant(http, vault)
    mastodon.allow_redirect(REDIRECT)
    r = await http.post(
        f"{vault}/v1/workspaces/{tenant.workspace_id}/accounts:authorize",
        json={"network": "mastodon", "redirect_uri": REDIRECT},
        headers=tenant.auth,
    )
    back = _query(await mastodon.decide(http, r.json()["authorize_url"], "deny"))
    assert back["error"] == "access_denied"
    r = await http.get(f"{vault}/v1/oauth/callback/mastodon", params=back)
    assert r.status_code == 400
    assert "denied" in r.json()["detail"]
    listed = await http.get(
        f"{vault}/v1/workspaces/{tenant.workspace_id}/accounts", headers=tenant.auth
    )
    assert [a["network"] for a in listed.json()["items"]] == ["sandbox"]


async def test_the_instance_refuses_a_wrong_pkce_verifier_and_a_wrong_secret() -> None:
    """The fake instance really checks what a real one checks (so the test above can fail)."""
    mastodon = FakeMastodon().start()
    try:
        mastodon.allow_redirect(REDIRECT)
        async with httpx.AsyncClient() as http:
            for form_change, status, error in (
                ({"code_verifier": "not-the-verifier" * 3}, 400, "invalid_grant"),
                ({"client_secret": "not-the-secret"}, 401, "invalid_client"),
                ({"redirect_uri": "https://elsewhere.example/cb"}, 400, "invalid_grant"),
                ({}, 200, None),
            ):
                verifier = "v" * 50
                code = mastodon.grant(
                    {
                        "client_id": mastodon.client_id,
                        "redirect_uri": REDIRECT,
                        "scope": "read:accounts",
                        "code_challenge": s256(verifier),
                    }
                )
                form = {
                    "grant_type": "authorization_code",
                    "code": code,
                    "redirect_uri": REDIRECT,
                    "client_id": mastodon.client_id,
                    "client_secret": mastodon.client_secret,
                    "code_verifier": verifier,
                    **form_change,
                }
                r = await http.post(f"{mastodon.base}/oauth/token", data=form)
                assert r.status_code == status, (form_change, r.text)
                assert r.json().get("error") == error
                # A code is single use, whatever became of its first exchange.
                again = await http.post(
                    f"{mastodon.base}/oauth/token", data={**form, "code_verifier": verifier}
                )
                assert again.status_code in (400, 401)
            bad = await http.get(
                f"{mastodon.base}/oauth/authorize",
                params={"client_id": mastodon.client_id, "redirect_uri": "https://evil.example/"},
            )
            assert bad.status_code == 400
    finally:
        mastodon.stop()


async def _sealed_at_rest(stack: Stack, workspace_id: str, account_id: str, token: str) -> None:
    """The vault's stored credential is an envelope; the token is nowhere in plain text."""
    database = stack.platform.extra_env["SIAR_VAULT_DATABASE"]
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(stack.infra.mongodb_url)
    try:
        db = client[database]
        stored = await db["credentials"].find_one({"_id": account_id, "workspace_id": workspace_id})
        assert stored is not None
        assert stored.get("envelope")
        for name in await db.list_collection_names():
            async for doc in db[name].find({}):
                assert token not in repr(doc), name
    finally:
        await client.close()


def _not_in_logs(log_dir: Path, token: str) -> None:
    logs = sorted(log_dir.glob("*.log"))
    assert logs
    for path in logs:
        assert token not in path.read_text(encoding="utf-8", errors="replace"), path.name

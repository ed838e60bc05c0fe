"""Sign-in sessions over HTTP: rotating refresh tokens, reuse detection, throttling."""

from __future__ import annotations

import time

import httpx

from siar_vault import totp
from tests.e2e.conftest import Stack
from tests.e2e.flows import new_tenant


async def _grant(http: httpx.AsyncClient, vault: str, **form: str) -> httpx.Response:
    return await http.post(f"{vault}/v1/auth/token", data=form)


async def test_refresh_tokens_rotate_and_a_replayed_one_revokes_the_family(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    vault = stack.urls["vault"]
    tenant = await new_tenant(http, vault)
    r = await _grant(
        http, vault, grant_type="password", username=tenant.email, password=tenant.password
    )
    first = r.json()["refresh_token"]
    assert first.startswith("srt_")

    r = await _grant(http, vault, grant_type="refresh_token", refresh_token=first)
    assert r.status_code == 200, r.text
    second = r.json()["refresh_token"]
    assert second != first
    me = await http.get(
        f"{vault}/v1/me", headers={"authorization": f"Bearer {r.json()['access_token']}"}
    )
    assert me.json()["email"] == tenant.email

    # The first token is spent: presenting it again looks like theft.
    r = await _grant(http, vault, grant_type="refresh_token", refresh_token=first)
    assert r.status_code == 401
    assert "already used" in r.json()["detail"]
    # ...so the whole family is gone, including the legitimate successor.
    r = await _grant(http, vault, grant_type="refresh_token", refresh_token=second)
    assert r.status_code == 401


async def test_repeated_wrong_passwords_are_throttled_with_retry_after(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    vault = stack.urls["vault"]
    tenant = await new_tenant(http, vault)
    for _ in range(5):
        r = await _grant(
            http, vault, grant_type="password", username=tenant.email, password="not it at all!"
        )
        assert r.status_code == 401
    # Now even the right password waits: the account is throttled for the window.
    r = await _grant(
        http, vault, grant_type="password", username=tenant.email, password=tenant.password
    )
    assert r.status_code == 429, r.text
    assert r.json()["type"] == "urn:siar:problem:too-many-attempts"
    assert 0 < int(r.headers["retry-after"]) <= 900


async def test_two_factor_sign_in_needs_a_fresh_code_each_time(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    vault = stack.urls["vault"]
    tenant = await new_tenant(http, vault)
    auth = tenant.auth
    r = await http.post(f"{vault}/v1/me/totp", headers=auth)
    assert r.status_code == 201, r.text
    secret = r.json()["secret"]
    assert r.json()["otpauth_uri"].startswith("otpauth://totp/Siar")
    now = time.time()
    r = await http.post(
        f"{vault}/v1/me/totp:confirm", json={"code": totp.code_at(secret, now)}, headers=auth
    )
    assert r.status_code == 204, r.text

    password = {"grant_type": "password", "username": tenant.email, "password": tenant.password}
    r = await _grant(http, vault, **password)
    assert r.status_code == 401
    assert r.json()["type"] == "urn:siar:problem:totp-required"

    # The confirming code is spent; the next step's code (within the allowed drift) works once.
    r = await _grant(http, vault, **password, totp=totp.code_at(secret, now))
    assert r.status_code == 401
    next_code = totp.code_at(secret, now + 30)
    r = await _grant(http, vault, **password, totp=next_code)
    assert r.status_code == 200, r.text
    r = await _grant(http, vault, **password, totp=next_code)
    assert r.status_code == 401
    assert "already used" in r.json()["detail"]


async def test_api_keys_act_only_within_their_permissions_until_revoked(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    vault, scheduler = stack.urls["vault"], stack.urls["scheduler"]
    tenant = await new_tenant(http, vault)
    ws = tenant.workspace_id
    r = await http.post(
        f"{vault}/v1/me/api-keys",
        json={"name": "reporting script", "permissions": ["posts.read"], "workspace_ids": [ws]},
        headers=tenant.auth,
    )
    assert r.status_code == 201, r.text
    key_id, key = r.json()["id"], r.json()["key"]
    assert key.startswith("sak_")
    listed = (await http.get(f"{vault}/v1/me/api-keys", headers=tenant.auth)).json()
    assert [k["key"] for k in listed] == [None]

    r = await _grant(http, vault, grant_type="api_key", api_key=key)
    assert r.status_code == 200, r.text
    scoped = {"authorization": f"Bearer {r.json()['access_token']}"}
    window = {"from": "2026-01-01T00:00:00Z", "to": "2026-12-31T00:00:00Z"}
    r = await http.get(f"{scheduler}/v1/workspaces/{ws}/posts", params=window, headers=scoped)
    assert r.status_code == 200, r.text
    r = await http.post(
        f"{scheduler}/v1/workspaces/{ws}/posts",
        json={"text": "from a key", "account_ids": [tenant.account_id]},
        headers=scoped,
    )
    assert r.status_code == 403
    assert "does not allow posts.write" in r.json()["detail"]

    assert (
        await http.delete(f"{vault}/v1/me/api-keys/{key_id}", headers=tenant.auth)
    ).status_code == 204
    r = await _grant(http, vault, grant_type="api_key", api_key=key)
    assert r.status_code == 401
    r = await _grant(http, vault, grant_type="api_key", api_key=key[:-2] + "xx")
    assert r.status_code == 401


async def test_an_invitation_link_works_once_for_the_invited_person(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    vault = stack.urls["vault"]
    owner = await new_tenant(http, vault)
    guest = await new_tenant(http, vault)
    stranger = await new_tenant(http, vault)
    r = await http.post(
        f"{vault}/v1/workspaces/{owner.workspace_id}/invitations",
        json={"role": "approver", "email": guest.email, "expires_in_hours": 1},
        headers=owner.auth,
    )
    assert r.status_code == 201, r.text
    accept = f"{vault}{r.json()['accept_path']}"

    r = await http.post(accept, headers=stranger.auth)
    assert r.status_code == 410
    assert "another e-mail" in r.json()["detail"]
    r = await http.post(accept, headers=guest.auth)
    assert r.status_code == 200, r.text
    r = await http.post(accept, headers=guest.auth)
    assert r.status_code == 410
    assert "already used" in r.json()["detail"]

    # A fresh token carries the new role in the owner's workspace.
    r = await _grant(
        http, vault, grant_type="password", username=guest.email, password=guest.password
    )
    token = {"authorization": f"Bearer {r.json()['access_token']}"}
    roles = {
        w["id"]: w["role"]
        for w in (await http.get(f"{vault}/v1/workspaces", headers=token)).json()["items"]
    }
    assert roles[owner.workspace_id] == "approver"
    assert roles[guest.workspace_id] == "owner"


async def test_signing_out_revokes_the_refresh_token(stack: Stack, http: httpx.AsyncClient) -> None:
    vault = stack.urls["vault"]
    tenant = await new_tenant(http, vault)
    r = await _grant(
        http, vault, grant_type="password", username=tenant.email, password=tenant.password
    )
    refresh = r.json()["refresh_token"]
    assert (await http.post(f"{vault}/v1/auth/revoke", data={"token": refresh})).status_code == 200
    r = await _grant(http, vault, grant_type="refresh_token", refresh_token=refresh)
    assert r.status_code == 401
    # Unknown tokens get the same answer (RFC 7009), so the endpoint reveals nothing.
    assert (
        await http.post(f"{vault}/v1/auth/revoke", data={"token": "srt_nope"})
    ).status_code == 200

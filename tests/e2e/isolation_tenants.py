"""Tenant isolation helpers: the victim, the attackers and every token the matrix uses."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric import ec

from tests.e2e import tokens_forge as forge
from tests.e2e.conftest import Stack
from tests.e2e.flows import Tenant, eventually, new_tenant
from tests.e2e.isolation_routes import TINY_PNG, World, bearer, build_call, discover

PASSWORD = "a long enough passphrase 42"  # what flows.new_tenant signs up with


def _ok(response: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, f"{response.request.url}: {response.text}"
    body: dict[str, Any] = response.json() if response.content else {}
    return body


async def _sign_in(http: httpx.AsyncClient, vault: str, email: str, seen: set[str]) -> str:
    r = await http.post(
        f"{vault}/v1/auth/token",
        data={"grant_type": "password", "username": email, "password": PASSWORD},
    )
    body = _ok(r)
    seen.update(t for t in (body.get("access_token"), body.get("refresh_token")) if t)
    return str(body["access_token"])


async def _published_conversation(
    http: httpx.AsyncClient, urls: dict[str, str], victim: Tenant
) -> tuple[str, str, str]:
    """Publish a post of the victim now and wait for the sandbox's comment in the inbox:
    (post id, its text, the conversation id)."""
    ws = victim.workspace_id
    r = await http.post(
        f"{urls['scheduler']}/v1/workspaces/{ws}/posts",
        json={
            "text": f"victim published {uuid.uuid4().hex[:8]}",
            "account_ids": [victim.account_id],
            "scheduled_at": (datetime.now(UTC) + timedelta(seconds=2)).isoformat(),
        },
        headers=victim.auth,
    )
    post = _ok(r, 201)

    async def conversation() -> str | None:
        r = await http.get(f"{urls['inbox']}/v1/workspaces/{ws}/conversations", headers=victim.auth)
        items = r.json()["items"] if r.status_code == 200 else []
        return str(items[0]["id"]) if items else None

    conversation_id = await eventually(conversation, within_s=30, every=0.3)
    return str(post["id"]), str(post["text"]), conversation_id


async def _victim_media(http: httpx.AsyncClient, world: World) -> None:
    """Upload a tiny PNG as the victim if a service offers a media upload route."""
    for route in world.routes:
        content = route.operation.get("requestBody", {}).get("content", {})
        if (
            route.method == "POST"
            and route.path.endswith("/media")
            and "multipart/form-data" in content
        ):
            call = build_call(route, world)
            r = await http.request(
                call.method,
                call.url,
                headers=world.victim.auth,
                **{k: v for k, v in call.kwargs.items() if k != "headers"},
            )
            if r.status_code in (200, 201) and "id" in r.json():
                world.path_ids["media_id"] = str(r.json()["id"])
                world.victim_strings.add(world.path_ids["media_id"])
            return


async def _victim_reports(http: httpx.AsyncClient, world: World) -> None:
    """A research item, a report logo and a stored monthly report of the victim's, so the
    analytics routes that read them have something to read."""
    base = f"{world.urls['analytics']}/v1/workspaces/{world.victim.workspace_id}"
    r = await http.post(
        f"{base}/research/items",
        json={"kind": "hashtag", "value": "#isolation", "account_id": world.victim.account_id},
        headers=world.victim.auth,
    )
    world.path_ids["item_id"] = str(_ok(r, 201)["id"])
    r = await http.put(
        f"{base}/reports/branding/logo",
        content=TINY_PNG,
        headers={**world.victim.auth, "content-type": "image/png"},
    )
    assert r.status_code == 204, r.text
    monthly = {"webhook_url": "http://127.0.0.1:9/siar-e2e", "secret": "e2e-monthly-secret-42"}
    r = await http.put(f"{base}/reports/monthly", json=monthly, headers=world.victim.auth)
    _ok(r)

    # The monthly loop renders last month's report within a tick of being enabled.
    async def stored() -> str | None:
        r = await http.get(f"{base}/reports/monthly/files", headers=world.victim.auth)
        files = _ok(r)
        return str(files[0]["month"]) if files else None

    world.path_ids["month"] = await eventually(stored, within_s=60, every=1)


async def _viewer(
    http: httpx.AsyncClient, vault: str, victim: Tenant, seen: set[str]
) -> tuple[str, str, str]:
    """A new user made a viewer of the victim's workspace: (email, user id, token)."""
    ws = victim.workspace_id
    email = f"e2e-viewer-{uuid.uuid4().hex[:10]}@example.com"
    r = await http.post(
        f"{vault}/v1/users", json={"email": email, "password": PASSWORD, "name": "V"}
    )
    user_id = str(_ok(r, 201)["id"])
    r = await http.post(
        f"{vault}/v1/workspaces/{ws}/members",
        json={"email": email, "role": "viewer"},
        headers=victim.auth,
    )
    _ok(r, 201)
    token = await _sign_in(http, vault, email, seen)
    assert forge.claims_of(token)["ws"] == {ws: "viewer"}
    return email, user_id, token


async def _forged(
    http: httpx.AsyncClient, stack: Stack, victim: Tenant, seen: set[str]
) -> dict[str, str]:
    """Tokens carrying the victim's own claims: broken, expired, or signed by a stranger."""
    kid = str(forge.header_of(victim.token)["kid"])
    claims = forge.claims_of(victim.token)
    real_key = await forge.vault_signing_key(
        stack.infra.mongodb_url,
        stack.platform.extra_env["SIAR_VAULT_DATABASE"],
        kid,
        stack.platform.secrets.kek_b64,
    )
    # The control: forged the same way but not expired, it is accepted, so the expired
    # token's 401 is about its expiry and nothing else.
    control = forge.sign(forge.fresh_claims(claims, ttl_s=300), real_key, kid)
    r = await http.get(
        f"{stack.urls['vault']}/v1/workspaces/{victim.workspace_id}/accounts",
        headers=bearer(control),
    )
    assert r.status_code == 200, f"a token forged with the real key was refused: {r.text}"
    stranger = ec.generate_private_key(ec.SECP256R1())
    forged = {
        "tampered": forge.tampered(victim.token),
        "alg_none": forge.unsigned(forge.fresh_claims(claims, ttl_s=300), kid),
        "expired": forge.sign(forge.fresh_claims(claims, ttl_s=-120), real_key, kid),
        "foreign_key": forge.sign(forge.fresh_claims(claims, ttl_s=300), stranger, kid),
    }
    seen.update([control, *forged.values()])
    return forged


async def _service_token(http: httpx.AsyncClient, stack: Stack, seen: set[str]) -> str:
    """The scheduler's own service token (scope accounts:read)."""
    r = await http.post(
        f"{stack.urls['vault']}/v1/auth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": "scheduler",
            "client_secret": stack.platform.secrets.service_secrets["scheduler"],
        },
    )
    token = str(_ok(r)["access_token"])
    seen.add(token)
    return token


async def _future_post(http: httpx.AsyncClient, scheduler: str, victim: Tenant) -> dict[str, Any]:
    r = await http.post(
        f"{scheduler}/v1/workspaces/{victim.workspace_id}/posts",
        json={
            "text": f"victim plan {uuid.uuid4().hex[:8]}",
            "account_ids": [victim.account_id],
            "scheduled_at": (datetime.now(UTC) + timedelta(days=300)).isoformat(),
        },
        headers=victim.auth,
    )
    return _ok(r, 201)


async def build_world(stack: Stack) -> World:
    """Victim A (owner, sandbox account, far-future post, a conversation), a viewer of A,
    attacker B, and every token the matrix uses."""
    urls = stack.urls
    vault = urls["vault"]
    async with httpx.AsyncClient(timeout=15.0) as http:
        victim, attacker = await asyncio.gather(new_tenant(http, vault), new_tenant(http, vault))
        ws = victim.workspace_id
        seen = {victim.token, attacker.token}
        # The published post takes a few seconds to draw a comment: do the rest meanwhile.
        async with asyncio.TaskGroup() as group:
            published = group.create_task(_published_conversation(http, urls, victim))
            discovered = group.create_task(discover(http, urls))
            future = group.create_task(_future_post(http, urls["scheduler"], victim))
            viewer = group.create_task(_viewer(http, vault, victim, seen))
            forged = group.create_task(_forged(http, stack, victim, seen))
            service = group.create_task(_service_token(http, stack, seen))
            me = group.create_task(http.get(f"{vault}/v1/me", headers=victim.auth))
            account = group.create_task(
                http.get(
                    f"{vault}/v1/workspaces/{ws}/accounts/{victim.account_id}", headers=victim.auth
                )
            )
        post_id, post_text, conversation_id = published.result()
        routes = discovered.result()
        future_post = future.result()
        viewer_email, viewer_id, viewer_token = viewer.result()
        tokens: dict[str, str | None] = {
            "owner": victim.token,
            "other_workspace": attacker.token,
            "viewer": viewer_token,
            "service": service.result(),
            **forged.result(),
            "no_token": None,
        }
        w = World(
            urls=dict(urls),
            routes=routes,
            victim=victim,
            attacker=attacker,
            path_ids={
                "ws": ws,
                "account_id": victim.account_id,
                "post_id": str(future_post["id"]),
                "conversation_id": conversation_id,
            },
            victim_strings={
                ws,
                victim.account_id,
                victim.email,
                viewer_email,
                viewer_id,
                str(_ok(me.result())["id"]),
                str(_ok(account.result())["handle"]),
                str(future_post["id"]),
                str(future_post["text"]),
                post_id,
                post_text,
                conversation_id,
            },
            tokens=tokens,
            seen_tokens=seen,
        )
        await _victim_media(http, w)
        await _victim_reports(http, w)
    return w

"""Owner rules over HTTP on the real stack: only owners touch ownership; one always stays.

The concurrent cases run two vault apps, each with its own MongoDB client, against one
database: what two vault processes would do. nx-27017 does not isolate transactions
across them, so only the conditional owner count keeps both demotions from passing.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from pymongo import AsyncMongoClient

from siar.devstack import Infra
from siar.runtime.mongo import Document
from siar.runtime.settings import PlatformSettings
from siar_vault.kek import FileKeks
from siar_vault.main import create_app
from siar_vault.members import check_owner_counts
from siar_vault.settings import Settings
from siar_vault.store import VaultStore
from tests.integration.conftest import unique

PASSWORD = "a long enough passphrase 42"
ROUNDS = 6
DATABASES: dict[int, str] = {}
"""Each test client's database, for the tests that look at it directly."""


@pytest.fixture
async def vaults(infra: Infra, tmp_path: Path) -> AsyncIterator[list[httpx.AsyncClient]]:
    """Two vault apps on one database (like two replicas), each with its own client."""
    key_file = tmp_path / "keks.json"
    FileKeks(key_file).add_version()
    settings = Settings(
        database=unique("siar_it_owners"),
        consumer_group=unique("it-owners"),
        kek_file=key_file,
        platform=PlatformSettings(
            env="test",
            kafka_bootstrap=infra.kafka_bootstrap,
            mongodb_url=infra.mongodb_url,
            kafka_idempotent_producer=infra.idempotent_producer,
            mongo_serialize_transactions=infra.kind == "embedded",
        ),
    )
    async with contextlib.AsyncExitStack() as stack:
        clients = []
        for name in ("a", "b"):
            app = create_app(settings)
            await stack.enter_async_context(app.router.lifespan_context(app))
            transport = httpx.ASGITransport(app=app)
            client = httpx.AsyncClient(transport=transport, base_url=f"http://vault-{name}")
            clients.append(await stack.enter_async_context(client))
            DATABASES[id(client)] = settings.database
        yield clients


class Person:
    """A signed-up user who signs in again to see new roles in their token."""

    def __init__(self, client: httpx.AsyncClient, email: str, user_id: str) -> None:
        self.client = client
        self.email = email
        self.id = user_id
        self.auth: dict[str, str] = {}

    async def sign_in(self) -> Person:
        form = {"grant_type": "password", "username": self.email, "password": PASSWORD}
        r = await self.client.post("/v1/auth/token", data=form)
        assert r.status_code == 200, r.text
        self.auth = {"authorization": f"Bearer {r.json()['access_token']}"}
        return self

    async def set_role(self, ws: str, who: Person, role: str) -> httpx.Response:
        return await self.client.post(
            f"/v1/workspaces/{ws}/members",
            json={"email": who.email, "role": role},
            headers=self.auth,
        )

    async def remove(self, ws: str, who: Person) -> httpx.Response:
        return await self.client.delete(f"/v1/workspaces/{ws}/members/{who.id}", headers=self.auth)


async def person(client: httpx.AsyncClient) -> Person:
    email = f"{unique('p')}@example.com"
    r = await client.post("/v1/users", json={"email": email, "password": PASSWORD, "name": "P"})
    assert r.status_code == 201, r.text
    return await Person(client, email, r.json()["id"]).sign_in()


async def owned_workspace(client: httpx.AsyncClient) -> tuple[Person, str]:
    """A new person and the workspace they just made (so they are its one owner)."""
    owner = await person(client)
    r = await client.post("/v1/workspaces", json={"name": "W"}, headers=owner.auth)
    assert r.status_code == 201, r.text
    await owner.sign_in()
    return owner, str(r.json()["id"])


async def roles(client: httpx.AsyncClient, ws: str, reader: Person) -> dict[str, str]:
    r = await client.get(f"/v1/workspaces/{ws}/members", headers=reader.auth)
    assert r.status_code == 200, r.text
    return {m["user_id"]: m["role"] for m in r.json()["items"]}


async def member(owner: Person, ws: str, role: str) -> Person:
    joined = await person(owner.client)
    r = await owner.set_role(ws, joined, role)
    assert r.status_code == 201, r.text
    return await joined.sign_in()


def problem(r: httpx.Response, status: int, kind: str, detail: str) -> None:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["type"] == f"urn:siar:problem:{kind}", r.text
    assert detail in r.json()["detail"], r.text


async def test_an_admin_can_neither_grant_nor_revoke_ownership(
    vaults: list[httpx.AsyncClient],
) -> None:
    client = vaults[0]
    owner, ws = await owned_workspace(client)
    admin = await member(owner, ws, "admin")
    other = await person(client)
    rule = "only an owner can grant or revoke the owner role"

    problem(await admin.set_role(ws, other, "owner"), 403, "forbidden", rule)
    problem(await admin.set_role(ws, admin, "owner"), 403, "forbidden", rule)
    problem(await admin.set_role(ws, owner, "admin"), 403, "forbidden", rule)
    problem(await admin.remove(ws, owner), 403, "forbidden", rule)
    r = await client.post(
        f"/v1/workspaces/{ws}/invitations", json={"role": "owner"}, headers=admin.auth
    )
    problem(r, 403, "forbidden", rule)
    assert (await roles(client, ws, owner)) == {owner.id: "owner", admin.id: "admin"}

    # Everything else stays with members.manage: an admin adds, re-roles and removes.
    assert (await admin.set_role(ws, other, "editor")).status_code == 201
    assert (await admin.set_role(ws, other, "viewer")).status_code == 201
    assert (await admin.remove(ws, other)).status_code == 204
    problem(await admin.remove(ws, other), 404, "not-found", "no member with that id")
    # An owner may make someone owner, who may then hand ownership on.
    assert (await owner.set_role(ws, admin, "owner")).status_code == 201
    await admin.sign_in()
    assert (await admin.set_role(ws, owner, "editor")).status_code == 201
    assert (await roles(client, ws, admin)) == {owner.id: "editor", admin.id: "owner"}


async def test_the_last_owner_can_be_neither_demoted_nor_removed(
    vaults: list[httpx.AsyncClient], mongo: AsyncMongoClient[Document]
) -> None:
    client = vaults[0]
    owner, ws = await owned_workspace(client)
    rule = "a workspace must keep at least one owner"
    problem(await owner.set_role(ws, owner, "admin"), 409, "last-owner", rule)
    problem(await owner.remove(ws, owner), 409, "last-owner", rule)

    second = await member(owner, ws, "owner")
    assert (await owner.set_role(ws, owner, "admin")).status_code == 201
    await owner.sign_in()
    problem(await second.set_role(ws, second, "viewer"), 409, "last-owner", rule)
    problem(await second.remove(ws, second), 409, "last-owner", rule)
    assert (await second.remove(ws, owner)).status_code == 204
    assert (await roles(client, ws, second)) == {second.id: "owner"}


async def test_a_workspace_from_before_the_count_gets_one_from_its_members(
    vaults: list[httpx.AsyncClient], mongo: AsyncMongoClient[Document]
) -> None:
    client = vaults[0]
    owner, ws = await owned_workspace(client)
    second = await member(owner, ws, "owner")
    db = DATABASES[id(client)]
    deleted = await mongo[db]["owner_counts"].delete_one({"_id": ws})
    assert deleted.deleted_count == 1

    assert (await second.set_role(ws, owner, "admin")).status_code == 201
    problem(await second.remove(ws, second), 409, "last-owner", "at least one owner")
    assert (await mongo[db]["owner_counts"].find_one({"_id": ws}) or {}).get("n") == 1


async def test_a_count_left_low_refuses_until_check_owners_fixes_it(
    vaults: list[httpx.AsyncClient], mongo: AsyncMongoClient[Document]
) -> None:
    client = vaults[0]
    owner, ws = await owned_workspace(client)
    second = await member(owner, ws, "owner")
    db = mongo[DATABASES[id(client)]]
    # As a vault that died between taking one from the count and writing the member.
    await db["owner_counts"].update_one({"_id": ws}, {"$set": {"n": 1}})
    problem(await owner.set_role(ws, owner, "admin"), 409, "last-owner", "at least one owner")

    store = VaultStore(db)
    assert await check_owner_counts(store, fix=False) == [f"{ws}: owner count 1, owners 2"]
    assert await check_owner_counts(store, fix=True) == [f"{ws}: owner count 1, owners 2"]
    assert await check_owner_counts(store, fix=False) == []
    assert (await owner.set_role(ws, owner, "admin")).status_code == 201
    assert (await roles(client, ws, second))[second.id] == "owner"


async def test_owner_invitations_come_only_from_owners_who_still_are(
    vaults: list[httpx.AsyncClient],
) -> None:
    client = vaults[0]
    owner, ws = await owned_workspace(client)
    co_owner = await member(owner, ws, "owner")

    async def invite(by: Person) -> str:
        r = await client.post(
            f"/v1/workspaces/{ws}/invitations", json={"role": "owner"}, headers=by.auth
        )
        assert r.status_code == 201, r.text
        return str(r.json()["accept_path"])

    kept, dropped = await invite(owner), await invite(co_owner)
    newcomer, late = await person(client), await person(client)
    assert (await client.post(kept, headers=newcomer.auth)).status_code == 200
    await newcomer.sign_in()
    assert (await owner.set_role(ws, co_owner, "editor")).status_code == 201
    r = await client.post(dropped, headers=late.auth)
    problem(r, 410, "invitation-invalid", "no longer an owner")
    found = await roles(client, ws, owner)
    assert found[newcomer.id] == "owner"
    assert late.id not in found
    # The newcomer counts as an owner: the first owner can now step down.
    assert (await owner.set_role(ws, owner, "admin")).status_code == 201


async def step_down(who: Person, ws: str, how: str) -> httpx.Response:
    if how == "remove":
        return await who.remove(ws, who)
    return await who.set_role(ws, who, "admin")


@pytest.mark.parametrize("how", ["demote", "remove"])
async def test_concurrent_demotions_of_the_last_two_owners_do_not_both_pass(
    vaults: list[httpx.AsyncClient], how: str
) -> None:
    first_app, second_app = vaults
    for _ in range(ROUNDS):
        one, ws = await owned_workspace(first_app)
        two = await member(one, ws, "owner")
        two.client = second_app  # each owner's request goes to another vault replica

        answers = await asyncio.gather(*(step_down(who, ws, how) for who in (one, two)))
        codes = sorted(r.status_code for r in answers)
        assert codes in ([201, 409], [204, 409]), [r.text for r in answers]
        refused = next(r for r in answers if r.status_code == 409)
        problem(refused, 409, "last-owner", "at least one owner")
        winner = one if answers[1].status_code == 409 else two
        left = await roles(first_app, ws, one if winner is two else two)
        assert list(left.values()).count("owner") == 1, left


async def test_concurrent_cross_demotions_leave_one_owner(
    vaults: list[httpx.AsyncClient],
) -> None:
    first_app, second_app = vaults
    for _ in range(ROUNDS):
        one, ws = await owned_workspace(first_app)
        two = await member(one, ws, "owner")
        two.client = second_app
        answers = await asyncio.gather(
            one.set_role(ws, two, "viewer"), two.set_role(ws, one, "viewer")
        )
        codes = sorted(r.status_code for r in answers)
        # The loser is refused as the last owner, or (if the winner's write landed
        # before its own check) as no longer an owner.
        assert codes in ([201, 403], [201, 409]), [r.text for r in answers]
        found = await roles(first_app, ws, one if answers[0].status_code == 201 else two)
        assert sorted(found.values()) == ["owner", "viewer"], found

"""The owner count under concurrent changes, on a fake store that interleaves at random.

Each fake database call is atomic (as one document operation is on the server), but
concurrent changes interleave between calls in an order drawn by hypothesis. After every
write the fake checks what members.py promises: the workspace has an owner, and the
count never says more owners than there are.
"""

from __future__ import annotations

import asyncio
import random
from typing import Any, cast

from hypothesis import given, settings
from hypothesis import strategies as st
from pymongo.errors import DuplicateKeyError

from siar.runtime.roles import Role
from siar_vault.errors import LastOwner, NotFound, OwnerOnly, RoleChanged
from siar_vault.members import MemberChanges
from siar_vault.store import VaultStore

WS = "ws_1"
USERS = [f"usr_{i}" for i in range(4)]
EXPECTED = (LastOwner, OwnerOnly, RoleChanged, NotFound)


def matches(doc: dict[str, Any], query: dict[str, Any]) -> bool:
    for field, want in query.items():
        if isinstance(want, dict):
            if doc.get(field) is None or doc[field] < want["$gte"]:
                return False
        elif doc.get(field) != want:
            return False
    return True


class Fake:
    """A TenantCollection's calls used by members.py, on a list of dicts."""

    def __init__(self, world: World, unique: tuple[str, ...]) -> None:
        self.world = world
        self.unique = unique
        self.docs: list[dict[str, Any]] = []

    async def _turn(self) -> None:
        for _ in range(self.world.rng.randint(0, 3)):
            await asyncio.sleep(0)

    def _find(self, ws: str, query: dict[str, Any]) -> dict[str, Any] | None:
        return next((d for d in self.docs if matches(d, {**query, "workspace_id": ws})), None)

    async def find_one(self, ws: str, query: dict[str, Any]) -> dict[str, Any] | None:
        await self._turn()
        found = self._find(ws, query)
        return dict(found) if found else None

    async def count(self, ws: str, query: dict[str, Any]) -> int:
        await self._turn()
        return sum(matches(d, {**query, "workspace_id": ws}) for d in self.docs)

    async def insert(self, ws: str, doc: dict[str, Any]) -> None:
        await self._turn()
        new = {**doc, "workspace_id": ws}
        if any(all(d.get(k) == new.get(k) for k in self.unique) for d in self.docs):
            raise DuplicateKeyError("duplicate")
        self.docs.append(new)
        self.world.check()

    async def update_one(self, ws: str, query: dict[str, Any], update: dict[str, Any]) -> int:
        await self._turn()
        return 0 if self._apply(ws, query, update) is None else 1

    async def find_one_and_update(
        self, ws: str, query: dict[str, Any], update: dict[str, Any]
    ) -> dict[str, Any] | None:
        await self._turn()
        return self._apply(ws, query, update)

    async def delete_one(self, ws: str, query: dict[str, Any]) -> int:
        await self._turn()
        found = self._find(ws, query)
        if found is None:
            return 0
        self.docs.remove(found)
        self.world.check()
        return 1

    def _apply(
        self, ws: str, query: dict[str, Any], update: dict[str, Any]
    ) -> dict[str, Any] | None:
        found = self._find(ws, query)
        if found is None:
            return None
        found.update(update.get("$set", {}))
        for field, by in update.get("$inc", {}).items():
            found[field] = found.get(field, 0) + by
        self.world.check()
        return dict(found)


class World:
    """One workspace's members and owner count, checked after every write."""

    def __init__(self, seed: int, roles: dict[str, Role], *, counted: bool = True) -> None:
        self.rng = random.Random(seed)
        self.members = Fake(self, ("workspace_id", "user_id"))
        self.owner_counts = Fake(self, ("_id",))
        self.members.docs = [
            {"workspace_id": WS, "user_id": u, "role": r.value} for u, r in roles.items()
        ]
        owners = sum(r is Role.OWNER for r in roles.values())
        # A workspace from before the count existed starts without one (members.py makes it).
        if counted:
            self.owner_counts.docs = [{"_id": WS, "workspace_id": WS, "n": owners}]

    async def user_by_email(self, email: str) -> dict[str, Any]:
        return {"_id": email.split("@")[0]}

    def owners(self) -> int:
        return sum(d["role"] == Role.OWNER.value for d in self.members.docs)

    def check(self) -> None:
        counted = self.owner_counts.docs[0]["n"] if self.owner_counts.docs else None
        assert self.owners() >= 1, "no owner left"
        assert counted is None or 1 <= counted <= self.owners(), (counted, self.owners())


Change = tuple[str, str, Role | None]  # actor, target, new role (None: remove)

roles = st.sampled_from(list(Role))
changes = st.tuples(st.sampled_from(USERS), st.sampled_from(USERS), st.none() | roles)


async def run(world: World, planned: list[Change]) -> list[object]:
    members = MemberChanges(cast(VaultStore, world))

    async def one(actor: str, target: str, new: Role | None) -> object:
        if new is None:
            return await members.remove(workspace_id=WS, actor_id=actor, user_id=target)
        email = f"{target}@example.com"
        return await members.set_role(workspace_id=WS, actor_id=actor, email=email, role=new)

    return await asyncio.gather(*(one(*c) for c in planned), return_exceptions=True)


@settings(max_examples=300, deadline=None)
@given(
    seed=st.integers(0, 2**32),
    initial=st.lists(roles, min_size=4, max_size=4).filter(lambda r: Role.OWNER in r),
    planned=st.lists(changes, min_size=2, max_size=4),
    counted=st.booleans(),
)
def test_concurrent_changes_never_leave_a_workspace_without_an_owner(
    seed: int, initial: list[Role], planned: list[Change], counted: bool
) -> None:
    world = World(seed, dict(zip(USERS, initial, strict=True)), counted=counted)
    outcomes = asyncio.run(run(world, planned))
    unexpected = [o for o in outcomes if isinstance(o, BaseException)]
    assert all(isinstance(o, EXPECTED) for o in unexpected), unexpected
    world.check()


@settings(max_examples=200, deadline=None)
@given(seed=st.integers(0, 2**32), remove=st.booleans())
def test_the_last_two_owners_stepping_down_at_once_leave_one(seed: int, remove: bool) -> None:
    world = World(seed, {"usr_0": Role.OWNER, "usr_1": Role.OWNER, "usr_2": Role.ADMIN})
    new = None if remove else Role.ADMIN
    outcomes = asyncio.run(run(world, [("usr_0", "usr_0", new), ("usr_1", "usr_1", new)]))
    refused = [o for o in outcomes if isinstance(o, LastOwner)]
    assert len(refused) == 1, outcomes
    assert world.owners() == 1
    assert world.owner_counts.docs[0]["n"] == 1

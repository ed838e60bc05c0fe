"""Changing who belongs to a workspace, under the owner rules.

Only an owner grants or revokes the owner role, and a workspace always keeps one
owner. The last-owner check and the write must be one unit, but nx-27017's
multi-document transactions are not isolated across processes (docs/embedded-stack.md),
so the unit is a single conditional document: ``owner_counts`` holds, per workspace,
a count of owners that is never above the real number of owners.

- Revoking ownership first takes one from the count, only if at least two remain
  (one atomic findAndModify), then writes the membership; if that write finds the
  member changed meanwhile, the count is given back.
- Granting ownership first writes the membership, then adds one to the count.

So the count is at most the real number of owners at every moment, and at least one:
two concurrent demotions of the last two owners cannot both pass. A process that dies
between the two writes leaves the count low, which can only refuse a demotion that
could have been allowed (``siar vault check-owners --fix`` sets it right).

Every membership write is conditional on the role read before it, so a change that
raced another is retried on fresh data rather than applied over it.
"""

from __future__ import annotations

import contextlib

from pymongo.errors import DuplicateKeyError

from siar.runtime.roles import Role
from siar_vault.domain import Membership, check_owner_rule, normalise_email
from siar_vault.errors import InvitationInvalid, LastOwner, NotFound, RoleChanged
from siar_vault.store import VaultStore

ATTEMPTS = 5


class MemberChanges:
    """Adds, re-roles and removes members; keeps the owner count beside them."""

    def __init__(self, store: VaultStore) -> None:
        self.members = store.members
        self.store = store
        self.counts = store.owner_counts

    async def role_of(self, workspace_id: str, user_id: str) -> Role | None:
        """A user's current role in the workspace (from the store, not a token)."""
        doc = await self.members.find_one(workspace_id, {"user_id": user_id})
        return Role(doc["role"]) if doc else None

    async def set_role(
        self, *, workspace_id: str, actor_id: str, email: str, role: Role
    ) -> Membership:
        """Give an existing user (by e-mail) a role in the workspace, or change it."""
        doc = await self.store.user_by_email(normalise_email(email))
        if doc is None:
            raise NotFound("no user with that e-mail")
        user_id = str(doc["_id"])
        await self._change(workspace_id, actor_id, user_id, role)
        return Membership(workspace_id=workspace_id, user_id=user_id, role=role)

    async def remove(self, *, workspace_id: str, actor_id: str, user_id: str) -> Role:
        """Take a member out of the workspace; returns the role they had."""
        before = await self._change(workspace_id, actor_id, user_id, None)
        if before is None:
            raise NotFound("no member with that id")
        return before

    async def check_invite(self, *, workspace_id: str, actor_id: str, role: Role) -> None:
        """Refuse an invitation with a role the inviter may not grant."""
        check_owner_rule(await self.role_of(workspace_id, actor_id), None, role)

    async def join(self, *, workspace_id: str, user_id: str, role: Role, invited_by: str) -> bool:
        """Add an invited user; False if they were a member already (their role stays).

        An owner invitation counts only while the owner who sent it still is one.
        """
        if role is Role.OWNER and await self.role_of(workspace_id, invited_by) is not Role.OWNER:
            raise InvitationInvalid("the person who invited you as owner is no longer an owner")
        return await self._apply(workspace_id, user_id, None, role)

    async def _change(
        self, workspace_id: str, actor_id: str, user_id: str, new: Role | None
    ) -> Role | None:
        """Apply one member's change; returns their role before it."""
        for _ in range(ATTEMPTS):
            actor = await self.role_of(workspace_id, actor_id)
            current = await self.role_of(workspace_id, user_id)
            if current is None and new is None:
                raise NotFound("no member with that id")
            check_owner_rule(actor, current, new)
            if current == new or await self._apply(workspace_id, user_id, current, new):
                return current
        raise RoleChanged("the member's role kept changing meanwhile; try again")

    async def _apply(
        self, workspace_id: str, user_id: str, current: Role | None, new: Role | None
    ) -> bool:
        """One conditional change, with the owner count moved in the safe order."""
        if current is Role.OWNER:
            await self._take_one(workspace_id)
            if await self._write(workspace_id, user_id, current, new):
                return True
            await self._add(workspace_id, 1)  # the member changed meanwhile: give it back
            return False
        if new is Role.OWNER:
            await self._ensure(workspace_id)
            if not await self._write(workspace_id, user_id, current, new):
                return False
            await self._add(workspace_id, 1)
            return True
        return await self._write(workspace_id, user_id, current, new)

    async def _write(
        self, workspace_id: str, user_id: str, expected: Role | None, new: Role | None
    ) -> bool:
        """Write the membership only if it still has the ``expected`` role (None: absent)."""
        if expected is None:
            doc = Membership(workspace_id=workspace_id, user_id=user_id, role=new or Role.VIEWER)
            try:
                await self.members.insert(workspace_id, doc.model_dump())
            except DuplicateKeyError:
                return False
            return True
        match = {"user_id": user_id, "role": expected.value}
        if new is None:
            return await self.members.delete_one(workspace_id, match) == 1
        update = {"$set": {"role": new.value}}
        return await self.members.update_one(workspace_id, match, update) == 1

    async def _take_one(self, workspace_id: str) -> None:
        await self._ensure(workspace_id)
        taken = await self.counts.find_one_and_update(
            workspace_id, {"_id": workspace_id, "n": {"$gte": 2}}, {"$inc": {"n": -1}}
        )
        if taken is None:
            raise LastOwner(
                "a workspace must keep at least one owner: make someone else owner first"
            )

    async def _add(self, workspace_id: str, n: int) -> None:
        await self.counts.update_one(workspace_id, {"_id": workspace_id}, {"$inc": {"n": n}})

    async def _ensure(self, workspace_id: str) -> None:
        """Create the count of a workspace made before counts existed, from its members.

        Every change calls this before its first write, so the members counted here
        include no change whose count update is still to come.
        """
        if await self.counts.find_one(workspace_id, {"_id": workspace_id}) is not None:
            return
        owners = await self.members.count(workspace_id, {"role": Role.OWNER.value})
        # A plain insert (nx-27017 ignores $setOnInsert of _id); a duplicate means another
        # request created it first, and its count is as good.
        with contextlib.suppress(DuplicateKeyError):
            await self.counts.insert(workspace_id, {"_id": workspace_id, "n": owners})


async def check_owner_counts(store: VaultStore, *, fix: bool) -> list[str]:
    """Workspaces whose owner count differs from their owners; ``fix`` sets it to them.

    A count is only ever left too low (a vault that died between its two writes), which
    refuses demotions that could pass. Fix while nobody changes roles: a demotion in
    flight has taken its one from the count but not yet written the member.
    """
    found = []
    async for workspace in store.workspaces.find({}, projection={"_id": 1}):
        ws = str(workspace["_id"])
        owners = await store.members.count(ws, {"role": Role.OWNER.value})
        doc = await store.owner_counts.find_one(ws, {"_id": ws})
        if doc is None or doc["n"] == owners:
            continue  # no count yet: its first change of ownership makes it from members
        found.append(f"{ws}: owner count {doc['n']}, owners {owners}")
        if fix:
            await store.owner_counts.update_one(ws, {"_id": ws}, {"$set": {"n": owners}})
    return found

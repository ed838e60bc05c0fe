"""Invitations to a workspace by link: single use, expiring, stored only as a hash."""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass

from pymongo import ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection

from siar.runtime.mongo import Document, IndexSpec
from siar.runtime.roles import Role
from siar_vault.errors import InvitationInvalid, NotFound

INVITATIONS = "invitations"
INDEXES = (IndexSpec(INVITATIONS, [("workspace_id", 1), ("created_ts", 1)]),)
PREFIX = "sinv_"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Invitation:
    """An invitation as listed (never with its token)."""

    id: str
    workspace_id: str
    role: Role
    email: str | None
    expires_ts: float
    accepted_by: str | None
    revoked: bool
    created_by: str


def _from_doc(doc: Document) -> Invitation:
    return Invitation(
        id=str(doc["id"]),
        workspace_id=str(doc["workspace_id"]),
        role=Role(doc["role"]),
        email=doc.get("email"),
        expires_ts=float(doc["expires_ts"]),
        accepted_by=doc.get("accepted_by"),
        revoked=bool(doc.get("revoked", False)),
        created_by=str(doc.get("created_by", "")),
    )


class Invitations:
    """Creates, lists, revokes and redeems invitations."""

    def __init__(self, collection: AsyncCollection[Document]) -> None:
        self.invitations = collection

    async def create(
        self, *, workspace_id: str, role: Role, email: str | None, ttl_s: float, by: str
    ) -> tuple[Invitation, str]:
        """A new invitation and its token, which is shown only now."""
        token = PREFIX + secrets.token_urlsafe(32)
        doc = {
            "_id": _digest(token),
            "id": f"inv_{secrets.token_hex(8)}",
            "workspace_id": workspace_id,
            "role": role.value,
            "email": email,
            "created_ts": time.time(),
            "expires_ts": time.time() + ttl_s,
            "created_by": by,
            "accepted_by": None,
            "revoked": False,
        }
        await self.invitations.insert_one(doc)
        return _from_doc(doc), token

    async def list(self, workspace_id: str) -> list[Invitation]:
        """A workspace's invitations, newest first."""
        cursor = self.invitations.find({"workspace_id": workspace_id}, sort=[("created_ts", -1)])
        return [_from_doc(d) async for d in cursor]

    async def revoke(self, workspace_id: str, invitation_id: str) -> None:
        """Withdraw an invitation that was not used yet."""
        result = await self.invitations.update_one(
            {"workspace_id": workspace_id, "id": invitation_id, "accepted_by": None},
            {"$set": {"revoked": True}},
        )
        if result.matched_count == 0:
            raise NotFound("no open invitation with that id")

    async def redeem(self, token: str, *, user_id: str, email: str) -> Invitation:
        """Use an invitation once; refuse an expired, revoked or addressed-elsewhere one."""
        doc = await self.invitations.find_one({"_id": _digest(token)})
        if doc is None or doc.get("revoked"):
            raise InvitationInvalid("this invitation does not exist or was withdrawn")
        if doc.get("accepted_by"):
            raise InvitationInvalid("this invitation was already used")
        if float(doc["expires_ts"]) < time.time():
            raise InvitationInvalid("this invitation has expired; ask for a new one")
        if doc.get("email") and doc["email"] != email:
            raise InvitationInvalid("this invitation is for another e-mail address")
        taken = await self.invitations.find_one_and_update(
            {"_id": doc["_id"], "accepted_by": None},
            {"$set": {"accepted_by": user_id}},
            return_document=ReturnDocument.AFTER,
        )
        if taken is None:
            raise InvitationInvalid("this invitation was already used")
        return _from_doc(taken)

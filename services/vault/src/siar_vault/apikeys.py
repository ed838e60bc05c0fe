"""Personal API keys: shown once, stored hashed, scoped, expiring and revocable.

A key is exchanged at the token endpoint (``grant_type=api_key``) for a short-lived
token carrying only the key's permissions and workspaces, so scripts never hold
a password and a leaked key is limited in what and where it can act.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

from pymongo.asynchronous.collection import AsyncCollection

from siar.runtime.mongo import Document, IndexSpec
from siar.runtime.roles import Permission
from siar_vault.errors import InvalidCredentials, NotFound

API_KEYS = "api_keys"
INDEXES = (IndexSpec(API_KEYS, [("user_id", 1)]),)
PREFIX = "sak_"


@dataclass(frozen=True)
class ApiKey:
    """A key as listed (never with its secret)."""

    id: str
    name: str
    permissions: tuple[Permission, ...]
    workspace_ids: tuple[str, ...]
    expires_ts: float
    revoked: bool


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _from_doc(doc: Document) -> ApiKey:
    return ApiKey(
        id=str(doc["_id"]),
        name=str(doc["name"]),
        permissions=tuple(Permission(p) for p in doc["permissions"]),
        workspace_ids=tuple(doc["workspace_ids"]),
        expires_ts=float(doc["expires_ts"]),
        revoked=bool(doc["revoked"]),
    )


class ApiKeys:
    """Creates, lists, revokes and checks API keys."""

    def __init__(self, collection: AsyncCollection[Document]) -> None:
        self.keys = collection

    async def create(
        self,
        *,
        user_id: str,
        name: str,
        permissions: list[Permission],
        workspace_ids: list[str],
        expires_in_days: int,
    ) -> tuple[ApiKey, str]:
        """A new key and its full text, which is never shown again."""
        key_id = secrets.token_hex(8)
        secret = secrets.token_urlsafe(32)
        doc = {
            "_id": key_id,
            "user_id": user_id,
            "name": name,
            "hash": _digest(secret),
            "permissions": sorted({p.value for p in permissions}),
            "workspace_ids": sorted(set(workspace_ids)),
            "expires_ts": time.time() + expires_in_days * 86400,
            "revoked": False,
        }
        await self.keys.insert_one(doc)
        return _from_doc(doc), f"{PREFIX}{key_id}_{secret}"

    async def list(self, user_id: str) -> list[ApiKey]:
        """A user's keys."""
        return [_from_doc(d) async for d in self.keys.find({"user_id": user_id})]

    async def revoke(self, user_id: str, key_id: str) -> None:
        """Revoke one of the user's keys."""
        result = await self.keys.update_one(
            {"_id": key_id, "user_id": user_id}, {"$set": {"revoked": True}}
        )
        if result.matched_count == 0:
            raise NotFound("no such API key")

    async def check(self, presented: str) -> tuple[str, ApiKey]:
        """The user and key behind a presented key; one vague error for every failure."""
        refused = InvalidCredentials("invalid, expired or revoked API key")
        if not presented.startswith(PREFIX) or presented.count("_") < 2:
            raise refused
        key_id, _, secret = presented[len(PREFIX) :].partition("_")
        doc = await self.keys.find_one({"_id": key_id})
        expected = str(doc["hash"]) if doc else _digest("")
        if not hmac.compare_digest(expected, _digest(secret)) or doc is None:
            raise refused
        key = _from_doc(doc)
        if key.revoked or key.expires_ts < time.time():
            raise refused
        return str(doc["user_id"]), key

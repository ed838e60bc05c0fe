"""Sign-in sessions: rotating refresh tokens with reuse detection, and login throttling.

A refresh token is opaque, shown once and stored only as its SHA-256. Each use
rotates it: the old one is spent and a new one of the same *family* is issued. A
spent token presented again means it was stolen (or replayed), so the whole
family is revoked and its holder must sign in again (OAuth 2.0 Security BCP 4.14).
"""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid
from dataclasses import dataclass

from pymongo import ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase

from siar.runtime.mongo import Document, IndexSpec
from siar_vault.errors import InvalidCredentials, TooManyAttempts

REFRESH = "refresh_tokens"
ATTEMPTS = "login_failures"
INDEXES = (
    IndexSpec(REFRESH, [("family", 1)]),
    IndexSpec(REFRESH, [("user_id", 1)]),
    IndexSpec(ATTEMPTS, [("expires_ts", 1)]),
)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Rotated:
    """The user a refresh token belonged to, and its successor."""

    user_id: str
    refresh_token: str


class RefreshTokens:
    """Issues, rotates and revokes refresh tokens."""

    def __init__(self, db: AsyncDatabase[Document], *, ttl_s: int) -> None:
        self.tokens = db[REFRESH]
        self.ttl_s = ttl_s

    async def issue(self, user_id: str, family: str | None = None) -> str:
        """A new refresh token (a new family unless one is given)."""
        token = "srt_" + secrets.token_urlsafe(32)
        await self.tokens.insert_one(
            {
                "_id": _digest(token),
                "user_id": user_id,
                "family": family or uuid.uuid4().hex,
                "expires_ts": time.time() + self.ttl_s,
                "spent": False,
                "revoked": False,
            }
        )
        return token

    async def rotate(self, token: str) -> Rotated:
        """Spend ``token`` and return its successor; reuse revokes the whole family."""
        digest = _digest(token)
        spent = await self.tokens.find_one_and_update(
            {"_id": digest, "spent": False, "revoked": False},
            {"$set": {"spent": True}},
            return_document=ReturnDocument.BEFORE,
        )
        if spent is None:
            known = await self.tokens.find_one({"_id": digest})
            if known is not None:
                await self.tokens.update_many(
                    {"family": known["family"]}, {"$set": {"revoked": True}}
                )
                raise InvalidCredentials(
                    "this refresh token was already used; every session of its sign-in is "
                    "now revoked, so sign in again"
                )
            raise InvalidCredentials("unknown refresh token")
        if float(spent["expires_ts"]) < time.time():
            raise InvalidCredentials("refresh token expired; sign in again")
        successor = await self.issue(str(spent["user_id"]), family=str(spent["family"]))
        return Rotated(user_id=str(spent["user_id"]), refresh_token=successor)

    async def revoke(self, token: str) -> None:
        """Sign out: revoke the token's whole family (unknown tokens are ignored, RFC 7009)."""
        known = await self.tokens.find_one({"_id": _digest(token)})
        if known is not None:
            await self.tokens.update_many({"family": known["family"]}, {"$set": {"revoked": True}})

    async def revoke_user(self, user_id: str) -> None:
        """Sign a user out everywhere."""
        await self.tokens.update_many({"user_id": user_id}, {"$set": {"revoked": True}})


class LoginThrottle:
    """Failed sign-ins per account and per client address, in fixed windows."""

    def __init__(
        self,
        db: AsyncDatabase[Document],
        *,
        per_account: int,
        per_address: int,
        window_s: float,
    ) -> None:
        self.failures = db[ATTEMPTS]
        self.limits = {"account": per_account, "address": per_address}
        self.window_s = window_s

    def _keys(self, email: str, address: str) -> dict[str, str]:
        window = int(time.time() // self.window_s)
        return {
            "account": f"account:{_digest(email)}:{window}",
            "address": f"address:{address}:{window}",
        }

    async def check(self, email: str, address: str) -> None:
        """Refuse before the password is even checked when either bucket is spent."""
        keys = self._keys(email, address)
        docs = await self.failures.find({"_id": {"$in": list(keys.values())}}).to_list()
        counts = {str(d["_id"]): int(d["count"]) for d in docs}
        for scope, key in keys.items():
            if counts.get(key, 0) >= self.limits[scope]:
                retry = self.window_s - time.time() % self.window_s
                what = "this account" if scope == "account" else "your address"
                raise TooManyAttempts(
                    f"too many failed sign-ins for {what}; try again in {int(retry) + 1} s",
                    retry_after_s=retry,
                )

    async def failed(self, email: str, address: str) -> None:
        """Count a failed sign-in in both buckets."""
        for key in self._keys(email, address).values():
            await self.failures.update_one(
                {"_id": key},
                {
                    "$inc": {"count": 1},
                    "$setOnInsert": {"expires_ts": time.time() + 2 * self.window_s},
                },
                upsert=True,
            )

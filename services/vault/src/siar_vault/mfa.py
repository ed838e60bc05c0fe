"""Optional two-factor sign-in with an authenticator app (TOTP).

The shared secret is stored encrypted like any credential (bound to the user as
associated data); a code is accepted once only, so an observed code cannot be replayed.
"""

from __future__ import annotations

from dataclasses import dataclass

from pymongo import ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection

from siar.runtime.mongo import Document
from siar_vault import crypto, totp
from siar_vault.errors import InvalidCredentials, InvalidInput, TotpRequired


def _aad(user_id: str) -> bytes:
    return f"siar-totp:{user_id}".encode()


@dataclass(frozen=True)
class Enrolment:
    """What the user sees once, to add Siar to their authenticator app."""

    secret: str
    uri: str


class TwoFactor:
    """Enrol, confirm, disable and check TOTP codes."""

    def __init__(self, users: AsyncCollection[Document], keyring: crypto.Keyring) -> None:
        self.users = users
        self.keyring = keyring

    def _secret(self, user: Document) -> str:
        return crypto.decrypt(
            self.keyring, user["totp"]["envelope"], _aad(str(user["_id"]))
        ).decode()

    async def begin(self, user_id: str, email: str) -> Enrolment:
        """Start (or restart) enrolment; not active until a code confirms it."""
        user = await self.users.find_one({"_id": user_id})
        if user and user.get("totp", {}).get("enabled"):
            raise InvalidInput("two-factor sign-in is already on; disable it first")
        secret = totp.new_secret()
        envelope = crypto.encrypt(self.keyring, secret.encode(), _aad(user_id))
        await self.users.update_one(
            {"_id": user_id},
            {"$set": {"totp": {"envelope": envelope, "enabled": False, "last_step": 0}}},
        )
        return Enrolment(secret=secret, uri=totp.provisioning_uri(secret, email))

    async def _accept(self, user: Document, code: str) -> None:
        """Check a code and spend its time step (atomically, so it works once)."""
        step = totp.matching_step(self._secret(user), code)
        if step is None:
            raise InvalidCredentials("wrong two-factor code")
        spent = await self.users.find_one_and_update(
            {"_id": user["_id"], "totp.last_step": {"$lt": step}},
            {"$set": {"totp.last_step": step}},
            return_document=ReturnDocument.AFTER,
        )
        if spent is None:
            raise InvalidCredentials("that two-factor code was already used")

    async def confirm(self, user_id: str, code: str) -> None:
        """Turn two-factor sign-in on with a first valid code."""
        user = await self.users.find_one({"_id": user_id})
        if user is None or "totp" not in user:
            raise InvalidInput("start two-factor enrolment first")
        await self._accept(user, code)
        await self.users.update_one({"_id": user_id}, {"$set": {"totp.enabled": True}})

    async def disable(self, user_id: str, code: str) -> None:
        """Turn it off; a current code is required."""
        user = await self.users.find_one({"_id": user_id})
        if user is None or not user.get("totp", {}).get("enabled"):
            raise InvalidInput("two-factor sign-in is not on")
        await self._accept(user, code)
        await self.users.update_one({"_id": user_id}, {"$unset": {"totp": ""}})

    async def check_sign_in(self, user: Document, code: str | None) -> None:
        """At sign-in, after the password: a code is needed when two-factor is on."""
        if not user.get("totp", {}).get("enabled"):
            return
        if not code:
            raise TotpRequired("this account uses two-factor sign-in: send the totp code too")
        await self._accept(user, code)

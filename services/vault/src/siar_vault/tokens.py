"""JWT issuing with the vault's ES256 keys, which live encrypted in its database."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
import uuid
from datetime import timedelta
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec
from pymongo.errors import DuplicateKeyError

from siar.contracts import utcnow
from siar.runtime.auth import JwksCache
from siar.runtime.mongo import Document
from siar_vault import crypto

SIGNING_AAD = b"siar-vault:signing-key"

log = logging.getLogger(__name__)


class TokenIssuer:
    """Signs user and service tokens; publishes the public keys as a JWKS."""

    def __init__(self, keyring: crypto.Keyring, *, issuer: str, audience: str) -> None:
        self.keyring = keyring
        self.issuer = issuer
        self.audience = audience
        self._active: tuple[str, ec.EllipticCurvePrivateKey] | None = None
        self._public: list[dict[str, Any]] = []

    async def add_key(self, collection: Any, *, activate_after_s: float = 0.0) -> str:
        """Create a signing key, published at once and used after ``activate_after_s``.

        The delay lets every service's JWKS cache learn the new key before the
        first token signed with it arrives.
        """
        key = crypto.new_signing_key()
        kid = hashlib.sha256(crypto.public_jwk(key, "")["x"].encode()).hexdigest()[:16]
        now = time.time()
        await collection.insert_one(
            {
                "_id": kid,
                "envelope": crypto.encrypt(self.keyring, crypto.private_pem(key), SIGNING_AAD),
                "created_ts": now,
                "activate_ts": now + activate_after_s,
                "retired": False,
            }
        )
        return kid

    async def load(self, collection: Any) -> None:
        """Load the signing keys (creating the first on a new database); call again to
        pick up a rotation."""
        docs: list[Document] = await collection.find({"retired": False}).to_list()
        if not docs:
            with contextlib.suppress(DuplicateKeyError):
                await self.add_key(collection)
            docs = await collection.find({"retired": False}).to_list()
        docs.sort(key=lambda d: float(d.get("activate_ts", 0.0)))
        now = time.time()
        keys = [
            (
                str(d["_id"]),
                float(d.get("activate_ts", 0.0)),
                crypto.load_private_pem(crypto.decrypt(self.keyring, d["envelope"], SIGNING_AAD)),
            )
            for d in docs
        ]
        usable = [(kid, key) for kid, at, key in keys if at <= now] or [(keys[0][0], keys[0][2])]
        self._active = usable[-1]
        self._public = [crypto.public_jwk(key, kid) for kid, _, key in keys]

    @property
    def active_kid(self) -> str | None:
        """The key id new tokens are signed with."""
        return self._active[0] if self._active else None

    def jwks(self) -> dict[str, Any]:
        """The public keys, for ``/.well-known/jwks.json``."""
        return {"keys": list(self._public)}

    def issue(self, subject: str, kind: str, ttl_s: int, **claims: Any) -> str:
        """A signed token for ``subject``."""
        if self._active is None:
            raise RuntimeError("signing keys are not loaded")
        kid, key = self._active
        now = utcnow()
        payload = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": subject,
            "typ": kind,
            "iat": now,
            "nbf": now - timedelta(seconds=5),
            "exp": now + timedelta(seconds=ttl_s),
            "jti": uuid.uuid4().hex,
            **claims,
        }
        return jwt.encode(payload, key, algorithm="ES256", headers={"kid": kid})


class SigningKeyReloader:
    """Reloads the signing keys now and then, so a rotation needs no restart."""

    def __init__(
        self, issuer: TokenIssuer, collection: Any, jwks: JwksCache, *, every_s: float = 15.0
    ):
        self.issuer = issuer
        self.collection = collection
        self.jwks = jwks
        self.every_s = every_s
        self._stopping = asyncio.Event()

    async def run(self) -> None:
        """Reload until stopped; a failed reload keeps the keys already loaded."""
        while not self._stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.every_s)
            try:
                await self.issuer.load(self.collection)
                self.jwks.set_keys(self.issuer.jwks())
            except Exception:
                log.exception("reloading signing keys failed; keeping the current ones")

    def stop(self) -> None:
        """Stop after the current wait."""
        self._stopping.set()

"""JWT issuing with the vault's ES256 keys, which live encrypted in its database."""

from __future__ import annotations

import hashlib
import uuid
from datetime import timedelta
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec

from siar.contracts import utcnow
from siar.runtime.mongo import Document
from siar_vault import crypto

SIGNING_AAD = b"siar-vault:signing-key"


class TokenIssuer:
    """Signs user and service tokens; publishes the public keys as a JWKS."""

    def __init__(self, keyring: crypto.Keyring, *, issuer: str, audience: str) -> None:
        self.keyring = keyring
        self.issuer = issuer
        self.audience = audience
        self._active: tuple[str, ec.EllipticCurvePrivateKey] | None = None
        self._public: list[dict[str, Any]] = []

    async def load(self, collection: Any) -> None:
        """Load the signing keys, creating the first one on a new database."""
        docs: list[Document] = await collection.find({"retired": False}).to_list()
        if not docs:
            key = crypto.new_signing_key()
            kid = hashlib.sha256(crypto.public_jwk(key, "")["x"].encode()).hexdigest()[:16]
            await collection.update_one(
                {"_id": kid},
                {
                    "$setOnInsert": {
                        "envelope": crypto.encrypt(
                            self.keyring, crypto.private_pem(key), SIGNING_AAD
                        ),
                        "created_at": utcnow(),
                        "retired": False,
                    }
                },
                upsert=True,
            )
            docs = await collection.find({"retired": False}).to_list()
        docs.sort(key=lambda d: d["created_at"])
        keys = [
            (
                str(d["_id"]),
                crypto.load_private_pem(crypto.decrypt(self.keyring, d["envelope"], SIGNING_AAD)),
            )
            for d in docs
        ]
        self._active = keys[-1]
        self._public = [crypto.public_jwk(k, kid) for kid, k in keys]

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

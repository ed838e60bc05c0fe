"""Forged and broken JWTs for the isolation tests, signed with the vault's real key or not.

The test process knows the stack's key-encryption key (it generated the dev secrets), so
it can unwrap the vault's signing key from MongoDB exactly as the vault does and sign
tokens the services cannot tell apart from real ones, except by their claims.
"""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec
from pymongo import AsyncMongoClient

from siar_vault import crypto
from siar_vault.tokens import SIGNING_AAD


def b64url(raw: bytes) -> str:
    """Unpadded base64url, as in a JWT."""
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64url_json(value: dict[str, Any]) -> str:
    return b64url(json.dumps(value, separators=(",", ":")).encode())


def header_of(token: str) -> dict[str, Any]:
    """The (unverified) header of a JWT."""
    return dict(jwt.get_unverified_header(token))


def claims_of(token: str) -> dict[str, Any]:
    """The (unverified) claims of a JWT."""
    return dict(jwt.decode(token, options={"verify_signature": False}))


def tampered(token: str) -> str:
    """``token`` with one character in the middle of its signature changed.

    The middle, not the end: the last base64url character of an ES256 signature carries
    padding bits, so changing it may leave the decoded signature as it was.
    """
    head, payload, signature = token.split(".")
    i = len(signature) // 2
    swapped = "A" if signature[i] != "A" else "B"
    return f"{head}.{payload}.{signature[:i]}{swapped}{signature[i + 1 :]}"


def unsigned(claims: dict[str, Any], kid: str) -> str:
    """An ``alg: none`` token carrying ``claims`` (and a real key id), with no signature."""
    return f"{_b64url_json({'alg': 'none', 'typ': 'JWT', 'kid': kid})}.{_b64url_json(claims)}."


def fresh_claims(claims: dict[str, Any], *, ttl_s: int) -> dict[str, Any]:
    """``claims`` re-dated: issued now, expiring in ``ttl_s`` seconds (negative: expired)."""
    now = int(time.time())
    issued = min(now, now + ttl_s - 60)
    return {**claims, "iat": issued, "nbf": issued - 5, "exp": now + ttl_s}


def sign(claims: dict[str, Any], key: ec.EllipticCurvePrivateKey, kid: str) -> str:
    """An ES256 token over ``claims`` with header ``kid``."""
    return jwt.encode(claims, key, algorithm="ES256", headers={"kid": kid})


async def vault_signing_key(
    mongodb_url: str, database: str, kid: str, kek_b64: str
) -> ec.EllipticCurvePrivateKey:
    """The vault's private signing key ``kid``, unwrapped with the KEK (version 1)."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongodb_url)
    try:
        doc = await client[database]["signing_keys"].find_one({"_id": kid})
    finally:
        await client.close()
    if doc is None:
        raise AssertionError(f"no signing key {kid!r} in {database}.signing_keys")
    keyring = crypto.Keyring.from_base64({1: kek_b64}, active=1)
    return crypto.load_private_pem(crypto.decrypt(keyring, doc["envelope"], SIGNING_AAD))

"""Envelope encryption (AES-256-GCM) and the vault's JWT signing keys."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from jwt.algorithms import ECAlgorithm

from siar_vault.errors import DecryptionFailed
from siar_vault.kek import Keyring

__all__ = ["Keyring", "decrypt", "encrypt", "rewrap"]

NONCE_BYTES = 12


def _seal(key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def _open(key: bytes, sealed: bytes, aad: bytes) -> bytes:
    if len(sealed) < NONCE_BYTES + 16:  # nonce + GCM tag: anything shorter is corrupt
        raise DecryptionFailed("ciphertext did not authenticate")
    try:
        return AESGCM(key).decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], aad)
    except InvalidTag as err:
        raise DecryptionFailed("ciphertext did not authenticate") from err


def encrypt(keyring: Keyring, plaintext: bytes, aad: bytes) -> dict[str, Any]:
    """Encrypt with a fresh data key, itself wrapped by the active KEK; both bound to aad."""
    data_key = AESGCM.generate_key(bit_length=256)
    return {
        "alg": "AES-256-GCM",
        "kek_version": keyring.active,
        "wrapped_key": _seal(keyring.kek(keyring.active), data_key, aad),
        "ciphertext": _seal(data_key, plaintext, aad),
    }


def decrypt(keyring: Keyring, envelope: Mapping[str, Any], aad: bytes) -> bytes:
    """Unwrap the data key and decrypt; fails if the aad (workspace/account) differs."""
    kek = keyring.kek(int(envelope["kek_version"]))
    data_key = _open(kek, bytes(envelope["wrapped_key"]), aad)
    return _open(data_key, bytes(envelope["ciphertext"]), aad)


def rewrap(keyring: Keyring, envelope: Mapping[str, Any], aad: bytes) -> dict[str, Any]:
    """Re-wrap the data key with the active KEK; the ciphertext is untouched."""
    kek = keyring.kek(int(envelope["kek_version"]))
    data_key = _open(kek, bytes(envelope["wrapped_key"]), aad)
    return {
        **envelope,
        "kek_version": keyring.active,
        "wrapped_key": _seal(keyring.kek(keyring.active), data_key, aad),
    }


def new_signing_key() -> ec.EllipticCurvePrivateKey:
    """A fresh P-256 key for ES256."""
    return ec.generate_private_key(ec.SECP256R1())


def private_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    """PKCS#8 PEM of a private key (stored only encrypted)."""
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def load_private_pem(pem: bytes) -> ec.EllipticCurvePrivateKey:
    """Load a private key from PEM."""
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise ValueError("signing key is not an EC key")
    return key


def public_jwk(key: ec.EllipticCurvePrivateKey, kid: str) -> dict[str, Any]:
    """The public JWK (with kid, use and alg) of a signing key."""
    jwk: dict[str, Any] = ECAlgorithm.to_jwk(key.public_key(), as_dict=True)
    return {**jwk, "kid": kid, "use": "sig", "alg": "ES256"}

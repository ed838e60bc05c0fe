"""Envelope encryption (AES-256-GCM) and the vault's JWT signing keys."""

from __future__ import annotations

import base64
import os
from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from jwt.algorithms import ECAlgorithm

from siar_vault.errors import DecryptionFailed

NONCE_BYTES = 12


class Keyring:
    """Versioned key-encryption keys; new secrets are wrapped with the active one."""

    def __init__(self, keys: Mapping[int, bytes], active: int) -> None:
        if active not in keys:
            raise ValueError(f"the active KEK version {active} is not configured")
        for version, key in keys.items():
            if len(key) != 32:
                raise ValueError(f"KEK version {version} must be 32 bytes")
        self._keys = dict(keys)
        self.active = active

    @classmethod
    def from_base64(cls, keys: Mapping[int, str], active: int) -> Keyring:
        """Build from base64 strings (settings)."""
        return cls({v: base64.b64decode(k) for v, k in keys.items()}, active)

    def kek(self, version: int) -> bytes:
        """The key of ``version``; a missing version cannot decrypt."""
        try:
            return self._keys[version]
        except KeyError as err:
            raise DecryptionFailed(f"KEK version {version} is not available") from err


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

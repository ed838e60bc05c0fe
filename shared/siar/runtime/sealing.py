"""Secrets a service must read back (e.g. to sign webhooks), sealed at rest.

A webhook's HMAC secret cannot be stored as a hash: the service needs it to sign each
call. It is stored sealed with AES-256-GCM under a key derived by HKDF-SHA256 from the
service's own secret, with the owning tenant (the workspace id) as associated data, so
a database reader learns nothing and a sealed value copied into another workspace's
document does not open. A value that no longer opens (the service secret was rotated,
or the document was tampered with) reads as unset with a warning: the owner sets the
secret again, rather than the service signing with something it cannot trust.

The stored form is ``{"nonce": <base64>, "sealed": <base64>}`` (ciphertext with tag).
"""

from __future__ import annotations

import base64
import logging
import os
from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

log = logging.getLogger(__name__)

NONCE_BYTES = 12


def sealing_key(service_secret: str, purpose: str) -> bytes:
    """A 256-bit key for one ``purpose`` (HKDF ``info``, e.g. ``"siar-scheduler:webhook"``),
    derived from a service secret: one secret, independent keys per purpose."""
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose.encode())
    return hkdf.derive(service_secret.encode())


def seal(key: bytes, owner: str, secret: str) -> dict[str, str]:
    """``secret`` sealed for ``owner`` (bound as associated data), with a fresh nonce."""
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(key).encrypt(nonce, secret.encode(), owner.encode())
    return {"nonce": base64.b64encode(nonce).decode(), "sealed": base64.b64encode(sealed).decode()}


def is_sealed(value: object) -> bool:
    """Whether a stored value has the sealed form (and not, say, a legacy plain string)."""
    return isinstance(value, Mapping) and "nonce" in value and "sealed" in value


def unseal(key: bytes, owner: str, stored: Mapping[str, Any] | None, *, what: str) -> str | None:
    """The secret sealed in ``stored`` for ``owner``; None (with a warning naming
    ``what``) when it is missing, not sealed, or does not open under ``key``."""
    if stored is None:
        return None
    try:
        nonce, sealed = base64.b64decode(stored["nonce"]), base64.b64decode(stored["sealed"])
        return AESGCM(key).decrypt(nonce, sealed, owner.encode()).decode()
    except (KeyError, TypeError, ValueError, InvalidTag):
        # Sealed under another service secret (rotated), or not sealed at all.
        log.warning("the %s of %s cannot be unsealed; set it again", what, owner)
        return None

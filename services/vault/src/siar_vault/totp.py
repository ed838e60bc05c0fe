"""RFC 6238 time-based one-time passwords (the codes of authenticator apps). No I/O."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import struct
import time
from urllib.parse import quote, urlencode

STEP_S = 30
DIGITS = 6
ISSUER = "Siar"


def new_secret() -> str:
    """A random 160-bit secret, base32 as authenticator apps expect."""
    return base64.b32encode(secrets.token_bytes(20)).decode().rstrip("=")


def _code(secret: str, counter: int) -> str:
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(value % 10**DIGITS).zfill(DIGITS)


def code_at(secret: str, at: float) -> str:
    """The code valid at time ``at`` (for tests and clients)."""
    return _code(secret, int(at // STEP_S))


def matching_step(
    secret: str, code: str, *, now: float | None = None, drift: int = 1
) -> int | None:
    """The time step ``code`` belongs to (allowing ``drift`` steps of clock skew), or None.

    Every candidate is compared in constant time, so timing reveals nothing.
    """
    if not (len(code) == DIGITS and code.isdigit()):
        return None
    current = int((now if now is not None else time.time()) // STEP_S)
    found: int | None = None
    for step in range(current - drift, current + drift + 1):
        if hmac.compare_digest(_code(secret, step), code):
            found = step
    return found


def provisioning_uri(secret: str, account: str) -> str:
    """The otpauth:// URI an authenticator app scans as a QR code."""
    label = quote(f"{ISSUER}:{account}")
    query = urlencode({"secret": secret, "issuer": ISSUER, "digits": DIGITS, "period": STEP_S})
    return f"otpauth://totp/{label}?{query}"

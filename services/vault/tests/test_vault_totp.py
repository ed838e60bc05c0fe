"""TOTP against the RFC 6238 test vectors, and the drift and replay rules."""

from __future__ import annotations

import base64

import pytest

from siar_vault import totp

# RFC 6238 Appendix B, SHA-1 seed "12345678901234567890", 8 digits; we use the last 6.
RFC_SECRET = base64.b32encode(b"12345678901234567890").decode()


@pytest.mark.parametrize(
    ("at", "eight_digits"),
    [
        (59, "94287082"),
        (1111111109, "07081804"),
        (1111111111, "14050471"),
        (2000000000, "69279037"),
    ],
)
def test_rfc_6238_vectors(at: int, eight_digits: str) -> None:
    assert totp.code_at(RFC_SECRET, at) == eight_digits[-6:]


def test_codes_match_their_step_with_one_step_of_drift() -> None:
    secret = totp.new_secret()
    now = 1_800_000_000.0
    step = int(now // 30)
    assert totp.matching_step(secret, totp.code_at(secret, now), now=now) == step
    assert totp.matching_step(secret, totp.code_at(secret, now - 30), now=now) == step - 1
    assert totp.matching_step(secret, totp.code_at(secret, now + 30), now=now) == step + 1
    assert totp.matching_step(secret, totp.code_at(secret, now - 90), now=now) is None


@pytest.mark.parametrize("bad", ["", "12345", "1234567", "abcdef", "12 456"])
def test_malformed_codes_never_match(bad: str) -> None:
    assert totp.matching_step(totp.new_secret(), bad) is None


def test_provisioning_uri_names_issuer_and_account() -> None:
    uri = totp.provisioning_uri("ABC", "ana@example.com")
    assert uri.startswith("otpauth://totp/Siar%3Aana%40example.com?")
    assert "secret=ABC" in uri
    assert "issuer=Siar" in uri

"""Envelope encryption of account credentials: AES-256-GCM data keys wrapped by versioned KEKs."""

from __future__ import annotations

import base64
import os
from typing import Any

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from siar_vault import crypto
from siar_vault.crypto import NONCE_BYTES, Keyring
from siar_vault.errors import DecryptionFailed

KEK_1 = bytes(range(32))
KEK_2 = bytes(range(100, 132))
AAD = b"ws_1:acc_1"
SECRET = b'{"access_token": "tok-3f9a1c", "refresh_token": "ref-77e2b0"}'


def keyring_v1() -> Keyring:
    return Keyring({1: KEK_1}, active=1)


def flip(data: bytes, index: int) -> bytes:
    """``data`` with one bit of byte ``index`` flipped."""
    changed = bytearray(data)
    changed[index] ^= 0x01
    return bytes(changed)


def unwrap_data_key(kek: bytes, envelope: dict[str, Any], aad: bytes) -> bytes:
    """The data key inside an envelope, opened independently of the code under test."""
    wrapped = envelope["wrapped_key"]
    return AESGCM(kek).decrypt(wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], aad)


def test_round_trip() -> None:
    keyring = keyring_v1()
    envelope = crypto.encrypt(keyring, SECRET, AAD)
    assert envelope["alg"] == "AES-256-GCM"
    assert envelope["kek_version"] == 1
    assert crypto.decrypt(keyring, envelope, AAD) == SECRET


@pytest.mark.parametrize("plaintext", [b"", b"x", os.urandom(5000)])
def test_round_trip_any_length(plaintext: bytes) -> None:
    keyring = keyring_v1()
    assert crypto.decrypt(keyring, crypto.encrypt(keyring, plaintext, AAD), AAD) == plaintext


@pytest.mark.parametrize("other_aad", [b"ws_2:acc_1", b"ws_1:acc_2", b"", AAD + b" "])
def test_ciphertext_is_bound_to_workspace_and_account(other_aad: bytes) -> None:
    keyring = keyring_v1()
    envelope = crypto.encrypt(keyring, SECRET, AAD)
    with pytest.raises(DecryptionFailed):
        crypto.decrypt(keyring, envelope, other_aad)


def test_data_key_is_wrapped_with_the_aad_too() -> None:
    """Moving an account's wrapped key to another account must not unwrap."""
    envelope = crypto.encrypt(keyring_v1(), SECRET, AAD)
    assert len(unwrap_data_key(KEK_1, envelope, AAD)) == 32
    with pytest.raises(InvalidTag):
        unwrap_data_key(KEK_1, envelope, b"ws_2:acc_1")


@pytest.mark.parametrize("part", ["ciphertext", "wrapped_key"])
@pytest.mark.parametrize("where", ["nonce", "body", "tag"])
def test_tampering_fails(part: str, where: str) -> None:
    keyring = keyring_v1()
    envelope = crypto.encrypt(keyring, SECRET, AAD)
    blob: bytes = envelope[part]
    index = {"nonce": 0, "body": NONCE_BYTES + 1, "tag": len(blob) - 1}[where]
    with pytest.raises(DecryptionFailed):
        crypto.decrypt(keyring, {**envelope, part: flip(blob, index)}, AAD)


@pytest.mark.parametrize("part", ["ciphertext", "wrapped_key"])
@pytest.mark.parametrize("keep", [0, 5, NONCE_BYTES, NONCE_BYTES + 15])
def test_truncated_envelope_fails_as_decryption_failure(part: str, keep: int) -> None:
    """A corrupt stored envelope is a DecryptionFailed, never a stray ValueError."""
    keyring = keyring_v1()
    envelope = crypto.encrypt(keyring, SECRET, AAD)
    with pytest.raises(DecryptionFailed):
        crypto.decrypt(keyring, {**envelope, part: envelope[part][:keep]}, AAD)


def test_swapped_wrapped_keys_fail() -> None:
    keyring = keyring_v1()
    first = crypto.encrypt(keyring, SECRET, AAD)
    second = crypto.encrypt(keyring, b"another secret", AAD)
    with pytest.raises(DecryptionFailed):
        crypto.decrypt(keyring, {**first, "wrapped_key": second["wrapped_key"]}, AAD)


def test_wrong_kek_fails() -> None:
    envelope = crypto.encrypt(keyring_v1(), SECRET, AAD)
    with pytest.raises(DecryptionFailed):
        crypto.decrypt(Keyring({1: KEK_2}, active=1), envelope, AAD)


def test_missing_kek_version_fails() -> None:
    envelope = crypto.encrypt(keyring_v1(), SECRET, AAD)
    with pytest.raises(DecryptionFailed, match="version 1"):
        crypto.decrypt(Keyring({2: KEK_2}, active=2), envelope, AAD)


def test_rewrap_to_new_active_kek() -> None:
    old = crypto.encrypt(keyring_v1(), SECRET, AAD)
    rotating = Keyring({1: KEK_1, 2: KEK_2}, active=2)

    new = crypto.rewrap(rotating, old, AAD)

    assert new["kek_version"] == 2
    assert new["ciphertext"] == old["ciphertext"]
    assert new["wrapped_key"] != old["wrapped_key"]
    assert unwrap_data_key(KEK_2, new, AAD) == unwrap_data_key(KEK_1, old, AAD)
    # The old KEK can be retired: only version 2 is needed now.
    assert crypto.decrypt(Keyring({2: KEK_2}, active=2), new, AAD) == SECRET
    # The input envelope is left as it was, still readable with the old KEK.
    assert old["kek_version"] == 1
    assert crypto.decrypt(keyring_v1(), old, AAD) == SECRET


def test_rewrap_checks_the_aad() -> None:
    old = crypto.encrypt(keyring_v1(), SECRET, AAD)
    with pytest.raises(DecryptionFailed):
        crypto.rewrap(Keyring({1: KEK_1, 2: KEK_2}, active=2), old, b"ws_2:acc_1")


def test_rewrap_needs_the_old_kek() -> None:
    old = crypto.encrypt(keyring_v1(), SECRET, AAD)
    with pytest.raises(DecryptionFailed):
        crypto.rewrap(Keyring({2: KEK_2}, active=2), old, AAD)


def test_each_encryption_uses_fresh_data_key_and_nonces() -> None:
    keyring = keyring_v1()
    first = crypto.encrypt(keyring, SECRET, AAD)
    second = crypto.encrypt(keyring, SECRET, AAD)
    assert first["ciphertext"] != second["ciphertext"]
    assert first["wrapped_key"] != second["wrapped_key"]
    assert first["ciphertext"][:NONCE_BYTES] != second["ciphertext"][:NONCE_BYTES]
    assert first["wrapped_key"][:NONCE_BYTES] != second["wrapped_key"][:NONCE_BYTES]
    first_key = unwrap_data_key(KEK_1, first, AAD)
    second_key = unwrap_data_key(KEK_1, second, AAD)
    assert len(first_key) == 32
    assert first_key != second_key
    assert first_key != KEK_1


def test_plaintext_and_data_key_never_appear_in_envelope() -> None:
    envelope = crypto.encrypt(keyring_v1(), SECRET, AAD)
    data_key = unwrap_data_key(KEK_1, envelope, AAD)
    blobs = [v for v in envelope.values() if isinstance(v, bytes)]
    assert blobs
    for needle in (SECRET, b"tok-3f9a1c", b"ref-77e2b0", data_key, KEK_1):
        assert all(needle not in blob for blob in blobs)
        assert needle.decode("latin-1") not in repr(envelope)


def test_keyring_refuses_keys_of_wrong_length() -> None:
    for bad in (b"", b"k" * 16, b"k" * 31, b"k" * 33, b"k" * 64):
        with pytest.raises(ValueError, match="32 bytes"):
            Keyring({1: KEK_1, 2: bad}, active=1)


def test_keyring_refuses_missing_active_version() -> None:
    with pytest.raises(ValueError, match="active"):
        Keyring({1: KEK_1}, active=2)
    with pytest.raises(ValueError, match="active"):
        Keyring({}, active=1)


def test_keyring_from_base64() -> None:
    keyring = Keyring.from_base64(
        {1: base64.b64encode(KEK_1).decode(), 2: base64.b64encode(KEK_2).decode()}, active=2
    )
    assert keyring.active == 2
    assert keyring.kek(1) == KEK_1
    assert keyring.kek(2) == KEK_2
    envelope = crypto.encrypt(keyring, SECRET, AAD)
    assert envelope["kek_version"] == 2
    assert crypto.decrypt(Keyring({2: KEK_2}, active=2), envelope, AAD) == SECRET

"""Vault domain rules: passwords, e-mail addresses and the hash-chained audit entry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from siar_vault.domain import (
    GENESIS_HASH,
    MAX_PASSWORD_LENGTH,
    MIN_PASSWORD_LENGTH,
    AuditEntry,
    check_password_rules,
    normalise_email,
)
from siar_vault.errors import InvalidInput, WeakPassword

EMAIL = "maria.santos@example.com"


@pytest.mark.parametrize(
    ("password", "rule"),
    [
        ("Short1!x", "at least 10 characters"),
        ("a1b2c3d4e", "at least 10 characters"),
        ("", "at least 10 characters"),
        ("Ab1!" * 64 + "x", "at most 256 characters"),
        ("aaaaaaaaaaaa", "at least 4 different characters"),
        ("abcabcabcabc", "at least 4 different characters"),
        ("xx-maria.santos-2026", "must not contain the e-mail name"),
        ("MARIA.SANTOS!!2026", "must not contain the e-mail name"),
    ],
)
def test_password_rules_name_the_broken_rule(password: str, rule: str) -> None:
    with pytest.raises(WeakPassword, match=rule):
        check_password_rules(password, email=EMAIL)


@pytest.mark.parametrize(
    "password",
    [
        "correct horse battery staple",
        "abcd" + "a" * (MIN_PASSWORD_LENGTH - 4),  # exactly the minimum, 4 distinct
        "Ab1!" * (MAX_PASSWORD_LENGTH // 4),  # exactly the maximum
        "maria-is-not-the-full-name",  # a part of the e-mail name is fine
    ],
)
def test_good_passwords_pass(password: str) -> None:
    check_password_rules(password, email=EMAIL)


def test_length_bounds_are_exact() -> None:
    check_password_rules("abcd" * 3, email=EMAIL)
    with pytest.raises(WeakPassword, match="at least"):
        check_password_rules("abcd" * 2 + "a", email=EMAIL)  # 9 characters
    check_password_rules("abcd" * 64, email=EMAIL)  # 256 characters
    with pytest.raises(WeakPassword, match="at most"):
        check_password_rules("abcd" * 64 + "e", email=EMAIL)


def test_short_email_names_are_not_checked() -> None:
    """A two-letter local part would forbid too many passwords, so it is skipped."""
    check_password_rules("jo-walks-the-dog", email="jo@example.com")
    check_password_rules("no email given here", email="")
    with pytest.raises(WeakPassword, match="e-mail name"):
        check_password_rules("bob-walks-the-dog", email="Bob@example.com")


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("Alice@Example.COM", "alice@example.com"),
        ("  bob.smith+siar@mail.example.co.id \n", "bob.smith+siar@mail.example.co.id"),
        ("x@y.io", "x@y.io"),
    ],
)
def test_normalise_email(raw: str, normal: str) -> None:
    assert normalise_email(raw) == normal
    assert normalise_email(normal) == normal


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "alice",
        "alice@",
        "@example.com",
        "alice@example",
        "alice@@example.com",
        "al ice@example.com",
        "alice@exa mple.com",
        "alice@example.com\nbob@example.com",
        "a" * 250 + "@example.com",
    ],
)
def test_normalise_email_refuses_non_addresses(raw: str) -> None:
    with pytest.raises(InvalidInput, match="e-mail"):
        normalise_email(raw)


AT = datetime(2026, 5, 1, 9, 30, 15, 123000, tzinfo=UTC)


def audit_entry(**changes: Any) -> AuditEntry:
    fields: dict[str, Any] = {
        "workspace_id": "ws_1",
        "seq": 7,
        "at": AT,
        "actor": "svc:publisher",
        "action": "credential.read",
        "target": "acc_1",
        "details": {"purpose": "publish", "post_id": "pst_1"},
        "prev_hash": "a" * 64,
    }
    return AuditEntry(**{**fields, **changes})


@pytest.mark.parametrize(
    ("field", "other"),
    [
        ("workspace_id", "ws_2"),
        ("seq", 8),
        ("at", AT + timedelta(milliseconds=1)),
        ("actor", "usr_1"),
        ("action", "credential.rotated"),
        ("target", "acc_2"),
        ("details", {"purpose": "publish", "post_id": "pst_2"}),
        ("details", {}),
        ("prev_hash", GENESIS_HASH),
    ],
)
def test_hash_changes_when_any_field_changes(field: str, other: object) -> None:
    assert audit_entry().compute_hash() != audit_entry(**{field: other}).compute_hash()


def test_hash_is_sha256_hex_and_ignores_its_own_hash_field() -> None:
    digest = audit_entry().compute_hash()
    assert len(digest) == 64
    assert int(digest, 16) >= 0
    assert audit_entry(hash=digest).compute_hash() == digest
    assert audit_entry(hash="tampered").compute_hash() == digest


def test_hash_does_not_depend_on_details_key_order() -> None:
    forward = audit_entry(details={"a": 1, "b": [1, 2]})
    backward = audit_entry(details={"b": [1, 2], "a": 1})
    assert forward.compute_hash() == backward.compute_hash()


@pytest.mark.parametrize("mode", ["python", "json"])
def test_hash_is_stable_across_dump_and_validate(mode: str) -> None:
    entry = audit_entry()
    entry = entry.model_copy(update={"hash": entry.compute_hash()})
    stored = entry.model_dump(mode=mode)
    loaded = AuditEntry.model_validate(stored)
    assert loaded == entry
    assert loaded.compute_hash() == entry.hash


def test_hash_chain_detects_an_edited_link() -> None:
    first = audit_entry(seq=1, prev_hash=GENESIS_HASH)
    first = first.model_copy(update={"hash": first.compute_hash()})
    second = audit_entry(seq=2, prev_hash=first.hash)
    second = second.model_copy(update={"hash": second.compute_hash()})
    edited = AuditEntry.model_validate({**first.model_dump(), "actor": "someone-else"})
    assert edited.compute_hash() != second.prev_hash
    assert first.compute_hash() == second.prev_hash

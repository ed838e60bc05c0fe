"""Sealed secrets: they open only for their owner under the key they were sealed with."""

from __future__ import annotations

import json
import logging

import pytest

from siar.runtime.sealing import is_sealed, seal, sealing_key, unseal

KEY = sealing_key("service-secret", "siar-test:webhook")


def test_a_sealed_secret_opens_for_its_owner_and_hides_the_plain_text() -> None:
    stored = seal(KEY, "ws_a", "the-webhook-secret")
    assert is_sealed(stored)
    assert "the-webhook-secret" not in json.dumps(stored)
    assert unseal(KEY, "ws_a", stored, what="webhook secret") == "the-webhook-secret"


def test_each_seal_uses_a_fresh_nonce() -> None:
    assert seal(KEY, "ws_a", "same") != seal(KEY, "ws_a", "same")


def test_purposes_and_service_secrets_give_different_keys() -> None:
    assert sealing_key("service-secret", "siar-test:other") != KEY
    assert sealing_key("rotated-secret", "siar-test:webhook") != KEY
    assert sealing_key("service-secret", "siar-test:webhook") == KEY
    assert len(KEY) == 32  # AES-256


@pytest.mark.parametrize(
    ("key", "owner"),
    [(KEY, "ws_b"), (sealing_key("rotated-secret", "siar-test:webhook"), "ws_a")],
    ids=["another workspace", "a rotated service secret"],
)
def test_a_secret_does_not_open_elsewhere(
    key: bytes, owner: str, caplog: pytest.LogCaptureFixture
) -> None:
    stored = seal(KEY, "ws_a", "the-webhook-secret")
    with caplog.at_level(logging.WARNING):
        assert unseal(key, owner, stored, what="webhook secret") is None
    assert f"webhook secret of {owner} cannot be unsealed" in caplog.text


def test_tampered_plain_or_missing_values_read_as_unset() -> None:
    stored = seal(KEY, "ws_a", "the-webhook-secret")
    flipped = stored["sealed"][:-4] + ("AAAA" if stored["sealed"][-4:] != "AAAA" else "BBBB")
    assert unseal(KEY, "ws_a", {**stored, "sealed": flipped}, what="s") is None
    assert unseal(KEY, "ws_a", "a-legacy-plain-secret", what="s") is None  # type: ignore[arg-type]
    assert unseal(KEY, "ws_a", {"nonce": "!!"}, what="s") is None
    assert unseal(KEY, "ws_a", None, what="s") is None
    assert not is_sealed("a-legacy-plain-secret")

"""SIAR_VAULT_MASTODON_INSTANCE: the instance Siar's Mastodon app is registered on."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from siar.runtime.settings import PlatformSettings
from siar_vault.settings import Settings


def settings(instance: str | None) -> Settings:
    return Settings(platform=PlatformSettings(env="test"), mastodon_instance=instance)


def test_an_instance_url_is_kept_without_its_trailing_slash() -> None:
    assert settings("https://social.example/").mastodon_instance == "https://social.example"


@pytest.mark.parametrize("unset", [None, ""])
def test_unset_or_empty_means_mastodon_social(unset: str | None) -> None:
    assert settings(unset).mastodon_instance is None


def test_a_bare_host_is_refused_with_the_reason() -> None:
    with pytest.raises(ValidationError, match="must be an https://"):
        settings("social.example")

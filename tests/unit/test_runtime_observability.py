"""The pure parts of observability: refusal lines, lag arithmetic, consumption outcomes."""

from __future__ import annotations

from typing import Any

import pytest
from aiokafka import TopicPartition
from pydantic import Field, SecretStr, ValidationError

from siar.runtime import consumption
from siar.runtime.lag import partition_lag
from siar.runtime.settings import ServiceSettings, SettingError, refusal, service_config


class DemoSettings(ServiceSettings):
    model_config = service_config("SIAR_DEMO_")
    port: int = Field(default=8000, ge=1, le=65535)
    service_secret: SecretStr = SecretStr("")

    def required_secrets(self) -> tuple[str, ...]:
        return ("service_secret",)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in list(os.environ):
        if name.startswith("SIAR_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("SIAR_ENV", "dev")


def refused(monkeypatch: pytest.MonkeyPatch, **env: str) -> str:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError) as caught:
        DemoSettings()
    return refusal(caught.value, DemoSettings)


def test_an_own_field_is_named_with_the_service_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    line = refused(monkeypatch, SIAR_DEMO_PORT="99999")
    assert line.startswith("invalid setting SIAR_DEMO_PORT: ")
    assert "99999" not in line


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SIAR_KAFKA_BOOTSTRAP", "kafka"),
        ("SIAR_KAFKA_BOOTSTRAP", "kafka:0"),
        ("SIAR_MONGODB_URL", "localhost:27017"),
        ("SIAR_LOG_LEVEL", "chatty"),
        ("SIAR_LOG_FORMAT", "xml"),
    ],
)
def test_a_platform_field_is_named_with_the_platform_prefix(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    assert refused(monkeypatch, **{name: value}).startswith(f"invalid setting {name}: ")


def test_a_missing_secret_in_prod_names_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    line = refused(monkeypatch, SIAR_ENV="prod")
    assert "SIAR_DEMO_SERVICE_SECRET must be set" in line


def test_good_platform_values_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIAR_KAFKA_BOOTSTRAP", "k1:9092, k2:9093")
    monkeypatch.setenv("SIAR_MONGODB_URL", "mongodb+srv://db.example.com/")
    monkeypatch.setenv("SIAR_LOG_LEVEL", "debug")
    settings = DemoSettings()
    assert settings.platform.log_level == "DEBUG"


def test_a_setting_error_keeps_its_variable() -> None:
    err = SettingError("SIAR_VAULT_KEK_FILE", "cannot be read")
    assert refusal(err, DemoSettings) == "invalid setting SIAR_VAULT_KEK_FILE: cannot be read"


class Consumer:
    """Just the four calls partition_lag makes, with fixed offsets."""

    def __init__(self, ends: dict[int, int], committed: dict[int, int | None]) -> None:
        self.tps = {p: TopicPartition("post.scheduled", p) for p in ends}
        self.ends = {self.tps[p]: v for p, v in ends.items()}
        self.commits = {self.tps[p]: v for p, v in committed.items()}

    def assignment(self) -> set[TopicPartition]:
        return set(self.tps.values())

    async def end_offsets(self, tps: list[TopicPartition]) -> dict[TopicPartition, int]:
        return {tp: self.ends[tp] for tp in tps}

    async def beginning_offsets(self, tps: list[TopicPartition]) -> dict[TopicPartition, int]:
        return dict.fromkeys(tps, 2)

    async def committed(self, tp: TopicPartition) -> int | None:
        return self.commits[tp]


async def test_lag_is_end_minus_committed_from_the_beginning_and_never_negative() -> None:
    consumer: Any = Consumer({0: 10, 1: 7, 2: 3}, {0: 4, 1: None, 2: 9})
    lag = await partition_lag(consumer)
    assert {tp.partition: n for tp, n in lag.items()} == {0: 6, 1: 5, 2: 0}


async def test_no_assignment_no_lag() -> None:
    consumer: Any = Consumer({}, {})
    assert await partition_lag(consumer) == {}


def test_a_duplicate_is_marked_only_inside_a_handled_message() -> None:
    consumption.mark_duplicate()  # outside any message: nothing to mark, no error
    state = consumption.begin()
    assert not state.duplicate
    consumption.mark_duplicate()
    assert state.duplicate
    assert not consumption.begin().duplicate  # the next message starts clean


@pytest.mark.parametrize(
    ("status", "outcome"),
    [(200, "ok"), (401, "denied"), (403, "denied"), (404, "failed"), (503, "failed")],
)
def test_a_lease_response_counts_by_status(status: int, outcome: str) -> None:
    from siar_vault.metrics import read_outcome

    assert read_outcome(status) == outcome

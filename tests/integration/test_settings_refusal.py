"""Every service refuses to start on a missing or invalid setting, in one line naming it."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

SERVICES = ("vault", "scheduler", "publisher", "inbox", "analytics")

# (service, environment, the variable the one line must name)
CASES: list[tuple[str, dict[str, str], str]] = [
    *[(s, {f"SIAR_{s.upper()}_PORT": "eighty"}, f"SIAR_{s.upper()}_PORT") for s in SERVICES],
    *[
        (s, {"SIAR_ENV": "prod"}, f"SIAR_{s.upper()}_SERVICE_SECRET")
        for s in ("scheduler", "publisher", "inbox")
    ],
    ("vault", {"SIAR_ENV": "prod"}, "SIAR_VAULT_KEK_KEYS"),
    ("vault", {"SIAR_VAULT_KEK_KEYS": '{"1": "c2hvcnQ="}'}, "SIAR_VAULT_KEK_KEYS"),
    ("vault", {"SIAR_VAULT_KEK_FILE": "/nonexistent/keks.json"}, "SIAR_VAULT_KEK_FILE"),
    ("analytics", {"SIAR_MONGODB_URL": "db.example.com:27017"}, "SIAR_MONGODB_URL"),
    ("inbox", {"SIAR_KAFKA_BOOTSTRAP": "kafka-without-port"}, "SIAR_KAFKA_BOOTSTRAP"),
    ("publisher", {"SIAR_LOG_LEVEL": "LOUD"}, "SIAR_LOG_LEVEL"),
    ("scheduler", {"SIAR_SCHEDULER_GRACEFUL_TIMEOUT_S": "-1"}, "SIAR_SCHEDULER_GRACEFUL_TIMEOUT_S"),
]


def _clean_env(extra: dict[str, str]) -> dict[str, str]:
    # No SIAR_* from the developer's shell: only what the case sets.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SIAR_", "OTEL_"))}
    env["SIAR_ENV"] = extra.get("SIAR_ENV", "dev")
    env.update(extra)
    return env


@pytest.mark.parametrize(
    ("service", "env", "names"),
    CASES,
    ids=[f"{s}-{next(iter(e))}={next(iter(e.values()))}" for s, e, _ in CASES],
)
def test_a_bad_setting_refuses_the_start_in_one_line(
    service: str, env: dict[str, str], names: str
) -> None:
    # A service that did not refuse would try to reach MongoDB for a minute: the timeout
    # turns that into a failure instead of a hang.
    done = subprocess.run(
        [sys.executable, "-m", f"siar_{service}"],
        env=_clean_env(env),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2, (done.returncode, done.stderr[-2000:])
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    line = lines[0]
    assert line.startswith(f"siar-{service}: invalid setting"), line
    assert names in line, line
    assert "Traceback" not in done.stderr
    assert done.stdout == ""
    if "KEK_KEYS" in names and names in env:  # a secret's value is never echoed
        assert env[names] not in line, line

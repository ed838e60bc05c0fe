"""Every SIAR_* variable compose and the manifests set is a real setting.

Settings ignore unknown variables (extra="ignore"), so a misspelt name would be dropped
silently and the default used; here each name must map to a field of the platform's
or its service's settings model.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import pytest
import yaml

from siar.runtime.settings import PlatformSettings
from tests.ops.kustomize import render

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("vault", "scheduler", "publisher", "inbox", "analytics", "console")
# Read by the image and compose's health check, not by a settings model.
NOT_SETTINGS = {"SIAR_SERVICE"}


def fields(model: Any) -> set[str]:
    return {name.upper() for name in model.model_fields}


def check(name: str, service: str) -> str | None:
    """Why ``name`` is not a setting of ``service``, or None when it is."""
    if not name.startswith("SIAR_") or name in NOT_SETTINGS:
        return None
    # Platform names first: SIAR_VAULT_URL is the platform's, not the vault's, setting.
    if name.removeprefix("SIAR_") in fields(PlatformSettings):
        return None
    settings = importlib.import_module(f"siar_{service}.settings").Settings
    prefix = f"SIAR_{service.upper()}_"
    if name.startswith(prefix):
        return None if name.removeprefix(prefix) in fields(settings) else f"{service}: {name}"
    if any(name.startswith(f"SIAR_{other.upper()}_") for other in SERVICES if other != service):
        return f"{service} is given another service's setting {name}"
    return f"{service}: {name} is no setting"


def compose_env() -> dict[str, set[str]]:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    return {s: set(compose["services"][s]["environment"]) for s in SERVICES}


def k8s_env() -> dict[str, set[str]]:
    objects = render(ROOT / "deploy/k8s/overlays/prod")
    shared = next(o for o in objects if o["metadata"]["name"] == "siar-platform")["data"]
    out = {}
    for service in SERVICES:
        deployment = next(
            o
            for o in objects
            if o["kind"] == "Deployment" and o["metadata"]["name"] == f"siar-{service}"
        )
        env = deployment["spec"]["template"]["spec"]["containers"][0]["env"]
        out[service] = {item["name"] for item in env} | set(shared)
    return out


@pytest.mark.parametrize("source", [compose_env, k8s_env], ids=["compose", "k8s"])
def test_every_variable_is_a_setting(source: Any) -> None:
    wrong = [
        problem
        for service, names in source().items()
        for name in sorted(names)
        if (problem := check(name, service))
    ]
    assert not wrong, wrong


def test_a_misspelt_setting_is_caught() -> None:
    assert check("SIAR_SCHEDULER_LOOKAHEAD_S", "scheduler") is None
    assert check("SIAR_SCHEDULER_LOOK_AHEAD_S", "scheduler") is not None
    assert check("SIAR_KAFKA_BOOTSTRAPS", "vault") is not None
    assert check("SIAR_INBOX_SERVICE_SECRET", "scheduler") is not None

"""The committed AsyncAPI documents are what FastStream generates from the code."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import pytest

from siar.contracts import TOPICS

ROOT = Path(__file__).resolve().parents[2]


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("siar_asyncapi", ROOT / "scripts" / "asyncapi.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


GENERATOR = _generator()


@pytest.mark.parametrize("service", GENERATOR.SERVICES)
def test_committed_asyncapi_is_current(service: str) -> None:
    committed = GENERATOR.path_of(service)
    assert committed.exists(), f"{committed} missing: run `make asyncapi`"
    fresh = GENERATOR.render(GENERATOR.document(service))
    assert committed.read_text(encoding="utf-8") == fresh, (
        f"{committed} is stale: run `make asyncapi` and commit the result"
    )


@pytest.mark.parametrize("service", GENERATOR.SERVICES)
def test_every_channel_is_a_registered_topic(service: str) -> None:
    doc = json.loads(GENERATOR.path_of(service).read_text(encoding="utf-8"))
    for channel in doc["channels"].values():
        assert channel["address"] in TOPICS, channel["address"]


def test_each_topic_has_a_producer_and_its_consumers_listen() -> None:
    """DESIGN.md §4: who produces and who consumes each topic in this build."""
    sends: dict[str, set[str]] = {}
    receives: dict[str, set[str]] = {}
    for service in GENERATOR.SERVICES:
        doc = json.loads(GENERATOR.path_of(service).read_text(encoding="utf-8"))
        for op in doc["operations"].values():
            address = doc["channels"][op["channel"]["$ref"].split("/")[-1]]["address"]
            target = sends if op["action"] == "send" else receives
            target.setdefault(address, set()).add(service)
    assert sends["post.scheduled"] == {"scheduler"}
    assert receives["post.scheduled"] == {"publisher", "analytics"}
    assert sends["post.published"] == {"publisher"}
    assert receives["post.published"] >= {"scheduler", "inbox", "analytics"}
    assert sends["message.received"] == {"inbox"}
    assert receives["message.received"] >= {"analytics"}
    assert sends["conversation.updated"] == {"inbox"}
    assert receives["conversation.updated"] >= {"analytics"}
    assert sends["account.connected"] == {"vault"}
    assert receives["account.connected"] >= {"inbox", "scheduler", "analytics"}
    assert receives["account.disconnected"] >= {"inbox", "analytics"}
    assert sends["metrics.collected"] == {"analytics"}
    assert receives["metrics.collected"] >= {"analytics", "scheduler"}

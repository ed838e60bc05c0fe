"""Kafka topics: every contract topic and its .dlq, the same in compose, k8s and docs."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

from siar.contracts import TOPICS, dlq_topic
from tests.ops.kustomize import render

ROOT = Path(__file__).resolve().parents[2]


def generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("k8s_topics", ROOT / "deploy/k8s/k8s_topics.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_every_contract_topic_and_its_dead_letter_topic_is_created() -> None:
    table = generator().all_topics()
    assert set(table) == set(TOPICS) | {dlq_topic(t) for t in TOPICS}


def test_compose_and_strimzi_create_the_same_topics() -> None:
    table = generator().all_topics()
    script = (ROOT / "deploy/docker/kafka-topics.sh").read_text(encoding="utf-8")
    compose = {
        name: (int(p), int(r))
        for name, p, r in re.findall(r"^create_topic (\S+) (\d+) (\d+)$", script, re.M)
    }
    strimzi = {
        o["spec"]["topicName"]: (o["spec"]["partitions"], o["spec"]["config"]["retention.ms"])
        for o in render(ROOT / "deploy/k8s/base")
        if o["kind"] == "KafkaTopic"
    }
    assert compose == table
    assert strimzi == table


def test_operations_doc_lists_each_topic_with_its_numbers() -> None:
    doc = (ROOT / "docs/operations.md").read_text(encoding="utf-8")
    day_ms = 24 * 3600 * 1000
    for name, (partitions, retention_ms) in generator().all_topics().items():
        row = re.search(rf"^\| `{re.escape(name)}` \| (\d+) \| (\d+) days \|", doc, re.M)
        assert row, f"docs/operations.md has no row for {name}"
        assert (int(row[1]), int(row[2]) * day_ms) == (partitions, retention_ms), name


def test_the_compose_topics_script_is_valid_shell() -> None:
    result = subprocess.run(
        ["sh", "-n", str(ROOT / "deploy/docker/kafka-topics.sh")], capture_output=True, check=False
    )
    assert result.returncode == 0, result.stderr

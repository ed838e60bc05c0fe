"""What the dashboards and alert rules query: their PromQL and the metric names in it."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DASHBOARDS = sorted((ROOT / "deploy" / "grafana" / "dashboards").glob("*.json"))
RULES = sorted((ROOT / "deploy" / "prometheus" / "rules").glob("*.yml"))
KEYWORDS = {
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "and",
    "or",
    "unless",
    "bool",
    "offset",
    "inf",
    "nan",
}
SUFFIXES = ("_bucket", "_count", "_sum", "_total", "_created")


def dashboard_queries() -> dict[str, list[str]]:
    """Dashboard file name to the PromQL of each of its panels' targets."""
    out = {}
    for path in DASHBOARDS:
        board = json.loads(path.read_text(encoding="utf-8"))
        out[path.name] = [t["expr"] for p in board["panels"] for t in p["targets"]]
    return out


def rule_queries() -> list[str]:
    """The expression of every alerting and recording rule."""
    return [
        rule["expr"]
        for path in RULES
        for group in yaml.safe_load(path.read_text(encoding="utf-8"))["groups"]
        for rule in group["rules"]
    ]


def metric_names(expr: str) -> set[str]:
    """Metric names in ``expr``: identifiers that are not functions, keywords or labels."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)  # label values
    text = re.sub(r"\{[^}]*\}", " ", text)  # label matchers
    text = re.sub(r"\[[^\]]*\]", " ", text)  # ranges
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)
    names = set()
    for match in re.finditer(r"[a-zA-Z_:][a-zA-Z0-9_:]*", text):
        word = match.group(0)
        following = text[match.end() :].lstrip()
        if word.lower() in KEYWORDS or following.startswith("("):
            continue
        names.add(word)
    return names


def family_of(sample_name: str, families: dict[str, str]) -> str | None:
    """The exported family a queried name belongs to, with Prometheus' suffix rules.

    ``families`` maps each family in a scrape to its type; counters are named without
    ``_total`` by the client, histograms without ``_bucket``/``_sum``/``_count``.
    """
    if sample_name in families:
        return sample_name
    for suffix in SUFFIXES:
        base = sample_name.removesuffix(suffix)
        if base != sample_name and base in families:
            kind = families[base]
            if (suffix, kind) in {
                ("_total", "counter"),
                ("_created", "counter"),
                ("_bucket", "histogram"),
                ("_sum", "histogram"),
                ("_count", "histogram"),
                ("_created", "histogram"),
                ("_sum", "summary"),
                ("_count", "summary"),
            }:
                return base
    return None


def promtool_path() -> str:
    """promtool's path; in CI its absence fails (.ci/run installs it), elsewhere skips."""
    binary = shutil.which("promtool")
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("promtool is missing in CI: .ci/run installs Debian's prometheus")
        pytest.skip("promtool not installed (apt-get install prometheus); CI installs it")
    return binary


def label_names(expr: str) -> set[str]:
    """Label names ``expr`` groups by or matches on (its queries each read one metric's)."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    names: set[str] = set()
    for group in re.findall(r"\b(?:by|without|on|ignoring)\s*\(([^)]*)\)", text):
        names |= {n.strip() for n in group.split(",") if n.strip()}
    for matchers in re.findall(r"\{([^}]*)\}", text):
        names |= set(re.findall(r"([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)", matchers))
    return names

"""Grafana: dashboards current, well formed, on the provisioned data source, valid PromQL.

Whether each queried metric is really exported is checked against live /metrics in
tests/e2e/test_ops_metrics.py.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml

from tests.ops.promql import (
    DASHBOARDS,
    dashboard_queries,
    family_of,
    label_names,
    metric_names,
    promtool_path,
)

ROOT = Path(__file__).resolve().parents[2]
GRAFANA = ROOT / "deploy" / "grafana"
SERVICES = ("vault", "scheduler", "publisher", "inbox", "analytics")


def test_dashboards_are_current() -> None:
    result = subprocess.run(
        [sys.executable, str(GRAFANA / "generate.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_an_overview_and_one_dashboard_per_service() -> None:
    uids = [json.loads(p.read_text())["uid"] for p in DASHBOARDS]
    assert sorted(uids) == sorted(["siar-overview", *(f"siar-{s}" for s in SERVICES)])


def test_panels_are_laid_out_and_use_the_provisioned_data_source() -> None:
    provisioned = yaml.safe_load((GRAFANA / "provisioning/datasources/prometheus.yaml").read_text())
    uid = provisioned["datasources"][0]["uid"]
    providers = yaml.safe_load((GRAFANA / "provisioning/dashboards/siar.yaml").read_text())
    assert providers["providers"][0]["options"]["path"] == "/var/lib/grafana/dashboards"
    for path in DASHBOARDS:
        board = json.loads(path.read_text())
        ids = [p["id"] for p in board["panels"]]
        assert len(ids) == len(set(ids)), path.name
        for p in board["panels"]:
            assert p["datasource"]["uid"] == uid
            assert p["gridPos"]["x"] + p["gridPos"]["w"] <= 24
            assert p["targets"], f"{path.name}: {p['title']} has no query"
            assert all(t["datasource"]["uid"] == uid for t in p["targets"])


def test_overview_covers_what_ops_watches() -> None:
    queries = " ".join(dashboard_queries()["siar-overview.json"])
    for metric in (
        "siar_http_requests_total",
        "siar_http_request_duration_seconds_bucket",
        "siar_kafka_consumer_lag",
        "siar_scheduler_dispatch_lateness_seconds_bucket",
        "siar_publish_outcomes_total",
        "siar_inbox_open_conversations",
        "siar_inbox_first_response_seconds_bucket",
        "siar_vault_credential_reads_total",
    ):
        assert metric in queries, metric


def test_every_query_is_valid_promql(tmp_path: Path) -> None:
    promtool = promtool_path()
    # promtool parses PromQL when checking rules: each query becomes a recording rule.
    rules = [
        {"record": f"check:q{i}", "expr": expr}
        for i, expr in enumerate(q for qs in dashboard_queries().values() for q in qs)
    ]
    path = tmp_path / "queries.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboards", "rules": rules}]}))
    result = subprocess.run(
        [promtool, "check", "rules", str(path)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_metric_names_are_read_from_queries() -> None:
    expr = (
        'histogram_quantile(0.95, sum by (network, le) (rate(siar_a_bucket{x="y"}[5m]))) '
        "/ on (network) group_left sum without (pod) (siar_b) > bool 3"
    )
    assert metric_names(expr) == {"siar_a_bucket", "siar_b"}
    for queries in dashboard_queries().values():
        for q in queries:
            assert all(name.startswith("siar_") for name in metric_names(q)), q


def test_suffix_rules_map_queried_names_to_exported_families() -> None:
    families = {"siar_x": "counter", "siar_h": "histogram", "siar_g": "gauge"}
    assert family_of("siar_x_total", families) == "siar_x"
    assert family_of("siar_h_bucket", families) == "siar_h"
    assert family_of("siar_g", families) == "siar_g"
    assert family_of("siar_x_bucket", families) is None  # a counter has no buckets
    assert family_of("siar_g_total", families) is None
    assert family_of("siar_missing_total", families) is None
    assert label_names('sum by (network, le) (rate(m{service="a",x=~"b"}[5m]))') == {
        "network",
        "le",
        "service",
        "x",
    }

"""Every metric the dashboards and alerts query is exported by a running service.

The platform gets some real traffic first (a post scheduled, published and commented),
then each service's /metrics is scraped. A metric family counts as exported when its
HELP/TYPE lines are there, even before its first sample, with Prometheus' suffix rules
(``_total`` for counters, ``_bucket``/``_sum``/``_count`` for histograms).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import yaml
from prometheus_client.parser import text_string_to_metric_families

from siar.devstack import free_port
from tests.e2e.conftest import Stack
from tests.e2e.flows import new_tenant, schedule_soon, wait_post_status
from tests.ops.promql import (
    dashboard_queries,
    family_of,
    label_names,
    metric_names,
    rule_queries,
)

ROOT = Path(__file__).resolve().parents[2]


async def publish_one_post(stack: Stack, http: httpx.AsyncClient) -> None:
    tenant = await new_tenant(http, stack.urls["vault"])
    scheduler = stack.urls["scheduler"]
    post_id = await schedule_soon(http, scheduler, tenant, "Metrics for the dashboards #siar")
    await wait_post_status(http, scheduler, tenant, post_id, "published")


async def scrape(
    stack: Stack, http: httpx.AsyncClient
) -> tuple[dict[str, str], dict[str, set[str]]]:
    """Family name to type, and to the label names its samples carry, over every /metrics."""
    families: dict[str, str] = {}
    labels: dict[str, set[str]] = {}
    for name, url in stack.urls.items():
        r = await http.get(f"{url}/metrics")
        assert r.status_code == 200, name
        for family in text_string_to_metric_families(r.text):
            families[family.name] = family.type
            for sample in family.samples:
                labels.setdefault(family.name, set()).update(sample.labels)
    return families, labels


async def test_dashboards_and_alerts_query_only_exported_metrics(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    await publish_one_post(stack, http)
    families, labels = await scrape(stack, http)
    assert "siar_http_requests" in families  # the scrape parsed at all

    queried: dict[str, set[str]] = {}
    wrong_labels: dict[str, set[str]] = {}
    for where, query in [
        *((board, q) for board, qs in dashboard_queries().items() for q in qs),
        *(("alert rules", q) for q in rule_queries()),
    ]:
        for metric in metric_names(query):
            queried.setdefault(metric, set()).add(where)
            family = family_of(metric, families)
            # Label names can be checked once the family has samples to show them.
            if family is not None and family in labels:
                unknown = label_names(query) - labels[family] - {"le"}
                if unknown and len(metric_names(query)) == 1:
                    wrong_labels.setdefault(metric, set()).update(unknown)

    missing = {m: sorted(where) for m, where in queried.items() if family_of(m, families) is None}
    assert not missing, f"queried but not exported by any service: {missing}"
    assert not wrong_labels, f"queried by labels the metric does not have: {wrong_labels}"


def test_compose_health_check_passes_on_a_ready_service_only(stack: Stack) -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    command = compose["services"]["scheduler"]["healthcheck"]["test"]
    assert command[:2] == ["CMD", "python"]
    port = stack.urls["scheduler"].rsplit(":", 1)[1]
    env = {**os.environ, "SIAR_SERVICE": "scheduler", "SIAR_SCHEDULER_PORT": port}
    # The image runs it against 127.0.0.1, which is where the e2e services listen too.
    ok = subprocess.run([sys.executable, *command[2:]], env=env, capture_output=True, check=False)
    assert ok.returncode == 0, ok.stderr
    closed = {**env, "SIAR_SCHEDULER_PORT": str(free_port())}
    down = subprocess.run(
        [sys.executable, *command[2:]], env=closed, capture_output=True, check=False
    )
    assert down.returncode != 0

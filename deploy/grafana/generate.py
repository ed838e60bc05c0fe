"""Writes deploy/grafana/dashboards/*.json: the platform overview and one per service.

Panels are built from a few helpers so every dashboard looks and queries alike. Run
`python deploy/grafana/generate.py` after a change; tests/ops/test_grafana.py fails while
the committed JSON differs, and tests/e2e/test_ops_metrics.py checks every metric a
panel queries against the services' live /metrics.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parent / "dashboards"
DATASOURCE = {"type": "prometheus", "uid": "prometheus"}
Panel = dict[str, Any]


def panel(
    title: str, *exprs: tuple[str, str], unit: str = "short", kind: str = "timeseries"
) -> Panel:
    """One panel; ``exprs`` are (PromQL, legend) pairs."""
    return {
        "type": kind,
        "title": title,
        "datasource": DATASOURCE,
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "options": {"legend": {"displayMode": "list", "placement": "bottom"}},
        "targets": [
            {
                "refId": chr(ord("A") + i),
                "expr": expr,
                "legendFormat": legend,
                "datasource": DATASOURCE,
            }
            for i, (expr, legend) in enumerate(exprs)
        ],
    }


def red(selector: str, by: str) -> list[Panel]:
    """Rate, errors and duration of HTTP requests matching ``selector``, split ``by``."""
    total = f"sum by ({by}) (rate(siar_http_requests_total{{{selector}}}[5m]))"
    failed = f'{selector},status=~"5.."' if selector else 'status=~"5.."'
    errors = f"sum by ({by}) (rate(siar_http_requests_total{{{failed}}}[5m]))"
    p95 = (
        f"histogram_quantile(0.95, sum by ({by}, le) "
        f"(rate(siar_http_request_duration_seconds_bucket{{{selector}}}[5m])))"
    )
    return [
        panel("Requests per second", (total, f"{{{{{by}}}}}"), unit="reqps"),
        panel("5xx ratio", (f"{errors} / {total}", f"{{{{{by}}}}}"), unit="percentunit"),
        panel("p95 latency", (p95, f"{{{{{by}}}}}"), unit="s"),
    ]


def kafka(service: str | None) -> list[Panel]:
    """Consumer lag, consumption outcomes, outbox and dead letters (all or one service)."""
    sel = f'service="{service}"' if service else ""
    return [
        panel(
            "Consumer lag by topic and group",
            (f"sum by (group, topic) (siar_kafka_consumer_lag{{{sel}}})", "{{group}} {{topic}}"),
        ),
        panel(
            "Messages consumed by outcome",
            (
                "sum by (service, outcome) "
                f"(rate(siar_kafka_messages_consumed_total{{{sel}}}[5m]))",
                "{{service}} {{outcome}}",
            ),
            unit="ops",
        ),
        panel(
            "Outbox pending and relayed",
            (f"sum by (service) (siar_outbox_pending{{{sel}}})", "pending {{service}}"),
            (
                f"sum by (service) (rate(siar_outbox_relayed_total{{{sel}}}[5m]))",
                "relayed/s {{service}}",
            ),
        ),
        panel(
            "Dead letters (15 min)",
            (
                "sum by (topic, error_type) (increase(siar_dead_letters_total[15m]))",
                "{{topic}} {{error_type}}",
            ),
        ),
    ]


def ready(service: str | None) -> Panel:
    """Readiness per service, as a stat panel (1 ready, 0 not)."""
    sel = f'{{service="{service}"}}' if service else ""
    return panel(
        "Ready", (f"min by (service) (siar_service_ready{sel})", "{{service}}"), kind="stat"
    )


LATENESS_P95 = (
    "histogram_quantile(0.95, sum by (network, le) "
    "(rate(siar_scheduler_dispatch_lateness_seconds_bucket[5m])))"
)
PUBLISH_SUCCESS = (
    'sum by (network) (rate(siar_publish_outcomes_total{outcome=~"published|reconciled"}[15m])) '
    "/ sum by (network) "
    '(rate(siar_publish_outcomes_total{outcome=~"published|reconciled|failed"}[15m]))'
)
PUBLISH_OUTCOMES = "sum by (network, outcome) (rate(siar_publish_outcomes_total[5m]))"
FIRST_RESPONSE_P50 = (
    "histogram_quantile(0.5, sum by (network, le) "
    "(rate(siar_inbox_first_response_seconds_bucket[1h])))"
)
BACKLOG = "sum by (network) (siar_inbox_open_conversations)"
CREDENTIAL_READS = "sum by (outcome) (rate(siar_vault_credential_reads_total[5m]))"
REFRESHES = "sum by (network, outcome) (increase(siar_vault_token_refresh_total[1h]))"
AUDIT_OK = "min(siar_vault_audit_chain_ok)"


def overview() -> list[Panel]:
    """The platform at a glance."""
    return [
        ready(None),
        *red("", "service"),
        *kafka(None),
        panel("Dispatch lateness p95 by network", (LATENESS_P95, "{{network}}"), unit="s"),
        panel(
            "Publish success ratio by network", (PUBLISH_SUCCESS, "{{network}}"), unit="percentunit"
        ),
        panel("Publish outcomes", (PUBLISH_OUTCOMES, "{{network}} {{outcome}}"), unit="ops"),
        panel("Inbox backlog (open conversations)", (BACKLOG, "{{network}}")),
        panel("Inbox first response p50", (FIRST_RESPONSE_P50, "{{network}}"), unit="s"),
        panel("Credential reads by outcome", (CREDENTIAL_READS, "{{outcome}}"), unit="ops"),
        panel("Audit chain verified", (AUDIT_OK, "ok"), kind="stat"),
    ]


def per_service(service: str) -> list[Panel]:
    """One service's RED, Kafka panels and its own domain panels."""
    own: dict[str, list[Panel]] = {
        "scheduler": [
            panel("Dispatch lateness p95 by network", (LATENESS_P95, "{{network}}"), unit="s"),
            panel(
                "Posts dispatched",
                (
                    "sum by (network) (rate(siar_scheduler_posts_dispatched_total[5m]))",
                    "{{network}}",
                ),
                unit="ops",
            ),
            panel(
                "Posts due in the read-ahead window", ("sum(siar_scheduler_due_soon)", "due soon")
            ),
        ],
        "publisher": [
            panel("Publish outcomes", (PUBLISH_OUTCOMES, "{{network}} {{outcome}}"), unit="ops"),
            panel("Publish success ratio", (PUBLISH_SUCCESS, "{{network}}"), unit="percentunit"),
            panel(
                "Network call p95",
                (
                    "histogram_quantile(0.95, sum by (network, le) "
                    "(rate(siar_publish_duration_seconds_bucket[5m])))",
                    "{{network}}",
                ),
                unit="s",
            ),
            panel(
                "Rate-limit waits",
                (
                    "sum by (network, scope) (rate(siar_publisher_rate_limit_waits_total[5m]))",
                    "{{network}} {{scope}}",
                ),
                unit="ops",
            ),
            panel(
                "Engagement outcomes",
                (
                    "sum by (network, action, outcome) (rate(siar_engagement_outcomes_total[5m]))",
                    "{{network}} {{action}} {{outcome}}",
                ),
                unit="ops",
            ),
        ],
        "inbox": [
            panel("Backlog (open conversations)", (BACKLOG, "{{network}}")),
            panel("First response p50", (FIRST_RESPONSE_P50, "{{network}}"), unit="s"),
            panel(
                "Messages ingested and duplicates",
                (
                    "sum by (network, kind) (rate(siar_inbox_messages_ingested_total[5m]))",
                    "{{network}} {{kind}}",
                ),
                (
                    "sum by (network) (rate(siar_inbox_messages_duplicate_total[5m]))",
                    "duplicate {{network}}",
                ),
                unit="ops",
            ),
        ],
        "vault": [
            panel("Credential reads by outcome", (CREDENTIAL_READS, "{{outcome}}"), unit="ops"),
            panel("Token refreshes (1 h)", (REFRESHES, "{{network}} {{outcome}}")),
            panel("Audit chain verified", (AUDIT_OK, "ok"), kind="stat"),
            panel(
                "Workspace webhooks sent",
                (
                    "sum by (kind, outcome) (rate(siar_webhooks_sent_total[5m]))",
                    "{{kind}} {{outcome}}",
                ),
                unit="ops",
            ),
        ],
        "analytics": [
            panel(
                "Snapshots stored",
                (
                    "sum by (network, scope) (rate(siar_analytics_snapshots_stored_total[5m]))",
                    "{{network}} {{scope}}",
                ),
                unit="ops",
            ),
        ],
    }
    return [ready(service), *red(f'service="{service}"', "route"), *own[service], *kafka(service)]


def dashboard(uid: str, title: str, panels: list[Panel]) -> dict[str, Any]:
    """A dashboard with its panels laid out two to a row (stats narrow)."""
    x = y = 0
    laid: list[Panel] = []
    for i, p in enumerate(panels):
        width = 6 if p["type"] == "stat" else 12
        if x + width > 24:
            x, y = 0, y + 8
        laid.append({**p, "id": i + 1, "gridPos": {"x": x, "y": y, "w": width, "h": 8}})
        x += width
    return {
        "uid": uid,
        "title": title,
        "tags": ["siar"],
        "timezone": "utc",
        "schemaVersion": 39,
        "version": 1,
        "editable": False,
        "refresh": "30s",
        "time": {"from": "now-6h", "to": "now"},
        "templating": {"list": []},
        "annotations": {"list": []},
        "panels": laid,
    }


SERVICES = ("vault", "scheduler", "publisher", "inbox", "analytics")


def outputs() -> dict[Path, str]:
    """Every dashboard file and its JSON."""
    boards = [dashboard("siar-overview", "Siar / Overview", overview())]
    boards += [dashboard(f"siar-{s}", f"Siar / {s.capitalize()}", per_service(s)) for s in SERVICES]
    return {OUT / f"{b['uid']}.json": json.dumps(b, indent=2) + "\n" for b in boards}


def main(argv: list[str]) -> int:
    """Write the dashboards, or with --check report stale ones."""
    stale = []
    for path, text in outputs().items():
        if "--check" in argv:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(path.name)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    if stale:
        print(f"stale: {', '.join(stale)}; run python deploy/grafana/generate.py", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

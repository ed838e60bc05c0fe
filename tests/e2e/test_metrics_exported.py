"""Every metric the dashboards and alerts use is on the live services' /metrics, with its labels.

The names and label sets are the ones agreed for deploy/grafana and deploy/prometheus.
The test drives the first slice (schedule → publish → comment → reply) and one malformed
record, then scrapes each service process of the end-to-end stack.
"""

from __future__ import annotations

import httpx
from aiokafka import AIOKafkaProducer
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.conftest import Stack
from tests.e2e.flows import eventually, first_conversation, new_tenant, schedule_post

EVERY = ("vault", "scheduler", "publisher", "inbox", "analytics")
CONSUMERS = ("scheduler", "publisher", "inbox", "analytics")

# sample name → (label names, the services that must export it)
EXPECTED: dict[str, tuple[frozenset[str], tuple[str, ...]]] = {
    name: (frozenset(labels.split()), services)
    for name, labels, services in [
        ("siar_http_requests_total", "service method route status", EVERY),
        ("siar_http_request_duration_seconds_bucket", "service method route le", EVERY),
        ("siar_service_ready", "service", EVERY),
        ("siar_outbox_pending", "service", EVERY),
        ("siar_outbox_relayed_total", "service topic", ("vault", "scheduler", "publisher")),
        ("siar_kafka_consumer_lag", "service topic partition group", CONSUMERS),
        ("siar_kafka_messages_consumed_total", "service topic outcome", CONSUMERS),
        ("siar_dead_letters_total", "topic error_type", ("scheduler", "inbox", "analytics")),
        ("siar_webhooks_sent_total", "kind outcome", ("scheduler", "vault", "analytics")),
        ("siar_scheduler_dispatch_lateness_seconds_bucket", "network le", ("scheduler",)),
        ("siar_scheduler_posts_dispatched_total", "network", ("scheduler",)),
        ("siar_scheduler_due_soon", "", ("scheduler",)),
        ("siar_publish_outcomes_total", "network outcome", ("publisher",)),
        ("siar_publish_duration_seconds_bucket", "network le", ("publisher",)),
        ("siar_publisher_rate_limit_waits_total", "network scope", ("publisher",)),
        ("siar_engagement_outcomes_total", "network action outcome", ("publisher",)),
        ("siar_inbox_messages_ingested_total", "network kind", ("inbox",)),
        ("siar_inbox_messages_duplicate_total", "network", ("inbox",)),
        ("siar_inbox_open_conversations", "network", ("inbox",)),
        ("siar_inbox_first_response_seconds_bucket", "network le", ("inbox",)),
        ("siar_vault_credential_reads_total", "outcome", ("vault",)),
        ("siar_vault_token_refresh_total", "network outcome", ("vault",)),
        ("siar_vault_audit_chain_ok", "", ("vault",)),
        ("siar_analytics_snapshots_stored_total", "network scope", ("analytics",)),
    ]
}

Samples = dict[str, list[tuple[dict[str, str], float]]]


async def _scrape(http: httpx.AsyncClient, url: str) -> Samples:
    r = await http.get(f"{url}/metrics")
    assert r.status_code == 200, r.text
    samples: Samples = {}
    for family in text_string_to_metric_families(r.text):
        for sample in family.samples:
            samples.setdefault(sample.name, []).append((dict(sample.labels), sample.value))
    return samples


def _missing(scraped: dict[str, Samples]) -> list[str]:
    missing = []
    for name, (labels, services) in EXPECTED.items():
        for service in services:
            found = scraped[service].get(name, [])
            if not any(set(have) == labels for have, _ in found):
                missing.append(f"{service}: {name}{{{','.join(sorted(labels))}}}")
    return missing


def _value(samples: Samples, name: str, **labels: str) -> float:
    return sum(v for have, v in samples.get(name, []) if labels.items() <= have.items())


async def _first_slice(stack: Stack, http: httpx.AsyncClient) -> None:
    urls = stack.urls
    tenant = await new_tenant(http, urls["vault"])
    await schedule_post(http, urls["scheduler"], tenant, "Counted on every dashboard")
    conv = await first_conversation(http, urls["inbox"], tenant)
    r = await http.post(
        f"{urls['inbox']}/v1/workspaces/{tenant.workspace_id}/conversations/{conv['id']}:reply",
        json={"text": "Thanks!"},
        headers=tenant.auth,
    )
    assert r.status_code == 202, r.text


async def _malformed_record(stack: Stack) -> None:
    """A record no consumer can read, so the dead-letter path runs for real."""
    producer = AIOKafkaProducer(bootstrap_servers=stack.infra.kafka_bootstrap, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait("post.published", b"{not json", key=b"metrics-test")
    finally:
        await producer.stop()


async def test_every_agreed_metric_is_exported_with_its_labels(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    await _first_slice(stack, http)
    await _malformed_record(stack)

    async def all_there() -> dict[str, Samples] | None:
        scraped = {s: await _scrape(http, stack.urls[s]) for s in EVERY}
        return scraped if not _missing(scraped) else None

    try:
        scraped = await eventually(all_there, within_s=60, every=1.0)
    except AssertionError:
        last = {s: await _scrape(http, stack.urls[s]) for s in EVERY}
        raise AssertionError("missing series:\n" + "\n".join(_missing(last))) from None

    # The values mean what they say, not only the names.
    for service in EVERY:
        assert _value(scraped[service], "siar_service_ready", service=service) == 1
    assert _value(scraped["vault"], "siar_vault_audit_chain_ok") == 1
    assert _value(scraped["vault"], "siar_vault_credential_reads_total", outcome="ok") >= 1
    sched = scraped["scheduler"]
    assert _value(sched, "siar_scheduler_posts_dispatched_total", network="sandbox") >= 1
    assert _value(sched, "siar_dead_letters_total", topic="post.published") >= 1
    assert (
        _value(
            scraped["publisher"],
            "siar_kafka_messages_consumed_total",
            service="publisher",
            topic="post.scheduled",
            outcome="ok",
        )
        >= 1
    )
    assert _value(scraped["inbox"], "siar_inbox_first_response_seconds_count") >= 1

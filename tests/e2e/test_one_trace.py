"""One trace from scheduling a post to its comment in the inbox, across HTTP and Kafka.

The five services run as separate processes exporting spans over OTLP/HTTP to a
receiver this test starts. The test opens the trace itself: it sends a ``traceparent``
with the request that schedules the post, so every span that belongs to that post's
journey must carry the test's trace id.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import httpx
import pytest

from tests.e2e.conftest import ARTIFACTS, Stack, launch_stack
from tests.e2e.flows import eventually, first_conversation, new_tenant, schedule_post
from tests.e2e.otlp_receiver import OtlpReceiver, ReceivedSpan, span_tree


@pytest.fixture(scope="module")
def receiver() -> Iterator[OtlpReceiver]:
    """The OTLP/HTTP endpoint every service exports to."""
    started = OtlpReceiver().start()
    try:
        yield started
    finally:
        started.stop()


@pytest.fixture(scope="module")
def traced(receiver: OtlpReceiver, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """A platform of its own whose services export their spans to ``receiver``."""
    overrides = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint,
        "OTEL_BSP_SCHEDULE_DELAY": "200",  # export within a fraction of a second
        # The fan comments once the publisher's post.published has surely reached the inbox,
        # so the comment can be threaded to (and traced with) its post.
        "SIAR_SANDBOX_COMMENT_DELAY_S": "4",
    }
    root = tmp_path_factory.mktemp("siar-trace")
    with launch_stack(root, ARTIFACTS / "logs" / "trace", overrides) as started:
        yield started


def _one(spans: list[ReceivedSpan], service: str, name: str) -> ReceivedSpan | None:
    return next((s for s in spans if s.service == f"siar-{service}" and s.name == name), None)


def _ancestors(span: ReceivedSpan, spans: list[ReceivedSpan]) -> list[str]:
    by_id = {s.span_id: s for s in spans}
    chain: list[str] = []
    while span.parent_span_id in by_id:
        span = by_id[span.parent_span_id]
        chain.append(span.name)
    return chain


async def test_schedule_dispatch_delivery_and_comment_form_one_trace(
    traced: Stack, receiver: OtlpReceiver, http: httpx.AsyncClient
) -> None:
    urls = traced.urls
    tenant = await new_tenant(http, urls["vault"])
    trace_id = secrets.token_hex(16)
    await schedule_post(
        http,
        urls["scheduler"],
        tenant,
        "Traced from the first request to the first comment",
        headers={"traceparent": f"00-{trace_id}-{secrets.token_hex(8)}-01"},
    )
    await first_conversation(http, urls["inbox"], tenant)

    expected = [
        ("scheduler", "POST /v1/workspaces/{ws}/posts"),
        ("scheduler", "scheduler.dispatch"),
        ("scheduler", "post.scheduled publish"),
        ("publisher", "post.scheduled process"),
        ("publisher", "publisher.deliver"),
        ("publisher", "post.published publish"),
        ("inbox", "post.published process"),
        ("inbox", "inbox.ingest"),
    ]

    async def complete() -> list[ReceivedSpan] | None:
        spans = receiver.trace(trace_id)
        return spans if all(_one(spans, *want) for want in expected) else None

    try:
        spans = await eventually(complete, within_s=30)
    finally:
        print(f"\ntrace {trace_id}:\n{span_tree(receiver.trace(trace_id))}")

    ingest = _one(spans, "inbox", "inbox.ingest")
    assert ingest is not None
    # Connected, not just sharing an id: the comment's ingest descends from the HTTP request
    # through the dispatch, the delivery and the post.published event. (FastStream parents
    # a consumer's span on the message's "create" span; "publish" is that span's sibling.)
    chain = _ancestors(ingest, spans)
    for name in (
        "post.published process",
        "post.published create",
        "publisher.deliver",
        "post.scheduled process",
        "post.scheduled create",
        "scheduler.dispatch",
        "POST /v1/workspaces/{ws}/posts",
    ):
        assert name in chain, (name, chain)
    # The publisher's own spans say which post and network they served.
    deliver = _one(spans, "publisher", "publisher.deliver")
    assert deliver is not None
    assert deliver.attributes["siar.network"] == "sandbox"
    assert deliver.attributes["siar.delivery_status"] == "published"

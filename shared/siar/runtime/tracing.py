"""Carrying one trace across delays: remember a trace with stored data, continue it later.

HTTP and Kafka carry trace context by themselves (the FastAPI and FastStream
instrumentation, and the outbox, which stores each event's ``traceparent`` and
re-injects it when relaying). Work that happens *later* has no such carrier: a post
fires minutes after the request that scheduled it, and a comment on a published post is
found by polling. Such work stores :func:`trace_headers` with its document and opens its
span with :func:`continued_span`, so it joins the trace it belongs to.

Spans are made with the process-wide tracer provider, which :func:`siar.runtime.app.serve`
sets to the service's provider; in unit tests without one they are no-ops.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.trace import Span
from opentelemetry.util.types import AttributeValue

_tracer = trace.get_tracer("siar")


def trace_headers() -> dict[str, str]:
    """The current trace context as W3C headers (``traceparent``), to store with a document."""
    headers: dict[str, str] = {}
    propagate.inject(headers)
    return headers


def start_continued_span(
    name: str,
    headers: Mapping[str, str] | None,
    attributes: Mapping[str, AttributeValue] | None = None,
) -> Span:
    """A started span, child of the trace in ``headers`` (or of the current one if none).

    The caller ends it; use it where one step handles many documents at once, each with
    its own trace (the scheduler's bulk firing).
    """
    parent = propagate.extract(dict(headers)) if headers else otel_context.get_current()
    return _tracer.start_span(name, context=parent, attributes=dict(attributes or {}))


@contextmanager
def continued_span(
    name: str,
    headers: Mapping[str, str] | None,
    attributes: Mapping[str, AttributeValue] | None = None,
) -> Iterator[Span]:
    """Run the block in a span continuing the trace in ``headers`` (made current)."""
    span = start_continued_span(name, headers, attributes)
    with trace.use_span(span, end_on_exit=True):
        yield span


@contextmanager
def continued_spans(
    name: str,
    parents: Iterable[Mapping[str, str] | None],
    attributes: Mapping[str, AttributeValue] | None = None,
) -> Iterator[list[Span]]:
    """One span per item of a batch, each continuing its own trace; all end on exit.

    For a step that stores many items at once (the inbox's batch ingest), where each
    item belongs to a different trace. The spans are not made current.
    """
    spans = [start_continued_span(name, parent, attributes) for parent in parents]
    try:
        yield spans
    finally:
        for span in spans:
            span.end()

"""Log redaction, JSON log lines with trace ids, and the tracer provider factory."""

from __future__ import annotations

import json
import logging
import sys

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.util.http import parse_excluded_urls

from siar.runtime.app import UNTRACED_URLS
from siar.runtime.telemetry import JsonFormatter, RedactingFormatter, create_tracer_provider, redact

MASK = "[REDACTED]"


@pytest.mark.parametrize(
    ("text", "secret", "kept"),
    [
        (
            "GET /v1/me Authorization: Bearer eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ1In0.c2ln-_x",
            "eyJhbGciOiJFUzI1NiJ9",
            "Authorization: Bearer ",
        ),
        ("authorization: bearer abc.DEF~ghi+/=", "abc.DEF", "authorization: bearer "),
        (
            "callback https://app.example/cb?access_token=EAAB1234zz&state=xyz",
            "EAAB1234zz",
            "&state=xyz",
        ),
        ("refresh_token=r-987654 expires=3600", "r-987654", "expires=3600"),
        ('{"user": "maria", "password": "hunter2!x", "remember": true}', "hunter2!x", '"user"'),
        ("{'client_secret': 'cs_live_42'}", "cs_live_42", "client_secret"),
        ("password=p4ss,next=1", "p4ss", "next=1"),
    ],
)
def test_redact_masks_credentials(text: str, secret: str, kept: str) -> None:
    masked = redact(text)
    assert secret not in masked
    assert MASK in masked
    assert kept in masked


@pytest.mark.parametrize(
    ("text", "secret_parts"),
    [
        ('{"password": "correct horse battery staple"}', ["horse", "battery", "staple"]),
        ('{"password": "one,two"}', ["two"]),
        ("{'client_secret': 'abc def'}", ["def"]),
    ],
    ids=["spaces", "comma", "single-quoted-space"],
)
def test_redact_masks_the_whole_quoted_value(text: str, secret_parts: list[str]) -> None:
    """A quoted secret is masked to its closing quote, not only up to a space or comma."""
    masked = redact(text)
    for part in secret_parts:
        assert part not in masked


def test_redact_leaves_ordinary_text_alone() -> None:
    text = "published post pst_1 to acc_2 in 412 ms (attempt 1)"
    assert redact(text) == text


def record(msg: str, *args: object, exc: bool = False) -> logging.LogRecord:
    exc_info = None
    if exc:
        try:
            raise ValueError("bad refresh_token=r-secret-1")
        except ValueError:
            exc_info = sys.exc_info()
    return logging.LogRecord(
        "siar.test", logging.WARNING, __file__, 1, msg, args, exc_info, func="test"
    )


def test_json_formatter_outside_a_span() -> None:
    line = JsonFormatter("publisher").format(record("delivered %s", "pst_1"))
    payload = json.loads(line)
    assert payload["msg"] == "delivered pst_1"
    assert payload["level"] == "WARNING"
    assert payload["service"] == "publisher"
    assert payload["logger"] == "siar.test"
    assert payload["ts"].endswith("+00:00")
    assert "trace_id" not in payload
    assert "span_id" not in payload
    assert "\n" not in line


def test_json_formatter_inside_a_span_has_trace_ids() -> None:
    tracer = TracerProvider().get_tracer("test")
    with tracer.start_as_current_span("publish") as span:
        payload = json.loads(JsonFormatter("publisher").format(record("hello")))
        context = span.get_span_context()
    assert payload["trace_id"] == f"{context.trace_id:032x}"
    assert payload["span_id"] == f"{context.span_id:016x}"
    assert len(payload["trace_id"]) == 32
    assert int(payload["trace_id"], 16) != 0


def test_json_formatter_redacts_message_args_and_exceptions() -> None:
    line = JsonFormatter("vault").format(
        record("token request with %s", "password=topsecret9", exc=True)
    )
    payload = json.loads(line)
    assert "topsecret9" not in line
    assert "r-secret-1" not in line
    assert "ValueError" in payload["exc"]


def test_text_formatter_redacts() -> None:
    line = RedactingFormatter("%(levelname)s %(message)s").format(
        record("calling with Bearer abc.def.ghi")
    )
    assert line == f"WARNING calling with Bearer {MASK}"


def test_tracer_provider_names_the_service_and_uses_given_processors(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT", raising=False)
    exporter = InMemorySpanExporter()
    provider = create_tracer_provider("scheduler", processors=(SimpleSpanProcessor(exporter),))
    try:
        with provider.get_tracer("test").start_as_current_span("dispatch"):
            pass
        (span,) = exporter.get_finished_spans()
        assert span.name == "dispatch"
        assert span.resource.attributes["service.name"] == "siar-scheduler"
    finally:
        provider.shutdown()


def test_the_calendar_feed_and_probes_are_not_traced() -> None:
    # The feed's URL carries its secret token; a span would keep it as an attribute.
    untraced = parse_excluded_urls(UNTRACED_URLS)
    assert untraced.url_disabled("http://scheduler/v1/workspaces/ws_1/calendar.ics?token=ics_x")
    assert untraced.url_disabled("http://scheduler/readyz")
    assert not untraced.url_disabled("http://scheduler/v1/workspaces/ws_1/posts?from=a&to=b")

"""Contract tests of every Siar event: envelope, strictness, compatibility and the registry."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from siar.contracts import (
    EVENT_TYPES,
    TOPICS,
    AccountConnected,
    AccountDisconnected,
    ConversationUpdated,
    DeadLetter,
    EngagementCompleted,
    EngagementRequested,
    Event,
    MessageReceived,
    MetricsCollected,
    PostFailed,
    PostPublished,
    PostScheduled,
    dlq_topic,
)

WHEN = datetime(2026, 5, 1, 2, 0, tzinfo=UTC)

# The topics of DESIGN.md section 4; a new event must be added there and here.
DESIGNED_TOPICS = {
    "post.scheduled",
    "post.published",
    "post.failed",
    "engagement.requested",
    "engagement.completed",
    "message.received",
    "conversation.updated",
    "metrics.collected",
    "account.connected",
    "account.disconnected",
}


def sample_payload(
    model: type[Event], account_id: str = "acc_1", text: str = "Hello"
) -> dict[str, Any]:
    """A valid payload (everything but the envelope's generated fields) for ``model``."""
    samples: dict[type[Event], dict[str, Any]] = {
        PostScheduled: {
            "post_id": "pst_1",
            "network": "sandbox",
            "occurrence": WHEN.isoformat(),
            "due_at": WHEN,
            "text": text,
            "media_ids": ["med_1", "med_2"],
            "link": "https://example.com/launch",
            "first_comment": "#launch",
            "thread": ["More in part 2"],
        },
        PostPublished: {
            "post_id": "pst_1",
            "network": "sandbox",
            "occurrence": WHEN.isoformat(),
            "network_post_id": "sbx_99",
            "permalink": "https://sandbox.example/p/99",
            "published_at": WHEN + timedelta(seconds=1),
            "due_at": WHEN,
            "attempts": 2,
        },
        PostFailed: {
            "post_id": "pst_1",
            "network": "sandbox",
            "occurrence": WHEN.isoformat(),
            "error_class": "permanent",
            "reason": text,
            "retryable": False,
            "attempts": 1,
        },
        EngagementRequested: {
            "request_id": "req_1",
            "network": "sandbox",
            "action": "reply",
            "target_network_id": "cmt_7",
            "text": text,
            "requested_by": "usr_1",
        },
        EngagementCompleted: {
            "request_id": "req_1",
            "network": "sandbox",
            "action": "like",
            "ok": True,
            "network_id": "lk_3",
            "reason": None,
        },
        MessageReceived: {
            "message_id": "msg_1",
            "conversation_id": "cnv_1",
            "network": "sandbox",
            "network_message_id": "cmt_7",
            "kind": "comment",
            "author_handle": "@fan",
            "author_name": "A Fan",
            "text": text,
            "network_post_id": "sbx_99",
            "sent_at": WHEN,
        },
        ConversationUpdated: {
            "conversation_id": "cnv_1",
            "network": "sandbox",
            "kind": "comment",
            "change": "responded",
            "status": "open",
            "actor_id": "usr_1",
            "first_message_at": WHEN,
            "first_response_s": 42.5,
        },
        MetricsCollected: {
            "network": "sandbox",
            "scope": "post",
            "network_post_id": "sbx_99",
            "collected_at": WHEN,
            "metrics": {"likes": 12.0, "reach": 340.5},
            "partial": True,
            "post_id": "pst_1",
            "published_at": WHEN,
            "dimensions": {"age": {"18-24": 0.4, "25-34": 0.6}},
            "history": False,
        },
        AccountConnected: {
            "network": "sandbox",
            "handle": "@brand",
            "display_name": text,
            "timezone": "Asia/Jakarta",
        },
        AccountDisconnected: {"network": "sandbox", "reason": text},
    }
    return {"workspace_id": "ws_1", "account_id": account_id, **samples[model]}


ids = [model.topic for model in EVENT_TYPES]
models = pytest.mark.parametrize("model", EVENT_TYPES, ids=ids)


def test_every_model_has_a_sample() -> None:
    for model in EVENT_TYPES:
        assert model.new(**sample_payload(model)).event_type == model.topic


# Awkward but valid values: unicode, quotes, escapes, separators, long text.
ROUND_TRIP_VALUES = [
    ("ws_1", "acc_1", "Hello"),
    ("ws-\u00e9\u00e8", "acc:with:colons", ""),
    ("\u5de5\u4f5c", "\U0001f680", "Caf\u00e9 \u2615 \U0001f389 \u0645\u0631\u062d\u0628\u0627"),
    ('ws "quoted"', "acc\\back", 'line\nbreak\ttab "quotes" \\ </script>'),
    ("w" * 200, "a" * 200, "x" * 5000),
    ("\x00nul", " ", "\u2028\u2029\ufeff"),
]


@models
@pytest.mark.parametrize(
    ("workspace_id", "account_id", "text"),
    ROUND_TRIP_VALUES,
    ids=["plain", "accents", "cjk-emoji-rtl", "quotes-escapes", "long", "control-chars"],
)
def test_json_round_trip(model: type[Event], workspace_id: str, account_id: str, text: str) -> None:
    payload = {**sample_payload(model, account_id, text), "workspace_id": workspace_id}
    event = model.new(**payload)
    again = model.model_validate_json(event.model_dump_json())
    assert again == event
    assert again.model_dump() == event.model_dump()


@models
def test_consumers_ignore_unknown_fields(model: type[Event]) -> None:
    event = model.new(**sample_payload(model))
    doc = json.loads(event.model_dump_json())
    doc["added_in_a_later_version"] = {"nested": [1, 2]}
    consumed = model.model_validate_json(json.dumps(doc))
    assert consumed == event
    assert "added_in_a_later_version" not in consumed.model_dump()
    assert not hasattr(consumed, "added_in_a_later_version")


@models
def test_new_refuses_unknown_field(model: type[Event]) -> None:
    with pytest.raises(ValidationError, match="extra"):
        model.new(**sample_payload(model), added_by_mistake="x")


@models
@pytest.mark.parametrize(
    ("field", "value"),
    [
        # Each of these would be coerced in lax mode: strict must refuse them.
        ("occurred_at", WHEN.isoformat()),
        ("event_id", str(uuid.uuid4())),
        ("schema_version", "1"),
        ("workspace_id", 42),
        ("account_id", b"acc_1"),
    ],
)
def test_new_refuses_wrong_type(model: type[Event], field: str, value: object) -> None:
    with pytest.raises(ValidationError, match=field):
        model.new(**{**sample_payload(model), field: value})


@models
def test_new_refuses_wrong_event_type_and_empty_workspace(model: type[Event]) -> None:
    with pytest.raises(ValidationError, match="event_type"):
        model.new(**sample_payload(model), event_type="something.else")
    with pytest.raises(ValidationError, match="workspace_id"):
        model.new(**{**sample_payload(model), "workspace_id": ""})


@models
def test_envelope_is_filled_in(model: type[Event]) -> None:
    before = datetime.now(UTC)
    first = model.new(**sample_payload(model))
    second = model.new(**sample_payload(model))
    after = datetime.now(UTC)
    assert first.event_type == model.topic
    assert model.model_fields["event_type"].default == model.topic
    assert first.schema_version == 1
    assert isinstance(first.event_id, uuid.UUID)
    assert first.event_id != second.event_id
    assert first.occurred_at.tzinfo is not None
    assert first.occurred_at.utcoffset() == timedelta(0)
    assert before <= first.occurred_at <= after


@models
def test_occurred_at_stays_utc_aware_after_json(model: type[Event]) -> None:
    event = model.new(**sample_payload(model))
    again = model.model_validate_json(event.model_dump_json())
    assert again.occurred_at.utcoffset() == timedelta(0)


@models
def test_consumer_refuses_naive_occurred_at(model: type[Event]) -> None:
    doc = json.loads(model.new(**sample_payload(model)).model_dump_json())
    doc["occurred_at"] = "2026-05-01T02:00:00"
    with pytest.raises(ValidationError, match="occurred_at"):
        model.model_validate_json(json.dumps(doc))


@models
def test_events_are_immutable(model: type[Event]) -> None:
    event = model.new(**sample_payload(model))
    with pytest.raises(ValidationError):
        event.workspace_id = "ws_other"  # type: ignore[misc]


@models
def test_partition_key_is_workspace_and_account(model: type[Event]) -> None:
    event = model.new(**sample_payload(model, account_id="acc_42"))
    assert event.partition_key() == b"ws_1:acc_42"


def test_topics_registry_maps_each_topic_to_its_model() -> None:
    assert len({model.topic for model in EVENT_TYPES}) == len(EVENT_TYPES)
    assert len(TOPICS) == len(EVENT_TYPES)
    for model in EVENT_TYPES:
        assert TOPICS[model.topic] is model
    assert set(TOPICS) == DESIGNED_TOPICS


def test_registry_dispatch_round_trip() -> None:
    """A consumer that reads event_type and looks the model up gets the same event."""
    for model in EVENT_TYPES:
        raw = model.new(**sample_payload(model)).model_dump_json()
        topic = json.loads(raw)["event_type"]
        assert TOPICS[topic].model_validate_json(raw) == model.model_validate_json(raw)


def dead_letter(**changes: Any) -> DeadLetter:
    fields: dict[str, Any] = {
        "source_topic": "post.scheduled",
        "partition": 3,
        "offset": 1041,
        "consumer_group": "siar-publisher",
        "error_type": "ValidationError",
        "error": "1 validation error for PostScheduled",
        "payload": '{"event_type": "post.scheduled", "text": "caf\\u00e9 \u2615"}',
        "failed_at": WHEN,
        "attempts": 3,
    }
    return DeadLetter(**{**fields, **changes})


def test_dead_letter_round_trip() -> None:
    letter = dead_letter()
    assert DeadLetter.model_validate_json(letter.model_dump_json()) == letter


def test_dead_letter_ignores_unknown_fields() -> None:
    doc = json.loads(dead_letter().model_dump_json())
    doc["trace_id"] = "abc"
    assert DeadLetter.model_validate_json(json.dumps(doc)) == dead_letter()


def test_dead_letter_refuses_naive_time_and_zero_attempts() -> None:
    with pytest.raises(ValidationError, match="failed_at"):
        dead_letter(failed_at=datetime(2026, 5, 1))  # noqa: DTZ001 - naive on purpose
    with pytest.raises(ValidationError, match="attempts"):
        dead_letter(attempts=0)


def test_dlq_topic_name() -> None:
    assert dlq_topic("post.scheduled") == "post.scheduled.dlq"
    assert {dlq_topic(t) for t in TOPICS}.isdisjoint(TOPICS)

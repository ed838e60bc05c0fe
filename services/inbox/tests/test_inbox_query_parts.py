"""Pure parts of the inbox's query and act paths: search terms, filters, cursors, changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from siar_inbox.changes import Change, SnoozeInPast, apply, wake
from siar_inbox.domain import ConversationStatus
from siar_inbox.queries import (
    BadCursor,
    InboxFilter,
    after_cursor,
    counts_pipelines,
    decode_cursor,
    encode_cursor,
    read_counts,
)
from siar_inbox.response_metrics import mark_responded, response_times, summarise
from siar_inbox.search import MAX_TERMS, fold, merge_terms, terms

T0 = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)


def conversation(**fields: Any) -> dict[str, Any]:
    """A stored conversation document."""
    doc: dict[str, Any] = {
        "_id": "cnv_1",
        "workspace_id": "ws_1",
        "account_id": "acc_1",
        "network": "sandbox",
        "kind": "comment",
        "status": "open",
        "assignee": None,
        "tags": [],
        "first_message_at": T0,
        "last_message_at": T0,
    }
    doc.update(fields)
    return doc


def test_terms_fold_case_accents_and_keep_emoji_and_indonesian() -> None:
    assert terms("Terima KASIH, produknya bagus 👍🏽🔥 Café") == [
        "terima",
        "kasih",
        "produknya",
        "bagus",
        "cafe",
        "👍",
        "🔥",
    ]
    assert fold("ÀÉÎõü") == "aeiou"
    assert terms("!!! ...") == []


def test_merged_terms_are_capped() -> None:
    many = " ".join(f"w{i}" for i in range(MAX_TERMS + 50))
    assert len(merge_terms(["a"], many)) == MAX_TERMS


@given(st.floats(min_value=0, max_value=4e9), st.text(min_size=1, max_size=40))
def test_cursors_round_trip(when: float, conversation_id: str) -> None:
    assert decode_cursor(encode_cursor(when, conversation_id)) == (when, conversation_id)


@pytest.mark.parametrize(
    "cursor", ["", "not base64!", "bm90LWpzb24", "eyJ0IjogMX0", "eyJ0IjogIngiLCAiaWQiOiAiYSJ9"]
)
def test_foreign_cursors_are_refused(cursor: str) -> None:
    with pytest.raises(BadCursor):
        after_cursor(cursor)


def test_a_cursor_skips_its_own_tie_only() -> None:
    after = after_cursor(encode_cursor(100.0, "cnv_5"))
    assert after.clause() == {"last_ts": {"$lte": 100.0}}
    assert after.passed({"last_ts": 100.0, "_id": "cnv_5"})
    assert after.passed({"last_ts": 100.0, "_id": "cnv_9"})
    assert not after.passed({"last_ts": 100.0, "_id": "cnv_4"})
    assert not after.passed({"last_ts": 99.5, "_id": "cnv_9"})


def test_filters_become_one_flat_query() -> None:
    query = InboxFilter(
        statuses=["open", "pending"], tags=["VIP "], assignee="me", text="Halo!", networks=["x"]
    ).query("usr_me")
    assert query == {
        "status": {"$in": ["open", "pending"]},
        "network": "x",
        "tags": {"$all": ["vip"]},
        "assignee": "usr_me",
        "search_terms": {"$all": ["halo"]},
    }
    assert InboxFilter(assignee="none").query("u") == {"assignee": None}
    assert InboxFilter(text="?!").matches_nothing()


def test_each_count_ignores_its_own_filter_only() -> None:
    inbox = InboxFilter(statuses=["open"], kinds=["dm"], text="hi")
    pipelines = counts_pipelines(inbox, "u")
    words = {"search_terms": {"$all": ["hi"]}}
    assert pipelines["status"][0] == {"$match": {**words, "kind": "dm"}}
    assert pipelines["kind"][0] == {"$match": {**words, "status": "open"}}
    assert pipelines["tags"][0] == {"$match": {**words, "status": "open", "kind": "dm"}}
    rows: dict[str, list[dict[str, Any]]] = {
        "status": [{"_id": "open", "n": 2}, {"_id": "closed", "n": 5}],
        "assignee": [{"_id": "u", "n": 1}, {"_id": None, "n": 3}, {"_id": "v", "n": 4}],
        "tags": [{"_id": ["a", "b"], "n": 2}, {"_id": '["b"]', "n": 1}, {"_id": [], "n": 9}],
    }
    counts = read_counts(rows, inbox, "u")
    assert counts["status"] == {"closed": 5, "open": 2}
    assert counts["assignee"] == {"me": 1, "none": 3, "others": 4}
    assert counts["tags"] == {"a": 2, "b": 3}
    assert counts["total"] == 2  # only the statuses asked for


def test_close_reopen_assign_snooze_and_wake_make_their_events() -> None:
    doc = conversation()
    later = T0 + timedelta(minutes=30)
    assert apply(doc, Change(status=ConversationStatus.CLOSED), later, "usr_a") == ["closed"]
    assert (doc["resolution_s"], doc["closed_by"]) == (1800.0, "usr_a")
    assert apply(doc, Change(status=ConversationStatus.CLOSED), later, "usr_a") == []
    assert apply(doc, Change(status=ConversationStatus.OPEN, assignee="usr_b"), later, "u") == [
        "reopened",
        "assigned",
    ]
    assert apply(doc, Change(add_tags=("A", "b"), remove_tags=("B",)), later, "u") == []
    assert doc["tags"] == ["a"]
    with pytest.raises(SnoozeInPast):
        apply(doc, Change(snooze_until=later - timedelta(seconds=1)), later, "u")
    until = later + timedelta(hours=1)
    assert apply(doc, Change(snooze_until=until), later, "u") == ["snoozed"]
    assert (doc["status"], doc["snoozed_until_ts"]) == ("snoozed", until.timestamp())
    assert wake(doc) == ["reopened"]
    assert (doc["status"], doc["snoozed_until"]) == ("open", None)
    assert wake(doc) == []


def test_only_the_first_answer_counts_and_reports_summarise() -> None:
    doc = conversation()
    assert mark_responded(doc, T0 + timedelta(seconds=90), "usr_a")
    assert not mark_responded(doc, T0 + timedelta(seconds=200), "usr_b")
    assert (doc["first_response_s"], doc["responded_by"]) == (90.0, "usr_a")
    closed = conversation(
        _id="cnv_2",
        status="closed",
        first_response_s=30.0,
        responded_by="usr_b",
        resolution_s=600.0,
        closed_by="usr_b",
    )
    report = response_times([doc, closed, conversation(_id="cnv_3")], items=2)
    assert (report.conversations, report.unanswered) == (3, 1)
    assert report.first_response.median_s == 60.0
    assert report.resolution.count == 1
    assert [t.user_id for t in report.by_teammate] == ["usr_a", "usr_b"]
    assert [i.id for i in report.items] == ["cnv_1", "cnv_2"]
    assert summarise([]).count == 0
    assert summarise(range(1, 11)).p90_s == 9

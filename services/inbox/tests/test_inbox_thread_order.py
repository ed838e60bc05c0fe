"""Folding messages into a thread gives the same thread whatever order they arrive in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from siar.connectors import FetchedMessage
from siar_inbox.ingest import normalise
from siar_inbox.store import folded

BASE = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
TEXTS = ("kecewa banget 😡", "Thanks, love it!", "ok", "日本語 🙏", "Refund please")


def fold_in(order: list[int]) -> dict[str, Any]:
    thread: dict[str, Any] | None = None
    for i in order:
        fetched = FetchedMessage(
            network_message_id=f"m{i}",
            kind="comment",
            author_handle=f"fan{i % 3}",
            text=TEXTS[i % len(TEXTS)],
            network_post_id="p1",
            sent_at=BASE + timedelta(minutes=i),
        )
        message, conv = normalise(
            workspace_id="ws",
            account_id="a",
            network="x",
            fetched=fetched,
            post_id=None,
            received_at=BASE,
        )
        thread = folded(thread, message, conv)
    assert thread is not None
    return thread


@settings(max_examples=25, deadline=None)
@given(st.permutations(list(range(6))))
def test_arrival_order_does_not_change_the_thread(order: list[int]) -> None:
    thread, in_order = fold_in(order), fold_in(sorted(order))
    keys = ("message_count", "last_message_at", "last_message_text", "first_message_at")
    assert {k: thread[k] for k in keys} == {k: in_order[k] for k in keys}
    assert (thread["sentiment"], thread["language"]) == (
        in_order["sentiment"],
        in_order["language"],
    )
    assert thread["priority"] == in_order["priority"] == "high"  # message 0 is negative
    assert thread["last_message_text"] == TEXTS[5 % len(TEXTS)]

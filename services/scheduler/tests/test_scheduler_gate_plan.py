"""Gating ahead: when each post's gate must start, and late sends written back."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from siar.contracts import utcnow
from siar_scheduler.dispatch import Dispatcher, plan_gates
from siar_scheduler.domain import DispatchRecord, Post, PostStatus, Target
from siar_scheduler.late_sends import with_lateness


def test_a_lone_post_is_gated_its_lead_before_its_time_not_earlier() -> None:
    now = 1_000.0
    take, next_start = plan_gates([now + 10.0], now, lead_s=1.0, per_post_s=0.002)
    assert take == 0
    # Latest start 10 - 1 - 0.002 s from now, less half a lead of batching window.
    assert next_start == 1_000.0 + 10.0 - 1.0 - 0.002 - 0.5
    take, _ = plan_gates([now + 10.0], next_start, lead_s=1.0, per_post_s=0.002)
    assert take == 1


def test_a_same_second_spike_starts_early_enough_to_gate_every_post_before_it() -> None:
    due, per_post = 1_000.0, 0.002
    dues = [due] * 10_000
    _, start = plan_gates(dues, 900.0, lead_s=1.0, per_post_s=per_post)
    # At that start the whole spike is taken, and gating it ends a lead before its time.
    take, _ = plan_gates(dues, start, lead_s=1.0, per_post_s=per_post)
    assert take == 10_000
    assert start + take * per_post <= due - 1.0


def test_without_a_lead_posts_are_taken_at_their_time() -> None:
    assert plan_gates([10.0, 10.0, 11.0], 10.0, lead_s=0.0, per_post_s=0.0) == (2, 11.0)


@given(
    st.lists(st.floats(min_value=0, max_value=120), min_size=1, max_size=200),
    st.floats(min_value=0, max_value=120),
    st.floats(min_value=0, max_value=3),
    st.floats(min_value=0, max_value=0.01),
)
def test_plan_takes_a_prefix_and_never_wakes_in_the_past(
    offsets: list[float], now: float, lead: float, per_post: float
) -> None:
    dues = sorted(offsets)
    take, next_start = plan_gates(dues, now, lead_s=lead, per_post_s=per_post)
    assert 0 <= take <= len(dues)
    if take < len(dues):
        assert next_start > now  # the loop cannot spin
    else:
        assert next_start == float("inf")
    # Every post due by now (plus its lead) is in the prefix taken.
    assert all(k < take for k, due in enumerate(dues) if due - lead <= now)


async def test_dispatcher_with_a_lead_gates_ahead_of_the_due_time() -> None:
    due = utcnow() + timedelta(seconds=3)
    gated: list[float] = []

    async def load_due(_until: object) -> list[dict[str, object]]:
        return [{"_id": "pst_1", "workspace_id": "ws_1", "version": 1, "scheduled_at": due}]

    async def fire_many(dues: list[tuple[str, str, int, datetime]]) -> set[str]:
        gated.append((utcnow() - due).total_seconds())
        return {post_id for _, post_id, _, _ in dues}

    d = Dispatcher(
        load_due=load_due, fire_many=fire_many, lookahead_s=60, scan_interval_s=30, lead_s=1.0
    )
    task = asyncio.create_task(d.run())
    try:
        for _ in range(500):
            if gated:
                break
            await asyncio.sleep(0.01)
    finally:
        d.stop()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 2)
    assert len(gated) == 1
    # A lead (1 s) before its time at least, and within half a lead more (the batching window).
    assert -2.1 <= gated[0] <= -1.0


def fired_post(lateness_ms: float = 0.0) -> Post:
    due = utcnow()
    record = DispatchRecord(
        occurrence=due.isoformat(), due_at=due, dispatched_at=due, lateness_ms=lateness_ms
    )
    return Post(
        id="pst_1",
        workspace_id="ws_1",
        text="hi",
        scheduled_at=due,
        status=PostStatus.DISPATCHED,
        targets=[
            Target(account_id=account, network="sandbox", lateness_ms=lateness_ms)
            for account in ("acc_a", "acc_b")
        ],
        dispatches=[record],
        created_by="usr_1",
        created_at=due,
        updated_at=due,
    )


def test_a_late_send_records_its_time_and_lateness_on_the_post_and_its_target() -> None:
    post = fired_post()
    occurrence = post.dispatches[0].occurrence
    changed = with_lateness(post, occurrence, "acc_a", 2_500.0)
    assert changed is not None
    [record] = changed.dispatches
    assert record.lateness_ms == 2_500.0
    assert record.dispatched_at == record.due_at + timedelta(milliseconds=2_500)
    assert [t.lateness_ms for t in changed.targets] == [2_500.0, 0.0]
    assert changed.version == post.version


def test_an_earlier_or_unknown_send_changes_nothing() -> None:
    post = fired_post(lateness_ms=3_000.0)
    assert with_lateness(post, post.dispatches[0].occurrence, "acc_a", 1_000.0) is None
    assert with_lateness(post, "another occurrence", "acc_a", 9_000.0) is None

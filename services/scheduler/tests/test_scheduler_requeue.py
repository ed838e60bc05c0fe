"""Evergreen posts come back in the first free queue slot at or after due + N days (pure).

Firing stores the floor (the same wall-clock time N days later); ``choose`` picks the
slot at or after it that the post is then moved to."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from siar_scheduler.domain import Post, PostStatus, Target
from siar_scheduler.firing import fired
from siar_scheduler.queues import Slot, first_free, make_schedule
from siar_scheduler.recurrence import check_evergreen, evergreen_floor, next_evergreen
from siar_scheduler.requeue import Holdings, choose

BERLIN = ZoneInfo("Europe/Berlin")
# Berlin springs forward on Sunday 2026-03-29 at 02:00 (to 03:00).
DUE = datetime(2026, 3, 23, 9, 0, tzinfo=BERLIN).astimezone(UTC)  # Monday, CET
WEEKDAYS_9 = make_schedule(
    "Europe/Berlin", [Slot(day=d, time="09:00") for d in ("mon", "tue", "wed")]
)


def berlin(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=BERLIN).astimezone(UTC)


FLOOR = datetime(2026, 3, 30, 9, 0, tzinfo=BERLIN).astimezone(UTC)  # 09:00 CEST


def post(*accounts: str, recycled: int = 0, max_times: int = 3, due: datetime = FLOOR) -> Post:
    ever = check_evergreen(7, max_times, "Europe/Berlin").model_copy(update={"recycled": recycled})
    return Post.model_validate(
        {
            "id": f"pst_{'_'.join(accounts)}_{recycled}",
            "workspace_id": "ws_1",
            "text": "hello",
            "scheduled_at": due,
            "status": PostStatus.SCHEDULED,
            "targets": [Target(account_id=a, network="sandbox") for a in accounts],
            "evergreen": ever,
            "created_by": "usr_1",
            "created_at": due,
            "updated_at": due,
        }
    )


def test_floor_is_the_same_wall_clock_time_across_the_dst_week() -> None:
    ever = check_evergreen(7, 3, "Europe/Berlin")
    floor = evergreen_floor(ever, DUE)
    assert floor == berlin(3, 30, 9)  # 09:00 CEST, one hour less than 7 x 24 h later
    assert floor - DUE == timedelta(days=7) - timedelta(hours=1)


def test_first_free_slot_at_or_after_the_floor_skips_taken_ones() -> None:
    floor = berlin(3, 30, 9)
    assert first_free(WEEKDAYS_9, floor, set()) == floor  # at the floor counts
    assert first_free(WEEKDAYS_9, floor, {floor}) == berlin(3, 31, 9)
    assert first_free(WEEKDAYS_9, floor, {floor, berlin(3, 31, 9)}) == berlin(4, 1, 9)
    assert first_free(WEEKDAYS_9, floor + timedelta(minutes=1), set()) == berlin(3, 31, 9)


def test_a_slot_on_a_skipped_wall_time_moves_forward_by_the_gap() -> None:
    queue = make_schedule("Europe/Berlin", [Slot(day="sun", time="02:30")])
    # 02:30 does not exist on 2026-03-29: it is read with the earlier offset (03:30 CEST).
    assert first_free(queue, berlin(3, 28, 23), set()) == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)


def test_next_evergreen_is_the_floor_until_max_times() -> None:
    ever = check_evergreen(7, 2, "Europe/Berlin")
    assert next_evergreen(ever, DUE) == berlin(3, 30, 9)
    assert next_evergreen(ever.model_copy(update={"recycled": 1}), DUE) == berlin(3, 30, 9)
    assert next_evergreen(ever.model_copy(update={"recycled": 2}), DUE) is None


def test_choose_uses_the_first_targets_queue_free_on_every_target() -> None:
    holdings = Holdings(
        queues={("ws_1", "acc_a"): WEEKDAYS_9},
        taken={("ws_1", "acc_b"): {berlin(3, 30, 9)}},  # held on the second target only
    )
    both, other_first = post("acc_a", "acc_b"), post("acc_b", "acc_a")
    chosen = choose([both, other_first], holdings)
    assert chosen == {both.id: berlin(3, 31, 9)}  # acc_b has no queue: its post uses the floor
    assert berlin(3, 31, 9) in holdings.taken["ws_1", "acc_b"]  # now held for later posts


def test_two_posts_of_one_account_in_a_batch_get_different_slots() -> None:
    holdings = Holdings(queues={("ws_1", "acc_a"): WEEKDAYS_9})
    first, second = post("acc_a"), post("acc_a", recycled=1)
    chosen = choose([first, second], holdings)
    assert chosen == {first.id: berlin(3, 30, 9), second.id: berlin(3, 31, 9)}


def test_fired_evergreen_waits_at_its_floor_and_stops_at_max_times() -> None:
    again = fired(post("acc_a", due=DUE), now=DUE, token="t")
    assert again.status is PostStatus.SCHEDULED
    assert again.scheduled_at == FLOOR
    assert again.evergreen is not None
    assert again.evergreen.recycled == 1
    # Fired at its floor, the post is what choose() moves: its slot is at or after it.
    assert choose([again], Holdings(queues={("ws_1", "acc_a"): WEEKDAYS_9})) == {again.id: FLOOR}
    last = fired(post("acc_a", recycled=3, due=DUE), now=DUE, token="t")
    assert last.status is PostStatus.DISPATCHED
    assert last.scheduled_at == DUE

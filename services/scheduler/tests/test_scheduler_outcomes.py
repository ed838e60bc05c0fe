"""Pure parts of outcomes, retries and post.scheduled fields: idempotence and exactly-once keys."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from siar.contracts import PostFailed, PostPublished
from siar_scheduler.domain import (
    KEEP_APPLIED,
    DispatchRecord,
    Outcome,
    Post,
    PostStatus,
    PostVariant,
    RetryBatch,
    Target,
    TargetStatus,
    outcome_applied,
)
from siar_scheduler.errors import NothingToRetry
from siar_scheduler.firing import event_id_for
from siar_scheduler.outcomes import outcome_of
from siar_scheduler.recurrence import Recurrence
from siar_scheduler.retries import retried, retry_events
from siar_scheduler.scheduled_fields import scheduled_event, scheduled_fields

AT = datetime(2030, 5, 1, 9, 0, tzinfo=UTC)
NOW = AT + timedelta(minutes=5)


def post(
    *statuses: TargetStatus, status: PostStatus = PostStatus.DISPATCHED, **extra: object
) -> Post:
    accounts = ["acc_sky", "acc_box", "acc_in"]
    networks = ["bluesky", "sandbox", "instagram"]
    return Post.model_validate(
        {
            "id": "pst_1",
            "workspace_id": "ws_1",
            "text": "Launch",
            "scheduled_at": AT,
            "status": status,
            "targets": [
                Target(account_id=a, network=n, status=s)
                for a, n, s in zip(accounts, networks, statuses, strict=False)
            ],
            "created_by": "usr_1",
            "created_at": AT - timedelta(days=1),
            "updated_at": AT - timedelta(days=1),
            "version": 4,
            **extra,
        }
    )


def published(event_id: str = "ev_pub", account_id: str = "acc_sky") -> Outcome:
    return Outcome(
        event_id=event_id,
        account_id=account_id,
        published=True,
        network_post_id="net_1",
        permalink="https://bsky.app/p/1",
        published_at=NOW,
    )


def failed(event_id: str = "ev_fail", account_id: str = "acc_sky") -> Outcome:
    return Outcome(event_id=event_id, account_id=account_id, published=False, reason="refused")


def test_an_outcome_is_applied_once_and_remembered() -> None:
    before = post(TargetStatus.DISPATCHED, TargetStatus.DISPATCHED)
    after = outcome_applied(before, published(), now=NOW)
    assert after is not None
    assert after.targets[0].status is TargetStatus.PUBLISHED
    assert after.targets[0].network_post_id == "net_1"
    assert after.targets[1].status is TargetStatus.DISPATCHED
    assert after.version == before.version + 1
    assert after.applied_events == ["ev_pub"]
    assert after.status is PostStatus.DISPATCHED
    assert outcome_applied(after, published(), now=NOW) is None  # redelivered: no change


def test_a_repeat_after_a_retry_does_not_fail_the_target_again() -> None:
    failed_once = outcome_applied(post(TargetStatus.DISPATCHED), failed(), now=NOW)
    assert failed_once is not None
    assert failed_once.status is PostStatus.FAILED
    again = retried(failed_once, by="usr_1", now=NOW)
    assert again.targets[0].status is TargetStatus.DISPATCHED
    assert outcome_applied(again, failed(), now=NOW) is None


def test_a_late_failure_never_overrides_a_success() -> None:
    done = outcome_applied(post(TargetStatus.DISPATCHED), published(), now=NOW)
    assert done is not None
    late = outcome_applied(done, failed(), now=NOW)
    assert late is not None
    assert late.targets[0].status is TargetStatus.PUBLISHED
    assert late.status is PostStatus.PUBLISHED


def test_a_repeating_post_stays_scheduled_after_an_outcome() -> None:
    rule = Recurrence(rrule="FREQ=DAILY;COUNT=3", timezone="UTC", dtstart=AT)
    waiting = post(TargetStatus.DISPATCHED, status=PostStatus.SCHEDULED, recurrence=rule)
    after = outcome_applied(waiting, failed(), now=NOW)
    assert after is not None
    assert after.status is PostStatus.SCHEDULED
    assert after.targets[0].status is TargetStatus.FAILED


def test_remembered_outcomes_are_bounded() -> None:
    current = post(TargetStatus.DISPATCHED)
    for i in range(KEEP_APPLIED + 5):
        nxt = outcome_applied(current, published(f"ev_{i}"), now=NOW)
        assert nxt is not None
        current = nxt
    assert len(current.applied_events) == KEEP_APPLIED
    assert current.applied_events[0] == "ev_5"
    assert current.applied_events[-1] == f"ev_{KEEP_APPLIED + 4}"


def test_outcome_of_events() -> None:
    pub = PostPublished.new(
        workspace_id="ws_1",
        post_id="pst_1",
        account_id="acc_sky",
        network="bluesky",
        occurrence="now",
        network_post_id="net_9",
        permalink=None,
        published_at=NOW,
    )
    fail = PostFailed.new(
        workspace_id="ws_1",
        post_id="pst_1",
        account_id="acc_box",
        network="sandbox",
        occurrence="now",
        error_class="permanent",
        reason="too long",
        retryable=False,
        attempts=1,
    )
    assert outcome_of(pub) == Outcome(
        event_id=str(pub.event_id),
        account_id="acc_sky",
        published=True,
        network_post_id="net_9",
        published_at=NOW,
    )
    assert outcome_of(fail) == Outcome(
        event_id=str(fail.event_id), account_id="acc_box", published=False, reason="too long"
    )


def test_retry_takes_only_failed_targets_as_a_new_occurrence() -> None:
    before = post(TargetStatus.FAILED, TargetStatus.PUBLISHED, TargetStatus.FAILED)
    after = retried(before, by="usr_1", now=NOW)
    assert [t.status for t in after.targets] == [
        TargetStatus.DISPATCHED,
        TargetStatus.PUBLISHED,
        TargetStatus.DISPATCHED,
    ]
    assert after.status is PostStatus.DISPATCHED
    assert after.retries == 1
    assert after.version == before.version + 1
    assert after.retry_pending == RetryBatch(
        occurrence=f"{AT.isoformat()}#retry-1", account_ids=["acc_sky", "acc_in"], due_at=NOW
    )
    assert after.review[-1].action == "retried"
    assert after.review[-1].comment == "acc_in, acc_sky"
    with pytest.raises(NothingToRetry, match="no failed account"):
        retried(after, by="usr_1", now=NOW)


def test_retry_of_a_repeating_post_keeps_it_scheduled_and_names_the_fired_occurrence() -> None:
    rule = Recurrence(rrule="FREQ=DAILY;COUNT=3", timezone="UTC", dtstart=AT)
    fired = DispatchRecord(
        occurrence="2030-04-30T09:00:00+00:00", due_at=AT, dispatched_at=AT, lateness_ms=1
    )
    waiting = post(
        TargetStatus.FAILED, status=PostStatus.SCHEDULED, recurrence=rule, dispatches=[fired]
    )
    after = retried(waiting, by="usr_1", now=NOW)
    assert after.status is PostStatus.SCHEDULED  # else its next occurrence would never fire
    assert after.retry_pending is not None
    assert after.retry_pending.occurrence == "2030-04-30T09:00:00+00:00#retry-1"


def test_retry_events_have_ids_from_post_account_and_occurrence() -> None:
    before = post(
        TargetStatus.FAILED, TargetStatus.PUBLISHED, media_ids=["med_1"], media_kinds=["video"]
    )
    after = retried(before, by="usr_1", now=NOW)
    events = retry_events(after)
    occurrence = f"{AT.isoformat()}#retry-1"
    assert [(e.account_id, e.occurrence, e.due_at) for e in events] == [
        ("acc_sky", occurrence, NOW)
    ]
    assert events[0].event_id == event_id_for("pst_1", "acc_sky", occurrence)
    assert events[0].media_kinds == ["video"]
    assert [e.event_id for e in retry_events(after)] == [events[0].event_id]  # same every time
    assert retry_events(before) == []


def test_scheduled_fields_from_the_networks_variant_and_the_media_kinds() -> None:
    shaped = post(
        TargetStatus.SCHEDULED,
        TargetStatus.SCHEDULED,
        TargetStatus.SCHEDULED,
        media_ids=["med_1", "med_2"],
        media_kinds=["image", "video"],
        variants={
            "instagram": PostVariant(
                text="Launch on Instagram", format="reel", first_comment="#launch", title="T"
            )
        },
    )
    sky, _, insta = shaped.targets
    assert scheduled_fields(shaped, insta) == {
        "text": "Launch on Instagram",
        "format": "reel",
        "media_kinds": ["image", "video"],
        "first_comment": "#launch",
        "title": "T",
        "thread": [],
    }
    assert scheduled_fields(shaped, sky) == {
        "text": "Launch",
        "format": None,
        "media_kinds": ["image", "video"],
        "first_comment": None,
        "title": None,
        "thread": [],
    }


def test_scheduled_fields_give_no_kinds_for_a_post_stored_without_them() -> None:
    old = post(TargetStatus.SCHEDULED, media_ids=["med_1", "med_2"])
    assert scheduled_fields(old, old.targets[0])["media_kinds"] == []
    bare = post(TargetStatus.SCHEDULED)
    assert scheduled_fields(bare, bare.targets[0]) == {
        "text": "Launch",
        "format": None,
        "media_kinds": [],
        "first_comment": None,
        "title": None,
        "thread": [],
    }


def test_scheduled_event_carries_the_post_and_its_shape_on_the_network() -> None:
    shaped = post(
        TargetStatus.SCHEDULED,
        TargetStatus.SCHEDULED,
        TargetStatus.SCHEDULED,
        link="https://example.com",
        media_ids=["med_1"],
        media_kinds=["image"],
        variants={"instagram": PostVariant(format="story")},
    )
    insta = shaped.targets[2]
    event_id = event_id_for(shaped.id, insta.account_id, "occ")
    event = scheduled_event(shaped, insta, event_id=event_id, occurrence="occ", due_at=AT)
    assert event.event_id == event_id
    assert (event.post_id, event.account_id, event.network) == ("pst_1", "acc_in", "instagram")
    assert (event.occurrence, event.due_at, event.text) == ("occ", AT, "Launch")
    assert (event.link, event.media_ids) == ("https://example.com", ["med_1"])
    assert (event.format, event.media_kinds, event.first_comment) == ("story", ["image"], None)

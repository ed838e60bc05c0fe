"""When a post goes out: post now, add to queue, recurring, evergreen; best times to post."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from siar.contracts import MetricsCollected, utcnow
from siar_scheduler.besttime import (
    HALF_LIFE_DAYS,
    Suggestion,
    engagement_rate,
    suggest,
)
from siar_scheduler.queues import (
    NoQueue,
    QueueSchedule,
    Slot,
    free_slots,
    make_schedule,
    search_end,
    zone_of,
)
from siar_scheduler.recurrence import InvalidRecurrence, check_evergreen, parse_recurrence
from siar_scheduler.service import SchedulerService
from siar_scheduler.timing_store import TimingStore

MAX_CLAIM_TRIES = 20

SAMPLE_DAYS = 8 * HALF_LIFE_DAYS
"""Older samples weigh under 1/256 of a new one and are not read."""


@dataclass(frozen=True)
class When:
    """What the author asked for: at most one of a time, now, or the queue; maybe repeating."""

    scheduled_at: datetime | None = None
    timezone: str | None = None
    publish_now: bool = False
    add_to_queue: bool = False
    rrule: str | None = None
    evergreen_days: int | None = None
    evergreen_times: int | None = None


@dataclass(frozen=True)
class Resolved:
    """The first due time, the repeat fields for the post, and whether it skips the lead."""

    scheduled_at: datetime | None
    repeat: dict[str, Any]
    immediate: bool


class Timing:
    """Queues and best times for accounts, and the due time of new posts."""

    def __init__(self, store: TimingStore, posts: SchedulerService) -> None:
        self.store = store
        self.posts = posts

    async def queue_if_any(self, workspace_id: str, account_id: str) -> QueueSchedule | None:
        """The account's posting schedule; None if it has none (unknown accounts refused)."""
        await self.posts.target_for(workspace_id, account_id)
        return await self.store.queue(workspace_id, account_id)

    async def set_queue(
        self, workspace_id: str, account_id: str, timezone: str, slots: list[Slot]
    ) -> QueueSchedule:
        """Replace the account's weekly slots and zone (validated, sorted, deduplicated)."""
        await self.posts.target_for(workspace_id, account_id)
        queue = make_schedule(timezone, slots)
        await self.store.save_queue(workspace_id, account_id, queue)
        return queue

    async def free(
        self, workspace_id: str, account_ids: list[str], count: int, after: datetime
    ) -> list[datetime]:
        """The next free slots of the first account's queue, free for every account given."""
        queue = await self.store.queue(workspace_id, account_ids[0])
        if queue is None:
            raise NoQueue(
                f"account {account_ids[0]} has no posting schedule; "
                "PUT one at .../accounts/{id}/queue first"
            )
        taken = await self.store.taken(workspace_id, account_ids, after, search_end(after))
        taken |= await self.store.claimed(workspace_id, account_ids)
        return free_slots(queue, after, taken, count)

    async def _claim_free_slot(
        self, workspace_id: str, account_ids: list[str], after: datetime
    ) -> datetime:
        for _ in range(MAX_CLAIM_TRIES):
            slots = await self.free(workspace_id, account_ids, 1, after)
            if not slots:
                raise NoQueue("no free slot in the queue for the next 26 weeks")
            if await self.store.claim_slot(workspace_id, account_ids, slots[0]):
                return slots[0]
        raise NoQueue("the queue's free slots are being taken right now; try again")

    async def resolve(self, workspace_id: str, account_ids: list[str], when: When) -> Resolved:
        """Turn the author's choice into a due time and repeat settings, or a clear 422."""
        chosen = [when.scheduled_at is not None, when.publish_now, when.add_to_queue]
        if sum(chosen) > 1:
            raise InvalidRecurrence("choose one of scheduled_at, publish_now and add_to_queue")
        now = utcnow()
        at, zone = when.scheduled_at, when.timezone
        if when.publish_now:
            at = now
        elif when.add_to_queue:
            at = await self._claim_free_slot(workspace_id, account_ids, now + self.posts.min_lead)
            queue = await self.store.queue(workspace_id, account_ids[0])
            zone = zone or (queue.timezone if queue else None)
        repeat = self._repeat(when, at, zone)
        if "recurrence" in repeat:
            at = repeat["recurrence"].dtstart
        return Resolved(scheduled_at=at, repeat=repeat, immediate=when.publish_now)

    @staticmethod
    def _repeat(when: When, at: datetime | None, zone: str | None) -> dict[str, Any]:
        wants_evergreen = when.evergreen_days is not None or when.evergreen_times is not None
        if not when.rrule and not wants_evergreen:
            return {}
        if at is None:
            raise InvalidRecurrence(
                "a repeating post needs its first time: scheduled_at, publish_now or add_to_queue"
            )
        if when.rrule and wants_evergreen:
            raise InvalidRecurrence("a post is either recurring (rrule) or evergreen, not both")
        if when.rrule:
            if not zone:
                raise InvalidRecurrence(
                    "a recurring post needs timezone (an IANA name) so that its wall-clock "
                    "time stays the same across daylight-saving changes"
                )
            return {"recurrence": parse_recurrence(when.rrule, zone, at)}
        return {
            "evergreen": check_evergreen(
                when.evergreen_days or 0, when.evergreen_times or 0, zone or "UTC"
            )
        }

    async def record_metrics(self, event: MetricsCollected) -> None:
        """Learn from a snapshot: followers of an account, or engagement of one of our posts."""
        ws, account = event.workspace_id, event.account_id
        if event.scope == "account":
            if followers := event.metrics.get("followers"):
                await self.store.save_followers(ws, account, followers)
            return
        if not event.network_post_id:
            return
        published = await self.store.published_at(ws, account, event.network_post_id)
        if published is None:
            return  # not published by Siar: its time of day was not our choice
        followers = await self.store.follower_count(ws, account)
        rate = engagement_rate(event.metrics, followers)
        if rate is None:
            return
        await self.store.save_sample(
            ws,
            f"{account}:{event.network_post_id}",
            {
                "account_id": account,
                "network": event.network,
                "published_ts": published.timestamp(),
                "collected_ts": event.collected_at.timestamp(),
                "engagement": rate,
            },
        )

    async def best_times(
        self, workspace_id: str, account_id: str, count: int, timezone: str | None = None
    ) -> tuple[str, list[Suggestion]]:
        """The account's best hours of the week in ``timezone``, else its queue's zone, else UTC."""
        target = await self.posts.target_for(workspace_id, account_id)
        if timezone is None:
            queue = await self.store.queue(workspace_id, account_id)
            timezone = queue.timezone if queue else "UTC"
        now = utcnow()
        since = (now - timedelta(days=SAMPLE_DAYS)).timestamp()
        samples = await self.store.samples(workspace_id, account_id, since)
        found = suggest(
            samples, zone=zone_of(timezone), network=target.network, now=now, count=count
        )
        return timezone, found

    async def fill_queue(
        self, workspace_id: str, account_id: str, count: int, timezone: str | None
    ) -> QueueSchedule:
        """Make the account's queue its ``count`` best hours (in its zone unless one is given)."""
        zone_name, found = await self.best_times(workspace_id, account_id, count, timezone)
        return await self.set_queue(workspace_id, account_id, zone_name, [s.slot() for s in found])

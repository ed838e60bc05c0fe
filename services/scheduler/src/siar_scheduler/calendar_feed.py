"""A workspace's calendar as an iCalendar (RFC 5545) feed that calendar apps subscribe to.

Each dated post is one ``VEVENT`` whose ``UID`` is stable (the post id) and whose
``SEQUENCE`` is the post's version, so a client that polls again updates the event
in place when a post moves instead of adding a second one.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from icalendar import Calendar, Event

from siar_scheduler.domain import Post, PostStatus
from siar_scheduler.labels import Label

EVENT_LENGTH = timedelta(minutes=15)
SUMMARY_CHARS = 60
STATUS = {
    PostStatus.DRAFT: "TENTATIVE",
    PostStatus.IN_REVIEW: "TENTATIVE",
    PostStatus.CHANGES_REQUESTED: "TENTATIVE",
}


def _summary(post: Post) -> str:
    first_line = post.text.strip().splitlines()[0] if post.text.strip() else "(no text)"
    short = (
        first_line if len(first_line) <= SUMMARY_CHARS else first_line[: SUMMARY_CHARS - 1] + "…"
    )
    networks = ", ".join(dict.fromkeys(t.network for t in post.targets))
    return f"[{networks}] {short}"


def _description(post: Post) -> str:
    targets = "\n".join(f"- {t.network} {t.account_id}: {t.status.value}" for t in post.targets)
    return f"{post.text}\n\nStatus: {post.status.value}\nAccounts:\n{targets}"


def render_feed(
    *, workspace_id: str, posts: list[Post], labels: list[Label], stamp: datetime
) -> bytes:
    """The feed's bytes (``text/calendar``)."""
    names = {label.id: label.name for label in labels}
    cal = Calendar()
    cal.add("prodid", "-//Siar//Scheduler calendar//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", f"Siar posts ({workspace_id})")
    cal.add("x-published-ttl", "PT15M")  # how often clients should poll again
    for post in posts:
        if post.scheduled_at is None:
            continue
        event = Event()
        event.add("uid", f"{post.id}@siar")
        event.add("dtstamp", stamp)
        event.add("dtstart", post.scheduled_at)
        event.add("dtend", post.scheduled_at + EVENT_LENGTH)
        event.add("summary", _summary(post))
        event.add("description", _description(post))
        event.add("sequence", post.version)
        event.add("last-modified", post.updated_at)
        event.add("status", STATUS.get(post.status, "CONFIRMED"))
        categories = [names[i] for i in post.label_ids if i in names]
        if categories:
            event.add("categories", categories)
        cal.add_component(event)
    ical: bytes = cal.to_ical()
    return ical

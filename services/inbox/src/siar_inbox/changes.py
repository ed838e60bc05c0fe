"""How a person's change moves a conversation's state, and which events it makes (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from siar.contracts.engagement import ConversationChange
from siar.runtime.mongo import Document
from siar_inbox.domain import ConversationStatus
from siar_inbox.response_metrics import mark_closed


class SnoozeInPast(ValueError):
    """A snooze must end in the future."""


@dataclass(frozen=True)
class Change:
    """What a person changes on a conversation (None: leave as it is)."""

    status: ConversationStatus | None = None
    assignee: str | None = None
    unassign: bool = False
    tags: list[str] | None = None
    add_tags: tuple[str, ...] = ()
    remove_tags: tuple[str, ...] = ()
    snooze_until: datetime | None = None


def clean_tags(tags: list[str] | tuple[str, ...]) -> set[str]:
    """Tags as stored: trimmed, lower-case, no empty ones."""
    return {t.strip().lower() for t in tags if t.strip()}


def _unsnooze(doc: Document) -> None:
    doc.update(snoozed_until=None, snoozed_until_ts=None)


def _move(
    doc: Document, status: ConversationStatus, now: datetime, actor: str | None
) -> list[ConversationChange]:
    before = doc.get("status", "open")
    if status.value == before:
        return []
    doc["status"] = status.value
    _unsnooze(doc)
    if status is ConversationStatus.CLOSED:
        mark_closed(doc, now, actor)
        return ["closed"]
    if before in ("closed", "snoozed"):
        return ["reopened"]
    return []  # open <-> pending: nothing analytics counts


def apply(
    doc: Document, change: Change, now: datetime, actor: str | None
) -> list[ConversationChange]:
    """Apply ``change`` to a stored conversation in place; the events it calls for."""
    events: list[ConversationChange] = []
    if change.snooze_until is not None:
        if change.snooze_until <= now:
            raise SnoozeInPast(f"snooze until {change.snooze_until.isoformat()} is not ahead")
        doc.update(
            status=ConversationStatus.SNOOZED.value,
            snoozed_until=change.snooze_until,
            snoozed_until_ts=change.snooze_until.timestamp(),
        )
        events.append("snoozed")
    elif change.status is not None:
        events.extend(_move(doc, change.status, now, actor))
    assignee = None if change.unassign else change.assignee
    if (change.unassign or change.assignee is not None) and doc.get("assignee") != assignee:
        doc["assignee"] = assignee
        events.append("assigned")
    if change.tags is not None:
        doc["tags"] = sorted(clean_tags(change.tags))
    if change.add_tags or change.remove_tags:
        tags = set(doc.get("tags") or ()) | clean_tags(change.add_tags)
        doc["tags"] = sorted(tags - clean_tags(change.remove_tags))
    return events


def wake(doc: Document) -> list[ConversationChange]:
    """A snoozed conversation whose time came: open again."""
    if doc.get("status") != ConversationStatus.SNOOZED.value:
        return []
    doc["status"] = ConversationStatus.OPEN.value
    _unsnooze(doc)
    return ["reopened"]

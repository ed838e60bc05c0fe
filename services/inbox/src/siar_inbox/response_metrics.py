"""First-response and resolution times: kept on each conversation, announced to analytics.

Every state change that matters to them (answered, closed, reopened, assigned, snoozed)
is written together with a ``conversation.updated`` event in one unit of work.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from datetime import datetime
from typing import Any, get_args

from pydantic import BaseModel

from siar.contracts import ConversationUpdated
from siar.contracts.engagement import ConversationChange, MessageKind
from siar.runtime.mongo import Document

KINDS: frozenset[str] = frozenset(get_args(MessageKind))


def _started(doc: Document) -> datetime:
    started: datetime = doc.get("first_message_at") or doc["last_message_at"]
    return started


def mark_responded(doc: Document, now: datetime, actor: str) -> bool:
    """Record our first answer on ``doc``; False when it was answered before."""
    if doc.get("first_response_at") is not None:
        return False
    doc["first_response_at"] = now
    doc["first_response_s"] = max(0.0, (now - _started(doc)).total_seconds())
    doc["responded_by"] = actor
    return True


def mark_closed(doc: Document, now: datetime, actor: str | None) -> None:
    """Record a close: the resolution time counts from the first message to this close."""
    doc["closed_at"] = now
    doc["resolution_s"] = max(0.0, (now - _started(doc)).total_seconds())
    doc["closed_by"] = actor


def conversation_event(
    doc: Document, change: ConversationChange, actor: str | None
) -> ConversationUpdated:
    """The ``conversation.updated`` event for ``doc`` as it is after ``change``."""
    kind = str(doc.get("kind", "comment"))
    return ConversationUpdated.new(
        workspace_id=doc["workspace_id"],
        conversation_id=doc["_id"],
        account_id=doc["account_id"],
        network=doc["network"],
        kind=kind if kind in KINDS else "comment",
        change=change,
        status=doc["status"],
        actor_id=actor,
        assignee_id=doc.get("assignee"),
        first_message_at=_started(doc),
        first_response_s=doc.get("first_response_s"),
        resolution_s=doc.get("resolution_s") if doc["status"] == "closed" else None,
    )


class Durations(BaseModel):
    """Summary of a set of durations, in seconds."""

    count: int
    mean_s: float | None = None
    median_s: float | None = None
    p90_s: float | None = None
    max_s: float | None = None


def summarise(values: Iterable[float]) -> Durations:
    """Count, mean, median, 90th percentile and maximum."""
    data = sorted(values)
    if not data:
        return Durations(count=0)
    p90 = data[min(len(data) - 1, max(0, round(0.9 * len(data)) - 1))]
    return Durations(
        count=len(data),
        mean_s=round(statistics.fmean(data), 3),
        median_s=round(statistics.median(data), 3),
        p90_s=round(p90, 3),
        max_s=round(data[-1], 3),
    )


class TeammateTimes(BaseModel):
    """One teammate's first answers and closes."""

    user_id: str
    first_response: Durations
    resolution: Durations


class ConversationTimes(BaseModel):
    """One conversation's times."""

    id: str
    first_message_at: datetime
    first_response_s: float | None
    responded_by: str | None
    resolution_s: float | None
    closed_by: str | None


class ResponseTimes(BaseModel):
    """Response and resolution times of conversations started in a period."""

    conversations: int
    unanswered: int
    first_response: Durations
    resolution: Durations
    by_teammate: list[TeammateTimes]
    items: list[ConversationTimes]


def response_times(docs: list[Document], *, items: int) -> ResponseTimes:
    """Aggregate stored conversations (their first message in the period) into a report."""
    responded: dict[str, list[float]] = {}
    resolved: dict[str, list[float]] = {}
    for doc in docs:
        if doc.get("first_response_s") is not None:
            who = str(doc.get("responded_by") or "")
            responded.setdefault(who, []).append(float(doc["first_response_s"]))
        if doc.get("status") == "closed" and doc.get("resolution_s") is not None:
            who = str(doc.get("closed_by") or "")
            resolved.setdefault(who, []).append(float(doc["resolution_s"]))
    people = sorted((set(responded) | set(resolved)) - {""})
    return ResponseTimes(
        conversations=len(docs),
        unanswered=sum(1 for d in docs if d.get("first_response_s") is None),
        first_response=summarise(v for vs in responded.values() for v in vs),
        resolution=summarise(v for vs in resolved.values() for v in vs),
        by_teammate=[
            TeammateTimes(
                user_id=who,
                first_response=summarise(responded.get(who, [])),
                resolution=summarise(resolved.get(who, [])),
            )
            for who in people
        ],
        items=[_times(d) for d in docs[:items]],
    )


def _times(doc: Document) -> ConversationTimes:
    closed = doc.get("status") == "closed"
    data: dict[str, Any] = {
        "id": doc["_id"],
        "first_message_at": doc["first_message_at"],
        "first_response_s": doc.get("first_response_s"),
        "responded_by": doc.get("responded_by"),
        "resolution_s": doc.get("resolution_s") if closed else None,
        "closed_by": doc.get("closed_by") if closed else None,
    }
    return ConversationTimes.model_validate(data)

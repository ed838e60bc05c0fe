"""The unified inbox's query: filters, full-text terms, an opaque cursor, sidebar counts.

Pure: builds MongoDB filters and pipelines, encodes and decodes cursors; the store runs them.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from siar_inbox.search import terms

StatusFilter = Literal["open", "pending", "closed", "snoozed"]
KindFilter = Literal["comment", "reply", "dm", "mention", "review"]
SentimentFilter = Literal["positive", "neutral", "negative"]
PriorityFilter = Literal["low", "normal", "high", "urgent"]

UNASSIGNED = "none"
"""``assignee=none``: conversations nobody is assigned to."""
ME = "me"
"""``assignee=me``: the caller's own conversations."""

FACETS = ("status", "kind", "network", "account_id", "priority", "sentiment")
"""Sidebar dimensions counted per value (plus tags and assignment)."""


class BadCursor(ValueError):
    """A cursor that this API did not hand out."""


@dataclass(frozen=True)
class InboxFilter:
    """What a person narrows the inbox to; an empty field does not filter."""

    accounts: list[str] = field(default_factory=list)
    networks: list[str] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)
    statuses: list[str] = field(default_factory=list)
    sentiments: list[str] = field(default_factory=list)
    priorities: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    assignee: str | None = None
    text: str | None = None

    def clauses(self, me: str) -> dict[str, dict[str, Any]]:
        """One MongoDB clause per filtered dimension, keyed by the dimension's name."""
        # $in rather than equality everywhere: once an array field is indexed, nx-27017
        # matches nothing on equality (docs/embedded-stack.md); $in/$all work on both.
        out: dict[str, dict[str, Any]] = {}
        for name, values in (
            ("account_id", self.accounts),
            ("network", self.networks),
            ("kind", self.kinds),
            ("status", self.statuses),
            ("sentiment", self.sentiments),
            ("priority", self.priorities),
        ):
            if values:
                out[name] = {name: {"$in": sorted(set(values))}}
        if self.tags:
            out["tags"] = {"tags": {"$all": sorted({t.strip().lower() for t in self.tags})}}
        if self.assignee is not None:
            who = {UNASSIGNED: None, ME: me}.get(self.assignee, self.assignee)
            out["assignee"] = {"assignee": who}
        if self.text and (wanted := terms(self.text)):
            out["text"] = {"search_terms": {"$all": wanted}}
        return out

    def query(self, me: str) -> dict[str, Any]:
        """The whole filter (without the workspace, which the store adds)."""
        return _and(self.clauses(me).values())

    def matches_nothing(self) -> bool:
        """Text that folds to no term at all (punctuation only) can match nothing."""
        return bool(self.text and self.text.strip() and not terms(self.text))


def _and(clauses: Any) -> dict[str, Any]:
    # One flat document, not $and: inside $and, nx-27017 matches {"assignee": None}
    # only where the field is missing, not where it is null. Clauses never share a key.
    merged: dict[str, Any] = {}
    for clause in clauses:
        merged.update(clause)
    return merged


SORT = [("last_message_at", -1), ("_id", -1)]
"""Newest activity first; the id breaks ties so a page boundary is exact."""


def encode_cursor(last_message_at: datetime, conversation_id: str) -> str:
    """An opaque cursor just after this conversation in :data:`SORT` order."""
    raw = json.dumps({"t": last_message_at.isoformat(), "id": conversation_id})
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """The position a cursor stands for, or :class:`BadCursor`."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(raw)
        when = datetime.fromisoformat(data["t"])
        conversation_id = data["id"]
    except (binascii.Error, ValueError, KeyError, TypeError) as err:
        raise BadCursor("the cursor is not one this API handed out") from err
    if when.tzinfo is None or not isinstance(conversation_id, str):
        raise BadCursor("the cursor is not one this API handed out")
    return when, conversation_id


def after_cursor(cursor: str) -> dict[str, Any]:
    """The clause that keeps only conversations after ``cursor`` in :data:`SORT` order.

    A conversation that gains a message meanwhile moves to the top and is not shown
    again further down; nothing else shifts, so inserts do not skip or repeat items.
    """
    when, conversation_id = decode_cursor(cursor)
    return {
        "$or": [
            {"last_message_at": {"$lt": when}},
            {"last_message_at": when, "_id": {"$lt": conversation_id}},
        ]
    }


def counts_pipeline(inbox: InboxFilter, me: str) -> list[dict[str, Any]]:
    """One aggregation counting conversations per sidebar value (the store scopes it).

    Each dimension is counted under every filter but its own, as faceted search does,
    so the sidebar shows what picking another value of that dimension would give.
    """
    clauses = inbox.clauses(me)
    shared: dict[str, Any] = {}
    if "text" in clauses:  # the search narrows every count: it is what the user typed
        shared.update(clauses.pop("text"))

    def others(name: str) -> dict[str, Any]:
        return _and(c for key, c in clauses.items() if key != name)

    facets: dict[str, list[dict[str, Any]]] = {
        name: [{"$match": others(name)}, {"$group": {"_id": f"${name}", "n": {"$sum": 1}}}]
        for name in FACETS
    }
    facets["tags"] = [
        {"$match": others("tags")},
        {"$unwind": "$tags"},
        {"$group": {"_id": "$tags", "n": {"$sum": 1}}},
    ]
    facets["assignee"] = [
        {"$match": others("assignee")},
        {"$group": {"_id": "$assignee", "n": {"$sum": 1}}},
    ]
    facets["total"] = [{"$match": _and(clauses.values())}, {"$count": "n"}]
    return [{"$match": shared}, {"$project": _COUNTED}, {"$facet": facets}]


_COUNTED = dict.fromkeys((*FACETS, "tags", "assignee"), 1)


def read_counts(result: list[dict[str, Any]], me: str) -> dict[str, Any]:
    """The facet aggregation's answer as ``{dimension: {value: count}}``."""
    row = result[0] if result else {}
    out: dict[str, Any] = {}
    for name in (*FACETS, "tags"):
        out[name] = {
            str(g["_id"]): int(g["n"])
            for g in sorted(row.get(name, []), key=lambda g: str(g["_id"]))
            if g["_id"] is not None
        }
    assigned = {g["_id"]: int(g["n"]) for g in row.get("assignee", [])}
    out["assignee"] = {
        ME: assigned.get(me, 0),
        UNASSIGNED: assigned.get(None, 0),
        "others": sum(n for who, n in assigned.items() if who not in (None, me)),
    }
    total = row.get("total", [])
    out["total"] = int(total[0]["n"]) if total else 0
    return out

"""The unified inbox's query: filters, full-text terms, an opaque cursor, sidebar counts.

Pure: builds MongoDB filters and pipelines, encodes and decodes cursors; the store runs them.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
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
                # Equality for one value: nx-27017 serves it from the index, $in it scans.
                distinct = sorted(set(values))
                out[name] = {name: distinct[0] if len(distinct) == 1 else {"$in": distinct}}
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


SORT_KEY = "last_ts"
"""Last activity as epoch seconds: nx-27017 compares floats ~4x faster than datetimes."""
SORT = [(SORT_KEY, -1), ("_id", -1)]
"""Newest activity first; the id breaks ties so a page boundary is exact."""


def encode_cursor(last_ts: float, conversation_id: str) -> str:
    """An opaque cursor just after this conversation in :data:`SORT` order."""
    raw = json.dumps({"t": last_ts, "id": conversation_id})
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[float, str]:
    """The position a cursor stands for, or :class:`BadCursor`."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(raw)
        when, conversation_id = data["t"], data["id"]
    except (binascii.Error, ValueError, KeyError, TypeError) as err:
        raise BadCursor("the cursor is not one this API handed out") from err
    if not isinstance(when, float | int) or isinstance(when, bool):
        raise BadCursor("the cursor is not one this API handed out")
    if not isinstance(conversation_id, str):
        raise BadCursor("the cursor is not one this API handed out")
    return float(when), conversation_id


@dataclass(frozen=True)
class After:
    """Where a page starts: everything at or before ``when``, minus the cursor's own tie."""

    when: float
    conversation_id: str

    def clause(self) -> dict[str, Any]:
        """The range part, served by the index (a single ``$lte``).

        Neither an ``$or`` nor an equality on the float is served from the index on
        nx-27017 (an equality took seconds over 100,000 threads), so the few threads
        that share the cursor's second are dropped by :meth:`passed` instead.
        """
        return {SORT_KEY: {"$lte": self.when}}

    def passed(self, doc: dict[str, Any]) -> bool:
        """Whether ``doc`` was already on an earlier page (same time, id not smaller)."""
        return float(doc[SORT_KEY]) == self.when and str(doc["_id"]) >= self.conversation_id


def after_cursor(cursor: str) -> After:
    """What comes after ``cursor`` in :data:`SORT` order.

    A conversation that gains a message meanwhile moves to the top and is not shown
    again further down; nothing else shifts, so inserts do not skip or repeat items.
    """
    return After(*decode_cursor(cursor))


def counts_pipelines(inbox: InboxFilter, me: str) -> dict[str, list[dict[str, Any]]]:
    """One small aggregation per sidebar dimension (the store scopes each to the workspace).

    Each dimension is counted under every filter but its own, as faceted search does,
    so the sidebar shows what picking another value of that dimension would give; the
    search text narrows every count. A single ``$facet`` would do it in one round trip,
    but it cannot use indexes (on MongoDB) and nx-27017 runs it ~10x slower than these
    ``$match`` + ``$group`` pairs, which both servers serve from the indexes.
    """
    clauses = inbox.clauses(me)
    text = clauses.pop("text", {})

    def others(name: str) -> dict[str, Any]:
        return _and([text, *(c for key, c in clauses.items() if key != name)])

    pipelines = {
        name: [{"$match": others(name)}, {"$group": {"_id": f"${name}", "n": {"$sum": 1}}}]
        for name in (*FACETS, "assignee")
    }
    # Grouped by the whole tag list, split here: $unwind is slow on nx-27017.
    pipelines["tags"] = [
        {"$match": others("tags")},
        {"$group": {"_id": "$tags", "n": {"$sum": 1}}},
    ]
    return pipelines


def _tag_list(value: Any) -> list[str]:
    # nx-27017 returns an array group key as its JSON text; MongoDB as a list.
    if isinstance(value, str):
        value = json.loads(value)
    return [str(t) for t in value or []]


def read_counts(
    rows: dict[str, list[dict[str, Any]]], inbox: InboxFilter, me: str
) -> dict[str, Any]:
    """The aggregations' answers as ``{dimension: {value: count}}`` plus the total."""
    out: dict[str, Any] = {}
    for name in FACETS:
        out[name] = {
            str(g["_id"]): int(g["n"])
            for g in sorted(rows.get(name, []), key=lambda g: str(g["_id"]))
            if g["_id"] is not None
        }
    tags: dict[str, int] = {}
    for group in rows.get("tags", []):
        for tag in _tag_list(group["_id"]):
            tags[tag] = tags.get(tag, 0) + int(group["n"])
    out["tags"] = dict(sorted(tags.items()))
    assigned = {g["_id"]: int(g["n"]) for g in rows.get("assignee", [])}
    out["assignee"] = {
        ME: assigned.get(me, 0),
        UNASSIGNED: assigned.get(None, 0),
        "others": sum(n for who, n in assigned.items() if who not in (None, me)),
    }
    # The status counts were taken under every other filter: the total is theirs,
    # kept to the statuses asked for.
    wanted = set(inbox.statuses)
    out["total"] = sum(
        int(g["n"]) for g in rows.get("status", []) if not wanted or g["_id"] in wanted
    )
    return out

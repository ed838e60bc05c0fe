"""Instagram follower demographics: audience shares by age, gender, country and city.

``GET /{ig-user-id}/insights?metric=follower_demographics&period=lifetime
&metric_type=total_value&breakdown=<age|gender|country|city>`` answers one breakdown
per call with follower counts per value; Siar keeps shares of the total. Instagram
gives them only to accounts with 100 followers or more; a refusal leaves that
dimension out rather than failing the snapshot.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from siar.connectors.errors import PermanentError

log = logging.getLogger(__name__)

BREAKDOWNS = ("age", "gender", "country", "city")
GENDERS = {"F": "female", "M": "male", "U": "unknown"}

Graph = Callable[[str], Awaitable[dict[str, Any]]]
"""Fetches one breakdown's insights answer."""


def shares_of(body: dict[str, Any], breakdown: str) -> dict[str, float]:
    """Share of followers per value of one breakdown, from an insights answer."""
    counts: dict[str, float] = {}
    for row in body.get("data") or []:
        total = row.get("total_value") if isinstance(row, dict) else None
        for group in (total or {}).get("breakdowns") or []:
            for result in group.get("results") or []:
                values, value = result.get("dimension_values"), result.get("value")
                if not values or not isinstance(value, int | float) or isinstance(value, bool):
                    continue
                key = str(values[0])
                key = GENDERS.get(key, key) if breakdown == "gender" else key
                counts[key] = counts.get(key, 0.0) + float(value)
    total_count = sum(counts.values())
    if total_count <= 0:
        return {}
    return {k: round(v / total_count, 4) for k, v in sorted(counts.items())}


async def follower_demographics(fetch: Graph) -> dict[str, dict[str, float]] | None:
    """Every breakdown Instagram gives for the account; None when it gives none."""
    found: dict[str, dict[str, float]] = {}
    for breakdown in BREAKDOWNS:
        try:
            shares = shares_of(await fetch(breakdown), breakdown)
        except PermanentError as err:  # too few followers, or the permission is missing
            log.info("instagram follower demographics by %s unavailable: %s", breakdown, err)
            continue
        if shares:
            found[breakdown] = shares
    return found or None

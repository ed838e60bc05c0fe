"""The calendar's filters as query parameters, and what an approver is shown."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated

from fastapi import Depends, Query

from siar.runtime.auth import Principal
from siar.runtime.roles import Role
from siar_scheduler.calendar_ops import CalendarFilter
from siar_scheduler.domain import PostStatus

MAX_VALUES = 100


def calendar_filter(
    account_id: Annotated[list[str] | None, Query(max_length=MAX_VALUES)] = None,
    network: Annotated[list[str] | None, Query(max_length=MAX_VALUES)] = None,
    status: Annotated[list[PostStatus] | None, Query(max_length=MAX_VALUES)] = None,
    label_id: Annotated[list[str] | None, Query(max_length=MAX_VALUES)] = None,
    author: Annotated[list[str] | None, Query(max_length=MAX_VALUES)] = None,
) -> CalendarFilter:
    """Filters from repeatable query parameters (``?network=x&network=bluesky``)."""
    return CalendarFilter(
        account_ids=tuple(account_id or ()),
        networks=tuple(network or ()),
        statuses=tuple(status or ()),
        label_ids=tuple(label_id or ()),
        authors=tuple(author or ()),
    )


CalendarQuery = Annotated[CalendarFilter, Depends(calendar_filter)]


def for_caller(where: CalendarFilter, principal: Principal, workspace_id: str) -> CalendarFilter:
    """An approver (e.g. the client) sees only the posts awaiting their approval."""
    if principal.role_in(workspace_id) is Role.APPROVER:
        return replace(where, statuses=(PostStatus.IN_REVIEW,))
    return where

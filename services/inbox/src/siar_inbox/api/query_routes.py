"""The unified inbox: list with filters, search and a cursor; sidebar counts; one conversation."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel

from siar.runtime.auth import Principal, require
from siar.runtime.problems import Problem
from siar.runtime.roles import Permission
from siar_inbox.domain import Conversation
from siar_inbox.listing import ConversationQueries
from siar_inbox.networks import NETWORKS
from siar_inbox.queries import (
    BadCursor,
    InboxFilter,
    KindFilter,
    PriorityFilter,
    SentimentFilter,
    StatusFilter,
)

router = APIRouter(prefix="/v1/workspaces/{ws}", tags=["inbox"])


def queries(request: Request) -> ConversationQueries:
    """The read side wired at start-up."""
    found: ConversationQueries = request.app.state.queries
    return found


class ConversationPagePublic(BaseModel):
    """A page of conversations, newest activity first."""

    items: list[Conversation]
    next_cursor: str | None = None
    counts: dict[str, Any] | None = None


def inbox_filter(
    account: Annotated[list[str], Query(max_length=50, description="Account ids.")] = [],  # noqa: B006
    network: Annotated[list[str], Query(max_length=20)] = [],  # noqa: B006
    kind: Annotated[list[KindFilter], Query()] = [],  # noqa: B006
    status: Annotated[list[StatusFilter], Query()] = [],  # noqa: B006
    sentiment: Annotated[list[SentimentFilter], Query()] = [],  # noqa: B006
    priority: Annotated[list[PriorityFilter], Query()] = [],  # noqa: B006
    tag: Annotated[list[str], Query(max_length=20)] = [],  # noqa: B006
    assignee: Annotated[
        str | None,
        Query(max_length=100, description="A user id, `me`, or `none` for unassigned."),
    ] = None,
    q: Annotated[str | None, Query(max_length=200, description="Words to find.")] = None,
) -> InboxFilter:
    """The filters of a list or counts request (repeat a parameter for several values)."""
    unknown = sorted(set(network) - NETWORKS)
    if unknown:
        raise Problem(
            422,
            "validation",
            "Request is not valid",
            f"unknown network {', '.join(unknown)}; known: {', '.join(sorted(NETWORKS))}",
        )
    return InboxFilter(
        accounts=account,
        networks=network,
        kinds=list(kind),
        statuses=list(status),
        sentiments=list(sentiment),
        priorities=list(priority),
        tags=tag,
        assignee=assignee,
        text=q,
    )


Filter = Annotated[InboxFilter, Depends(inbox_filter)]


@router.get("/conversations", summary="The unified inbox, filtered, newest first")
async def list_conversations(
    ws: str,
    request: Request,
    principal: Annotated[Principal, require(Permission.INBOX_READ)],
    inbox: Filter,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    counts: Annotated[bool, Query(description="Also return the sidebar counts.")] = False,
) -> ConversationPagePublic:
    read = queries(request)
    try:
        page = await read.page(ws, inbox, me=principal.subject, cursor=cursor, limit=limit)
    except BadCursor as err:
        raise Problem(400, "bad-cursor", "Bad cursor", str(err)) from err
    sidebar = await read.counts(ws, inbox, me=principal.subject) if counts else None
    return ConversationPagePublic(items=page.items, next_cursor=page.next_cursor, counts=sidebar)


@router.get("/conversations:counts", summary="Sidebar counts for the same filters")
async def conversation_counts(
    ws: str,
    request: Request,
    principal: Annotated[Principal, require(Permission.INBOX_READ)],
    inbox: Filter,
) -> dict[str, Any]:
    return await queries(request).counts(ws, inbox, me=principal.subject)


@router.get("/conversations/{conversation_id}", summary="One conversation")
async def get_conversation(
    ws: str,
    conversation_id: str,
    request: Request,
    _: Annotated[Principal, require(Permission.INBOX_READ)],
) -> Conversation:
    return await queries(request).get(ws, conversation_id)

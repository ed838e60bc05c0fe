"""Routes for a workspace's inbox rules and settings (office hours, influencer threshold)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel

from siar.runtime.auth import Principal, require
from siar.runtime.problems import Problem
from siar.runtime.roles import Permission
from siar_inbox.automation import Automation, RuleNotFound, TooManyRules
from siar_inbox.rules import InboxSettings, RuleSpec

router = APIRouter(prefix="/v1/workspaces/{ws}", tags=["inbox rules"])
Manage = Annotated[Principal, require(Permission.WORKSPACE_MANAGE)]
Read = Annotated[Principal, require(Permission.INBOX_READ)]


class RulePublic(RuleSpec):
    """A stored rule."""

    id: str


class RuleList(BaseModel):
    """A workspace's rules, by name."""

    items: list[RulePublic]


def automation(request: Request) -> Automation:
    """The rules wired at start-up."""
    found: Automation = request.app.state.automation
    return found


@asynccontextmanager
async def _problems() -> AsyncIterator[None]:
    try:
        yield
    except RuleNotFound as err:
        raise Problem(404, "not-found", "Rule not found", str(err)) from err
    except TooManyRules as err:
        raise Problem(409, "too-many-rules", "Too many rules", str(err)) from err


@router.get("/inbox-rules", summary="Inbox rules")
async def list_rules(ws: str, request: Request, _: Read) -> RuleList:
    rules = await automation(request).list_rules(ws)
    return RuleList(items=[RulePublic(id=i, **spec.model_dump()) for i, spec in rules])


@router.post("/inbox-rules", status_code=201, summary="Add a rule (keywords or regex → actions)")
async def create_rule(ws: str, body: RuleSpec, request: Request, who: Manage) -> RulePublic:
    async with _problems():
        rule_id = await automation(request).create_rule(ws, body, who.subject)
    return RulePublic(id=rule_id, **body.model_dump())


@router.put("/inbox-rules/{rule_id}", summary="Replace a rule")
async def replace_rule(
    ws: str, rule_id: str, body: RuleSpec, request: Request, _: Manage
) -> RulePublic:
    async with _problems():
        await automation(request).replace_rule(ws, rule_id, body)
    return RulePublic(id=rule_id, **body.model_dump())


@router.delete("/inbox-rules/{rule_id}", status_code=204, summary="Delete a rule")
async def delete_rule(ws: str, rule_id: str, request: Request, _: Manage) -> Response:
    async with _problems():
        await automation(request).delete_rule(ws, rule_id)
    return Response(status_code=204)


@router.get("/inbox-settings", summary="Office hours and influencer threshold")
async def get_settings(ws: str, request: Request, _: Read) -> InboxSettings:
    return await automation(request).get_settings(ws)


@router.put("/inbox-settings", summary="Change office hours and influencer threshold")
async def put_settings(ws: str, body: InboxSettings, request: Request, _: Manage) -> InboxSettings:
    await automation(request).put_settings(ws, body)
    return body

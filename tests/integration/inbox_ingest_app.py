"""The inbox's ingest path on a test database, for the integration tests that use it."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from fastapi import FastAPI
from prometheus_client import REGISTRY
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from siar.connectors.facebook import FacebookPagesConnector
from siar.connectors.x import XConnector
from siar.contracts import EngagementCompleted, utcnow
from siar.devstack import Infra
from siar.runtime.mongo import Document, ensure_indexes
from siar.runtime.outbox import OUTBOX, OUTBOX_INDEXES, Outbox
from siar.runtime.problems import install_problem_handlers
from siar.runtime.uow import PROCESSED_INDEXES, UnitOfWork
from siar_inbox.api.webhook_routes import router as webhook_router
from siar_inbox.automation import INDEXES as RULE_INDEXES
from siar_inbox.automation import Automation
from siar_inbox.domain import Conversation
from siar_inbox.rules import DAYS
from siar_inbox.service import InboxService
from siar_inbox.store import INDEXES, InboxStore
from siar_inbox.webhooks import INDEXES as WEBHOOK_INDEXES
from siar_inbox.webhooks import WebhookReceiver, WebhookSecrets

APP_SECRET, X_SECRET, VERIFY = "meta-app-secret", "x-consumer-secret", "verify-me"
PAGE, X_ME = "9001", "42"


class Inbox:
    """The inbox's ingest path wired as main.py wires it, on a test database."""

    def __init__(self, db: AsyncDatabase[Document], uow: UnitOfWork) -> None:
        self.db = db
        self.automation = Automation(db, cache_s=0)
        self.service = InboxService(store=InboxStore(db), uow=uow, rules=self.automation)
        http = httpx.AsyncClient()
        self.receiver = WebhookReceiver(
            service=self.service,
            connectors={"facebook": FacebookPagesConnector(http), "x": XConnector(http)},
            secrets=WebhookSecrets({"facebook": APP_SECRET, "x": X_SECRET}, VERIFY),
            max_age_s=3600,
            max_bytes=4096,
        )

    async def connect(self, ws: str, account: str, network: str, network_id: str) -> None:
        await self.service.start_polling(
            ws, account, network, "brand", network_account_id=network_id
        )

    async def conversations(self, ws: str) -> list[Conversation]:
        docs = await self.db["conversations"].find({"workspace_id": ws}).to_list()
        return [Conversation.model_validate({**d, "id": d["_id"]}) for d in docs]

    async def events(self, topic: str) -> list[dict[str, Any]]:
        docs = await self.db[OUTBOX].find({"topic": topic}).sort("seq", 1).to_list()
        return [json.loads(d["payload"]) for d in docs]


async def make_inbox(
    mongo: AsyncMongoClient[Document], db: AsyncDatabase[Document], infra: Infra
) -> Inbox:
    """A fresh inbox on the test database, with the indexes its start creates."""
    await ensure_indexes(
        db, [*OUTBOX_INDEXES, *PROCESSED_INDEXES, *INDEXES, *RULE_INDEXES, *WEBHOOK_INDEXES]
    )
    existing = set(await db.list_collection_names())
    for name in {"messages", "conversations", "auto_replies", "webhook_deliveries"} - existing:
        await db.create_collection(name)  # nx-27017: see test_runtime_uow
    return Inbox(db, UnitOfWork(mongo, db, Outbox(db), serialize=infra.kind == "embedded"))


@asynccontextmanager
async def webhook_client(inbox: Inbox) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client for the webhook routes of ``inbox`` (no server, same handlers)."""
    app = FastAPI()
    install_problem_handlers(app)
    app.include_router(webhook_router)
    app.state.webhooks = inbox.receiver
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://inbox") as http:
        yield http


def closed_today(zone: str) -> dict[str, list[str]]:
    """Office hours on another weekday only: outside them all of today."""
    other = DAYS[(utcnow().astimezone(ZoneInfo(zone)).weekday() + 3) % 7]
    return {other: ["09:00", "17:00"]}


def outcome(request: dict[str, Any]) -> EngagementCompleted:
    """The publisher's answer to an engagement request: done."""
    return EngagementCompleted.new(
        workspace_id=request["workspace_id"],
        request_id=request["request_id"],
        account_id=request["account_id"],
        network=request["network"],
        action=request["action"],
        ok=True,
        network_id="net_1",
    )


def rejected(network: str, reason: str) -> float:
    """How many webhook calls were refused for ``reason`` so far."""
    labels = {"network": network, "reason": reason}
    return REGISTRY.get_sample_value("siar_inbox_webhooks_rejected_total", labels) or 0.0

"""The scheduler's post and workflow routes on a real MongoDB, served through ASGI.

Callers are told apart by a fake token verifier (token checks have their own tests):
the bearer token is the role name, e.g. ``Bearer contributor``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx
import pytest
from fastapi import FastAPI
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from siar.connectors.bluesky import BlueskyConnector
from siar.devstack import Infra
from siar.runtime.auth import Principal, unauthorized
from siar.runtime.mongo import Document, ensure_indexes
from siar.runtime.outbox import OUTBOX_INDEXES, Outbox
from siar.runtime.problems import install_domain_errors, install_problem_handlers
from siar.runtime.roles import Role
from siar.runtime.uow import PROCESSED_INDEXES, UnitOfWork
from siar_scheduler.api.approval_routes import router as approval_router
from siar_scheduler.api.calendar_routes import router as calendar_router
from siar_scheduler.api.errors import ERRORS
from siar_scheduler.api.import_routes import router as import_router
from siar_scheduler.api.queue_routes import install_timing_errors
from siar_scheduler.api.queue_routes import router as queue_router
from siar_scheduler.api.routes import router as api_router
from siar_scheduler.errors import SchedulerError
from siar_scheduler.service import SchedulerService
from siar_scheduler.store import INDEXES, SchedulerStore
from siar_scheduler.timing import Timing
from siar_scheduler.timing_store import TIMING_INDEXES, TimingStore
from siar_scheduler.workflow import Workflow
from siar_scheduler.workflow_store import WORKFLOW_INDEXES, WorkflowStore

from .conftest import unique

ACCOUNTS = {"acc_sky": "bluesky", "acc_box": "sandbox"}


class RoleVerifier:
    """``Bearer <role>`` is a member of ``ws`` with that role; ``outsider`` is not."""

    def __init__(self, workspace_id: str) -> None:
        self.workspace_id = workspace_id

    async def verify(self, token: str) -> Principal:
        """The principal a token stands for."""
        if token == "outsider":
            return Principal(subject="usr_outsider", kind="user", roles={"ws_other": Role.OWNER})
        try:
            role = Role(token)
        except ValueError as err:
            raise unauthorized("unknown test token") from err
        return Principal(subject=f"usr_{token}", kind="user", roles={self.workspace_id: role})


@dataclass
class Harness:
    """An HTTP client of the app, and the objects behind it."""

    http: httpx.AsyncClient
    workflow: Workflow
    service: SchedulerService
    db: AsyncDatabase[Document]
    workspace_id: str

    def url(self, path: str) -> str:
        """A workspace-scoped path."""
        return f"/v1/workspaces/{self.workspace_id}{path}"


def auth(role: str) -> dict[str, str]:
    """The header of a caller with ``role``."""
    return {"authorization": f"Bearer {role}"}


@asynccontextmanager
async def scheduler_harness(
    mongo: AsyncMongoClient[Document],
    db: AsyncDatabase[Document],
    workspace_id: str,
    *,
    serialize: bool,
    webhook_http: httpx.AsyncClient | None = None,
) -> AsyncIterator[Harness]:
    """The app on ``db`` with two connected accounts (Bluesky and sandbox)."""
    await ensure_indexes(
        db, [*INDEXES, *WORKFLOW_INDEXES, *TIMING_INDEXES, *OUTBOX_INDEXES, *PROCESSED_INDEXES]
    )
    uow = UnitOfWork(mongo, db, Outbox(db), serialize=serialize)
    store = SchedulerStore(db)
    for account_id, network in ACCOUNTS.items():
        await store.upsert_account(
            workspace_id,
            {"account_id": account_id, "network": network, "handle": account_id, "active": True},
        )

    async def no_vault(workspace_id: str, account_id: str) -> dict[str, str] | None:
        return None

    async with httpx.AsyncClient() as plain_http:
        service = SchedulerService(
            store=store,
            uow=uow,
            lookup_account=no_vault,
            min_lead_s=1.0,
            connectors={"bluesky": BlueskyConnector(plain_http)},
        )
        workflow = Workflow.wire(
            service,
            WorkflowStore(db),
            webhook_http or plain_http,
            service_secret="test-service-secret",
        )
        app = FastAPI()
        install_problem_handlers(app)
        install_domain_errors(app, SchedulerError, ERRORS)
        install_timing_errors(app)
        for router in (approval_router, calendar_router, import_router, api_router, queue_router):
            app.include_router(router)
        app.state.service = service
        app.state.timing = Timing(TimingStore(db), service)
        app.state.workflow = workflow
        app.state.token_verifier = RoleVerifier(workspace_id)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://scheduler") as http:
            yield Harness(http, workflow, service, db, workspace_id)


@pytest.fixture(name="app")
async def plain_scheduler(
    mongo: AsyncMongoClient[Document], db: AsyncDatabase[Document], infra: Infra
) -> AsyncIterator[Harness]:
    """The scheduler on this test's database (a module imports it as its ``app``)."""
    async with scheduler_harness(
        mongo, db, unique("ws"), serialize=infra.kind == "embedded"
    ) as harness:
        yield harness

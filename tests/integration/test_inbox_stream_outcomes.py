"""The live inbox announces outcomes that change only a message or an action.

A reply's delivery and a like's or hide's outcome (``engagement.completed``) change a
message or an action record, not the conversation the stream watches. They also mark
the conversation, in the same unit of work, so a client reading the stream over HTTP
hears of them without polling. The stream is the real route over a real socket on a
real MongoDB change stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi import FastAPI
from jwt.algorithms import ECAlgorithm
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from siar.connectors import FetchedMessage
from siar.contracts import utcnow
from siar.devstack import Infra, free_port
from siar.runtime.auth import JwksCache, TokenVerifier
from siar.runtime.mongo import Document
from siar.runtime.problems import install_problem_handlers
from siar_inbox.api.act_routes import router as act_router
from siar_inbox.stream import ConversationFeed
from tests.integration.conftest import serving

from .inbox_ingest_app import Inbox, make_inbox, outcome

WS = "ws_live"
ISSUER, AUDIENCE = "https://vault.siar.test", "siar"
KEY = ec.generate_private_key(ec.SECP256R1())
WAIT_S = 30.0  # generous: the machine is shared; a missing event still fails


@pytest.fixture
async def inbox(
    mongo: AsyncMongoClient[Document], db: AsyncDatabase[Document], infra: Infra
) -> Inbox:
    return await make_inbox(mongo, db, infra)


@pytest.fixture
async def live(inbox: Inbox) -> AsyncIterator[str]:
    """The inbox's stream route served over a real socket, trusting a test signing key."""
    app = FastAPI()
    install_problem_handlers(app)
    app.include_router(act_router)
    app.state.feed = ConversationFeed(inbox.service.store, heartbeat_s=1.0, max_s=120.0)
    async with httpx.AsyncClient() as http:
        jwks = JwksCache(f"{ISSUER}/.well-known/jwks.json", http)
        public: dict[str, Any] = ECAlgorithm.to_jwk(KEY.public_key(), as_dict=True)
        jwks.set_keys({"keys": [{**public, "kid": "k1", "use": "sig", "alg": "ES256"}]})
        app.state.token_verifier = TokenVerifier(jwks, issuer=ISSUER, audience=AUDIENCE)
        async with serving(app, free_port()) as url:
            yield f"{url}/v1/workspaces/{WS}/conversations:stream"


def bearer() -> dict[str, str]:
    now = datetime.now(UTC)
    claims = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "usr_reader",
        "typ": "user",
        "iat": now,
        "nbf": now - timedelta(seconds=5),
        "exp": now + timedelta(minutes=5),
        "ws": {WS: "viewer"},
    }
    token = jwt.encode(claims, KEY, algorithm="ES256", headers={"kid": "k1"})
    return {"authorization": f"Bearer {token}", "accept": "text/event-stream"}


class Listener:
    """Reads one SSE connection in the background and keeps its conversation events."""

    def __init__(self) -> None:
        self.ready = asyncio.Event()
        self.seen: list[dict[str, Any]] = []
        self.arrived = asyncio.Condition()

    async def run(self, url: str) -> None:
        async with (
            httpx.AsyncClient(timeout=httpx.Timeout(5.0, read=WAIT_S * 2)) as http,
            http.stream("GET", url, headers=bearer()) as r,
        ):
            assert r.status_code == 200, await r.aread()
            event = ""
            async for line in r.aiter_lines():
                if line.startswith("event: "):
                    event = line.removeprefix("event: ")
                elif line.startswith("data: ") and event == "ready":
                    self.ready.set()
                elif line.startswith("data: ") and event == "conversation":
                    async with self.arrived:
                        self.seen.append(json.loads(line.removeprefix("data: ")))
                        self.arrived.notify_all()

    async def next_for(self, conversation_id: str, after: int) -> dict[str, Any]:
        """The first event for ``conversation_id`` beyond the first ``after`` events."""

        def found() -> dict[str, Any] | None:
            return next((c for c in self.seen[after:] if c["id"] == conversation_id), None)

        async with asyncio.timeout(WAIT_S), self.arrived:
            await self.arrived.wait_for(lambda: found() is not None)
        conv = found()
        assert conv is not None
        return conv


@contextlib.asynccontextmanager
async def listening(url: str) -> AsyncIterator[Listener]:
    listener = Listener()
    task = asyncio.create_task(listener.run(url))
    try:
        async with asyncio.timeout(WAIT_S):
            await listener.ready.wait()
        yield listener
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def a_thread(inbox: Inbox) -> str:
    fetched = FetchedMessage(
        network_message_id="c1",
        kind="comment",
        author_handle="fan",
        text="love it",
        network_post_id="sbxpost_1",
        sent_at=utcnow(),
    )
    stored = await inbox.service.ingest(
        workspace_id=WS, account_id="acc_1", network="sandbox", fetched=fetched
    )
    assert stored is not None
    return stored.conversation_id


async def last_request(inbox: Inbox) -> dict[str, Any]:
    return (await inbox.events("engagement.requested"))[-1]


async def test_a_reply_delivery_is_announced_on_the_stream(inbox: Inbox, live: str) -> None:
    conv = await a_thread(inbox)
    await inbox.service.reply(workspace_id=WS, conversation_id=conv, text="thanks!", author="u1")
    request = await last_request(inbox)
    async with listening(live) as listener:
        before = len(listener.seen)
        await inbox.service.engagement_completed(outcome(request), "it-inbox")
        assert (await listener.next_for(conv, before))["id"] == conv
    [_, reply] = await inbox.service.store.messages_of(WS, conv)
    assert reply.delivery == "sent"


@pytest.mark.parametrize("action", ["like", "hide"])
async def test_an_action_outcome_is_announced_on_the_stream(
    inbox: Inbox, live: str, action: str
) -> None:
    conv = await a_thread(inbox)
    record = await inbox.service.actions.act(
        workspace_id=WS,
        conversation_id=conv,
        action=action,  # type: ignore[arg-type]
        actor="u1",
    )
    request = await last_request(inbox)
    assert request["request_id"] == record.id
    async with listening(live) as listener:
        before = len(listener.seen)
        await inbox.service.engagement_completed(outcome(request), "it-inbox")
        await listener.next_for(conv, before)
    [done] = await inbox.service.actions.of(WS, conv)
    assert done.state == "done"

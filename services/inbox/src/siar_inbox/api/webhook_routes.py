"""``/webhooks/{network}``: public (no JWT) — the network's signature is the authentication."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from pydantic import BaseModel

from siar.runtime.problems import Problem
from siar_inbox.webhooks import WebhookReceiver, WebhookRejected

router = APIRouter(prefix="/webhooks", tags=["webhooks"])


class WebhookReceipt(BaseModel):
    """What a verified call brought: new messages, ones already stored, unknown accounts."""

    stored: int
    duplicates: int
    unknown_accounts: list[str]


def receiver(request: Request) -> WebhookReceiver:
    """The receiver wired at start-up."""
    found: WebhookReceiver = request.app.state.webhooks
    return found


Receiver = Annotated[WebhookReceiver, Depends(receiver)]


def _problem(err: WebhookRejected) -> Problem:
    return Problem(err.status, f"webhook-{err.reason}", "Webhook call refused", err.detail)


async def read_limited(request: Request, limit: int) -> bytes:
    """The body, refused with 413 as soon as it is known to exceed ``limit`` bytes."""
    declared = request.headers.get("content-length", "")
    too_big = Problem(413, "payload-too-large", "Payload too large", f"at most {limit} bytes")
    if declared.isdigit() and int(declared) > limit:
        raise too_big  # refused before reading any of it
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:  # a missing or false Content-Length: stop reading here
            raise too_big
        chunks.append(chunk)
    return b"".join(chunks)


@router.get("/{network}", summary="Subscription handshake (Meta hub.challenge, X CRC)")
async def handshake(network: str, request: Request, hooks: Receiver) -> Response:
    try:
        answer = hooks.handshake(network, dict(request.query_params))
    except WebhookRejected as err:
        raise _problem(err) from err
    if isinstance(answer, str):
        return PlainTextResponse(answer)
    return JSONResponse(answer)


@router.post("/{network}", summary="A network's signed webhook call")
async def receive(network: str, request: Request, hooks: Receiver) -> WebhookReceipt:
    body = await read_limited(request, hooks.max_bytes)
    try:
        receipt = await hooks.receive(network, request.headers, body)
    except WebhookRejected as err:
        raise _problem(err) from err
    if receipt.unknown_accounts and not receipt.stored and not receipt.duplicates:
        raise Problem(
            404,
            "unknown-account",
            "No workspace has connected this account",
            f"{network} account(s) {', '.join(receipt.unknown_accounts)} are not connected",
            accounts=receipt.unknown_accounts,
        )
    return WebhookReceipt(
        stored=receipt.stored,
        duplicates=receipt.duplicates,
        unknown_accounts=receipt.unknown_accounts,
    )

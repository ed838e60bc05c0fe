"""Outbound webhooks: Slack-compatible JSON, signed with HMAC-SHA256, retried briefly.

The receiver checks ``X-Siar-Signature: sha256=<hex>`` over ``<timestamp>.<body>``
with its secret, and refuses a ``X-Siar-Timestamp`` older than a few minutes, so a
captured call can be neither forged nor replayed later.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
from typing import Any

import httpx
from prometheus_client import Counter

log = logging.getLogger(__name__)

WEBHOOKS_SENT = Counter(
    "siar_webhooks_sent", "Outbound webhook calls by kind and outcome.", ["kind", "outcome"]
)


def count_from_zero(*kinds: str) -> None:
    """Create the series of the webhook kinds a service sends, so dashboards see zeros."""
    for kind in kinds:
        for outcome in ("delivered", "failed"):
            WEBHOOKS_SENT.labels(kind, outcome)


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """The signature header value for ``body`` sent at ``timestamp``."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(
    secret: str, timestamp: str, body: bytes, presented: str, *, max_age_s: float = 300
) -> bool:
    """Whether a received call is genuine and fresh (constant-time comparison)."""
    try:
        fresh = abs(time.time() - float(timestamp)) <= max_age_s
    except ValueError:
        return False
    return fresh and hmac.compare_digest(signature(secret, timestamp, body), presented)


async def send(
    http: httpx.AsyncClient,
    url: str,
    secret: str,
    *,
    kind: str,
    text: str,
    data: dict[str, Any],
    attempts: int = 3,
) -> bool:
    """POST a Slack-compatible message (``text``) with Siar's details; True if delivered."""
    body = json.dumps({"text": text, "kind": kind, "data": data}, separators=(",", ":")).encode()
    for attempt in range(1, attempts + 1):
        timestamp = str(int(time.time()))
        headers = {
            "content-type": "application/json",
            "x-siar-timestamp": timestamp,
            "x-siar-signature": signature(secret, timestamp, body),
            "x-siar-event": kind,
        }
        try:
            response = await http.post(url, content=body, headers=headers, timeout=10.0)
            if response.status_code < 300:
                WEBHOOKS_SENT.labels(kind, "delivered").inc()
                return True
            if 400 <= response.status_code < 500 and response.status_code != 429:
                break
        except httpx.HTTPError as err:
            log.warning("webhook %s to %s failed: %s", kind, url.split("?")[0], type(err).__name__)
        await asyncio.sleep(0.5 * 2 ** (attempt - 1))
    WEBHOOKS_SENT.labels(kind, "failed").inc()
    return False

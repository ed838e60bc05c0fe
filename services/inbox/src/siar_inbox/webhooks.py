"""Receiving networks' webhook calls: verify, parse, map to accounts, ingest.

The signature is the authentication (the route takes no JWT): a call without one, with
a wrong one, or for a network whose secret is not configured is refused and counted.
A signed call is still refused when it is a replay (the same body again) or stale
(everything in it older than ``max_age_s``). Accepted messages go through the same
ingest as polled ones, so a message seen both ways is stored once.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from prometheus_client import Counter
from pymongo import ASCENDING
from pymongo.errors import DuplicateKeyError

from siar.connectors import Connector, ConnectorError, FetchedMessage
from siar.connectors.meta_graph import subscription_challenge
from siar.connectors.x_auth import crc_response
from siar.contracts import utcnow
from siar.runtime.mongo import IndexSpec
from siar_inbox.errors import InboxError
from siar_inbox.service import InboxService
from siar_inbox.settings import Settings

log = logging.getLogger(__name__)

# Webhook calls name the network's account id; pollers map it to workspace accounts.
INDEXES = (
    IndexSpec("pollers", [("network", ASCENDING), ("network_account_id", ASCENDING)]),
    IndexSpec("webhook_deliveries", [("at_ts", ASCENDING)]),
)
PRUNE_EVERY_S = 600.0
META = frozenset({"facebook", "instagram", "threads"})
SIGNATURE_HEADERS = {
    "facebook": "x-hub-signature-256",
    "instagram": "x-hub-signature-256",
    "threads": "x-hub-signature-256",
    "x": "x-twitter-webhooks-signature",
}

WEBHOOKS_RECEIVED = Counter(
    "siar_inbox_webhooks_received", "Verified webhook calls, by network.", ["network"]
)
WEBHOOKS_REJECTED = Counter(
    "siar_inbox_webhooks_rejected",
    "Webhook calls refused, by network and reason (unsigned, bad-signature, replayed, ...).",
    ["network", "reason"],
)
WEBHOOK_UNKNOWN_ACCOUNTS = Counter(
    "siar_inbox_webhook_unknown_accounts",
    "Messages in verified webhook calls for accounts no workspace has connected.",
    ["network"],
)


class WebhookRejected(InboxError):
    """A webhook call refused: ``status`` for HTTP, ``reason`` for the metric."""

    def __init__(self, network: str, status: int, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.reason, self.detail = status, reason, detail
        WEBHOOKS_REJECTED.labels(network, reason).inc()


@dataclass
class Receipt:
    """What a verified call brought."""

    stored: int = 0
    duplicates: int = 0
    unknown_accounts: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class WebhookSecrets:
    """Per-network app secrets (Meta app secret, X consumer secret) and Meta's verify token."""

    by_network: Mapping[str, str]
    meta_verify_token: str = ""


class WebhookReceiver:
    """The ``/webhooks/{network}`` use cases."""

    def __init__(
        self,
        *,
        service: InboxService,
        connectors: Mapping[str, Connector],
        secrets: WebhookSecrets,
        max_age_s: float,
        max_bytes: int = 1_048_576,
    ) -> None:
        self.service = service
        self.connectors = connectors
        self.secrets = secrets
        self.max_age = timedelta(seconds=max_age_s)
        self.max_bytes = max_bytes
        self.deliveries = service.store.pollers.raw.database["webhook_deliveries"]
        self._pruned_at = 0.0

    @classmethod
    def configured(
        cls, service: InboxService, connectors: Mapping[str, Connector], settings: Settings
    ) -> WebhookReceiver:
        """A receiver with the secrets and limits of the inbox's settings."""
        secrets = WebhookSecrets(
            by_network={n: s.get_secret_value() for n, s in settings.webhook_secrets.items()},
            meta_verify_token=settings.meta_verify_token.get_secret_value(),
        )
        return cls(
            service=service,
            connectors=connectors,
            secrets=secrets,
            max_age_s=settings.webhook_max_age_s,
            max_bytes=settings.webhook_max_bytes,
        )

    def _secret(self, network: str) -> str:
        if network not in SIGNATURE_HEADERS or network not in self.connectors:
            raise WebhookRejected(network, 404, "unknown-network", f"no webhooks for {network!r}")
        secret = self.secrets.by_network.get(network, "")
        if not secret:
            raise WebhookRejected(
                network, 403, "not-configured", f"no webhook secret is configured for {network}"
            )
        return secret

    def handshake(self, network: str, query: Mapping[str, str]) -> str | dict[str, str]:
        """Meta's subscription check (echo ``hub.challenge``) or X's CRC answer."""
        secret = self._secret(network)
        if network in META:
            challenge = subscription_challenge(query, self.secrets.meta_verify_token)
            if challenge is None:
                raise WebhookRejected(network, 403, "bad-verify-token", "verify token mismatch")
            return challenge
        token = query.get("crc_token", "")
        if not token:
            raise WebhookRejected(network, 400, "no-crc-token", "crc_token is required")
        return crc_response(token, secret)

    def verify(self, network: str, headers: Mapping[str, str], body: bytes) -> None:
        """Refuse an unsigned or forged call (401)."""
        secret = self._secret(network)
        lowered = {k.lower() for k in headers}
        if SIGNATURE_HEADERS[network] not in lowered:
            raise WebhookRejected(network, 401, "unsigned", "the call carries no signature")
        if not self.connectors[network].verify_webhook(headers, body, secret):
            raise WebhookRejected(network, 401, "bad-signature", "the signature does not match")

    async def receive(self, network: str, headers: Mapping[str, str], body: bytes) -> Receipt:
        """Verify, parse and ingest one call; replays and stale calls are refused (403)."""
        self.verify(network, headers, body)
        try:
            found = self.connectors[network].parse_webhook(body)
        except ConnectorError as err:
            raise WebhookRejected(network, 400, "malformed", err.reason) from err
        oldest_allowed = utcnow() - self.max_age
        if found and all(message.sent_at < oldest_allowed for _, message in found):
            raise WebhookRejected(network, 403, "stale", "every message in the call is too old")
        digest = hashlib.sha256(network.encode() + b"|" + body).hexdigest()
        now = utcnow()
        try:
            # Claimed before ingesting (one write, no separate look-up), released on failure.
            await self.deliveries.insert_one(
                {"_id": digest, "network": network, "at": now, "at_ts": now.timestamp()}
            )
        except DuplicateKeyError as err:
            raise WebhookRejected(
                network, 403, "replayed", "this call was already delivered"
            ) from err
        WEBHOOKS_RECEIVED.labels(network).inc()
        try:
            receipt = await self._ingest(network, found)
        except BaseException:
            await self.deliveries.delete_one({"_id": digest})  # the network may send it again
            raise
        if found and not receipt.stored and not receipt.duplicates:
            # For no connected account yet: it may be sent again once one is.
            await self.deliveries.delete_one({"_id": digest})
            return receipt
        await self._prune()
        return receipt

    async def _prune(self) -> None:
        """Forget deliveries older than the stale limit: a replay of one is refused as stale."""
        if time.monotonic() - self._pruned_at < PRUNE_EVERY_S:
            return
        self._pruned_at = time.monotonic()
        # An epoch float, not a datetime: range queries on nx-27017 stay numeric.
        cutoff = (utcnow() - self.max_age).timestamp()
        await self.deliveries.delete_many({"at_ts": {"$lt": cutoff}})

    async def _accounts(self, network: str, ids: set[str]) -> dict[str, list[tuple[str, str]]]:
        """Connected (polled) accounts by network account id: (workspace, account) pairs."""
        found: dict[str, list[tuple[str, str]]] = {}
        # The poller registry is the inbox's system-wide list of connected accounts.
        cursor = self.service.store.pollers.raw.find(
            {"network": network, "network_account_id": {"$in": sorted(ids)}, "active": True}
        )
        async for doc in cursor:
            pair = (str(doc["workspace_id"]), str(doc["_id"]))
            found.setdefault(str(doc["network_account_id"]), []).append(pair)
        return found

    async def _ingest(self, network: str, found: list[tuple[str, FetchedMessage]]) -> Receipt:
        receipt = Receipt()
        accounts = await self._accounts(network, {account for account, _ in found})
        batches: dict[tuple[str, str], list[FetchedMessage]] = {}
        for network_account_id, fetched in found:
            targets = accounts.get(network_account_id)
            if not targets:
                WEBHOOK_UNKNOWN_ACCOUNTS.labels(network).inc()
                if network_account_id not in receipt.unknown_accounts:
                    receipt.unknown_accounts.append(network_account_id)
            # One network account may be connected to several workspaces: each gets it.
            for target in targets or ():
                batches.setdefault(target, []).append(fetched)
        for (workspace_id, account_id), batch in batches.items():
            stored = await self.service.ingest_many(
                workspace_id=workspace_id, account_id=account_id, network=network, fetched=batch
            )
            receipt.stored += len(stored)
            receipt.duplicates += len(batch) - len(stored)
        return receipt

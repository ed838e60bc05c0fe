"""The base every Meta connector builds on: Graph calls, errors, media URLs, polling.

Meta pulls Instagram images and all Threads media from a public URL (their APIs take
no bytes for them), so those connectors need a :class:`MediaHost` that puts a
``MediaItem`` where Meta's servers can fetch it for the length of a publish.
"""

from __future__ import annotations

import asyncio
import logging
import re
from datetime import UTC, datetime
from typing import Any, Protocol

import httpx

from siar.connectors import meta_webhooks
from siar.connectors.errors import (
    ConnectorError,
    PermanentError,
    RetryableError,
)
from siar.connectors.http import HttpConnector
from siar.connectors.meta_graph import (
    GRAPH_HOST,
    GRAPH_VERSION,
    RETRY_SUBCODES,
    GraphError,
    appsecret_proof,
    classify_graph_error,
    insight_values,
    parse_time,
    receipt_of,
)
from siar.connectors.models import Credential, FetchedMessage, MediaItem, PublishedPost

log = logging.getLogger(__name__)


class MediaHost(Protocol):
    """Puts media where Meta can fetch it: Instagram images and Threads media are pulled by
    Meta's servers from a public URL (the API takes no bytes for them)."""

    async def public_url(self, item: MediaItem) -> str:
        """A public HTTPS URL serving ``item`` for at least the length of a publish."""
        ...


class GraphConnector(HttpConnector):
    """Base of the Meta connectors: Graph error classification, appsecret_proof, polling."""

    graph_host = GRAPH_HOST
    poll_interval_s = 5.0
    poll_timeout_s = 300.0

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        version: str = GRAPH_VERSION,
        host: str | None = None,
        app_secret: str | None = None,
        media_host: MediaHost | None = None,
        poll_interval_s: float | None = None,
        poll_timeout_s: float | None = None,
    ) -> None:
        super().__init__(http)
        self.version = version
        self.api_base = f"{host or self.graph_host}/{version}"
        self.app_secret = app_secret
        self.media_host = media_host
        if poll_interval_s is not None:
            self.poll_interval_s = poll_interval_s
        if poll_timeout_s is not None:
            self.poll_timeout_s = poll_timeout_s

    def error_reason(self, status: int, body: Any) -> str | None:
        """Graph's own message."""
        error = GraphError.of(body)
        return error.describe() if error else super().error_reason(status, body)

    def classify(self, status: int, body: Any, response: httpx.Response) -> ConnectorError:
        """Graph codes first (a 400 may mean an expired token or throttling), then HTTP."""
        graph = classify_graph_error(self.display_name, status, body, response)
        if graph is not None:
            return graph
        # rupload.facebook.com answers {"debug_info": {"retriable", "type", "message"}}.
        upload = body.get("debug_info") if isinstance(body, dict) else None
        if isinstance(upload, dict) and status < 500 and status not in (401, 429):
            detail = upload.get("message") or upload.get("type") or f"HTTP {status}"
            kind = RetryableError if upload.get("retriable") is True else PermanentError
            return kind(f"{self.display_name} refused the upload ({status}): {detail}")
        return super().classify(status, body, response)

    def body_error(self, body: Any) -> ConnectorError | None:
        """A 200 that carries an ``error`` object, or ``{"success": false}``."""
        if isinstance(body, dict) and body.get("success") is False:
            return PermanentError(f"{self.display_name} did not carry out the request")
        return classify_graph_error(self.display_name, 200, body, None)

    def proof(self, credential: Credential) -> dict[str, str]:
        """``appsecret_proof`` for the token when the app secret is known."""
        if not self.app_secret:
            return {}
        token = credential.access_token.get_secret_value()
        return {"appsecret_proof": appsecret_proof(token, self.app_secret)}

    async def graph(
        self,
        method: str,
        path: str,
        credential: Credential,
        *,
        params: dict[str, Any] | None = None,
        deadline_s: float | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """One Graph call with the token in the Authorization header; the JSON object back."""
        query = {**(params or {}), **self.proof(credential)}
        body = await self.call(
            method, path, credential=credential, params=query, deadline_s=deadline_s, **kwargs
        )
        if not isinstance(body, dict):
            raise RetryableError(f"{self.display_name} answered with an unexpected shape")
        return body

    async def media_url(self, item: MediaItem) -> str:
        """The public URL Meta will fetch ``item`` from."""
        if self.media_host is None:
            raise PermanentError(
                f"{self.display_name} fetches {item.kind.value}s from a public URL, "
                "and no media host is configured"
            )
        return await self.media_host.public_url(item)

    async def wait_ready(
        self,
        container_id: str,
        credential: Credential,
        *,
        status_field: str,
        error_field: str,
        retryable_errors: frozenset[str] = frozenset(),
    ) -> None:
        """Poll a media container until it is FINISHED (Meta processes media asynchronously)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.poll_timeout_s
        fields = f"{status_field},{error_field}"
        while True:
            body = await self.graph(
                "GET", f"/{container_id}", credential, params={"fields": fields}
            )
            status = str(body.get(status_field) or "")
            if status in ("FINISHED", "PUBLISHED"):
                return
            if status == "ERROR":
                detail = str(body.get(error_field) or "unknown error")
                codes = {int(c) for c in re.findall(r"\d{6,}", detail)}
                retry = bool(codes & RETRY_SUBCODES) or any(m in detail for m in retryable_errors)
                kind = RetryableError if retry else PermanentError
                raise kind(f"{self.display_name} could not process the media: {detail}")
            if status == "EXPIRED":
                raise RetryableError(f"{self.display_name} media container expired unpublished")
            if loop.time() >= deadline:
                raise RetryableError(
                    f"{self.display_name} was still processing the media after "
                    f"{self.poll_timeout_s:.0f}s"
                )
            await asyncio.sleep(self.poll_interval_s)

    async def receipt(
        self,
        media_id: str,
        credential: Credential,
        *,
        link_field: str = "permalink",
        time_field: str = "timestamp",
    ) -> PublishedPost:
        """The receipt for a new post; reading its permalink is best effort (it exists now)."""
        try:
            body = await self.graph(
                "GET", f"/{media_id}", credential, params={"fields": f"{link_field},{time_field}"}
            )
        except ConnectorError as err:
            log.warning("%s post %s: permalink not read: %s", self.network, media_id, err.reason)
            body = {}
        at = parse_time(body.get(time_field)) or datetime.now(UTC)
        return receipt_of(media_id, body.get(link_field), at)

    async def insights(
        self, path: str, credential: Credential, names: dict[str, str], **params: str
    ) -> dict[str, float]:
        """Insight metrics renamed through ``names``; {} when the network will not give them."""
        try:
            body = await self.graph(
                "GET", path, credential, params={"metric": ",".join(names), **params}
            )
        except PermanentError as err:
            # Missing permission, too small an audience, a metric not offered for this media.
            log.info("%s insights %s unavailable: %s", self.network, path, err.reason)
            return {}
        return {names[k]: v for k, v in insight_values(body).items() if k in names}

    def parse_webhook(self, body: bytes) -> list[tuple[str, FetchedMessage]]:
        """Comments and DMs in a verified Meta webhook call (see :mod:`meta_webhooks`)."""
        return meta_webhooks.parse(self.network, body)

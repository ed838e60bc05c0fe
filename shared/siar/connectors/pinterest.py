"""Pinterest: API v5 Pins (image, carousel, video), analytics and saving to boards.

Every Pin goes to a board: the account's ``Credential.extra["board_id"]`` (and
optionally ``board_section_id``). The delivery's marker rides in the Pin's private
``note`` (seen only by the owner and board collaborators), so a Pin whose creation had
an unknown outcome is found again exactly. Errors are ``{"code", "message"}`` with the
HTTP status; the token endpoint takes the client as HTTP Basic authentication. The API
offers no comments or messages to apps, so there is no inbox here.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from pydantic import SecretStr

from siar.connectors import pinterest_media
from siar.connectors.errors import (
    ConnectorError,
    PermanentError,
    RateLimitedError,
    RetryableError,
)
from siar.connectors.http import HttpConnector, OAuthClient
from siar.connectors.models import (
    AccountRef,
    Credential,
    Engagement,
    EngagementResult,
    Identity,
    MetricsSnapshot,
    OutgoingPost,
    PublishedPost,
    TokenGrant,
)
from siar.connectors.rules import (
    Capability,
    ContentRules,
    MediaLimits,
    OAuthConfig,
    PostFormat,
    RateLimit,
)

API_BASE = "https://api.pinterest.com/v5"
MB = 1024 * 1024
MARKER_PREFIX = "siar:"
PIN_METRICS = ("IMPRESSION", "SAVE", "PIN_CLICK", "OUTBOUND_CLICK", "TOTAL_COMMENTS")
ACCOUNT_FIELDS = ("follower_count", "following_count", "monthly_views", "pin_count")
ACCOUNT_METRICS = ("IMPRESSION", "ENGAGEMENT", "PIN_CLICK", "OUTBOUND_CLICK", "SAVE")
# Pin analytics reach back 90 days at most.
ANALYTICS_DAYS = 89


def _grant(body: Any) -> TokenGrant:
    if not isinstance(body, dict) or not isinstance(body.get("access_token"), str):
        raise PermanentError("Pinterest gave no access token")
    refresh, expires, scope = body.get("refresh_token"), body.get("expires_in"), body.get("scope")
    return TokenGrant(
        access_token=SecretStr(body["access_token"]),
        refresh_token=SecretStr(refresh) if isinstance(refresh, str) else None,
        expires_in_s=expires if isinstance(expires, int) else None,
        scope=scope if isinstance(scope, str) else None,
    )


class PinterestOAuthClient(OAuthClient):
    """Pinterest authenticates the client at the token endpoint with HTTP Basic."""

    async def _token(self, form: dict[str, str]) -> TokenGrant:
        pair = f"{self.client_id}:{self.client_secret}".encode()
        body = await self.connector.call(
            "POST",
            self.config.token_url,
            data=form,
            headers={
                "authorization": f"Basic {base64.b64encode(pair).decode()}",
                "accept": "application/json",
            },
        )
        return _grant(body)


def _when(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    # Pinterest writes UTC times without an offset.
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _summary(body: Any) -> dict[str, Any]:
    """The metrics of an analytics answer (keyed by app type, e.g. ``all``)."""
    if not isinstance(body, dict):
        return {}
    block = next((v for k, v in body.items() if k.lower() == "all"), None)
    if not isinstance(block, dict):
        block = next((v for v in body.values() if isinstance(v, dict)), {})
    merged: dict[str, Any] = {}
    for key in ("summary_metrics", "lifetime_metrics"):
        if isinstance(block.get(key), dict):
            merged.update(block[key])
    return merged


class PinterestConnector(HttpConnector):
    """Connector for Pinterest (see the module docstring)."""

    network = "pinterest"
    oauth_client_type = PinterestOAuthClient
    display_name = "Pinterest"
    capabilities = frozenset(
        {
            Capability.IMAGE,
            Capability.VIDEO,
            Capability.CAROUSEL,
            Capability.REPOST,
            Capability.ACCOUNT_METRICS,
            Capability.POST_METRICS,
        }
    )
    rules = ContentRules(
        # The Pin description; the title holds 100, alt text 500, the link 2048.
        max_text_chars=800,
        max_media=5,
        requires_media=True,
        formats=frozenset({PostFormat.FEED, PostFormat.CAROUSEL, PostFormat.VIDEO}),
        # Uploaded (base64) images: JPEG or PNG; 20 MB; 2:3 recommended.
        image=MediaLimits(mime_types=pinterest_media.BASE64_TYPES, max_bytes=20 * MB),
        # Videos: MP4, MOV or M4V, up to 2 GB, 4 s to 15 min, between 1:2 and 1.91:1.
        video=MediaLimits(
            mime_types=frozenset({"video/mp4", "video/quicktime", "video/x-m4v"}),
            max_bytes=2 * 1024 * MB,
            min_aspect=0.5,
            max_aspect=1.91,
            min_duration_s=4,
            max_duration_s=15 * 60,
        ),
        max_title_chars=100,
    )
    # org_write (Pin creation) allows 100 calls a minute per user on standard access.
    rate_limit = RateLimit(calls=100, per_seconds=60)
    oauth = OAuthConfig(
        authorize_url="https://www.pinterest.com/oauth/",
        token_url=f"{API_BASE}/oauth/token",
        scopes=("boards:read", "boards:write", "pins:read", "pins:write", "user_accounts:read"),
        pkce=False,
        scope_separator=",",
    )

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        api_base: str = API_BASE,
        media_wait_s: float = 300.0,
        poll_interval_s: float = 5.0,
    ) -> None:
        super().__init__(http)
        self.api_base = api_base.rstrip("/")
        self.media_wait_s = media_wait_s
        self.poll_interval_s = poll_interval_s

    def body_error(self, body: Any) -> ConnectorError | None:
        """Pinterest's error shape (``{"code", "message"}`` alone) in a 2xx answer."""
        if not isinstance(body, dict) or set(body) - {"code", "message", "details"}:
            return None
        if not isinstance(body.get("code"), int) or not isinstance(body.get("message"), str):
            return None
        # Where the code is an HTTP status, classify as that status would be.
        status = body["code"] if 400 <= body["code"] < 600 else 400
        stand_in = httpx.Response(status, request=httpx.Request("GET", self.api_base))
        return self.classify(status, body, stand_in)

    async def identify(self, credential: Credential) -> Identity:
        """The Pinterest account the token belongs to (``GET /user_account``).

        The board to pin to (``extra["board_id"]``) is still to be chosen afterwards.
        """
        user = await self.call("GET", "/user_account", credential=credential)
        user = user if isinstance(user, dict) else {}
        user_id, username = user.get("id"), user.get("username")
        if not isinstance(username, str) or not username:
            raise RetryableError("Pinterest did not say which account the token belongs to")
        # The numeric account id is stable; a username can change (older answers lack id).
        account_id = str(user_id) if isinstance(user_id, str | int) and str(user_id) else username
        business = user.get("business_name")
        return Identity(
            network_account_id=account_id,
            handle=username,
            display_name=business if isinstance(business, str) and business else None,
        )

    @staticmethod
    def _board(credential: Credential) -> str:
        board = credential.extra.get("board_id")
        if not board:
            raise PermanentError("choose a Pinterest board for the account (board_id is unset)")
        return board

    # -- publishing --------------------------------------------------------------------
    async def publish(
        self, account: AccountRef, credential: Credential, post: OutgoingPost
    ) -> PublishedPost:
        """Create a Pin on the account's board (uploading a video first if there is one)."""
        board = self._board(credential)
        source = await pinterest_media.media_source(self, credential, post)
        payload: dict[str, Any] = {
            "board_id": board,
            "description": post.text,
            "note": MARKER_PREFIX + post.marker,
            "media_source": source,
        }
        if credential.extra.get("board_section_id"):
            payload["board_section_id"] = credential.extra["board_section_id"]
        if post.title:
            payload["title"] = post.title[:100]
        if post.link:
            payload["link"] = post.link
        alt = next((m.alt_text for m in post.media if m.alt_text), None)
        if alt:
            payload["alt_text"] = alt[:500]
        started = datetime.now(UTC)
        try:
            pin = await self.call(
                "POST", "/pins", credential=credential, json=payload, creates=True
            )
        except RetryableError as err:
            # A timeout or 5xx here may hide a created Pin: look for it before the
            # caller retries, or the retry would pin twice.
            if isinstance(err, RateLimitedError):
                raise
            found = await self._recover(account, credential, post, started)
            if found is None:
                raise
            return found
        return self._published(pin)

    async def _recover(
        self, account: AccountRef, credential: Credential, post: OutgoingPost, since: datetime
    ) -> PublishedPost | None:
        try:
            return await self.find_by_marker(
                account, credential, post, since - timedelta(minutes=5)
            )
        except ConnectorError:
            return None

    @staticmethod
    def _published(pin: Any) -> PublishedPost:
        if not isinstance(pin, dict) or not pin.get("id"):
            raise PermanentError("Pinterest created no Pin")
        return PublishedPost(
            network_post_id=str(pin["id"]),
            permalink=f"https://www.pinterest.com/pin/{pin['id']}/",
            published_at=_when(pin.get("created_at")) or datetime.now(UTC),
        )

    async def find_by_marker(
        self, account: AccountRef, credential: Credential, post: OutgoingPost, since: datetime
    ) -> PublishedPost | None:
        """The board's Pin since ``since`` whose private note carries the marker."""
        board = self._board(credential)
        wanted = MARKER_PREFIX + post.marker
        bookmark: str | None = None
        for _ in range(5):
            params: dict[str, Any] = {"page_size": 100}
            if bookmark:
                params["bookmark"] = bookmark
            body = await self.call(
                "GET", f"/boards/{board}/pins", credential=credential, params=params
            )
            for pin in body.get("items") or []:
                created = _when(pin.get("created_at"))
                if created is not None and created < since:
                    return None
                if pin.get("note") == wanted:
                    return self._published(pin)
            bookmark = body.get("bookmark")
            if not bookmark:
                return None
        return None

    async def engage(
        self, account: AccountRef, credential: Credential, engagement: Engagement
    ) -> EngagementResult:
        """Repost (save a Pin to the account's board) or delete one of the account's Pins."""
        target = engagement.target_network_id
        if engagement.action == "repost":
            payload = {"board_id": self._board(credential)}
            if credential.extra.get("board_section_id"):
                payload["board_section_id"] = credential.extra["board_section_id"]
            pin = await self.call(
                "POST", f"/pins/{target}/save", credential=credential, json=payload
            )
            return EngagementResult(network_id=pin.get("id") if isinstance(pin, dict) else None)
        if engagement.action == "delete":
            await self.call("DELETE", f"/pins/{target}", credential=credential)
            return EngagementResult()
        raise self.unsupported(engagement.action)

    # -- metrics -----------------------------------------------------------------------
    @staticmethod
    def _window(days: int) -> dict[str, str]:
        today = datetime.now(UTC).date()
        return {"start_date": (today - timedelta(days=days)).isoformat(), "end_date": str(today)}

    async def account_metrics(self, account: AccountRef, credential: Credential) -> MetricsSnapshot:
        """Followers and Pins from the account, and its last 30 days of analytics."""
        user = await self.call("GET", "/user_account", credential=credential)
        metrics = {
            name: float(user[name])
            for name in ACCOUNT_FIELDS
            if isinstance(user, dict) and isinstance(user.get(name), int | float)
        }
        partial = len(metrics) < len(ACCOUNT_FIELDS)
        try:
            body = await self.call(
                "GET",
                "/user_account/analytics",
                credential=credential,
                params={**self._window(30), "metric_types": ",".join(ACCOUNT_METRICS)},
            )
        except PermanentError:
            # Analytics need a business account; followers alone are still worth keeping.
            return MetricsSnapshot(collected_at=datetime.now(UTC), metrics=metrics, partial=True)
        summary = _summary(body)
        for name in ACCOUNT_METRICS:
            if isinstance(summary.get(name), int | float):
                metrics[name.lower()] = float(summary[name])
            else:
                partial = True
        return MetricsSnapshot(collected_at=datetime.now(UTC), metrics=metrics, partial=partial)

    async def post_metrics(
        self, account: AccountRef, credential: Credential, network_post_id: str
    ) -> MetricsSnapshot:
        """Impressions, saves, clicks and comments of one Pin over the last 90 days."""
        body = await self.call(
            "GET",
            f"/pins/{network_post_id}/analytics",
            credential=credential,
            params={
                **self._window(ANALYTICS_DAYS),
                "metric_types": ",".join(PIN_METRICS),
                "app_types": "ALL",
                "split_field": "NO_SPLIT",
            },
        )
        summary = _summary(body)
        metrics = {
            name.lower(): float(summary[name])
            for name in PIN_METRICS
            if isinstance(summary.get(name), int | float)
        }
        return MetricsSnapshot(
            collected_at=datetime.now(UTC),
            metrics=metrics,
            partial=len(metrics) < len(PIN_METRICS),
        )

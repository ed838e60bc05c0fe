"""TikTok: Content Posting API (direct post of videos and photos) and Display API.

Publishing follows TikTok's documented flow: query the creator's info (privacy
options, interaction settings, longest video), initialise a direct post, transfer the
video in chunks (``FILE_UPLOAD``) or let TikTok pull photos from verified URLs
(``PULL_FROM_URL``, the only source photos accept), then poll the publish status.
Every v2 answer carries ``{"error": {"code", "message", "log_id"}}``, also with HTTP
200; a code other than ``ok`` is an error. TikTok offers no comment or DM API to apps
outside its research programme, so the inbox has nothing to fetch here.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import httpx
from pydantic import SecretStr

from siar.connectors import tiktok_media
from siar.connectors.errors import (
    AuthExpiredError,
    ConnectorError,
    PermanentError,
    RateLimitedError,
    RetryableError,
)
from siar.connectors.http import HttpConnector, OAuthClient
from siar.connectors.models import (
    AccountRef,
    Credential,
    Identity,
    MetricsSnapshot,
    OutgoingPost,
    PublishedPost,
    TokenGrant,
)
from siar.connectors.rules import (
    Capability,
    ContentRules,
    MediaKind,
    MediaLimits,
    OAuthConfig,
    PostFormat,
    RateLimit,
)

API_BASE = "https://open.tiktokapis.com"
WEB_BASE = "https://www.tiktok.com"
MB = 1024 * 1024
WEBHOOK_TOLERANCE_S = 300
MAX_PHOTOS = 35
VIDEO_FIELDS = "id,title,video_description,create_time,share_url"
METRIC_FIELDS = ("like_count", "comment_count", "share_count", "view_count")
ACCOUNT_FIELDS = ("follower_count", "following_count", "likes_count", "video_count")
SCOPE_CODES = frozenset({"scope_not_authorized", "scope_permission_missed"})
# Error codes (v2 error handling reference) that are not permanent.
CODED_ERRORS: dict[str, type[ConnectorError]] = {
    "access_token_invalid": AuthExpiredError,
    "internal_error": RetryableError,
    "rate_limit_exceeded": RateLimitedError,
}


def _error_of(body: Any) -> tuple[str, str]:
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        return str(error.get("code") or ""), str(error.get("message") or "")
    return "", ""


def _grant(body: Any) -> TokenGrant:
    if not isinstance(body, dict) or not isinstance(body.get("access_token"), str):
        raise PermanentError("TikTok gave no access token")
    refresh, expires, scope = body.get("refresh_token"), body.get("expires_in"), body.get("scope")
    return TokenGrant(
        access_token=SecretStr(body["access_token"]),
        refresh_token=SecretStr(refresh) if isinstance(refresh, str) else None,
        expires_in_s=expires if isinstance(expires, int) else None,
        scope=scope if isinstance(scope, str) else None,
    )


class TikTokOAuthClient(OAuthClient):
    """TikTok OAuth v2: the client is named ``client_key`` at the token endpoint."""

    async def _token(self, form: dict[str, str]) -> TokenGrant:
        body = await self.connector.call(
            "POST",
            self.config.token_url,
            data={**form, "client_key": self.client_id, "client_secret": self.client_secret},
            headers={"accept": "application/json", "cache-control": "no-cache"},
        )
        return _grant(body)


class TikTokConnector(HttpConnector):
    """Connector for TikTok (see the module docstring)."""

    network = "tiktok"
    oauth_client_type = TikTokOAuthClient
    display_name = "TikTok"
    capabilities = frozenset(
        {
            Capability.VIDEO,
            Capability.IMAGE,
            Capability.CAROUSEL,
            Capability.ACCOUNT_METRICS,
            Capability.POST_METRICS,
            Capability.WEBHOOKS,
        }
    )
    rules = ContentRules(
        # Video captions: 2200 UTF-16 code units; photo descriptions allow 4000.
        max_text_chars=2200,
        max_media=MAX_PHOTOS,
        requires_media=True,
        formats=frozenset({PostFormat.FEED, PostFormat.VIDEO, PostFormat.CAROUSEL}),
        # Photos: JPEG or WEBP (no PNG), at most 20 MB and 1080p each, up to 35.
        image=MediaLimits(mime_types=frozenset({"image/jpeg", "image/webp"}), max_bytes=20 * MB),
        # Videos: MP4, WebM or MOV up to 4 GB; 10 minutes at most, often less per creator
        # (creator_info's max_video_post_duration_sec is checked at publish time).
        video=MediaLimits(
            mime_types=frozenset({"video/mp4", "video/webm", "video/quicktime"}),
            max_bytes=4 * 1024 * MB,
            max_duration_s=600,
        ),
        max_title_chars=90,
    )
    # Direct-post init allows 6 requests per minute per user token (the tightest limit).
    rate_limit = RateLimit(calls=6, per_seconds=60)
    app_rate_limit = RateLimit(calls=600, per_seconds=60, per_app=True)
    oauth = OAuthConfig(
        authorize_url=f"{WEB_BASE}/v2/auth/authorize/",
        token_url=f"{API_BASE}/v2/oauth/token/",
        scopes=("user.info.basic", "user.info.stats", "video.list", "video.publish"),
        # Login Kit for Web has no PKCE (desktop's variant hex-encodes the challenge).
        pkce=False,
        scope_separator=",",
        revoke_url=f"{API_BASE}/v2/oauth/revoke/",
        client_id_param="client_key",
    )

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        api_base: str = API_BASE,
        chunk_size: int = 10 * MB,
        publish_wait_s: float = 60.0,
        poll_interval_s: float = 5.0,
    ) -> None:
        super().__init__(http)
        self.api_base = api_base.rstrip("/")
        self.chunk_size = chunk_size
        self.publish_wait_s = publish_wait_s
        self.poll_interval_s = poll_interval_s

    # -- errors ------------------------------------------------------------------------
    def body_error(self, body: Any) -> ConnectorError | None:
        """TikTok's ``error`` object with a code other than ``ok`` (also on HTTP 200)."""
        if isinstance(body, dict) and isinstance(body.get("error"), str):
            # The token endpoint answers OAuth-style: {"error", "error_description"}.
            text = body.get("error_description") or body["error"]
            return PermanentError(f"TikTok refused the token request: {text}")
        code, message = _error_of(body)
        if not code or code == "ok":
            return None
        if code in SCOPE_CODES:
            return self._scope_error(code, message)
        kind = CODED_ERRORS.get(code, PermanentError)
        return kind(f"TikTok refused the request ({code}): {message or code}")

    def classify(self, status: int, body: Any, response: httpx.Response) -> ConnectorError:
        """As the base, but a missing scope (sent as 401) needs a reconnect, not a refresh."""
        code, message = _error_of(body)
        if code in SCOPE_CODES:
            return self._scope_error(code, message)
        return super().classify(status, body, response)

    @staticmethod
    def _scope_error(code: str, message: str) -> PermanentError:
        return PermanentError(
            f"TikTok: the account did not grant a permission Siar needs ({code}): "
            f"{message}; reconnect it and allow every permission"
        )

    # -- the account -------------------------------------------------------------------
    async def identify(self, credential: Credential) -> Identity:
        """The TikTok account the token belongs to.

        ``GET /v2/user/info/`` gives the ``open_id`` and display name (``user.info.basic``).
        TikTok moved ``username`` to ``user.info.profile``, which Siar does not ask for
        (asking for the field without the scope fails the call), so the username, which
        permalinks need, comes from the creator info direct posting reads anyway.
        """
        body = await self.call(
            "GET",
            "/v2/user/info/",
            credential=credential,
            params={"fields": "open_id,union_id,display_name"},
        )
        data = body.get("data") if isinstance(body, dict) else None
        user = data.get("user") if isinstance(data, dict) else None
        user = user if isinstance(user, dict) else {}
        open_id = user.get("open_id")
        if not isinstance(open_id, str) or not open_id:
            raise RetryableError("TikTok did not say which account the token belongs to")
        creator = await self._creator_info(credential)
        username = creator.get("creator_username")
        if not isinstance(username, str) or not username:
            raise RetryableError("TikTok did not give the account's username")
        name = user.get("display_name") or creator.get("creator_nickname")
        return Identity(
            network_account_id=open_id,
            handle=username.lstrip("@"),
            display_name=name if isinstance(name, str) and name else None,
        )

    # -- publishing --------------------------------------------------------------------
    async def publish(
        self, account: AccountRef, credential: Credential, post: OutgoingPost
    ) -> PublishedPost:
        """Direct-post a video (chunked upload) or photos (pulled from URLs)."""
        videos = [m for m in post.media if m.kind is MediaKind.VIDEO]
        photo_urls = [ref for ref in post.media_ids if ref.startswith("https://")]
        mixed = bool(videos) and (len(post.media) > 1 or bool(photo_urls))
        if mixed or len(photo_urls) > MAX_PHOTOS:
            raise PermanentError(f"a TikTok post is one video, or up to {MAX_PHOTOS} photos")
        if not videos and not photo_urls:
            if post.media:
                raise PermanentError(
                    "TikTok only takes photos from public HTTPS URLs on a domain verified "
                    "for the app; the post's photos have no such URL"
                )
            raise PermanentError("a TikTok post needs a video or photos")
        creator = await self._creator_info(credential)
        privacy = self._privacy(creator, credential)
        if videos:
            publish_id = await tiktok_media.post_video(
                self, credential, creator, privacy, post, videos[0]
            )
            kind = "video"
        else:
            publish_id = await tiktok_media.post_photos(
                self, credential, creator, privacy, post, photo_urls
            )
            kind = "photo"
        post_id = await tiktok_media.await_publish(self, credential, publish_id)
        permalink = f"{WEB_BASE}/@{account.handle}/{kind}/{post_id}" if post_id.isdigit() else None
        return PublishedPost(
            network_post_id=post_id, permalink=permalink, published_at=datetime.now(UTC)
        )

    async def _creator_info(self, credential: Credential) -> dict[str, Any]:
        body = await self.call(
            "POST", "/v2/post/publish/creator_info/query/", credential=credential, json={}
        )
        data = body.get("data") if isinstance(body, dict) else None
        return data if isinstance(data, dict) else {}

    @staticmethod
    def _privacy(creator: dict[str, Any], credential: Credential) -> str:
        wanted = credential.extra.get("privacy_level", "PUBLIC_TO_EVERYONE")
        options = creator.get("privacy_level_options")
        if isinstance(options, list) and options and wanted not in options:
            raise PermanentError(
                f"TikTok does not let this account post as {wanted}; it allows "
                f"{', '.join(str(o) for o in options)} (set privacy_level on the account)"
            )
        return wanted

    async def find_by_marker(
        self, account: AccountRef, credential: Credential, post: OutgoingPost, since: datetime
    ) -> PublishedPost | None:
        """The account's video since ``since`` whose caption is the post's text.

        TikTok has no idempotency key or hidden field; its video list returns captions
        cut to 150 characters, so a long caption matches on that prefix. Posts still in
        moderation, and private ones, are not listed.
        """
        cursor: int | None = None
        wanted = post.text.strip()
        for _ in range(10):
            payload: dict[str, Any] = {"max_count": 20}
            if cursor is not None:
                payload["cursor"] = cursor
            body = await self.call(
                "POST",
                "/v2/video/list/",
                credential=credential,
                params={"fields": VIDEO_FIELDS},
                json=payload,
            )
            data = body.get("data") if isinstance(body, dict) else {}
            videos = data.get("videos") if isinstance(data, dict) else None
            for video in videos if isinstance(videos, list) else []:
                stamp = video.get("create_time")
                created = datetime.fromtimestamp(stamp, UTC) if isinstance(stamp, int) else None
                if created is not None and created < since:
                    return None
                if _same_caption(video, wanted):
                    return PublishedPost(
                        network_post_id=str(video["id"]),
                        permalink=video.get("share_url"),
                        published_at=created or datetime.now(UTC),
                    )
            if not isinstance(data, dict) or not data.get("has_more") or not data.get("cursor"):
                return None
            cursor = int(data["cursor"])
        return None

    # -- metrics -----------------------------------------------------------------------
    async def account_metrics(self, account: AccountRef, credential: Credential) -> MetricsSnapshot:
        """Followers, following, total likes and video count (scope user.info.stats)."""
        body = await self.call(
            "GET",
            "/v2/user/info/",
            credential=credential,
            params={"fields": ",".join(ACCOUNT_FIELDS)},
        )
        data = body.get("data") if isinstance(body, dict) else None
        user = data.get("user") if isinstance(data, dict) else None
        return _snapshot(user if isinstance(user, dict) else {}, ACCOUNT_FIELDS)

    async def post_metrics(
        self, account: AccountRef, credential: Credential, network_post_id: str
    ) -> MetricsSnapshot:
        """Likes, comments, shares and views of one video (a publish id is resolved first)."""
        video_id = network_post_id
        if not video_id.isdigit():
            status = await tiktok_media.fetch_status(self, credential, network_post_id)
            found = tiktok_media.public_post_id(status)
            if found is None:
                if status.get("status") == "FAILED":
                    raise tiktok_media.failure(status.get("fail_reason"))
                raise RetryableError("TikTok has not released the post from processing yet")
            video_id = found
        body = await self.call(
            "POST",
            "/v2/video/query/",
            credential=credential,
            params={"fields": "id," + ",".join(METRIC_FIELDS)},
            json={"filters": {"video_ids": [video_id]}},
        )
        data = body.get("data") if isinstance(body, dict) else None
        videos = data.get("videos") if isinstance(data, dict) else None
        if not isinstance(videos, list) or not videos or not isinstance(videos[0], dict):
            raise PermanentError(f"TikTok has no video {video_id} for this account")
        return _snapshot(videos[0], METRIC_FIELDS)

    # -- webhooks ----------------------------------------------------------------------
    def verify_webhook(self, headers: Mapping[str, str], body: bytes, secret: str) -> bool:
        """Check ``TikTok-Signature: t=<ts>,s=<hex>``: HMAC-SHA256 of ``<ts>.<body>``.

        ``secret`` is the app's client secret; a timestamp older than five minutes is
        refused as a replay.
        """
        header = next((v for k, v in headers.items() if k.lower() == "tiktok-signature"), "")
        parts = dict(item.split("=", 1) for item in header.split(",") if "=" in item)
        stamp, signature = parts.get("t", ""), parts.get("s", "")
        if not stamp.isdigit() or not signature or not secret:
            return False
        if abs(time.time() - int(stamp)) > WEBHOOK_TOLERANCE_S:
            return False
        expected = hmac.new(secret.encode(), stamp.encode() + b"." + body, hashlib.sha256)
        return hmac.compare_digest(expected.hexdigest(), signature.strip())


def _same_caption(video: dict[str, Any], wanted: str) -> bool:
    for key in ("video_description", "title"):
        listed = str(video.get(key) or "").strip()
        if listed and (
            listed == wanted or (len(listed) >= 140 and wanted.startswith(listed.rstrip(".…")))
        ):
            return True
    return False


def _snapshot(source: dict[str, Any], fields: tuple[str, ...]) -> MetricsSnapshot:
    metrics = {
        name: float(source[name]) for name in fields if isinstance(source.get(name), int | float)
    }
    return MetricsSnapshot(
        collected_at=datetime.now(UTC), metrics=metrics, partial=len(metrics) < len(fields)
    )

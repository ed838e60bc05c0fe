"""YouTube: Data API v3 uploads, comments, moderation and statistics.

Videos go up with the resumable upload protocol (:mod:`siar.connectors.youtube_media`).
Comments on the channel's videos come from ``commentThreads.list``; replies use
``comments.insert``, hiding uses ``comments.setModerationStatus`` and likes rate a video.
Quota errors are 403s: ``quotaExceeded`` (the project's daily units, reset at midnight
Pacific time) and ``rateLimitExceeded``/``userRateLimitExceeded`` mean wait; any other
403 is permanent.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx

from siar.connectors import youtube_comments, youtube_media
from siar.connectors.errors import (
    ConnectorError,
    PermanentError,
    RateLimitedError,
    first_comment_on,
)
from siar.connectors.http import HttpConnector, retry_after_s
from siar.connectors.models import (
    AccountRef,
    Credential,
    Engagement,
    EngagementResult,
    Identity,
    MetricsSnapshot,
    OutgoingPost,
    Page,
    PublishedPost,
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

log = logging.getLogger(__name__)

API_BASE = "https://www.googleapis.com/youtube/v3"
UPLOAD_BASE = "https://www.googleapis.com/upload"
GOOGLE_OAUTH = "https://oauth2.googleapis.com"
GB = 1024**3
QUOTA_REASONS = frozenset({"quotaExceeded", "rateLimitExceeded", "userRateLimitExceeded"})
VIDEO_METRICS = ("viewCount", "likeCount", "commentCount", "favoriteCount")
CHANNEL_METRICS = ("subscriberCount", "viewCount", "videoCount")


def _reasons(body: Any) -> set[str]:
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return set()
    found = set()
    for key in ("errors", "details"):
        for item in error.get(key) or []:
            if isinstance(item, dict) and isinstance(item.get("reason"), str):
                found.add(item["reason"])
    return found


def _until_pacific_midnight(now: datetime) -> float:
    try:
        zone: timezone | ZoneInfo = ZoneInfo("America/Los_Angeles")
    except ZoneInfoNotFoundError:  # no tz database: Pacific standard time is close enough
        zone = timezone(timedelta(hours=-8))
    local = now.astimezone(zone)
    midnight = (local + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return (midnight - local).total_seconds()


class YouTubeConnector(HttpConnector):
    """Connector for YouTube (see the module docstring)."""

    network = "youtube"
    display_name = "YouTube"
    capabilities = frozenset(
        {
            Capability.VIDEO,
            Capability.REEL,
            Capability.FIRST_COMMENT,
            Capability.REPLY,
            Capability.LIKE,
            Capability.HIDE_COMMENT,
            Capability.DELETE_COMMENT,
            Capability.FETCH_COMMENTS,
            Capability.ACCOUNT_METRICS,
            Capability.POST_METRICS,
            Capability.WEBHOOKS,
        }
    )
    rules = ContentRules(
        # The description: 5000 UTF-8 bytes (checked in bytes at publish time).
        max_text_chars=5000,
        # Over 60 hashtags and YouTube ignores them all.
        max_hashtags=60,
        max_media=1,
        requires_media=True,
        formats=frozenset({PostFormat.FEED, PostFormat.VIDEO, PostFormat.REEL}),
        video=MediaLimits(
            mime_types=frozenset(
                {
                    "video/mp4",
                    "video/quicktime",
                    "video/x-msvideo",
                    "video/x-ms-wmv",
                    "video/x-flv",
                    "video/webm",
                    "video/mpeg",
                    "video/3gpp",
                    "application/octet-stream",
                }
            ),
            # 256 GB or 12 hours, whichever is less (unverified channels: 15 minutes).
            max_bytes=256 * GB,
            max_duration_s=12 * 3600,
        ),
        max_title_chars=100,
    )
    rate_limit = RateLimit(calls=60, per_seconds=60)
    # The default project quota: 10,000 units a day (reads cost 1, uploads far more).
    app_rate_limit = RateLimit(calls=10_000, per_seconds=86_400, per_app=True)
    oauth = OAuthConfig(
        authorize_url="https://accounts.google.com/o/oauth2/v2/auth",
        token_url=f"{GOOGLE_OAUTH}/token",
        scopes=(
            "https://www.googleapis.com/auth/youtube.upload",
            "https://www.googleapis.com/auth/youtube.force-ssl",
        ),
        pkce=True,
        revoke_url=f"{GOOGLE_OAUTH}/revoke",
        # Offline access (and consent) is what makes Google issue a refresh token.
        extra_authorize_params={
            "access_type": "offline",
            "prompt": "consent",
            "include_granted_scopes": "true",
        },
    )

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        api_base: str = API_BASE,
        upload_base: str = UPLOAD_BASE,
        chunk_size: int = 32 * youtube_media.CHUNK_UNIT,
        max_resumes: int = 5,
        resume_delay_s: float = 1.0,
        max_comment_pages: int = 5,
    ) -> None:
        if chunk_size <= 0 or chunk_size % youtube_media.CHUNK_UNIT:
            raise ValueError("YouTube upload chunks must be a multiple of 256 KiB")
        super().__init__(http)
        self.api_base = api_base.rstrip("/")
        self.upload_base = upload_base.rstrip("/")
        self.chunk_size = chunk_size
        self.max_resumes = max_resumes
        self.resume_delay_s = resume_delay_s
        self.max_comment_pages = max_comment_pages

    def body_error(self, body: Any) -> ConnectorError | None:
        """A Google error envelope (``{"error": {"code": 4xx/5xx, ...}}``) in a 2xx answer."""
        error = body.get("error") if isinstance(body, dict) else None
        if not isinstance(error, dict) or not isinstance(error.get("code"), int):
            return None
        status = error["code"] if error["code"] >= 400 else 500
        # Classified as if it had come with its own status (no headers to honour).
        stand_in = httpx.Response(status, request=httpx.Request("GET", self.api_base))
        return self.classify(status, body, stand_in)

    def classify(self, status: int, body: Any, response: httpx.Response) -> ConnectorError:
        """Quota 403s wait; a vanished upload session restarts; the rest as the base."""
        reasons = _reasons(body)
        reason = self.error_reason(status, body) or f"HTTP {status}"
        if status == 403 and reasons & QUOTA_REASONS:
            wait = retry_after_s(response)
            if wait is None and "quotaExceeded" in reasons:
                wait = _until_pacific_midnight(datetime.now(UTC))
            return RateLimitedError(f"YouTube quota reached: {reason}", retry_after_s=wait)
        if status in (404, 410) and "/upload/" in response.request.url.path:
            return youtube_media.UploadSessionExpired(
                f"the YouTube upload session expired ({status}); the upload starts again"
            )
        return super().classify(status, body, response)

    # -- publishing --------------------------------------------------------------------
    async def publish(
        self, account: AccountRef, credential: Credential, post: OutgoingPost
    ) -> PublishedPost:
        """Upload the post's video (resumable), then add its first comment if any."""
        videos = [m for m in post.media if m.kind is MediaKind.VIDEO]
        if len(videos) != 1 or len(post.media) != 1:
            raise PermanentError("a YouTube post is exactly one video")
        if not videos[0].content:
            raise PermanentError("the video has no content to upload")
        resource = youtube_media.video_resource(post, credential.extra)
        video = await youtube_media.upload_video(self, credential, resource, videos[0])
        video_id = video["id"]
        snippet = video.get("snippet") if isinstance(video.get("snippet"), dict) else {}
        published = snippet.get("publishedAt") if isinstance(snippet, dict) else None
        path = f"shorts/{video_id}" if post.format is PostFormat.REEL else f"watch?v={video_id}"
        receipt = PublishedPost(
            network_post_id=video_id,
            permalink=f"https://www.youtube.com/{path}",
            published_at=_when(published) or datetime.now(UTC),
        )
        if post.first_comment:
            await self._first_comment(credential, receipt, post.first_comment)
        return receipt

    async def _first_comment(
        self, credential: Credential, receipt: PublishedPost, text: str
    ) -> None:
        # The video exists now: a failed comment must not make the caller upload again.
        video_id = receipt.network_post_id
        with first_comment_on("YouTube", receipt, what="the video"):
            await self.call(
                "POST",
                "/commentThreads",
                credential=credential,
                params={"part": "snippet"},
                json={
                    "snippet": {
                        "videoId": video_id,
                        "topLevelComment": {"snippet": {"textOriginal": text}},
                    }
                },
            )

    async def find_by_marker(
        self, account: AccountRef, credential: Credential, post: OutgoingPost, since: datetime
    ) -> PublishedPost | None:
        """The channel's upload since ``since`` with the post's exact title and description.

        YouTube has no idempotency key; the uploads playlist (1 quota unit a page, where
        search costs 100) lists the channel's newest videos first, private ones included.
        """
        uploads = await self._uploads_playlist(credential)
        title = youtube_media.video_title(post)
        description = youtube_media.youtube_text(post.text)
        token: str | None = None
        for _ in range(4):
            params = {"part": "snippet", "playlistId": uploads, "maxResults": 50}
            if token:
                params["pageToken"] = token
            body = await self.call("GET", "/playlistItems", credential=credential, params=params)
            for item in body.get("items") or []:
                snippet = item.get("snippet") or {}
                added = _when(snippet.get("publishedAt"))
                if added is not None and added < since:
                    return None
                video_id = (snippet.get("resourceId") or {}).get("videoId")
                if (
                    video_id
                    and snippet.get("title", "").strip() == title
                    and snippet.get("description", "").strip() == description
                ):
                    return PublishedPost(
                        network_post_id=video_id,
                        permalink=f"https://www.youtube.com/watch?v={video_id}",
                        published_at=added or datetime.now(UTC),
                    )
            token = body.get("nextPageToken")
            if not token:
                return None
        return None

    async def _mine(self, credential: Credential, part: str) -> dict[str, Any]:
        body = await self.call(
            "GET", "/channels", credential=credential, params={"part": part, "mine": "true"}
        )
        items = body.get("items") if isinstance(body, dict) else None
        if not items or not isinstance(items[0], dict):
            raise PermanentError("the account has no YouTube channel")
        channel: dict[str, Any] = items[0]
        return channel

    async def identify(self, credential: Credential) -> Identity:
        """The channel the token belongs to (``channels.list`` with ``mine=true``).

        The handle is the channel's custom URL (its ``@handle``, without the ``@``), or
        its title where it has none.
        """
        channel = await self._mine(credential, "snippet")
        channel_id = channel.get("id")
        if not isinstance(channel_id, str) or not channel_id:
            raise PermanentError("YouTube did not give the channel's id")
        snippet = channel.get("snippet")
        snippet = snippet if isinstance(snippet, dict) else {}
        title = str(snippet.get("title") or "")
        custom = str(snippet.get("customUrl") or "")
        return Identity(
            network_account_id=channel_id,
            handle=custom.lstrip("@") or title or channel_id,
            display_name=title or None,
        )

    async def _uploads_playlist(self, credential: Credential) -> str:
        channel = await self._mine(credential, "contentDetails")
        playlists = (channel.get("contentDetails") or {}).get("relatedPlaylists") or {}
        if not playlists.get("uploads"):
            raise PermanentError("YouTube lists no uploads playlist for the channel")
        return str(playlists["uploads"])

    async def channel_id(self, account: AccountRef, credential: Credential) -> str:
        """The account's channel id (``network_account_id``, else asked of YouTube)."""
        if account.network_account_id:
            return account.network_account_id
        return str((await self._mine(credential, "id"))["id"])

    # -- inbox -------------------------------------------------------------------------
    async def fetch_messages(
        self, account: AccountRef, credential: Credential, cursor: str | None
    ) -> Page:
        """Comments on the channel's videos newer than ``cursor``, oldest first."""
        return await youtube_comments.fetch(self, account, credential, cursor)

    async def engage(
        self, account: AccountRef, credential: Credential, engagement: Engagement
    ) -> EngagementResult:
        """Reply to a comment, like a video, hide (reject) or delete a comment."""
        return await youtube_comments.engage(self, credential, engagement)

    # -- metrics -----------------------------------------------------------------------
    async def account_metrics(self, account: AccountRef, credential: Credential) -> MetricsSnapshot:
        """Subscribers (unless hidden), views and videos of the channel."""
        channel = await self._mine(credential, "statistics")
        return _snapshot(channel.get("statistics") or {}, CHANNEL_METRICS)

    async def post_metrics(
        self, account: AccountRef, credential: Credential, network_post_id: str
    ) -> MetricsSnapshot:
        """Views, likes, comments and favourites of one video."""
        body = await self.call(
            "GET",
            "/videos",
            credential=credential,
            params={"part": "statistics", "id": network_post_id},
        )
        items = body.get("items") if isinstance(body, dict) else None
        if not items:
            raise PermanentError(f"YouTube has no video {network_post_id}")
        return _snapshot(items[0].get("statistics") or {}, VIDEO_METRICS)

    # -- webhooks ----------------------------------------------------------------------
    def verify_webhook(self, headers: Mapping[str, str], body: bytes, secret: str) -> bool:
        """Check a WebSub push (new uploads): ``X-Hub-Signature: sha1=<HMAC-SHA1(body)>``.

        ``secret`` is the ``hub.secret`` given when subscribing to the channel's feed.
        """
        header = next((v for k, v in headers.items() if k.lower() == "x-hub-signature"), "")
        method, _, signature = header.partition("=")
        if method != "sha1" or not signature or not secret:
            return False
        expected = hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()
        return hmac.compare_digest(expected, signature.strip().lower())


def _when(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def _snapshot(stats: dict[str, Any], fields: tuple[str, ...]) -> MetricsSnapshot:
    # Counts come as strings; a hidden count (likes, subscribers) is simply absent.
    metrics = {name: float(stats[name]) for name in fields if str(stats.get(name, "")).isdigit()}
    return MetricsSnapshot(
        collected_at=datetime.now(UTC), metrics=metrics, partial=len(metrics) < len(fields)
    )

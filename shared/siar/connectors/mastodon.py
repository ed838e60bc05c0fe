"""Mastodon (any instance): statuses, media, notifications, favourites and reblogs.

Every account lives on an instance of its own, so every call goes to the account's
instance: ``Credential.extra["instance"]`` (set when the account is connected), else
the domain of its ``user@domain`` handle. Apps are registered per instance
(``POST /api/v1/apps``) and connect accounts with OAuth 2.0 on that instance; tokens
do not expire and there are no refresh tokens. Statuses are created with an
``Idempotency-Key`` (kept by Mastodon for an hour), so a retried publish returns the
status already made. Errors are ``{"error": "..."}``; 429 comes with
``X-RateLimit-Reset`` as an ISO 8601 time.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import httpx

from siar.connectors import mastodon_inbox, mastodon_media, public_search
from siar.connectors.errors import (
    AuthExpiredError,
    ConnectorError,
    PermanentError,
    RateLimitedError,
    RetryableError,
    first_comment_on,
    thread_part_on,
)
from siar.connectors.http import HttpConnector
from siar.connectors.mastodon_inbox import html_to_text, parse_time, snapshot
from siar.connectors.models import (
    AccountRef,
    Credential,
    Engagement,
    EngagementResult,
    Identity,
    MetricsSnapshot,
    OutgoingPost,
    Page,
    PublicPost,
    PublicProfile,
    PublishedPost,
)
from siar.connectors.rules import (
    Capability,
    ContentRules,
    MediaLimits,
    OAuthConfig,
    PostFormat,
    RateLimit,
)

DEFAULT_INSTANCE = "https://mastodon.social"
MB = 1024 * 1024
SCOPES = (
    "read:accounts",
    "read:statuses",
    "read:notifications",
    "write:statuses",
    "write:media",
    "write:favourites",
)
FIND_PAGES = 5
_REMOTE_MENTION = re.compile(r"(^|\s)@(\w+)@[\w.-]*\w")


def oauth_for(instance: str) -> OAuthConfig:
    """OAuth endpoints of one instance (PKCE with S256 since Mastodon 4.3)."""
    return OAuthConfig(
        authorize_url=f"{instance}/oauth/authorize",
        token_url=f"{instance}/oauth/token",
        scopes=SCOPES,
        pkce=True,
        refreshable=False,
        revoke_url=f"{instance}/oauth/revoke",
    )


def instance_base(value: str) -> str:
    """``https://host`` for an instance given as a host or a URL."""
    value = value.strip().rstrip("/")
    return value if value.startswith(("https://", "http://")) else f"https://{value}"


def _comparable(text: str) -> str:
    # Mastodon shows a remote mention as @user and folds whitespace into <p>/<br>.
    return " ".join(_REMOTE_MENTION.sub(r"\1@\2", text).split())


class MastodonConnector(HttpConnector):
    """Connector for Mastodon and API-compatible servers (see the module docstring)."""

    network = "mastodon"
    display_name = "Mastodon"
    capabilities = frozenset(
        {
            Capability.TEXT,
            Capability.IMAGE,
            Capability.VIDEO,
            Capability.CAROUSEL,
            Capability.THREAD,
            Capability.FIRST_COMMENT,
            Capability.REPLY,
            Capability.DM,
            Capability.LIKE,
            Capability.REPOST,
            Capability.FETCH_COMMENTS,
            Capability.FETCH_DMS,
            Capability.ACCOUNT_METRICS,
            Capability.POST_METRICS,
        }
    )
    # Defaults of a stock instance (mastodon.social); instance_rules() reads the real ones.
    rules = ContentRules(
        max_text_chars=500,
        counts_graphemes=True,
        max_media=4,
        formats=frozenset(
            {PostFormat.FEED, PostFormat.THREAD, PostFormat.CAROUSEL, PostFormat.VIDEO}
        ),
        image=MediaLimits(
            mime_types=frozenset(
                {
                    "image/jpeg",
                    "image/png",
                    "image/gif",
                    "image/webp",
                    "image/heic",
                    "image/heif",
                    "image/avif",
                }
            ),
            max_bytes=16 * MB,
        ),
        video=MediaLimits(
            mime_types=frozenset({"video/mp4", "video/webm", "video/quicktime", "video/ogg"}),
            max_bytes=99 * MB,
        ),
    )
    # 300 requests per 5 minutes per account (media uploads: 30 per 30 minutes).
    rate_limit = RateLimit(calls=300, per_seconds=300)
    oauth = oauth_for(DEFAULT_INSTANCE)
    media_poll_s: float = 1.0
    media_wait_s: float = 300.0

    def __init__(self, http: httpx.AsyncClient, *, instance: str = DEFAULT_INSTANCE) -> None:
        super().__init__(http)
        self.instance = instance_base(instance)
        self.oauth = oauth_for(self.instance)

    # -- errors ----------------------------------------------------------------------
    def classify(self, status: int, body: Any, response: httpx.Response) -> ConnectorError:
        """As usual, but 429's X-RateLimit-Reset is an ISO 8601 time on Mastodon."""
        error = super().classify(status, body, response)
        reset = response.headers.get("x-ratelimit-reset")
        if isinstance(error, RateLimitedError) and error.retry_after_s is None and reset:
            try:
                at = datetime.fromisoformat(reset.replace("Z", "+00:00"))
            except ValueError:
                return error
            error.retry_after_s = max(0.0, (at - datetime.now(UTC)).total_seconds())
        return error

    def body_error(self, body: Any) -> ConnectorError | None:
        """An ``{"error": ...}`` object without an entity is an error, even with 2xx."""
        if isinstance(body, dict) and isinstance(body.get("error"), str) and "id" not in body:
            reason = self.error_reason(200, body) or body["error"]
            if "token" in reason.lower():
                return AuthExpiredError(f"Mastodon rejected the account's token: {reason}")
            return PermanentError(f"Mastodon refused the request: {reason}")
        return None

    # -- accounts ----------------------------------------------------------------------
    def base_url(self, account: AccountRef, credential: Credential) -> str:
        """The account's instance: from the credential, else the handle's domain."""
        if credential.extra.get("instance"):
            return instance_base(credential.extra["instance"])
        parts = account.handle.removeprefix("@").split("@")
        return instance_base(parts[1]) if len(parts) == 2 and parts[1] else self.instance

    async def register_app(self, instance: str, *, client_name: str, redirect_uri: str) -> Any:
        """Register Siar on an instance (``POST /api/v1/apps``): client_id and secret."""
        return await self.call(
            "POST",
            f"{instance_base(instance)}/api/v1/apps",
            json={
                "client_name": client_name,
                "redirect_uris": redirect_uri,
                "scopes": " ".join(SCOPES),
                "website": "https://siar.invalid",
            },
        )

    async def instance_rules(self, instance: str) -> ContentRules:
        """The content limits one instance actually sets."""
        return await mastodon_media.instance_rules(self, instance_base(instance))

    async def _me(self, base: str, credential: Credential) -> dict[str, Any]:
        body = await self.call(
            "GET", f"{base}/api/v1/accounts/verify_credentials", credential=credential
        )
        if not isinstance(body, dict) or not isinstance(body.get("id"), str):
            raise RetryableError("Mastodon did not say who the account is")
        return body

    async def identify(self, credential: Credential) -> Identity:
        """The account the token belongs to on its instance (``verify_credentials``).

        The instance is ``credential.extra["instance"]`` (else this connector's), and is
        kept in the identity's ``extra`` so every later call goes there.
        """
        instance = credential.extra.get("instance") or self.instance
        base = instance_base(instance)
        me = await self._me(base, credential)
        username = me.get("username") or me.get("acct")
        if not isinstance(username, str) or not username:
            raise RetryableError("Mastodon did not give the account's username")
        host = urlsplit(base).netloc
        name = me.get("display_name")
        return Identity(
            network_account_id=me["id"],
            handle=username if "@" in username else f"{username}@{host}",
            display_name=name if isinstance(name, str) and name else None,
            extra={**credential.extra, "instance": instance},
        )

    async def _account_id(self, base: str, account: AccountRef, credential: Credential) -> str:
        return account.network_account_id or str((await self._me(base, credential))["id"])

    # -- publishing --------------------------------------------------------------------
    async def post_status(
        self, base: str, credential: Credential, body: dict[str, Any], key: str
    ) -> dict[str, Any]:
        """Create a status with an Idempotency-Key; returns the status."""
        status = await self.call(
            "POST",
            f"{base}/api/v1/statuses",
            credential=credential,
            json=body,
            headers={"idempotency-key": key},
        )
        if not isinstance(status, dict) or not isinstance(status.get("id"), str):
            raise RetryableError("Mastodon did not return the status it created")
        return status

    @staticmethod
    def post_text(post: OutgoingPost) -> str:
        """The text as published (with the link, if the text lacks it)."""
        if post.link and post.link not in post.text:
            return f"{post.text}\n\n{post.link}"
        return post.text

    async def publish(
        self, account: AccountRef, credential: Credential, post: OutgoingPost
    ) -> PublishedPost:
        """Upload media, post the status, then its thread parts and first comment."""
        base = self.base_url(account, credential)
        mastodon_media.check_media(self.rules, post.media)
        media_ids = [await mastodon_media.upload(self, base, credential, m) for m in post.media]
        body: dict[str, Any] = {"status": self.post_text(post), "visibility": "public"}
        if media_ids:
            body["media_ids"] = media_ids
        status = await self.post_status(base, credential, body, post.marker)
        published = PublishedPost(
            network_post_id=status["id"],
            permalink=status.get("url") if isinstance(status.get("url"), str) else None,
            published_at=parse_time(status.get("created_at")),
        )
        parent, total = status, len(post.thread) + 1
        for i, part in enumerate(post.thread, start=1):
            reply = {"status": part, "in_reply_to_id": parent["id"], "visibility": "public"}
            # Every status of the delivery carries its own Idempotency-Key, so a retry
            # replays what went out; only a refusal is final.
            with thread_part_on("Mastodon", published, i + 1, total, replayable=True):
                parent = await self.post_status(base, credential, reply, f"{post.marker}:{i}")
        if post.first_comment:
            comment = {
                "status": post.first_comment,
                "in_reply_to_id": status["id"],
                "visibility": "public",
            }
            with first_comment_on("Mastodon", published):
                await self.post_status(base, credential, comment, f"{post.marker}:comment")
        return published

    async def find_by_marker(
        self, account: AccountRef, credential: Credential, post: OutgoingPost, since: datetime
    ) -> PublishedPost | None:
        """The account's top-level status with the post's exact text since ``since``."""
        base = self.base_url(account, credential)
        account_id = await self._account_id(base, account, credential)
        expected = _comparable(self.post_text(post))
        params: dict[str, str | int] = {"limit": 40, "exclude_reblogs": "true"}
        for _ in range(FIND_PAGES):
            statuses = await self.call(
                "GET",
                f"{base}/api/v1/accounts/{account_id}/statuses",
                credential=credential,
                params=params,
            )
            if not isinstance(statuses, list):
                raise RetryableError("Mastodon answered the statuses call with no list")
            older = False
            listed = [s for s in statuses if isinstance(s, dict) and isinstance(s.get("id"), str)]
            for status in listed:
                created = parse_time(status.get("created_at"))
                if created < since:
                    older = True
                elif not status.get("in_reply_to_id") and expected == _comparable(
                    html_to_text(str(status.get("content") or ""))
                ):
                    url = status.get("url")
                    return PublishedPost(
                        network_post_id=status["id"],
                        permalink=url if isinstance(url, str) else None,
                        published_at=created,
                    )
            if older or not listed:
                return None
            params["max_id"] = listed[-1]["id"]
        return None

    # -- inbox, engagement, metrics ----------------------------------------------------
    async def fetch_messages(
        self, account: AccountRef, credential: Credential, cursor: str | None
    ) -> Page:
        """Replies, mentions and DMs from the mention notifications, oldest first."""
        base = self.base_url(account, credential)
        me = await self._account_id(base, account, credential)
        return await mastodon_inbox.fetch_messages(self, base, credential, me, cursor)

    async def engage(
        self, account: AccountRef, credential: Credential, engagement: Engagement
    ) -> EngagementResult:
        """Reply, DM, favourite, reblog or delete (own statuses)."""
        base = self.base_url(account, credential)
        return await mastodon_inbox.engage(self, base, credential, engagement)

    async def account_metrics(self, account: AccountRef, credential: Credential) -> MetricsSnapshot:
        """Followers, following and statuses of the account."""
        me = await self._me(self.base_url(account, credential), credential)
        fields = {
            "followers_count": "followers",
            "following_count": "following",
            "statuses_count": "posts",
        }
        return snapshot(me, fields)

    async def search_public(
        self, account: AccountRef, credential: Credential, query: str, since: datetime | None
    ) -> list[PublicPost]:
        """A hashtag's timeline, or a keyword search as far as the instance allows it."""
        return await public_search.mastodon_search(self, account, credential, query, since)

    async def public_profile(
        self, account: AccountRef, credential: Credential, handle: str
    ) -> PublicProfile:
        """Any account's followers, following and statuses (``accounts/lookup``)."""
        return await public_search.mastodon_profile(self, account, credential, handle)

    async def post_metrics(
        self, account: AccountRef, credential: Credential, network_post_id: str
    ) -> MetricsSnapshot:
        """Favourites, reblogs and replies of one status (Mastodon has no impressions)."""
        base = self.base_url(account, credential)
        status = await self.call(
            "GET", f"{base}/api/v1/statuses/{network_post_id}", credential=credential
        )
        fields = {
            "favourites_count": "likes",
            "reblogs_count": "reposts",
            "replies_count": "comments",
        }
        return snapshot(status, fields)

"""Threads through the Threads API (graph.threads.net).

Publishing is a container (``POST /{user-id}/threads`` with ``media_type`` TEXT,
IMAGE, VIDEO or CAROUSEL; media is fetched by Meta from a public URL, so a media
host is needed) published with ``POST /{user-id}/threads_publish`` once its
``status`` is FINISHED. Thread parts and the first comment are replies
(``reply_to_id``) published the same way. Profiles may publish 250 posts and 1000
replies per 24 hours (``threads_publishing_limit``, checked before publishing).
Replies are read from each recent post's ``/conversation``, hidden with
``/manage_reply`` and deleted with ``DELETE``; reposts use ``/repost``. Tokens are
long-lived (60 days) and refresh themselves (``th_refresh_token``), so the token is
its own refresh token. ``account.network_account_id`` is the Threads user id.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import httpx

from siar.connectors.errors import (
    PermanentError,
    RateLimitedError,
    RetryableError,
    first_comment_on,
    thread_part_on,
)
from siar.connectors.http import OAuthClient
from siar.connectors.meta_connector import GraphConnector, MediaHost
from siar.connectors.meta_graph import (
    MB,
    after_cursor,
    message_page,
    nodes,
    parse_time,
    quota,
    receipt_of,
    same_text,
    token_grant,
    verify_signature,
)
from siar.connectors.models import (
    AccountRef,
    Credential,
    Engagement,
    EngagementResult,
    FetchedMessage,
    Identity,
    MetricsSnapshot,
    OutgoingPost,
    Page,
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
from siar.connectors.threads_media import (
    MAX_CAROUSEL,
    post_text,
    publish_container,
    publish_reply,
    root_container,
)

log = logging.getLogger(__name__)

THREADS_HOST = "https://graph.threads.net"
THREADS_VERSION = "v1.0"
SCOPES = (
    "threads_basic",
    "threads_content_publish",
    "threads_read_replies",
    "threads_manage_replies",
    "threads_manage_insights",
    "threads_delete",
)
POST_METRICS = ("views", "likes", "replies", "reposts", "quotes", "shares")
ACCOUNT_METRICS = ("views", "likes", "replies", "reposts", "quotes", "followers_count")


class ThreadsOAuthClient(OAuthClient):
    """Threads tokens: code → short-lived → long-lived (``th_exchange_token``), and a refresh
    that trades the long-lived token itself (``th_refresh_token``) rather than a refresh token."""

    async def exchange_code(
        self, *, code: str, redirect_uri: str, code_verifier: str | None
    ) -> TokenGrant:
        """A long-lived (60-day) token for an authorization code."""
        short = await super().exchange_code(
            code=code, redirect_uri=redirect_uri, code_verifier=code_verifier
        )
        body = await self.connector.call(
            "GET",
            f"{THREADS_HOST}/access_token",
            params={
                "grant_type": "th_exchange_token",
                "client_secret": self.client_secret,
                "access_token": short.access_token.get_secret_value(),
            },
        )
        return token_grant(body, "Threads", keep_as_refresh=True)

    async def refresh(self, refresh_token: str) -> TokenGrant:
        """A new 60-day token for a long-lived one that is at least a day old."""
        body = await self.connector.call(
            "GET",
            f"{THREADS_HOST}/refresh_access_token",
            params={"grant_type": "th_refresh_token", "access_token": refresh_token},
        )
        return token_grant(body, "Threads", keep_as_refresh=True)


class ThreadsConnector(GraphConnector):
    """Connector for Threads (see the module docstring)."""

    network = "threads"
    oauth_client_type = ThreadsOAuthClient
    display_name = "Threads"
    graph_host = THREADS_HOST
    capabilities = frozenset(
        {
            Capability.TEXT,
            Capability.IMAGE,
            Capability.VIDEO,
            Capability.CAROUSEL,
            Capability.THREAD,
            Capability.FIRST_COMMENT,
            Capability.REPLY,
            Capability.HIDE_COMMENT,
            Capability.DELETE_COMMENT,
            Capability.REPOST,
            Capability.FETCH_COMMENTS,
            Capability.ACCOUNT_METRICS,
            Capability.POST_METRICS,
            Capability.WEBHOOKS,
        }
    )
    rules = ContentRules(
        # 500 characters, emoji counted by their UTF-8 bytes; one topic tag per post.
        max_text_chars=500,
        max_hashtags=1,
        max_media=MAX_CAROUSEL,
        formats=frozenset(
            {PostFormat.FEED, PostFormat.CAROUSEL, PostFormat.THREAD, PostFormat.VIDEO}
        ),
        image=MediaLimits(
            mime_types=frozenset({"image/jpeg", "image/png"}),
            max_bytes=8 * MB,
            max_aspect=10.0,
            min_aspect=0.1,
        ),
        video=MediaLimits(
            mime_types=frozenset({"video/mp4", "video/quicktime"}),
            max_bytes=1024 * MB,
            min_aspect=0.01,
            max_aspect=10.0,
            max_duration_s=300,
        ),
    )
    # 4800 calls x impressions (at least 10) per rolling 24 hours per app and user.
    rate_limit = RateLimit(calls=48000, per_seconds=86400)
    oauth = OAuthConfig(
        authorize_url="https://threads.net/oauth/authorize",
        token_url=f"{THREADS_HOST}/oauth/access_token",
        scopes=SCOPES,
        pkce=False,
        scope_separator=",",
    )

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        media_host: MediaHost | None = None,
        host: str = THREADS_HOST,
        version: str = THREADS_VERSION,
        poll_interval_s: float | None = None,
        poll_timeout_s: float | None = None,
    ) -> None:
        super().__init__(
            http,
            version=version,
            host=host,
            media_host=media_host,
            poll_interval_s=poll_interval_s,
            poll_timeout_s=poll_timeout_s,
        )

    @staticmethod
    def _user_id(account: AccountRef) -> str:
        return account.network_account_id or "me"

    async def identify(self, credential: Credential) -> Identity:
        """The Threads profile the token belongs to (``GET /me``)."""
        body = await self.graph("GET", "/me", credential, params={"fields": "id,username,name"})
        user_id = body.get("id")
        if not isinstance(user_id, str | int) or not str(user_id):
            raise RetryableError("Threads did not say which profile the token belongs to")
        name = body.get("name")
        return Identity(
            network_account_id=str(user_id),
            handle=str(body.get("username") or user_id),
            display_name=name if isinstance(name, str) and name else None,
        )

    async def publishing_quota(
        self, account: AccountRef, credential: Credential
    ) -> dict[str, tuple[int, int]]:
        """Posts and replies published in the last 24 hours, with their allowances."""
        body = await self.graph(
            "GET",
            f"/{self._user_id(account)}/threads_publishing_limit",
            credential,
            params={"fields": "quota_usage,config,reply_quota_usage,reply_config"},
        )
        return {
            "posts": quota(body, "quota_usage", "config", 250),
            "replies": quota(body, "reply_quota_usage", "reply_config", 1000),
        }

    # -- publishing ------------------------------------------------------------------
    async def publish(
        self, account: AccountRef, credential: Credential, post: OutgoingPost
    ) -> PublishedPost:
        """Publish the post, then its thread parts and first comment as replies."""
        user_id = self._user_id(account)
        if post.format not in self.rules.formats:
            raise self.unsupported(f"{post.format.value} posts")
        used, allowed = (await self.publishing_quota(account, credential))["posts"]
        if used >= allowed:
            raise RateLimitedError(
                f"Threads allows {allowed} API posts per 24 hours and the profile has used them",
                retry_after_s=3600,
            )
        container = await root_container(self, user_id, credential, post)
        root_id = await publish_container(self, user_id, credential, container)
        published = await self.receipt(root_id, credential)
        # The post exists: a part or comment that fails must not fail the delivery.
        # Thread parts chain (each answers the one before); the first comment answers the post.
        last = root_id
        for number, text in enumerate(post.thread, start=2):
            with thread_part_on("Threads", published, number, len(post.thread) + 1):
                last = await publish_reply(self, user_id, credential, last, text)
        if post.first_comment:
            with first_comment_on("Threads", published):
                await publish_reply(self, user_id, credential, root_id, post.first_comment)
        return published

    async def find_by_marker(
        self, account: AccountRef, credential: Credential, post: OutgoingPost, since: datetime
    ) -> PublishedPost | None:
        """The profile's post since ``since`` whose text is exactly the post's text."""
        body = await self.graph(
            "GET",
            f"/{self._user_id(account)}/threads",
            credential,
            params={
                "fields": "id,text,timestamp,permalink",
                "since": str(int(since.timestamp())),
                "limit": "50",
            },
        )
        rows = nodes(body)
        for row in sorted(rows, key=lambda r: str(r.get("timestamp"))):
            at = parse_time(row.get("timestamp"))
            if at and at >= since and same_text(row.get("text"), post_text(post)):
                return receipt_of(str(row["id"]), row.get("permalink"), at)
        return None

    # -- inbox -----------------------------------------------------------------------
    async def fetch_messages(
        self, account: AccountRef, credential: Credential, cursor: str | None
    ) -> Page:
        """Replies (at any depth) to the profile's 10 latest posts newer than ``cursor``."""
        body = await self.graph(
            "GET",
            f"/{self._user_id(account)}/threads",
            credential,
            params={"fields": "id,timestamp", "limit": "10"},
        )
        found: list[FetchedMessage] = []
        for post in nodes(body):
            replies = await self.graph(
                "GET",
                f"/{post['id']}/conversation",
                credential,
                params={
                    "fields": "id,text,username,timestamp,replied_to,is_reply_owned_by_me",
                    "reverse": "false",
                },
            )
            for row in nodes(replies):
                message = self._message(str(post["id"]), row, cursor)
                if message is not None:
                    found.append(message)
        return message_page(found, cursor)

    @staticmethod
    def _message(post_id: str, row: Any, cursor: str | None) -> FetchedMessage | None:
        if not isinstance(row, dict) or not isinstance(row.get("id"), str):
            return None
        sent = parse_time(row.get("timestamp"))
        if sent is None or row.get("is_reply_owned_by_me") is True:
            return None  # undated, or the profile's own reply
        if not after_cursor(cursor, sent, row["id"]):
            return None
        parent = row.get("replied_to")
        parent_id = str(parent["id"]) if isinstance(parent, dict) and parent.get("id") else None
        return FetchedMessage(
            network_message_id=row["id"],
            kind="reply",
            author_handle=str(row.get("username") or "unknown"),
            text=str(row.get("text") or ""),
            network_post_id=post_id,
            parent_network_id=parent_id,
            sent_at=sent,
        )

    async def engage(
        self, account: AccountRef, credential: Credential, engagement: Engagement
    ) -> EngagementResult:
        """Reply, hide a reply, delete one of the profile's posts or repost a post."""
        target = engagement.target_network_id
        if engagement.action == "reply":
            if not engagement.text:
                raise PermanentError("a reply needs text")
            user_id = self._user_id(account)
            reply_id = await publish_reply(self, user_id, credential, target, engagement.text)
            return EngagementResult(network_id=reply_id)
        if engagement.action == "hide":
            await self.graph("POST", f"/{target}/manage_reply", credential, data={"hide": "true"})
        elif engagement.action == "delete":
            await self.graph("DELETE", f"/{target}", credential)
        elif engagement.action == "repost":
            body = await self.graph("POST", f"/{target}/repost", credential)
            return EngagementResult(network_id=str(body.get("id") or "") or None)
        else:
            raise self.unsupported(engagement.action)
        return EngagementResult(network_id=target)

    # -- metrics ---------------------------------------------------------------------
    async def account_metrics(self, account: AccountRef, credential: Credential) -> MetricsSnapshot:
        """Followers and the default window's views, likes, replies, reposts and quotes."""
        names = {m: ("followers" if m == "followers_count" else m) for m in ACCOUNT_METRICS}
        path = f"/{self._user_id(account)}/threads_insights"
        metrics = await self._metrics(path, credential, names)
        return MetricsSnapshot(
            collected_at=datetime.now(UTC), metrics=metrics, partial=len(metrics) < len(names)
        )

    async def post_metrics(
        self, account: AccountRef, credential: Credential, network_post_id: str
    ) -> MetricsSnapshot:
        """Views, likes, replies, reposts, quotes and shares of one post."""
        names = {m: m for m in POST_METRICS}
        metrics = await self._metrics(f"/{network_post_id}/insights", credential, names)
        return MetricsSnapshot(
            collected_at=datetime.now(UTC), metrics=metrics, partial=len(metrics) < len(names)
        )

    async def _metrics(
        self, path: str, credential: Credential, names: dict[str, str]
    ) -> dict[str, float]:
        # Threads has no other source for these counts: a refusal is the caller's to see.
        body = await self.graph("GET", path, credential, params={"metric": ",".join(names)})
        found: dict[str, float] = {}
        for row in body.get("data") or []:
            if not isinstance(row, dict) or row.get("name") not in names:
                continue
            total = row.get("total_value")
            values = [v.get("value") for v in row.get("values") or [] if isinstance(v, dict)]
            value: Any = None
            if isinstance(total, dict):
                value = total.get("value")
            elif values:  # user "views" is a daily series: the window's sum
                value = sum(v for v in values if isinstance(v, int | float))
            if isinstance(value, int | float):
                found[names[row["name"]]] = float(value)
        return found

    def verify_webhook(self, headers: Mapping[str, str], body: bytes, secret: str) -> bool:
        """Check ``X-Hub-Signature-256`` with the Threads app secret."""
        return verify_signature(headers, body, secret)

"""Instagram professional accounts through the Instagram Graph API (Facebook Login).

Publishing is the container flow of ``instagram_media`` followed by
``POST /{ig-user-id}/media_publish``; the account's API publishing quota (100 posts
per rolling 24 hours) is read from ``content_publishing_limit`` before any container
is made. The first comment is a comment on the new media. Comments (with their
replies) come through field expansion on recent media; replies go to
``/{comment-id}/replies``, hiding is ``hide=true``. Instagram has no API for likes,
reposts or deleting posts, and DMs need the Messenger Platform. Posts carry no
hidden metadata: a lost outcome is found by its exact caption.
``account.network_account_id`` is the Instagram professional account id.
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
)
from siar.connectors.instagram_audience import follower_demographics
from siar.connectors.instagram_media import build_container
from siar.connectors.instagram_rules import (
    ACCOUNT_METRICS,
    CAPABILITIES,
    OAUTH,
    POST_METRICS,
    RATE_LIMIT,
    RULES,
)
from siar.connectors.meta_connector import GraphConnector, MediaHost
from siar.connectors.meta_graph import (
    GRAPH_VERSION,
    FacebookLoginClient,
    after_cursor,
    message_page,
    nodes,
    parse_time,
    quota,
    receipt_of,
    same_text,
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
)
from siar.connectors.rules import PostFormat

log = logging.getLogger(__name__)

RUPLOAD_HOST = "https://rupload.facebook.com"
REPLY_FIELDS = "id,text,timestamp,username,from"
COMMENTS = f"comments.limit(50){{{REPLY_FIELDS},replies{{{REPLY_FIELDS}}}}}"


class InstagramConnector(GraphConnector):
    """Connector for Instagram professional accounts (see the module docstring)."""

    network = "instagram"
    oauth_client_type = FacebookLoginClient
    display_name = "Instagram"
    capabilities = CAPABILITIES
    rules = RULES
    rate_limit = RATE_LIMIT
    # The profile, the day's insights and four follower-demographics breakdowns.
    account_metrics_calls = 6
    oauth = OAUTH

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        app_secret: str | None = None,
        media_host: MediaHost | None = None,
        version: str = GRAPH_VERSION,
        host: str | None = None,
        rupload_host: str = RUPLOAD_HOST,
        poll_interval_s: float | None = None,
        poll_timeout_s: float | None = None,
    ) -> None:
        super().__init__(
            http,
            version=version,
            host=host,
            app_secret=app_secret,
            media_host=media_host,
            poll_interval_s=poll_interval_s,
            poll_timeout_s=poll_timeout_s,
        )
        self.rupload_base = rupload_host

    @staticmethod
    def _user_id(account: AccountRef) -> str:
        if not account.network_account_id:
            raise PermanentError("the Instagram account id is unknown; reconnect the account")
        return account.network_account_id

    async def identify(self, credential: Credential) -> Identity:
        """The first Instagram professional account linked to a Page the user manages."""
        body = await self.graph(
            "GET",
            "/me/accounts",
            credential,
            params={"fields": "instagram_business_account{id,username,name}", "limit": "100"},
        )
        for page in nodes(body):
            ig = page.get("instagram_business_account")
            if isinstance(ig, dict) and isinstance(ig.get("id"), str | int) and str(ig["id"]):
                name = ig.get("name")
                return Identity(
                    network_account_id=str(ig["id"]),
                    handle=str(ig.get("username") or ig["id"]),
                    display_name=name if isinstance(name, str) and name else None,
                )
        raise PermanentError(
            "no Instagram professional account is linked to a Facebook Page this app was "
            "granted: link one to a Page and reconnect"
        )

    async def publishing_quota(
        self, account: AccountRef, credential: Credential
    ) -> tuple[int, int]:
        """Posts published through the API in the last 24 hours, and the allowance."""
        body = await self.graph(
            "GET",
            f"/{self._user_id(account)}/content_publishing_limit",
            credential,
            params={"fields": "quota_usage,config"},
        )
        return quota(body, "quota_usage", "config", 100)

    async def publish(
        self, account: AccountRef, credential: Credential, post: OutgoingPost
    ) -> PublishedPost:
        """Check the quota, build the container, publish it, then add the first comment."""
        user_id = self._user_id(account)
        used, allowed = await self.publishing_quota(account, credential)
        if used >= allowed:
            raise RateLimitedError(
                f"Instagram allows {allowed} API posts per 24 hours and the account has used them",
                retry_after_s=3600,
            )
        container_id = await build_container(self, user_id, credential, post)
        body = await self.graph(
            "POST",
            f"/{user_id}/media_publish",
            credential,
            data={"creation_id": container_id},
            creates=True,
        )
        media_id = body.get("id")
        if not isinstance(media_id, str):
            raise RetryableError("Instagram published nothing for the container")
        published = await self.receipt(media_id, credential)
        if post.first_comment and post.format is not PostFormat.STORY:
            with first_comment_on("Instagram", published):
                await self.graph(
                    "POST",
                    f"/{media_id}/comments",
                    credential,
                    data={"message": post.first_comment},
                )
        return published

    async def find_by_marker(
        self, account: AccountRef, credential: Credential, post: OutgoingPost, since: datetime
    ) -> PublishedPost | None:
        """The account's media since ``since`` whose caption is the post's text.

        Stories carry no caption: the first story since ``since`` is taken to be ours.
        """
        story = post.format is PostFormat.STORY
        body = await self.graph(
            "GET",
            f"/{self._user_id(account)}/{'stories' if story else 'media'}",
            credential,
            params={"fields": "id,caption,timestamp,permalink", "limit": "50"},
        )
        rows = nodes(body)
        for row in sorted(rows, key=lambda r: str(r.get("timestamp"))):
            at = parse_time(row.get("timestamp"))
            if at is None or at < since:
                continue
            if story or same_text(row.get("caption"), post.text):
                return receipt_of(str(row["id"]), row.get("permalink"), at)
        return None

    async def fetch_messages(
        self, account: AccountRef, credential: Credential, cursor: str | None
    ) -> Page:
        """Comments and replies on the 10 latest media newer than ``cursor``, oldest first."""
        body = await self.graph(
            "GET",
            f"/{self._user_id(account)}/media",
            credential,
            params={"fields": f"id,{COMMENTS}", "limit": "10"},
        )
        found: list[FetchedMessage] = []
        for media in nodes(body):
            for comment in nodes(media, "comments"):
                found += self._messages(account, str(media["id"]), comment, None, cursor)
                for reply in nodes(comment, "replies"):
                    found += self._messages(account, str(media["id"]), reply, comment, cursor)
        return message_page(found, cursor)

    @staticmethod
    def _messages(
        account: AccountRef, media_id: str, row: Any, parent: Any, cursor: str | None
    ) -> list[FetchedMessage]:
        if not isinstance(row, dict) or not isinstance(row.get("id"), str):
            return []
        sent = parse_time(row.get("timestamp"))
        username = str(row.get("username") or (row.get("from") or {}).get("username") or "")
        if sent is None or username.lower() == account.handle.lower():
            return []  # undated, or the account's own comment
        if not after_cursor(cursor, sent, row["id"]):
            return []
        return [
            FetchedMessage(
                network_message_id=row["id"],
                kind="reply" if parent else "comment",
                author_handle=username or "unknown",
                text=str(row.get("text") or ""),
                network_post_id=media_id,
                parent_network_id=str(parent["id"]) if isinstance(parent, dict) else None,
                sent_at=sent,
            )
        ]

    async def engage(
        self, account: AccountRef, credential: Credential, engagement: Engagement
    ) -> EngagementResult:
        """Reply to a comment, hide it or delete it."""
        target = engagement.target_network_id
        if engagement.action == "reply":
            if not engagement.text:
                raise PermanentError("a reply needs text")
            body = await self.graph(
                "POST", f"/{target}/replies", credential, data={"message": engagement.text}
            )
            return EngagementResult(network_id=str(body.get("id") or "") or None)
        if engagement.action == "hide":
            await self.graph("POST", f"/{target}", credential, data={"hide": "true"})
        elif engagement.action == "delete":
            await self.graph("DELETE", f"/{target}", credential)
        else:
            raise self.unsupported(engagement.action)
        return EngagementResult(network_id=target)

    async def account_metrics(self, account: AccountRef, credential: Credential) -> MetricsSnapshot:
        """Followers, follows, media count, the day's reach, views and engagement, and the
        followers' demographics (age, gender, country, city) when Instagram gives them."""
        user_id = self._user_id(account)
        body = await self.graph(
            "GET",
            f"/{user_id}",
            credential,
            params={"fields": "followers_count,follows_count,media_count"},
        )
        names = {
            "followers_count": "followers",
            "follows_count": "following",
            "media_count": "posts",
        }
        metrics = {n: float(body[k]) for k, n in names.items() if isinstance(body.get(k), int)}
        metrics.update(
            await self.insights(
                f"/{user_id}/insights",
                credential,
                ACCOUNT_METRICS,
                period="day",
                metric_type="total_value",
            )
        )

        async def breakdown(by: str) -> dict[str, Any]:
            params = {
                "metric": "follower_demographics",
                "period": "lifetime",
                "metric_type": "total_value",
                "breakdown": by,
            }
            return await self.graph("GET", f"/{user_id}/insights", credential, params=params)

        return MetricsSnapshot(
            collected_at=datetime.now(UTC),
            metrics=metrics,
            partial=len(metrics) < len(names) + len(ACCOUNT_METRICS),
            dimensions=await follower_demographics(breakdown),
        )

    async def post_metrics(
        self, account: AccountRef, credential: Credential, network_post_id: str
    ) -> MetricsSnapshot:
        """Likes and comments, plus reach, views, saves and shares from media insights."""
        body = await self.graph(
            "GET", f"/{network_post_id}", credential, params={"fields": "like_count,comments_count"}
        )
        names = {"like_count": "likes", "comments_count": "comments"}
        metrics = {n: float(body[k]) for k, n in names.items() if isinstance(body.get(k), int)}
        metrics.update(
            await self.insights(f"/{network_post_id}/insights", credential, POST_METRICS)
        )
        return MetricsSnapshot(
            collected_at=datetime.now(UTC),
            metrics=metrics,
            partial=len(metrics) < len(names) + len(POST_METRICS),
        )

    def verify_webhook(self, headers: Mapping[str, str], body: bytes, secret: str) -> bool:
        """Check ``X-Hub-Signature-256`` with the app secret."""
        return verify_signature(headers, body, secret)

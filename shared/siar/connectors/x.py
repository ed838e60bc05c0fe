"""X (formerly Twitter) through the X API v2, with OAuth 2.0 user-context tokens.

Posts are ``POST /2/tweets``; a thread is each part replying to the one before it and
a first comment is a reply to the head. X has no idempotency key, so a lost outcome
is found again by the post's text (links set aside, since X rewrites them to t.co)
among the account's posts since the attempt. Mentions and DMs are fetched with
``since_id``-style cursors. Rate limits come back as ``x-rate-limit-*`` headers
(per 15-minute window) and ``x-user-limit-24hour-*`` for the daily post cap.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from siar.connectors import public_search, x_auth, x_identity, x_inbox, x_media, x_webhooks
from siar.connectors.errors import (
    ConnectorError,
    PermanentError,
    RateLimitedError,
    RetryableError,
    first_comment_on,
    thread_part_on,
)
from siar.connectors.http import HttpConnector
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
    PublicPost,
    PublicProfile,
    PublishedPost,
)
from siar.connectors.rules import MediaKind
from siar.connectors.x_rules import (
    API_BASE,
    APP_RATE_LIMIT,
    CAPABILITIES,
    OAUTH,
    PRIVATE_METRICS,
    PUBLIC_METRICS,
    RATE_LIMIT,
    RULES,
    USER_METRICS,
    snapshot,
)
from siar.connectors.x_text import MAX_WEIGHTED_LENGTH, strip_urls, weighted_length


@dataclass(frozen=True)
class RateLimitStatus:
    """One endpoint's window as X reported it in ``x-rate-limit-*`` headers."""

    limit: int
    remaining: int
    reset_at: datetime


def rate_limit_status(headers: Mapping[str, str]) -> RateLimitStatus | None:
    """The ``x-rate-limit-limit/remaining/reset`` headers of a response, if present."""
    values = [headers.get(f"x-rate-limit-{name}", "") for name in ("limit", "remaining", "reset")]
    if not all(value.isdigit() for value in values):
        return None
    limit, remaining, reset = (int(value) for value in values)
    return RateLimitStatus(limit, remaining, datetime.fromtimestamp(reset, UTC))


def _data(body: Any) -> Any:
    return body.get("data") if isinstance(body, dict) else None


class XConnector(HttpConnector):
    """Connector for X (see the module docstring)."""

    network = "x"
    oauth_client_type = x_auth.XOAuthClient
    display_name = "X"
    capabilities = CAPABILITIES
    rules = RULES
    rate_limit = RATE_LIMIT
    app_rate_limit = APP_RATE_LIMIT
    oauth = OAUTH

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        api_base: str = API_BASE,
        include_dms: bool = True,
        max_pages: int = 5,
        poll_cap_s: float = 30.0,
    ) -> None:
        super().__init__(http)
        self.api_base = api_base.rstrip("/")
        self.include_dms = include_dms
        self.max_pages = max_pages
        self.poll_cap_s = poll_cap_s

    # -- errors ---------------------------------------------------------------------
    def measure_text(self, text: str) -> int:
        """X's weighted length (URLs 23, CJK and emoji 2)."""
        return weighted_length(text)

    def error_reason(self, status: int, body: Any) -> str | None:
        """X's message: the per-parameter ``errors`` first, else ``detail``/``title``."""
        if isinstance(body, dict) and isinstance(body.get("errors"), list):
            found = [
                error.get("message") or error.get("detail")
                for error in body["errors"]
                if isinstance(error, dict)
            ]
            messages = [text for text in found if isinstance(text, str) and text]
            if messages:
                return "; ".join(messages)
        return super().error_reason(status, body)

    def body_error(self, body: Any) -> ConnectorError | None:
        """A 200 that carries only ``errors`` (e.g. the post was deleted) is an error."""
        if not isinstance(body, dict) or "data" in body or not body.get("errors"):
            return None
        first = body["errors"][0] if isinstance(body["errors"], list) else {}
        kind = str(first.get("type", "")) if isinstance(first, dict) else ""
        reason = f"X answered with an error: {self.error_reason(200, body) or kind}"
        if kind.endswith("usage-capped"):
            return RateLimitedError(reason)
        if kind.endswith(("operational-disconnect", "streaming-connection")):
            return RetryableError(reason)
        return PermanentError(reason)

    def classify(self, status: int, body: Any, response: httpx.Response) -> ConnectorError:
        """As the base; a 429 names its window, and the daily post cap waits for its reset."""
        error = super().classify(status, body, response)
        if status != 429:
            return error
        reason, wait = error.reason, error.retry_after_s
        window = rate_limit_status(response.headers)
        if window is not None:
            reason += f" (window of {window.limit} calls resets {window.reset_at:%H:%M} UTC)"
        daily = response.headers.get("x-user-limit-24hour-reset", "")
        if response.headers.get("x-user-limit-24hour-remaining") == "0" and daily.isdigit():
            reason += " (daily post cap reached)"
            wait = max(0.0, int(daily) - datetime.now(UTC).timestamp())
        return RateLimitedError(reason, retry_after_s=wait)

    # -- publishing -----------------------------------------------------------------
    def _head_text(self, post: OutgoingPost) -> str:
        if post.link and post.link not in post.text:
            return f"{post.text} {post.link}".strip()
        return post.text

    def _check(self, post: OutgoingPost) -> list[str]:
        parts = [self._head_text(post), *post.thread]
        extra = [post.first_comment] if post.first_comment else []
        for number, text in enumerate([*parts, *extra], start=1):
            length = weighted_length(text)
            if not text.strip() or length > MAX_WEIGHTED_LENGTH:
                raise PermanentError(
                    f"X allows 1-{MAX_WEIGHTED_LENGTH} weighted characters per post; "
                    f"part {number} has {length}"
                )
        videos = [m for m in post.media if m.kind is MediaKind.VIDEO or m.mime_type == "image/gif"]
        count = len(post.media) + len(post.media_ids)
        if count > self.rules.max_media or (videos and count > 1):
            raise PermanentError("X takes up to 4 images, or a single GIF or video, per post")
        return parts

    async def _create(self, credential: Credential, payload: dict[str, Any]) -> str:
        body = await self.call(
            "POST", "/2/tweets", credential=credential, json=payload, creates=True
        )
        data = _data(body)
        if not isinstance(data, dict) or not data.get("id"):
            raise RetryableError("X answered the post without its id")
        return str(data["id"])

    def _receipt(self, account: AccountRef, post_id: str, when: datetime) -> PublishedPost:
        permalink = f"https://x.com/{account.handle.lstrip('@')}/status/{post_id}"
        return PublishedPost(network_post_id=post_id, permalink=permalink, published_at=when)

    async def publish(
        self, account: AccountRef, credential: Credential, post: OutgoingPost
    ) -> PublishedPost:
        """Upload the media, post the head, then the thread parts and first comment."""
        parts = self._check(post)
        media_ids = list(post.media_ids)
        for item in post.media:
            media_ids.append(await x_media.upload(self, credential, item))
        payload: dict[str, Any] = {"text": parts[0]}
        if media_ids:
            payload["media"] = {"media_ids": media_ids}
        head = await self._create(credential, payload)
        published = self._receipt(account, head, datetime.now(UTC))
        # The head is live: a part or comment that fails must not fail (and re-post) it.
        shown = f"the post ({published.permalink})"
        previous = head
        for number, text in enumerate(parts[1:], start=2):
            with thread_part_on("X", published, number, len(parts), what=shown):
                previous = await self._create(
                    credential, {"text": text, "reply": {"in_reply_to_tweet_id": previous}}
                )
        if post.first_comment:
            with first_comment_on("X", published, what=shown):
                await self._create(
                    credential,
                    {"text": post.first_comment, "reply": {"in_reply_to_tweet_id": head}},
                )
        return published

    async def _user_id(self, account: AccountRef, credential: Credential) -> str:
        if account.network_account_id:
            return account.network_account_id
        data = _data(await self.call("GET", "/2/users/me", credential=credential))
        if not isinstance(data, dict) or not data.get("id"):
            raise RetryableError("X did not say who the account is")
        return str(data["id"])

    async def identify(self, credential: Credential) -> Identity:
        """The X user the token belongs to (``GET /2/users/me``)."""
        return await x_identity.identify(self, credential)

    async def find_by_marker(
        self, account: AccountRef, credential: Credential, post: OutgoingPost, since: datetime
    ) -> PublishedPost | None:
        """The account's post since ``since`` whose text (links aside) is the head's."""
        user_id = await self._user_id(account, credential)
        wanted = strip_urls(self._head_text(post))
        params: dict[str, Any] = {
            "max_results": 100,
            "start_time": since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "tweet.fields": "created_at",
            "exclude": "retweets,replies",
        }
        for _ in range(self.max_pages):
            body = await self.call(
                "GET", f"/2/users/{user_id}/tweets", credential=credential, params=params
            )
            for tweet in _data(body) or []:
                if strip_urls(html.unescape(str(tweet.get("text", "")))) == wanted:
                    return self._receipt(
                        account, str(tweet["id"]), x_inbox.when(tweet.get("created_at"))
                    )
            token = body.get("meta", {}).get("next_token")
            if not token:
                return None
            params["pagination_token"] = token
        return None

    # -- inbox ----------------------------------------------------------------------
    async def fetch_messages(
        self, account: AccountRef, credential: Credential, cursor: str | None
    ) -> Page:
        """Mentions and replies (and DMs) newer than ``cursor`` (``d:<id>|m:<id>``)."""
        return await x_inbox.fetch(
            self, credential, await self._user_id(account, credential), cursor
        )

    # -- engagement and metrics -----------------------------------------------------
    async def engage(
        self, account: AccountRef, credential: Credential, engagement: Engagement
    ) -> EngagementResult:
        """Reply, DM, like, repost, hide a reply, or delete one of the account's posts."""
        target = engagement.target_network_id
        action = engagement.action
        if action in ("reply", "dm") and not engagement.text:
            raise PermanentError(f"an X {action} needs text")
        if action == "reply":
            payload = {"text": engagement.text, "reply": {"in_reply_to_tweet_id": target}}
            return EngagementResult(network_id=await self._create(credential, payload))
        if action == "dm":
            to = engagement.recipient_network_id or target
            # A conversation id has a dash ("123-456"); a bare id is a person.
            path = f"/2/dm_conversations/{to}" if "-" in to else f"/2/dm_conversations/with/{to}"
            body = await self.call(
                "POST", f"{path}/messages", credential=credential, json={"text": engagement.text}
            )
            data = _data(body) or {}
            return EngagementResult(network_id=data.get("dm_event_id"))
        if action in ("like", "repost"):
            me = await self._user_id(account, credential)
            kind = "likes" if action == "like" else "retweets"
            await self.call(
                "POST", f"/2/users/{me}/{kind}", credential=credential, json={"tweet_id": target}
            )
        elif action == "hide":
            await self.call(
                "PUT", f"/2/tweets/{target}/hidden", credential=credential, json={"hidden": True}
            )
        else:
            await self.call("DELETE", f"/2/tweets/{target}", credential=credential)
        return EngagementResult(network_id=target)

    async def account_metrics(self, account: AccountRef, credential: Credential) -> MetricsSnapshot:
        """Followers, following, posts, lists and likes from the user's ``public_metrics``."""
        path = f"/2/users/{account.network_account_id}" if account.network_account_id else None
        body = await self.call(
            "GET",
            path or "/2/users/me",
            credential=credential,
            params={"user.fields": "public_metrics"},
        )
        raw = (_data(body) or {}).get("public_metrics", {})
        return snapshot(raw, USER_METRICS)

    async def search_public(
        self, account: AccountRef, credential: Credential, query: str, since: datetime | None
    ) -> list[PublicPost]:
        """Posts of the last 7 days matching ``query`` (``/2/tweets/search/recent``)."""
        return await public_search.x_search(self, credential, query, since)

    async def public_profile(
        self, account: AccountRef, credential: Credential, handle: str
    ) -> PublicProfile:
        """Any account's ``public_metrics`` (``/2/users/by/username``)."""
        return await public_search.x_profile(self, credential, handle)

    async def post_metrics(
        self, account: AccountRef, credential: Credential, network_post_id: str
    ) -> MetricsSnapshot:
        """Public metrics, plus the owner-only ones X keeps for 30 days."""
        body = await self.call(
            "GET",
            f"/2/tweets/{network_post_id}",
            credential=credential,
            params={"tweet.fields": "public_metrics,non_public_metrics"},
        )
        data = _data(body) or {}
        public = snapshot(data.get("public_metrics", {}), PUBLIC_METRICS)
        private = snapshot(data.get("non_public_metrics", {}), PRIVATE_METRICS)
        return MetricsSnapshot(
            collected_at=public.collected_at,
            metrics={**public.metrics, **private.metrics},
            partial=public.partial or private.partial or bool(body.get("errors")),
        )

    def verify_webhook(self, headers: Mapping[str, str], body: bytes, secret: str) -> bool:
        """Check ``x-twitter-webhooks-signature`` (base64 HMAC-SHA256 of the body)."""
        return x_auth.signature_valid(headers, body, secret)

    def parse_webhook(self, body: bytes) -> list[tuple[str, FetchedMessage]]:
        """Mentions, replies and DMs in an Account Activity call (see :mod:`x_webhooks`)."""
        return x_webhooks.parse(body)

"""LinkedIn through the versioned Community Management APIs (``/rest``), OAuth 2.0 3-legged.

Every call carries ``LinkedIn-Version: YYYYMM`` and ``X-Restli-Protocol-Version:
2.0.0``. An account is a member (``urn:li:person:…``) or an organization page
(``urn:li:organization:…``) and its ``network_account_id`` is that author URN. Posts
are ``POST /rest/posts`` with the commentary in LinkedIn's "little" text format; the
new post's URN comes back in the ``x-restli-id`` header. LinkedIn has no idempotency
key, so a lost outcome is found again by its commentary among the author's posts.
Daily limits reset at midnight UTC, and a 429 rarely says when to come back.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from siar.connectors import linkedin_identity, linkedin_insights, linkedin_media
from siar.connectors.errors import (
    AuthExpiredError,
    ConnectorError,
    PartiallyPublishedError,
    PermanentError,
    RateLimitedError,
    RetryableError,
)
from siar.connectors.http import HttpConnector
from siar.connectors.linkedin_media import urn_path
from siar.connectors.linkedin_rules import (
    API_BASE,
    API_VERSION,
    APP_RATE_LIMIT,
    CAPABILITIES,
    MAX_COMMENTARY,
    MAX_IMAGES,
    OAUTH,
    RATE_LIMIT,
    RULES,
    little_text,
)
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
from siar.connectors.rules import MediaKind

_COMMENT_URN = re.compile(r"^urn:li:comment:\((urn:li:[A-Za-z]+:[^,]+),([^)]+)\)$")


def challenge_response(challenge_code: str, client_secret: str) -> dict[str, str]:
    """The JSON that validates a webhook URL (``GET ?challengeCode=``)."""
    digest = hmac.new(client_secret.encode(), challenge_code.encode(), hashlib.sha256)
    return {"challengeCode": challenge_code, "challengeResponse": digest.hexdigest()}


def permalink(urn: str) -> str:
    """The public address of a post URN."""
    return f"https://www.linkedin.com/feed/update/{urn}/"


def _restli_id(response: httpx.Response) -> str | None:
    urn = response.headers.get("x-restli-id")
    if urn:
        return str(urn)
    body = HttpConnector._decode(response)
    if isinstance(body, dict):
        for key in ("id", "commentUrn", "$URN"):
            if isinstance(body.get(key), str):
                return str(body[key])
    return None


class LinkedInConnector(HttpConnector):
    """Connector for LinkedIn members and organization pages (see the module docstring)."""

    network = "linkedin"
    display_name = "LinkedIn"
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
        api_version: str = API_VERSION,
        visibility: str = "PUBLIC",
        recent_posts: int = 10,
        poll_interval_s: float = 5.0,
    ) -> None:
        super().__init__(http)
        self.api_base = api_base.rstrip("/")
        self.api_version = api_version
        self.visibility = visibility
        self.recent_posts = recent_posts
        self.poll_interval_s = poll_interval_s

    async def api(self, method: str, path: str, credential: Credential, **kwargs: Any) -> Any:
        """A ``/rest`` call with the version and Rest.li protocol headers."""
        headers = {"LinkedIn-Version": self.api_version, "X-Restli-Protocol-Version": "2.0.0"}
        return await self.call(method, path, credential=credential, headers=headers, **kwargs)

    # -- errors ---------------------------------------------------------------------
    def error_reason(self, status: int, body: Any) -> str | None:
        """LinkedIn's ``message``, with the first field-level ``inputErrors`` detail."""
        reason = super().error_reason(status, body)
        details = body.get("errorDetails") if isinstance(body, dict) else None
        errors = details.get("inputErrors") if isinstance(details, dict) else None
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            extra = errors[0].get("description")
            if isinstance(extra, str) and extra and extra != reason:
                return f"{reason}: {extra}" if reason else extra
        return reason

    def classify(self, status: int, body: Any, response: httpx.Response) -> ConnectorError:
        """As the base; a daily-limit 429 without Retry-After waits for midnight UTC."""
        error = super().classify(status, body, response)
        if status == 429 and error.retry_after_s is None and "DAY" in error.reason.upper():
            now = datetime.now(UTC)
            midnight = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
            return RateLimitedError(error.reason, retry_after_s=(midnight - now).total_seconds())
        return error

    def body_error(self, body: Any) -> ConnectorError | None:
        """A 2xx whose body is a Rest.li error (``status`` >= 400) is that error."""
        if not isinstance(body, dict) or not isinstance(body.get("status"), int):
            return None
        status = body["status"]
        if status < 400:
            return None
        reason = f"LinkedIn answered with an error ({status}): {self.error_reason(status, body)}"
        if status == 401:
            return AuthExpiredError(reason)
        if status == 429:
            return RateLimitedError(reason)
        if status >= 500:
            return RetryableError(reason)
        return PermanentError(reason)

    # -- publishing -----------------------------------------------------------------
    def author(self, account: AccountRef) -> str:
        """The account's author URN (``urn:li:person:…`` or ``urn:li:organization:…``)."""
        urn = account.network_account_id or ""
        if not urn.startswith(("urn:li:person:", "urn:li:organization:")):
            raise PermanentError(
                "the LinkedIn account has no author URN (urn:li:person or urn:li:organization); "
                "reconnect it"
            )
        return urn

    async def identify(self, credential: Credential) -> Identity:
        """The member the token belongs to (OpenID ``GET /v2/userinfo``), as a person URN."""
        return await linkedin_identity.identify(self, credential)

    def _text(self, post: OutgoingPost) -> str:
        # A link rides as an article card on a text post; with media it joins the text.
        if post.link and (post.media or post.media_ids) and post.link not in post.text:
            return f"{post.text}\n\n{post.link}"
        return post.text

    def _check(self, post: OutgoingPost) -> None:
        if len(self._text(post)) > MAX_COMMENTARY:
            raise PermanentError(
                f"LinkedIn allows {MAX_COMMENTARY} characters; the post has {len(self._text(post))}"
            )
        videos = sum(m.kind is MediaKind.VIDEO for m in post.media)
        videos += sum(i.startswith("urn:li:video:") for i in post.media_ids)
        count = len(post.media) + len(post.media_ids)
        if (videos and count > 1) or count > MAX_IMAGES:
            raise PermanentError(
                f"LinkedIn takes one video, or up to {MAX_IMAGES} images, per post"
            )

    async def _content(
        self, credential: Credential, author: str, post: OutgoingPost
    ) -> dict[str, Any] | None:
        items: list[dict[str, Any]] = [{"id": urn} for urn in post.media_ids]
        for media in post.media:
            item: dict[str, Any] = {
                "id": await linkedin_media.upload(self, credential, author, media)
            }
            if media.alt_text and media.kind is MediaKind.IMAGE:
                item["altText"] = media.alt_text
            items.append(item)
        if len(items) > 1:
            return {"multiImage": {"images": items}}
        if items:
            if post.title and items[0]["id"].startswith("urn:li:video:"):
                items[0]["title"] = post.title
            return {"media": items[0]}
        if post.link:
            return {"article": {"source": post.link, "title": post.title or post.link}}
        return None

    def _post_body(self, author: str, commentary: str) -> dict[str, Any]:
        return {
            "author": author,
            "commentary": commentary,
            "visibility": self.visibility,
            "distribution": {
                "feedDistribution": "MAIN_FEED",
                "targetEntities": [],
                "thirdPartyDistributionChannels": [],
            },
            "lifecycleState": "PUBLISHED",
            "isReshareDisabledByAuthor": False,
        }

    async def _create(self, credential: Credential, body: dict[str, Any]) -> str:
        response = await self.api(
            "POST", "/rest/posts", credential, json=body, expect_json=False, creates=True
        )
        urn = _restli_id(response)
        if not urn:
            raise RetryableError("LinkedIn answered the post without its URN")
        return urn

    async def publish(
        self, account: AccountRef, credential: Credential, post: OutgoingPost
    ) -> PublishedPost:
        """Upload the media, create the post, then add the first comment."""
        author = self.author(account)
        self._check(post)
        body = self._post_body(author, little_text(self._text(post)))
        content = await self._content(credential, author, post)
        if content:
            body["content"] = content
        urn = await self._create(credential, body)
        published = PublishedPost(
            network_post_id=urn, permalink=permalink(urn), published_at=datetime.now(UTC)
        )
        if post.first_comment:
            try:
                await self._comment(credential, author, urn, post.first_comment)
            except ConnectorError as err:
                raise PartiallyPublishedError(
                    f"LinkedIn published the post ({published.permalink}) but not its first "
                    f"comment: {err.reason}",
                    published=published,
                ) from err
        return published

    async def _comment(self, credential: Credential, author: str, target: str, text: str) -> str:
        body: dict[str, Any] = {"actor": author, "object": target, "message": {"text": text}}
        parent = _COMMENT_URN.match(target)
        if parent:
            # A reply to a comment names the post as object and the comment as parent.
            body = {**body, "object": parent.group(1), "parentComment": target}
        path = f"/rest/socialActions/{urn_path(target)}/comments"
        response = await self.api("POST", path, credential, json=body, expect_json=False)
        return _restli_id(response) or ""

    async def find_by_marker(
        self, account: AccountRef, credential: Credential, post: OutgoingPost, since: datetime
    ) -> PublishedPost | None:
        """The author's post created since ``since`` whose commentary is the post's."""
        author = self.author(account)
        # LinkedIn hands the commentary back as sent (escaped); accept it unescaped too.
        text = self._text(post)
        wanted = {" ".join(little_text(text).split()), " ".join(text.split())}
        for element in await linkedin_insights.recent_posts(self, credential, author, 50):
            created = linkedin_insights.millis(element.get("createdAt"))
            commentary = " ".join(str(element.get("commentary", "")).split())
            # A minute of slack for clocks that disagree with LinkedIn's.
            if created >= since - timedelta(minutes=1) and commentary in wanted:
                urn = str(element["id"])
                return PublishedPost(
                    network_post_id=urn, permalink=permalink(urn), published_at=created
                )
        return None

    # -- inbox, engagement, metrics -------------------------------------------------
    async def fetch_messages(
        self, account: AccountRef, credential: Credential, cursor: str | None
    ) -> Page:
        """Comments on the author's recent posts newer than ``cursor`` (``<ms>|<urn>``)."""
        return await linkedin_insights.comments(self, credential, self.author(account), cursor)

    async def engage(
        self, account: AccountRef, credential: Credential, engagement: Engagement
    ) -> EngagementResult:
        """Reply (comment), like, repost or delete; LinkedIn has no DM or hide API for this."""
        author = self.author(account)
        target = engagement.target_network_id
        action = engagement.action
        if action == "reply":
            if not engagement.text:
                raise PermanentError("a LinkedIn reply needs text")
            comment = await self._comment(credential, author, target, engagement.text)
            return EngagementResult(network_id=comment or None)
        if action == "like":
            await self.api(
                "POST",
                f"/rest/reactions?actor={urn_path(author)}",
                credential,
                json={"root": target, "reactionType": "LIKE"},
                expect_json=False,
            )
            return EngagementResult(network_id=target)
        if action == "repost":
            body = {**self._post_body(author, little_text(engagement.text or ""))}
            body["reshareContext"] = {"parent": target}
            return EngagementResult(network_id=await self._create(credential, body))
        if action == "delete":
            parts = _COMMENT_URN.match(target)
            path = (
                f"/rest/socialActions/{urn_path(parts.group(1))}/comments/"
                f"{urn_path(parts.group(2))}?actor={urn_path(author)}"
                if parts
                else f"/rest/posts/{urn_path(target)}"
            )
            await self.api("DELETE", path, credential, expect_json=False)
            return EngagementResult(network_id=target)
        raise self.unsupported(action)

    async def account_metrics(self, account: AccountRef, credential: Credential) -> MetricsSnapshot:
        """Followers and lifetime share statistics (organizations) or followers (members)."""
        return await linkedin_insights.account_metrics(self, credential, self.author(account))

    async def post_metrics(
        self, account: AccountRef, credential: Credential, network_post_id: str
    ) -> MetricsSnapshot:
        """Share statistics (organizations) or reaction and comment counts (members)."""
        return await linkedin_insights.post_metrics(
            self, credential, self.author(account), network_post_id
        )

    def verify_webhook(self, headers: Mapping[str, str], body: bytes, secret: str) -> bool:
        """Check ``X-LI-Signature``: hex HMAC-SHA256 of ``hmacsha256=`` + body (client secret)."""
        lowered = {key.lower(): value for key, value in headers.items()}
        given = lowered.get("x-li-signature", "").removeprefix("hmacsha256=").lower()
        expected = hmac.new(secret.encode(), b"hmacsha256=" + body, hashlib.sha256).hexdigest()
        return bool(given) and hmac.compare_digest(given.encode(), expected.encode())

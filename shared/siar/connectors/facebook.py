"""Facebook Pages through the Graph API, acting with a Page access token.

Posts go to the Page feed (``POST /{page-id}/feed`` with ``message`` and ``link``),
photos to ``/photos`` (several: uploaded unpublished, then attached to one feed post
with ``attached_media``), videos to ``/videos`` (see ``facebook_media``). Comments
are read through field expansion on the Page's recent posts; replies, likes, hiding
(``is_hidden``) and deletion act on a comment id. Metrics come from ``/insights``
(``views`` metrics: Meta retired ``impressions`` on 15 November 2025). Feed posts
have no hidden metadata, so a lost outcome is found again by its exact text.
``account.network_account_id`` is the Page id.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import httpx
from pydantic import SecretStr

from siar.connectors.errors import (
    PermanentError,
    RetryableError,
    first_comment_on,
)
from siar.connectors.facebook_identity import PAGE_FIELDS, page_identity
from siar.connectors.facebook_media import upload_photo, upload_video
from siar.connectors.facebook_rules import (
    CAPABILITIES,
    OAUTH,
    PAGE_METRICS,
    POST_METRICS,
    RATE_LIMIT,
    RULES,
)
from siar.connectors.meta_connector import GraphConnector
from siar.connectors.meta_graph import (
    GRAPH_VERSION,
    FacebookLoginClient,
    after_cursor,
    message_page,
    nodes,
    parse_time,
    receipt_of,
    same_text,
    verify_signature,
)
from siar.connectors.models import (
    AccountRef,
    ConnectedAccount,
    Credential,
    Engagement,
    EngagementResult,
    FetchedMessage,
    Identity,
    MediaItem,
    MetricsSnapshot,
    OutgoingPost,
    Page,
    PublishedPost,
)
from siar.connectors.rules import MediaKind

log = logging.getLogger(__name__)

VIDEO_HOST = "https://graph-video.facebook.com"
WEB = "https://www.facebook.com"
COMMENT_FIELDS = "id,message,from,created_time,parent{id}"
COMMENTS = f"comments.filter(stream).order(reverse_chronological).limit(50){{{COMMENT_FIELDS}}}"


def message_text(post: OutgoingPost) -> str:
    """The post's message; with media the link cannot be attached, so it goes in the text."""
    if post.media and post.link and post.link not in post.text:
        return f"{post.text}\n{post.link}".strip()
    return post.text


class FacebookPagesConnector(GraphConnector):
    """Connector for Facebook Pages (see the module docstring)."""

    network = "facebook"
    oauth_client_type = FacebookLoginClient
    display_name = "Facebook"
    capabilities = CAPABILITIES
    rules = RULES
    rate_limit = RATE_LIMIT
    oauth = OAUTH

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        app_id: str | None = None,
        app_secret: str | None = None,
        version: str = GRAPH_VERSION,
        host: str | None = None,
        video_host: str = VIDEO_HOST,
    ) -> None:
        super().__init__(http, version=version, host=host, app_secret=app_secret)
        self.app_id = app_id
        self.video_base = f"{video_host}/{version}"

    @staticmethod
    def _page_id(account: AccountRef) -> str:
        if not account.network_account_id:
            raise PermanentError("the Facebook Page id is unknown; reconnect the Page")
        return account.network_account_id

    async def managed_pages(self, user_credential: Credential) -> list[ConnectedAccount]:
        """The Pages a user token manages, each with its own (non-expiring) Page token."""
        body = await self.graph(
            "GET",
            "/me/accounts",
            user_credential,
            params={"fields": "id,name,username,access_token", "limit": "100"},
        )
        pages = []
        for row in nodes(body):
            if isinstance(row.get("access_token"), str):
                pages.append(
                    ConnectedAccount(
                        handle=str(row.get("username") or row["id"]),
                        display_name=row.get("name"),
                        network_account_id=str(row["id"]),
                        credential=Credential(access_token=SecretStr(row["access_token"])),
                    )
                )
        return pages

    async def identify(self, credential: Credential) -> Identity:
        """The first Page the user token manages (``GET /me/accounts``); all in extra["pages"].

        Publishing uses the stored credential as the Page token, so the Page's own token
        is returned for the vault to store instead of the user token.
        """
        params = {"fields": PAGE_FIELDS, "limit": "100"}
        body = await self.graph("GET", "/me/accounts", credential, params=params)
        return page_identity(body)

    # -- publishing ------------------------------------------------------------------
    async def publish(
        self, account: AccountRef, credential: Credential, post: OutgoingPost
    ) -> PublishedPost:
        """Post text, a link, photos or one video to the Page feed, then the first comment."""
        page_id = self._page_id(account)
        if post.format not in self.rules.formats:
            raise self.unsupported(f"{post.format.value} posts")
        images = [m for m in post.media if m.kind is MediaKind.IMAGE]
        videos = [m for m in post.media if m.kind is MediaKind.VIDEO]
        if videos and (images or len(videos) > 1):
            raise PermanentError("a Facebook post carries photos or one video, not both")
        if videos:
            post_id = await upload_video(
                self,
                page_id,
                credential,
                videos[0],
                description=message_text(post),
                title=post.title,
            )
        elif len(images) == 1:
            photo = await upload_photo(
                self, page_id, credential, images[0], caption=message_text(post), published=True
            )
            post_id = str(photo.get("post_id") or photo["id"])
        else:
            post_id = await self._feed_post(page_id, credential, post, images)
        published = await self._receipt(post_id, credential)
        if post.first_comment:
            await self._first_comment(published, credential, post.first_comment)
        return published

    async def _feed_post(
        self, page_id: str, credential: Credential, post: OutgoingPost, images: list[MediaItem]
    ) -> str:
        if not post.text.strip() and not post.link and not images:
            raise PermanentError("a Facebook post needs text, a link or media")
        form: dict[str, str] = {"message": message_text(post)}
        if post.link and not images:
            form["link"] = post.link
        for index, image in enumerate(images):
            photo = await upload_photo(
                self, page_id, credential, image, caption=None, published=False
            )
            form[f"attached_media[{index}]"] = json.dumps({"media_fbid": photo["id"]})
        body = await self.graph("POST", f"/{page_id}/feed", credential, data=form, creates=True)
        post_id = body.get("id")
        if not isinstance(post_id, str):
            raise RetryableError("Facebook accepted the post but returned no id")
        return post_id

    async def _receipt(self, post_id: str, credential: Credential) -> PublishedPost:
        receipt = await self.receipt(
            post_id, credential, link_field="permalink_url", time_field="created_time"
        )
        if receipt.permalink and receipt.permalink.startswith("/"):  # videos: Page-relative
            receipt = receipt.model_copy(update={"permalink": WEB + receipt.permalink})
        return receipt

    async def _first_comment(
        self, published: PublishedPost, credential: Credential, text: str
    ) -> None:
        post_id = published.network_post_id
        with first_comment_on("Facebook", published):
            await self.graph("POST", f"/{post_id}/comments", credential, data={"message": text})

    async def find_by_marker(
        self, account: AccountRef, credential: Credential, post: OutgoingPost, since: datetime
    ) -> PublishedPost | None:
        """The Page's post since ``since`` whose message is exactly the post's text."""
        body = await self.graph(
            "GET",
            f"/{self._page_id(account)}/posts",
            credential,
            params={
                "fields": "id,message,created_time,permalink_url",
                "since": str(int(since.timestamp())),
                "limit": "100",
            },
        )
        for row in nodes(body):
            created = parse_time(row.get("created_time"))
            if created and created >= since and same_text(row.get("message"), message_text(post)):
                return receipt_of(str(row["id"]), row.get("permalink_url"), created)
        return None

    # -- inbox -----------------------------------------------------------------------
    async def fetch_messages(
        self, account: AccountRef, credential: Credential, cursor: str | None
    ) -> Page:
        """Comments and replies on the Page's 25 latest posts newer than ``cursor``."""
        page_id = self._page_id(account)
        body = await self.graph(
            "GET",
            f"/{page_id}/posts",
            credential,
            params={"fields": f"id,{COMMENTS}", "limit": "25"},
        )
        found: list[FetchedMessage] = []
        for row in nodes(body):
            for comment in nodes(row, "comments"):
                message = self._message(page_id, str(row["id"]), comment, cursor)
                if message is not None:
                    found.append(message)
        return message_page(found, cursor)

    @staticmethod
    def _message(
        page_id: str, post_id: str, comment: Any, cursor: str | None
    ) -> FetchedMessage | None:
        if not isinstance(comment, dict) or not isinstance(comment.get("id"), str):
            return None
        sent = parse_time(comment.get("created_time"))
        author: dict[str, Any] = comment["from"] if isinstance(comment.get("from"), dict) else {}
        if sent is None or str(author.get("id")) == page_id:
            return None  # undated, or the Page's own comment
        if not after_cursor(cursor, sent, comment["id"]):
            return None
        parent = comment.get("parent")
        return FetchedMessage(
            network_message_id=comment["id"],
            kind="reply" if isinstance(parent, dict) else "comment",
            # Without pages_read_user_content or for private profiles Meta omits "from".
            author_handle=str(author.get("id") or "unknown"),
            author_name=author.get("name"),
            text=str(comment.get("message") or ""),
            network_post_id=post_id,
            parent_network_id=str(parent["id"]) if isinstance(parent, dict) else None,
            sent_at=sent,
        )

    async def engage(
        self, account: AccountRef, credential: Credential, engagement: Engagement
    ) -> EngagementResult:
        """Reply to a post or comment, like it, hide a comment or delete it."""
        target = engagement.target_network_id
        if engagement.action == "reply":
            if not engagement.text:
                raise PermanentError("a reply needs text")
            body = await self.graph(
                "POST", f"/{target}/comments", credential, data={"message": engagement.text}
            )
            return EngagementResult(network_id=str(body.get("id") or "") or None)
        if engagement.action == "like":
            await self.graph("POST", f"/{target}/likes", credential)
        elif engagement.action == "hide":
            await self.graph("POST", f"/{target}", credential, data={"is_hidden": "true"})
        elif engagement.action == "delete":
            await self.graph("DELETE", f"/{target}", credential)
        else:
            raise self.unsupported(engagement.action)
        return EngagementResult(network_id=target)

    # -- metrics ---------------------------------------------------------------------
    async def account_metrics(self, account: AccountRef, credential: Credential) -> MetricsSnapshot:
        """Followers, plus yesterday's views, reach and engagements from Page insights."""
        page_id = self._page_id(account)
        body = await self.graph(
            "GET", f"/{page_id}", credential, params={"fields": "followers_count,fan_count"}
        )
        metrics: dict[str, float] = {}
        followers = body.get("followers_count", body.get("fan_count"))
        if isinstance(followers, int):
            metrics["followers"] = float(followers)
        insights = await self.insights(
            f"/{page_id}/insights", credential, PAGE_METRICS, period="day"
        )
        metrics.update(insights)
        return MetricsSnapshot(
            collected_at=datetime.now(UTC),
            metrics=metrics,
            partial=len(metrics) < 1 + len(PAGE_METRICS),
        )

    async def post_metrics(
        self, account: AccountRef, credential: Credential, network_post_id: str
    ) -> MetricsSnapshot:
        """Reactions, comments and shares, plus views, reach and clicks from post insights."""
        body = await self.graph(
            "GET",
            f"/{network_post_id}",
            credential,
            params={
                "fields": "reactions.summary(total_count).limit(0),"
                "comments.summary(total_count).limit(0),shares"
            },
        )
        metrics: dict[str, float] = {}
        for key, name in (("reactions", "likes"), ("comments", "comments")):
            total = ((body.get(key) or {}).get("summary") or {}).get("total_count")
            if isinstance(total, int):
                metrics[name] = float(total)
        # Meta leaves "shares" out of a post nobody shared.
        metrics["shares"] = float((body.get("shares") or {}).get("count") or 0)
        insights = await self.insights(
            f"/{network_post_id}/insights", credential, POST_METRICS, period="lifetime"
        )
        metrics.update(insights)
        return MetricsSnapshot(
            collected_at=datetime.now(UTC),
            metrics=metrics,
            partial=len(metrics) < 3 + len(POST_METRICS),
        )

    def verify_webhook(self, headers: Mapping[str, str], body: bytes, secret: str) -> bool:
        """Check ``X-Hub-Signature-256`` with the app secret."""
        return verify_signature(headers, body, secret)

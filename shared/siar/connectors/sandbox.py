"""The sandbox network: a real connector whose "network" lives in its own MongoDB database.

It behaves like a network so the whole platform can be run and tested without one:
accounts sign in and get tokens, posts get ids and permalinks, a per-account rate
limit answers with a retry-after, and every post draws a comment from a fan shortly
after it is published. Nothing in Siar reads its database except this module.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from bson import ObjectId
from pydantic import SecretStr
from pymongo import ASCENDING, AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from siar.connectors import sandbox_metrics, sandbox_research
from siar.connectors.base import Connector
from siar.connectors.errors import AuthExpiredError, PermanentError, RateLimitedError
from siar.connectors.models import (
    AccountRef,
    AppCredentials,
    ConnectedAccount,
    Credential,
    Engagement,
    EngagementResult,
    FetchedMessage,
    MetricsSnapshot,
    OutgoingPost,
    Page,
    PublicPost,
    PublicProfile,
    PublishedPost,
)
from siar.connectors.rules import Capability, ContentRules, MediaLimits, RateLimit

SANDBOX_DATABASE = "siar_sandbox_network"
PERMALINK_BASE = "https://sandbox.siar.invalid"
TOKEN_TTL = timedelta(days=60)


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _now() -> datetime:
    return datetime.now(UTC)


class SandboxConnector(Connector):
    """Connector for the sandbox network (see the module docstring)."""

    network = "sandbox"
    display_name = "Sandbox"
    capabilities = frozenset(
        {
            Capability.TEXT,
            Capability.IMAGE,
            Capability.REPLY,
            Capability.LIKE,
            Capability.HIDE_COMMENT,
            Capability.DELETE_COMMENT,
            Capability.FETCH_COMMENTS,
        }
    )
    rules = ContentRules(
        max_text_chars=5000,
        max_hashtags=30,
        max_media=4,
        image=MediaLimits(
            mime_types=frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"}),
            max_bytes=10 * 1024 * 1024,
            min_aspect=0.5,
            max_aspect=2.0,
        ),
        video=MediaLimits(
            mime_types=frozenset({"video/mp4", "video/quicktime"}),
            max_bytes=200 * 1024 * 1024,
            max_duration_s=600,
        ),
    )
    rate_limit = RateLimit(calls=600, per_seconds=60)

    def __init__(
        self,
        client: AsyncMongoClient[dict[str, Any]],
        *,
        database: str = SANDBOX_DATABASE,
        comment_delay_s: float = 1.0,
    ) -> None:
        self.db: AsyncDatabase[dict[str, Any]] = client[database]
        self.comment_delay = timedelta(seconds=comment_delay_s)
        self._indexed = False

    async def _ensure_indexes(self) -> None:
        if self._indexed:
            return
        await self.db.accounts.create_index([("handle", ASCENDING)], unique=True)
        await self.db.posts.create_index([("account_id", ASCENDING), ("marker", ASCENDING)])
        # No "_id" in compound keys: nx-27017 cannot index it (JSON path error).
        await self.db.comments.create_index([("account_id", ASCENDING), ("visible_at", ASCENDING)])
        self._indexed = True

    async def sign_in(self, handle: str) -> ConnectedAccount:
        """Sign an account in (creating it on first use) and issue it a fresh token."""
        await self._ensure_indexes()
        handle = handle.strip().lstrip("@").lower()
        if not handle or len(handle) > 64 or not handle.replace("_", "").isalnum():
            raise PermanentError("a sandbox handle is 1-64 letters, digits or underscores")
        token = "sbx_" + secrets.token_urlsafe(32)
        expires_at = _now() + TOKEN_TTL
        # Insert with a string id first: nx-27017 ignores "_id" in $setOnInsert and
        # its ObjectIds do not match in later equality queries.
        with contextlib.suppress(DuplicateKeyError):
            await self.db.accounts.insert_one(
                {"_id": f"sbxacct_{secrets.token_hex(8)}", "handle": handle, "created_at": _now()}
            )
        # Epoch seconds: a $set datetime comes back as a string from nx-27017.
        doc = await self.db.accounts.find_one_and_update(
            {"handle": handle},
            {
                "$set": {
                    "token_hash": _hash_token(token),
                    "token_expires_ts": expires_at.timestamp(),
                }
            },
            return_document=True,
        )
        if doc is None:
            raise PermanentError("the sandbox could not create the account")
        return ConnectedAccount(
            handle=handle,
            display_name=handle.replace("_", " ").title(),
            network_account_id=str(doc["_id"]),
            credential=Credential(
                access_token=SecretStr(token), expires_at=expires_at, extra={"handle": handle}
            ),
        )

    async def refresh_credential(
        self, credential: Credential, app: AppCredentials | None
    ) -> Credential:
        """The sandbox re-issues a token to the account the credential belongs to."""
        handle = credential.extra.get("handle")
        if not handle:
            return await super().refresh_credential(credential, app)
        return (await self.sign_in(handle)).credential

    async def _authenticate(self, account: AccountRef, credential: Credential) -> dict[str, Any]:
        await self._ensure_indexes()
        doc = await self.db.accounts.find_one({"handle": account.handle})
        presented = _hash_token(credential.access_token.get_secret_value())
        if doc is None or not hmac.compare_digest(presented, str(doc.get("token_hash", ""))):
            raise AuthExpiredError("the sandbox rejected the account's token; reconnect it")
        if float(doc.get("token_expires_ts", 0)) < _now().timestamp():
            raise AuthExpiredError("the sandbox token has expired; reconnect the account")
        return doc

    async def _take_rate_token(self, network_account_id: str) -> None:
        window = int(_now().timestamp() // self.rate_limit.per_seconds)
        doc = await self.db.rate.find_one_and_update(
            {"_id": f"{network_account_id}:{window}"},
            {"$inc": {"calls": 1}, "$setOnInsert": {"window": window}},
            upsert=True,
            return_document=True,
        )
        if doc is not None and int(doc["calls"]) > self.rate_limit.calls:
            next_window = (window + 1) * self.rate_limit.per_seconds
            raise RateLimitedError(
                "the sandbox rate limit was reached for this account",
                retry_after_s=max(0.0, next_window - _now().timestamp()),
            )

    async def publish(
        self, account: AccountRef, credential: Credential, post: OutgoingPost
    ) -> PublishedPost:
        """Create the post on the sandbox and schedule a fan's comment on it."""
        doc = await self._authenticate(account, credential)
        if len(post.text) > self.rules.max_text_chars:
            raise PermanentError(
                f"the sandbox allows {self.rules.max_text_chars} characters; "
                f"the post has {len(post.text)}"
            )
        if len(post.media) > self.rules.max_media:
            raise PermanentError(f"the sandbox takes at most {self.rules.max_media} media")
        for item in post.media:
            if not item.content or len(item.content) != item.size_bytes:
                raise PermanentError(f"media {item.filename} arrived empty or truncated")
        await self._take_rate_token(str(doc["_id"]))
        post_id = f"sbxpost_{ObjectId()}"
        now = _now()
        permalink = f"{PERMALINK_BASE}/{account.handle}/posts/{post_id}"
        await self.db.posts.insert_one(
            {
                "_id": post_id,
                "account_id": doc["_id"],
                "text": post.text,
                "link": post.link,
                "marker": post.marker,
                # What the network received, so tests can see media really travelled.
                "media": [
                    {
                        "filename": m.filename,
                        "mime_type": m.mime_type,
                        "size_bytes": len(m.content),
                        "sha256": hashlib.sha256(m.content).hexdigest(),
                    }
                    for m in post.media
                ],
                "permalink": permalink,
                "created_at": now,
            }
        )
        await self.db.comments.insert_one(
            {
                "_id": f"sbxcomment_{ObjectId()}",
                "account_id": doc["_id"],
                "post_id": post_id,
                "author_handle": "sandbox_fan",
                "author_name": "Sandbox Fan",
                "text": f"Love this! {post.text[:40]}",
                "created_at": now,
                "visible_at": now + self.comment_delay,
            }
        )
        return PublishedPost(network_post_id=post_id, permalink=permalink, published_at=now)

    async def find_by_marker(
        self, account: AccountRef, credential: Credential, post: OutgoingPost, since: datetime
    ) -> PublishedPost | None:
        """The account's post carrying the delivery's marker, if the sandbox has it."""
        doc = await self._authenticate(account, credential)
        found = await self.db.posts.find_one({"account_id": doc["_id"], "marker": post.marker})
        if found is None:
            return None
        return PublishedPost(
            network_post_id=str(found["_id"]),
            permalink=found.get("permalink"),
            published_at=found["created_at"].replace(tzinfo=UTC),
        )

    async def fetch_messages(
        self, account: AccountRef, credential: Credential, cursor: str | None
    ) -> Page:
        """Comments visible now and newer than ``cursor`` (``<visible_at>|<id>``)."""
        doc = await self._authenticate(account, credential)
        query: dict[str, Any] = {"account_id": doc["_id"], "visible_at": {"$lte": _now()}}
        if cursor:
            stamp, _, last_id = cursor.partition("|")
            after = datetime.fromisoformat(stamp)
            query["$or"] = [
                {"visible_at": {"$gt": after}},
                {"visible_at": after, "_id": {"$gt": last_id}},
            ]
        found = await self.db.comments.find(
            query, sort=[("visible_at", ASCENDING), ("_id", ASCENDING)], limit=100
        ).to_list()
        page = Page(cursor=cursor)
        for comment in found:
            visible_at = comment["visible_at"].replace(tzinfo=UTC)
            page.messages.append(
                FetchedMessage(
                    network_message_id=str(comment["_id"]),
                    kind="comment",
                    author_handle=comment["author_handle"],
                    author_name=comment.get("author_name"),
                    text=comment["text"],
                    network_post_id=comment["post_id"],
                    sent_at=comment["created_at"].replace(tzinfo=UTC),
                )
            )
            page.cursor = f"{visible_at.isoformat()}|{comment['_id']}"
        return page

    async def engage(
        self, account: AccountRef, credential: Credential, engagement: Engagement
    ) -> EngagementResult:
        """Reply to or like a comment or post; hide or delete a comment."""
        doc = await self._authenticate(account, credential)
        target = engagement.target_network_id
        comment = await self.db.comments.find_one({"_id": target, "account_id": doc["_id"]})
        post = await self.db.posts.find_one({"_id": target, "account_id": doc["_id"]})
        if comment is None and post is None:
            raise PermanentError(f"the sandbox has no post or comment {target} on this account")
        if engagement.action == "reply":
            if not engagement.text:
                raise PermanentError("a reply needs text")
            await self._take_rate_token(str(doc["_id"]))
            reply_id = f"sbxcomment_{ObjectId()}"
            now = _now()
            await self.db.replies.insert_one(
                {
                    "_id": reply_id,
                    "account_id": doc["_id"],
                    "in_reply_to": target,
                    "post_id": comment["post_id"] if comment else target,
                    "author_handle": account.handle,
                    "text": engagement.text,
                    "created_at": now,
                }
            )
            return EngagementResult(network_id=reply_id)
        if engagement.action in ("like", "hide", "delete"):
            if engagement.action != "like" and comment is None:
                raise PermanentError(f"only comments can be {engagement.action}d on the sandbox")
            await self.db.actions.insert_one(
                {"account_id": doc["_id"], "target": target, "action": engagement.action}
            )
            return EngagementResult(network_id=target)
        raise self.unsupported(engagement.action)

    async def search_public(
        self, account: AccountRef, credential: Credential, query: str, since: datetime | None
    ) -> list[PublicPost]:
        """Seeded public posts mentioning ``query`` (see :mod:`sandbox_research`)."""
        await self._authenticate(account, credential)
        return sandbox_research.search(query, since)

    async def public_profile(
        self, account: AccountRef, credential: Credential, handle: str
    ) -> PublicProfile:
        """A competitor's seeded public figures (see :mod:`sandbox_research`)."""
        await self._authenticate(account, credential)
        return sandbox_research.profile(handle)

    # -- metrics (deterministic series: siar.connectors.sandbox_metrics) ------------
    async def account_metrics(self, account: AccountRef, credential: Credential) -> MetricsSnapshot:
        """Followers, following, the day's reach, impressions, profile views, audience."""
        doc = await self._authenticate(account, credential)
        await self._take_rate_token(str(doc["_id"]))
        return sandbox_metrics.account_snapshot(str(doc["handle"]), _now())

    async def account_history(
        self, account: AccountRef, credential: Credential, days: int
    ) -> list[MetricsSnapshot]:
        """End-of-day snapshots of the past ``days`` days (one call, like an insights range)."""
        doc = await self._authenticate(account, credential)
        await self._take_rate_token(str(doc["_id"]))
        return sandbox_metrics.account_history(str(doc["handle"]), _now(), days)

    async def post_metrics(
        self, account: AccountRef, credential: Credential, network_post_id: str
    ) -> MetricsSnapshot:
        """Likes, comments, shares, saves, reach, impressions (+ video views, clicks)."""
        doc = await self._authenticate(account, credential)
        post = await self.db.posts.find_one({"_id": network_post_id, "account_id": doc["_id"]})
        if post is None:
            raise PermanentError(f"the sandbox has no post {network_post_id} on this account")
        await self._take_rate_token(str(doc["_id"]))
        media = post.get("media") or []
        return sandbox_metrics.post_snapshot(
            str(doc["handle"]),
            network_post_id,
            post["created_at"].replace(tzinfo=UTC),
            _now(),
            has_video=any(str(m.get("mime_type", "")).startswith("video/") for m in media),
            has_link=bool(post.get("link")),
        )

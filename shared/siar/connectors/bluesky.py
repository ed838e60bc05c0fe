"""Bluesky (AT Protocol): app-password sessions, posts as repository records.

An account connects with its handle and an app password
(``com.atproto.server.createSession``), not OAuth: the session's access and refresh
JWTs are its credential, and ``refreshSession`` renews them. Every call goes to the
account's PDS (from its DID document). A post is an ``app.bsky.feed.post`` record:
media are uploaded as blobs first, links, mentions and hashtags become facets on
UTF-8 byte offsets, threads and first comments are replies referencing root and
parent. The record also carries Siar's delivery marker (records are open objects),
so a post whose outcome was lost is found again in ``listRecords``.
XRPC errors are ``{"error": <name>, "message": <text>}``; an expired or invalid
session answers 400 ``ExpiredToken``/``InvalidToken``, which means "refresh".
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
from pydantic import SecretStr

from siar.connectors import bluesky_inbox, bluesky_media, public_search
from siar.connectors.bluesky_lexicon import (
    POST,
    AtUri,
    build_facets,
    check_length,
    find_spans,
    jwt_expiry,
    now_iso,
    parse_time,
)
from siar.connectors.bluesky_rules import APP_RATE_LIMIT, CAPABILITIES, RATE_LIMIT, RULES
from siar.connectors.errors import (
    AuthExpiredError,
    ConnectorError,
    PermanentError,
    RateLimitedError,
    RetryableError,
    first_comment_on,
    thread_part_on,
)
from siar.connectors.http import HttpConnector, retry_after_s
from siar.connectors.models import (
    AccountRef,
    AppCredentials,
    ConnectedAccount,
    Credential,
    Engagement,
    EngagementResult,
    MetricsSnapshot,
    OutgoingPost,
    Page,
    PublicPost,
    PublicProfile,
    PublishedPost,
)

DEFAULT_SERVICE = "https://bsky.social"
APP_BASE = "https://bsky.app"
MARKER_FIELD = "siarMarker"
AUTH_ERRORS = frozenset({"ExpiredToken", "InvalidToken", "AuthMissing"})
LIST_PAGES = 5


class BlueskyConnector(HttpConnector):
    """Connector for Bluesky and any AT Protocol PDS (see the module docstring)."""

    network = "bluesky"
    display_name = "Bluesky"
    capabilities = CAPABILITIES
    rules = RULES
    rate_limit = RATE_LIMIT
    app_rate_limit = APP_RATE_LIMIT
    oauth = None

    def __init__(self, http: httpx.AsyncClient, *, service: str = DEFAULT_SERVICE) -> None:
        super().__init__(http)
        self.service = service.rstrip("/")

    # -- errors ----------------------------------------------------------------------
    def error_reason(self, status: int, body: Any) -> str | None:
        """XRPC errors name the error and explain it in ``message``."""
        if isinstance(body, dict) and isinstance(body.get("error"), str):
            message = body.get("message")
            return f"{message} ({body['error']})" if isinstance(message, str) else body["error"]
        return super().error_reason(status, body)

    def classify(self, status: int, body: Any, response: httpx.Response) -> ConnectorError:
        """ExpiredToken/InvalidToken come as 400 but mean the session must be refreshed."""
        code = body.get("error") if isinstance(body, dict) else None
        reason = self.error_reason(status, body) or f"HTTP {status}"
        if code in AUTH_ERRORS:
            return AuthExpiredError(f"Bluesky rejected the account's session: {reason}")
        if code == "RateLimitExceeded":
            return RateLimitedError(
                f"Bluesky rate limit reached: {reason}", retry_after_s=retry_after_s(response)
            )
        return super().classify(status, body, response)

    def body_error(self, body: Any) -> ConnectorError | None:
        """A 2xx that is only an XRPC error object is that error."""
        if isinstance(body, dict) and isinstance(body.get("error"), str) and len(body) <= 2:
            return self.classify(400, body, httpx.Response(400))
        return None

    # -- sessions ----------------------------------------------------------------------
    def xrpc(self, credential: Credential | None, nsid: str) -> str:
        """The URL of an XRPC method on the account's PDS."""
        base = credential.extra.get("pds") if credential else None
        return f"{(base or self.service).rstrip('/')}/xrpc/{nsid}"

    async def xcall(
        self, method: str, nsid: str, credential: Credential | None, *, auth: bool = True, **kw: Any
    ) -> dict[str, Any]:
        """Call an XRPC method on the account's PDS; returns its JSON object."""
        url = self.xrpc(credential, nsid)
        body = await self.call(method, url, credential=credential if auth else None, **kw)
        if not isinstance(body, dict):
            raise RetryableError(f"Bluesky answered {nsid} with something other than an object")
        return body

    def _session(self, body: dict[str, Any], pds: str) -> ConnectedAccount:
        if not all(
            isinstance(body.get(k), str) for k in ("did", "handle", "accessJwt", "refreshJwt")
        ):
            raise RetryableError("Bluesky answered a session call without a session")
        if body.get("active") is False:
            status = body.get("status") or "inactive"
            raise PermanentError(f"Bluesky account {body['handle']} is {status}")
        did_doc = body.get("didDoc")
        services = did_doc.get("service") if isinstance(did_doc, dict) else None
        for service in services if isinstance(services, list) else []:
            if isinstance(service, dict) and str(service.get("id", "")).endswith("#atproto_pds"):
                pds = str(service.get("serviceEndpoint") or pds).rstrip("/")
        credential = Credential(
            access_token=SecretStr(body["accessJwt"]),
            refresh_token=SecretStr(body["refreshJwt"]),
            expires_at=jwt_expiry(body["accessJwt"]),
            extra={"did": body["did"], "handle": body["handle"], "pds": pds},
        )
        return ConnectedAccount(
            handle=body["handle"], network_account_id=body["did"], credential=credential
        )

    async def sign_in(self, handle: str, app_password: str) -> ConnectedAccount:
        """Connect an account with its handle (or email) and an app password."""
        identifier = handle.removeprefix("@")
        try:
            body = await self.xcall(
                "POST",
                "com.atproto.server.createSession",
                None,
                json={"identifier": identifier, "password": app_password},
            )
        except AuthExpiredError as err:
            raise PermanentError(f"Bluesky refused the handle or app password: {err}") from err
        return self._session(body, self.service)

    async def refresh(self, credential: Credential) -> Credential:
        """A new session from the refresh JWT (``com.atproto.server.refreshSession``)."""
        if credential.refresh_token is None:
            raise AuthExpiredError("Bluesky session has no refresh token: sign in again")
        body = await self.xcall(
            "POST",
            "com.atproto.server.refreshSession",
            credential,
            auth=False,
            headers={"authorization": f"Bearer {credential.refresh_token.get_secret_value()}"},
        )
        return self._session(body, credential.extra.get("pds") or self.service).credential

    async def refresh_credential(
        self, credential: Credential, app: AppCredentials | None
    ) -> Credential:
        """The vault's refresh hook: Bluesky sessions renew with their refresh JWT."""
        return await self.refresh(credential)

    @staticmethod
    def did(account: AccountRef, credential: Credential) -> str:
        """The account's DID (the repository every write goes to)."""
        did = credential.extra.get("did") or account.network_account_id
        if not did:
            raise PermanentError("Bluesky account has no DID: sign in again")
        return did

    # -- records -----------------------------------------------------------------------
    async def create_record(
        self, credential: Credential, did: str, collection: str, record: dict[str, Any]
    ) -> dict[str, str]:
        """Write one record; returns its strong reference ``{"uri", "cid"}``."""
        body = await self.xcall(
            "POST",
            "com.atproto.repo.createRecord",
            credential,
            json={"repo": did, "collection": collection, "record": record},
            creates=True,
        )
        if not isinstance(body.get("uri"), str) or not isinstance(body.get("cid"), str):
            raise RetryableError("Bluesky did not say which record it created")
        return {"uri": body["uri"], "cid": body["cid"]}

    async def get_record(self, credential: Credential, uri: str) -> dict[str, Any]:
        """``{"uri", "cid", "value"}`` of a record in any repository."""
        at = AtUri.parse(uri)
        body = await self.xcall(
            "GET",
            "com.atproto.repo.getRecord",
            credential,
            params={"repo": at.repo, "collection": at.collection, "rkey": at.rkey},
        )
        if not isinstance(body.get("cid"), str) or not isinstance(body.get("value"), dict):
            raise RetryableError(f"Bluesky answered without the record {uri}")
        return {"uri": body.get("uri", uri), "cid": body["cid"], "value": body["value"]}

    async def mention_dids(self, credential: Credential, handles: list[str]) -> dict[str, str]:
        """DIDs of mentioned handles; a handle that does not resolve is left out."""
        dids: dict[str, str] = {}
        for handle in {h.lower() for h in handles}:
            try:
                body = await self.xcall(
                    "GET",
                    "com.atproto.identity.resolveHandle",
                    credential,
                    params={"handle": handle},
                )
            except PermanentError:
                continue
            if isinstance(body.get("did"), str):
                dids[handle] = body["did"]
        return dids

    async def post_record(self, credential: Credential, text: str, **fields: Any) -> dict[str, Any]:
        """An ``app.bsky.feed.post`` record for ``text`` with its facets resolved."""
        check_length(text)
        spans = find_spans(text)
        dids = await self.mention_dids(credential, [s.value for s in spans if s.kind == "mention"])
        record: dict[str, Any] = {"$type": POST, "text": text, "createdAt": now_iso()}
        facets = build_facets(spans, dids)
        if facets:
            record["facets"] = facets
        record.update({k: v for k, v in fields.items() if v is not None})
        return record

    # -- publishing --------------------------------------------------------------------
    @staticmethod
    def post_text(post: OutgoingPost) -> str:
        """The text as published: the link is added when media take the card's place."""
        if post.link and post.link not in post.text and post.media:
            return f"{post.text}\n{post.link}"
        return post.text

    def permalink(self, uri: str) -> str:
        """The bsky.app address of a post."""
        at = AtUri.parse(uri)
        return f"{APP_BASE}/profile/{at.repo}/post/{at.rkey}"

    async def publish(
        self, account: AccountRef, credential: Credential, post: OutgoingPost
    ) -> PublishedPost:
        """Upload media, write the post, then its thread parts and first comment."""
        did = self.did(account, credential)
        text = self.post_text(post)
        for part in (text, *post.thread, post.first_comment or ""):
            check_length(part)
        embed = await bluesky_media.embed(self, credential, post)
        record = await self.post_record(
            credential, text, embed=embed, **{MARKER_FIELD: post.marker}
        )
        root = await self.create_record(credential, did, POST, record)
        published = PublishedPost(
            network_post_id=root["uri"],
            permalink=self.permalink(root["uri"]),
            published_at=parse_time(record["createdAt"]) or datetime.now(UTC),
        )
        # The root is live and records carry no idempotency key: a part that fails must
        # not fail (and so re-post) the root.
        parent = root
        for number, part in enumerate(post.thread, start=2):
            reply = {"root": root, "parent": parent}
            with thread_part_on("Bluesky", published, number, len(post.thread) + 1):
                parent = await self.create_record(
                    credential, did, POST, await self.post_record(credential, part, reply=reply)
                )
        if post.first_comment:
            reply = {"root": root, "parent": root}
            with first_comment_on("Bluesky", published):
                await self.create_record(
                    credential,
                    did,
                    POST,
                    await self.post_record(credential, post.first_comment, reply=reply),
                )
        return published

    async def find_by_marker(
        self, account: AccountRef, credential: Credential, post: OutgoingPost, since: datetime
    ) -> PublishedPost | None:
        """The account's post carrying ``post.marker`` (or its exact text) since ``since``."""
        did = self.did(account, credential)
        text = self.post_text(post)
        cursor: str | None = None
        for _ in range(LIST_PAGES):
            params: dict[str, str | int] = {"repo": did, "collection": POST, "limit": 100}
            if cursor:
                params["cursor"] = cursor
            body = await self.xcall(
                "GET", "com.atproto.repo.listRecords", credential, params=params
            )
            records = body.get("records")
            older = False
            for rec in records if isinstance(records, list) else []:
                value = rec.get("value") if isinstance(rec, dict) else None
                created = parse_time(value.get("createdAt")) if isinstance(value, dict) else None
                if value is None or created is None or not isinstance(rec.get("uri"), str):
                    continue
                if created < since:
                    older = True
                    continue
                same_text = value.get("text") == text and "reply" not in value
                if value.get(MARKER_FIELD) == post.marker or same_text:
                    uri = rec["uri"]
                    return PublishedPost(
                        network_post_id=uri, permalink=self.permalink(uri), published_at=created
                    )
            cursor = body.get("cursor") if isinstance(body.get("cursor"), str) else None
            if older or not cursor:
                return None
        return None

    # -- inbox, engagement, metrics (bluesky_inbox) ---------------------------------------
    async def fetch_messages(
        self, account: AccountRef, credential: Credential, cursor: str | None
    ) -> Page:
        """Replies, mentions and quotes from ``listNotifications``, oldest first."""
        return await bluesky_inbox.fetch_messages(self, credential, cursor)

    async def engage(
        self, account: AccountRef, credential: Credential, engagement: Engagement
    ) -> EngagementResult:
        """Reply, like, repost, delete (own records) or DM."""
        return await bluesky_inbox.engage(
            self, self.did(account, credential), credential, engagement
        )

    async def account_metrics(self, account: AccountRef, credential: Credential) -> MetricsSnapshot:
        """Followers, follows and posts from ``app.bsky.actor.getProfile``."""
        return await bluesky_inbox.account_metrics(self, self.did(account, credential), credential)

    async def search_public(
        self, account: AccountRef, credential: Credential, query: str, since: datetime | None
    ) -> list[PublicPost]:
        """Latest posts matching ``query`` (``app.bsky.feed.searchPosts``)."""
        return await public_search.bluesky_search(self, credential, query, since)

    async def public_profile(
        self, account: AccountRef, credential: Credential, handle: str
    ) -> PublicProfile:
        """Any account's followers, follows and posts (``app.bsky.actor.getProfile``)."""
        return await public_search.bluesky_profile(self, credential, handle)

    async def post_metrics(
        self, account: AccountRef, credential: Credential, network_post_id: str
    ) -> MetricsSnapshot:
        """Likes, reposts, replies and quotes from ``app.bsky.feed.getPosts``."""
        return await bluesky_inbox.post_metrics(self, credential, network_post_id)

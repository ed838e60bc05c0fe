"""The one interface every network connector implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from datetime import datetime

from siar.connectors.errors import AuthExpiredError, PermanentError
from siar.connectors.models import (
    AccountRef,
    AppCredentials,
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
from siar.connectors.rules import Capability, ContentRules, OAuthConfig, RateLimit
from siar.connectors.text import grapheme_count


class Connector(ABC):
    """A social network, as Siar uses it. One instance serves many accounts.

    Everything a network can fail with surfaces as a
    :class:`~siar.connectors.errors.ConnectorError` whose class says whether to
    retry, refresh the token or give up, and whose reason a person can act on.
    """

    network: str
    display_name: str
    capabilities: frozenset[Capability]
    rules: ContentRules
    rate_limit: RateLimit
    app_rate_limit: RateLimit | None = None
    oauth: OAuthConfig | None = None
    account_metrics_calls: int = 1
    """API calls one :meth:`account_metrics` makes (collectors pace themselves by it)."""

    @abstractmethod
    async def publish(
        self, account: AccountRef, credential: Credential, post: OutgoingPost
    ) -> PublishedPost:
        """Publish ``post`` (uploading its media first)."""

    @abstractmethod
    async def find_by_marker(
        self, account: AccountRef, credential: Credential, post: OutgoingPost, since: datetime
    ) -> PublishedPost | None:
        """The account's post made for ``post`` since ``since``, if the network has it.

        Used when an attempt's outcome is unknown; a network without hidden
        metadata matches on the exact text among the account's recent posts.
        """

    async def fetch_messages(
        self, account: AccountRef, credential: Credential, cursor: str | None
    ) -> Page:
        """Comments, mentions and DMs newer than ``cursor``, oldest first."""
        raise self.unsupported("fetching messages")

    async def engage(
        self, account: AccountRef, credential: Credential, engagement: Engagement
    ) -> EngagementResult:
        """Reply, DM, like, hide, delete or repost."""
        raise self.unsupported(engagement.action)

    async def account_metrics(self, account: AccountRef, credential: Credential) -> MetricsSnapshot:
        """Followers, reach and the like for the account."""
        raise self.unsupported("account metrics")

    async def post_metrics(
        self, account: AccountRef, credential: Credential, network_post_id: str
    ) -> MetricsSnapshot:
        """Likes, comments, shares, impressions and the like for one post."""
        raise self.unsupported("post metrics")

    async def account_history(
        self, account: AccountRef, credential: Credential, days: int
    ) -> list[MetricsSnapshot]:
        """One account snapshot per past day (oldest first), for a first backfill.

        Networks whose API gives daily history may implement it; the default offers none.
        """
        raise self.unsupported("account metrics history")

    async def search_public(
        self, account: AccountRef, credential: Credential, query: str, since: datetime | None
    ) -> list[PublicPost]:
        """Recent public posts matching ``query`` (a #hashtag, keyword or @handle), newest first.

        Used by research; one page per call. Networks whose API offers no public
        search keep this default.
        """
        raise self.unsupported("public search")

    async def public_profile(
        self, account: AccountRef, credential: Credential, handle: str
    ) -> PublicProfile:
        """Another account's public figures (followers and the like), for research."""
        raise self.unsupported("public profile look-ups")

    async def identify(self, credential: Credential) -> Identity:
        """The account a freshly granted credential belongs to (after OAuth)."""
        raise self.unsupported("looking up the signed-in account")

    async def refresh_credential(
        self, credential: Credential, app: AppCredentials | None
    ) -> Credential:
        """A fresh credential from the refresh token (called by the vault only)."""
        raise AuthExpiredError(
            f"{self.display_name} credentials cannot be refreshed; reconnect the account"
        )

    def verify_webhook(self, headers: Mapping[str, str], body: bytes, secret: str) -> bool:
        """Whether a webhook call really comes from the network (signature check)."""
        return False

    def parse_webhook(self, body: bytes) -> list[tuple[str, FetchedMessage]]:
        """Comments, mentions and DMs in a verified webhook call, oldest first.

        Each comes with the network account id it was sent for, so the receiver can
        find the connected account. Networks whose webhooks carry no messages (or that
        have none) raise the unsupported error; their messages are polled.
        """
        raise self.unsupported("messages by webhook")

    def measure_text(self, text: str) -> int:
        """How long the network counts ``text`` (code points, or graphemes where it says)."""
        if self.rules.counts_graphemes:
            return grapheme_count(text)
        return len(text)

    def unsupported(self, what: str) -> PermanentError:
        """The error for something this network does not offer."""
        return PermanentError(f"{self.display_name} does not support {what}")

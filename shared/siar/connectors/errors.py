"""How a network's failure is classified: retry, refresh the token, or give up."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from siar.connectors.models import PublishedPost

ErrorClass = Literal["retryable", "auth_expired", "permanent"]


class ConnectorError(Exception):
    """A network call failed; ``reason`` is written for a person to act on."""

    error_class: ErrorClass = "permanent"

    def __init__(self, reason: str, *, retry_after_s: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after_s = retry_after_s

    @property
    def retryable(self) -> bool:
        """Whether trying again later may succeed."""
        return self.error_class != "permanent"


class RetryableError(ConnectorError):
    """A 5xx, timeout or rate limit: back off (honouring ``retry_after_s``) and retry."""

    error_class: ErrorClass = "retryable"


class OutcomeUnknownError(RetryableError):
    """The request may have taken effect (e.g. a timeout after sending a create call):
    look for the result with ``find_by_marker`` before trying again."""


class RateLimitedError(RetryableError):
    """The network or our own bucket says wait ``retry_after_s`` seconds."""


class AuthExpiredError(ConnectorError):
    """The token is expired or revoked: refresh it through the vault, then retry once."""

    error_class: ErrorClass = "auth_expired"


class PermanentError(ConnectorError):
    """Validation or policy: retrying the same request cannot succeed."""

    error_class: ErrorClass = "permanent"


class PartiallyPublishedError(PermanentError):
    """The post is live but a later part (thread part, first comment) failed.

    Permanent so nothing re-posts the head; ``published`` is the receipt of what is live.
    """

    def __init__(self, reason: str, *, published: PublishedPost) -> None:
        super().__init__(reason)
        self.published = published


@contextlib.contextmanager
def later_part_on(
    network: str,
    published: PublishedPost,
    part: str,
    *,
    what: str = "the post",
    replayable: bool = False,
) -> Iterator[None]:
    """Run the call that publishes ``part`` of a live post; its failure becomes
    :class:`PartiallyPublishedError` naming the part.

    The post is live by then, so nothing (a retried delivery above all) may post it again,
    unless the network deduplicates every call of the delivery (``replayable``: e.g.
    Mastodon's Idempotency-Key), where only a permanent failure is final and any other
    lets the delivery retry.
    """
    try:
        yield
    except ConnectorError as err:
        if replayable and not isinstance(err, PermanentError):
            raise
        raise PartiallyPublishedError(
            f"{network} published {what} but not {part}: {err.reason}",
            published=published,
        ) from err


def first_comment_on(
    network: str, published: PublishedPost, *, what: str = "the post"
) -> contextlib.AbstractContextManager[None]:
    """Run a first comment's call; its failure becomes :class:`PartiallyPublishedError`."""
    return later_part_on(network, published, "its first comment", what=what)


def thread_part_on(
    network: str,
    published: PublishedPost,
    number: int,
    total: int,
    *,
    what: str = "the post",
    replayable: bool = False,
) -> contextlib.AbstractContextManager[None]:
    """Run thread part ``number`` of ``total``'s call (the head is part 1); its failure
    becomes :class:`PartiallyPublishedError`, saying the parts after it were not sent."""
    return later_part_on(
        network,
        published,
        f"part {number} of {total}, nor what follows it",
        what=what,
        replayable=replayable,
    )

"""What a connector is asked to publish for one network, and what became of the first comment.

``post.scheduled`` already carries the network's variant (its caption, format, title,
thread parts and first comment). A thread's later part that fails is a
:class:`~siar.connectors.PartiallyPublishedError` (the first part is live), a warning
like a failed first comment. Connectors that declare ``first_comment`` post the comment
themselves, right after the post, through their network's comment call; a failure there
is a :class:`~siar.connectors.PartiallyPublishedError` too. For connectors that
can only ``reply`` (the sandbox), the publisher posts it as a reply to the new post.
Either way a failed first comment is a warning on the outcome, never a failed post.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Literal

from siar.connectors import (
    AccountRef,
    Connector,
    ConnectorError,
    Credential,
    Engagement,
    OutgoingPost,
    PartiallyPublishedError,
    PermanentError,
    PublishedPost,
)
from siar.connectors.rules import Capability, PostFormat
from siar.contracts import PostScheduled
from siar_publisher.domain import FirstComment

CommentOutcome = tuple[FirstComment | None, list[str]]
"""The first comment's record (None without one) and the warnings for the outcome."""

NONE: CommentOutcome = (None, [])


def posts_comment_itself(connector: Connector) -> bool:
    """Whether ``connector`` posts a first comment within ``publish``."""
    return Capability.FIRST_COMMENT in connector.capabilities


def outgoing(event: PostScheduled, marker: str, connector: Connector) -> OutgoingPost:
    """The post for ``connector``: the variant's caption, format, title and thread parts, and
    the first comment only where the connector posts it itself."""
    try:
        fmt = PostFormat(event.format) if event.format else PostFormat.FEED
    except ValueError as err:
        raise PermanentError(f"{event.format!r} is not a post format this publisher knows") from err
    return OutgoingPost(
        text=event.text,
        marker=marker,
        link=event.link,
        format=fmt,
        title=event.title,
        first_comment=event.first_comment if posts_comment_itself(connector) else None,
        thread=list(event.thread),
    )


async def after_publish(
    connector: Connector,
    account: AccountRef,
    credential: Credential,
    event: PostScheduled,
    published: PublishedPost,
    pace: Callable[[], Awaitable[None]],
) -> CommentOutcome:
    """Post the first comment as a reply where the connector did not; one try only.

    A retry could post it twice (a reply has no marker to look for), and the post is
    live already, so a failure is reported, not repeated.
    """
    text = event.first_comment
    if not text:
        return NONE
    if posts_comment_itself(connector):
        return FirstComment(status="posted", via="publish"), []
    if Capability.REPLY not in connector.capabilities:
        reason = f"{connector.display_name} takes no comments; the first comment was not posted"
        return FirstComment(status="skipped", via="reply", reason=reason), [reason]
    reply = Engagement(action="reply", target_network_id=published.network_post_id, text=text)
    try:
        await pace()
        result = await connector.engage(account, credential, reply)
    except ConnectorError as err:
        reason = f"the post is live but its first comment was not posted: {err.reason}"
        return FirstComment(status="failed", via="reply", reason=reason), [reason]
    return FirstComment(status="posted", via="reply", network_id=result.network_id), []


def partly(
    event: PostScheduled, connector: Connector, err: PartiallyPublishedError
) -> CommentOutcome:
    """The post is live but a later part failed (a thread part or the first comment)."""
    if event.first_comment and posts_comment_itself(connector):
        return FirstComment(status="failed", via="publish", reason=err.reason), [err.reason]
    return None, [err.reason]


FOUND_AGAIN = (
    "the post was found after an attempt whose answer was lost; its first comment "
    "is not posted again (it could appear twice)"
)
CLAIM_TAKEN = (
    "another publisher took the delivery over while the post was being published; "
    "its first comment is not posted (it could appear twice)"
)


def not_commented(event: PostScheduled, connector: Connector, reason: str) -> CommentOutcome:
    """The post is live but its first comment is not posted, for ``reason``."""
    if not event.first_comment:
        return NONE
    via: Literal["publish", "reply"] = "publish" if posts_comment_itself(connector) else "reply"
    return FirstComment(status="skipped", via=via, reason=reason), [reason]


def found_again(event: PostScheduled, connector: Connector) -> CommentOutcome:
    """An earlier attempt's post was found on the network: its comment is not posted again."""
    return not_commented(event, connector, FOUND_AGAIN)

"""``post.scheduled`` for one target of a post: its variant (caption, format, title, comment,
thread parts).

Pure: computed from the stored post alone, so firing a post, recovering its events after
a crash and retrying a failed target all describe it the same way.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TypedDict

from siar.contracts import PostScheduled
from siar_scheduler.domain import Post, Target


class ScheduledFields(TypedDict):
    """The per-network ``PostScheduled`` fields, ready to pass as keyword arguments."""

    text: str
    format: str | None
    media_kinds: list[str]
    first_comment: str | None
    title: str | None
    thread: list[str]


def scheduled_fields(post: Post, target: Target) -> ScheduledFields:
    """The text, format, title, media kinds and first comment of ``post`` on a network.

    The caption is the variant's own text for ``target``'s network, else the post's;
    format, title, first comment and thread parts come from the variant (None when unset: the
    network's default, a feed post). The media kinds are those
    recorded when the media were attached, one per ``media_ids`` entry in order; a post
    stored before kinds were recorded (lengths differ) gets none rather than a wrong list.
    """
    variant = post.variants.get(target.network)
    aligned = len(post.media_kinds) == len(post.media_ids)
    return {
        "text": (variant.text if variant else None) or post.text,
        "format": variant.format if variant else None,
        "media_kinds": list(post.media_kinds) if aligned else [],
        "first_comment": variant.first_comment if variant else None,
        "title": variant.title if variant else None,
        "thread": list(variant.thread) if variant else [],
    }


def scheduled_event(
    post: Post, target: Target, *, event_id: uuid.UUID, occurrence: str, due_at: datetime
) -> PostScheduled:
    """The ``post.scheduled`` that delivers ``post`` to ``target`` for ``occurrence``."""
    return PostScheduled.new(
        event_id=event_id,
        workspace_id=post.workspace_id,
        post_id=post.id,
        account_id=target.account_id,
        network=target.network,
        occurrence=occurrence,
        due_at=due_at,
        link=post.link,
        media_ids=post.media_ids,
        **scheduled_fields(post, target),
    )

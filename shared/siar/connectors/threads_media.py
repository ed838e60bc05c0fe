"""Threads containers: TEXT, IMAGE, VIDEO and CAROUSEL, then ``threads_publish``.

A container is ``POST /{user-id}/threads``; images and videos are fetched by Meta from
``image_url``/``video_url`` (public URLs from the media host), a carousel holds 2-20
``is_carousel_item`` children, a reply names ``reply_to_id``. Meta advises waiting
until the container's ``status`` is FINISHED before ``POST /{user-id}/threads_publish``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from siar.connectors.errors import PermanentError, RetryableError
from siar.connectors.models import Credential, MediaItem, OutgoingPost
from siar.connectors.rules import MediaKind, PostFormat

if TYPE_CHECKING:
    from siar.connectors.threads import ThreadsConnector

MAX_CAROUSEL = 20
# Container error_message values worth another attempt (the download may succeed later).
RETRYABLE_CONTAINER_ERRORS = frozenset({"FAILED_DOWNLOADING_VIDEO", "UNKNOWN"})


def post_text(post: OutgoingPost) -> str:
    """The text a post goes out with (a link is appended to media posts)."""
    if post.media and post.link and post.link not in post.text:
        return f"{post.text}\n{post.link}".strip()
    return post.text


async def root_container(
    th: ThreadsConnector, user_id: str, credential: Credential, post: OutgoingPost
) -> str:
    """Create (and wait for) the container of the post itself."""
    text = post_text(post)
    if not post.media:
        if not text.strip():
            raise PermanentError("a Threads post needs text or media")
        fields = {"media_type": "TEXT", "text": text}
        if post.link:
            fields["link_attachment"] = post.link
        return await _container(th, user_id, credential, fields)
    if len(post.media) == 1 and post.format is not PostFormat.CAROUSEL:
        return await _media_container(th, user_id, credential, post.media[0], {"text": text})
    if not 2 <= len(post.media) <= MAX_CAROUSEL:
        raise PermanentError(f"a Threads carousel has 2 to {MAX_CAROUSEL} items")
    children = [
        await _media_container(th, user_id, credential, item, {"is_carousel_item": "true"})
        for item in post.media
    ]
    fields = {"media_type": "CAROUSEL", "children": ",".join(children), "text": text}
    return await _container(th, user_id, credential, fields)


async def _media_container(
    th: ThreadsConnector,
    user_id: str,
    credential: Credential,
    item: MediaItem,
    fields: dict[str, str],
) -> str:
    kind = "VIDEO" if item.kind is MediaKind.VIDEO else "IMAGE"
    data = {**fields, "media_type": kind, f"{kind.lower()}_url": await th.media_url(item)}
    if item.alt_text:
        data["alt_text"] = item.alt_text
    return await _container(th, user_id, credential, data)


async def _container(
    th: ThreadsConnector, user_id: str, credential: Credential, data: dict[str, str]
) -> str:
    body = await th.graph("POST", f"/{user_id}/threads", credential, data=data)
    container_id = body.get("id")
    if not isinstance(container_id, str) or not container_id:
        raise RetryableError("Threads created no media container")
    await th.wait_ready(
        container_id,
        credential,
        status_field="status",
        error_field="error_message",
        retryable_errors=RETRYABLE_CONTAINER_ERRORS,
    )
    return container_id


async def publish_container(
    th: ThreadsConnector, user_id: str, credential: Credential, container: str
) -> str:
    """Publish a FINISHED container; the new post's id."""
    body = await th.graph(
        "POST",
        f"/{user_id}/threads_publish",
        credential,
        data={"creation_id": container},
        creates=True,
    )
    media_id = body.get("id")
    if not isinstance(media_id, str):
        raise RetryableError("Threads published nothing for the container")
    return media_id


async def publish_reply(
    th: ThreadsConnector, user_id: str, credential: Credential, to_id: str, text: str
) -> str:
    """Publish a text reply to ``to_id``; the reply's id."""
    container = await _container(
        th, user_id, credential, {"media_type": "TEXT", "text": text, "reply_to_id": to_id}
    )
    return await publish_container(th, user_id, credential, container)

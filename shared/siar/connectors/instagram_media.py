"""Instagram's container flow: media containers, video bytes to rupload, readiness.

Every post starts as a container (``POST /{ig-user-id}/media``). Images are fetched
by Meta from ``image_url`` (a public URL from the media host). Videos are sent as
bytes: the container is created with ``upload_type=resumable`` and the video is
POSTed to ``rupload.facebook.com/ig-api-upload/{version}/{container-id}`` with
``Authorization: OAuth``, ``offset`` and ``file_size`` headers. A container is
published only once its ``status_code`` is FINISHED. Carousels are 2-10 child
containers (``is_carousel_item``) referenced by a CAROUSEL container's ``children``;
feed videos are REELS, carousel videos VIDEO, stories STORIES.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from siar.connectors.errors import PermanentError, RetryableError
from siar.connectors.models import Credential, MediaItem, OutgoingPost
from siar.connectors.rules import MediaKind, PostFormat

if TYPE_CHECKING:
    from siar.connectors.instagram import InstagramConnector

MAX_CAROUSEL = 10


async def build_container(
    ig: InstagramConnector, user_id: str, credential: Credential, post: OutgoingPost
) -> str:
    """Create (and wait for) the container that publishing ``post`` will publish."""
    media = post.media
    if not media:
        raise PermanentError("an Instagram post needs an image or a video")
    if post.format is PostFormat.STORY:
        if len(media) != 1:
            raise PermanentError("an Instagram story carries exactly one image or video")
        return await _container(ig, user_id, credential, media[0], {"media_type": "STORIES"})
    if len(media) == 1 and post.format is not PostFormat.CAROUSEL:
        fields = {"caption": post.text}
        if media[0].kind is MediaKind.VIDEO:
            fields.update(media_type="REELS", share_to_feed="true")
        elif post.format in (PostFormat.REEL, PostFormat.VIDEO):
            raise PermanentError("an Instagram reel needs a video")
        return await _container(ig, user_id, credential, media[0], fields)
    if not 2 <= len(media) <= MAX_CAROUSEL:
        raise PermanentError(f"an Instagram carousel has 2 to {MAX_CAROUSEL} items")
    children = []
    for item in media:
        fields = {"is_carousel_item": "true"}
        if item.kind is MediaKind.VIDEO:
            fields["media_type"] = "VIDEO"
        children.append(await _container(ig, user_id, credential, item, fields))
    parent = await ig.graph(
        "POST",
        f"/{user_id}/media",
        credential,
        data={"media_type": "CAROUSEL", "children": ",".join(children), "caption": post.text},
    )
    return await _ready(ig, credential, parent)


async def _container(
    ig: InstagramConnector,
    user_id: str,
    credential: Credential,
    item: MediaItem,
    fields: dict[str, str],
) -> str:
    if item.kind is MediaKind.VIDEO:
        container = await ig.graph(
            "POST", f"/{user_id}/media", credential, data={**fields, "upload_type": "resumable"}
        )
        await _send_video(ig, credential, container, item)
    else:
        data = {**fields, "image_url": await ig.media_url(item)}
        # alt_text is offered for feed and carousel images, not stories.
        if item.alt_text and fields.get("media_type") != "STORIES":
            data["alt_text"] = item.alt_text
        container = await ig.graph("POST", f"/{user_id}/media", credential, data=data)
    return await _ready(ig, credential, container)


async def _send_video(
    ig: InstagramConnector, credential: Credential, container: dict[str, Any], item: MediaItem
) -> None:
    if not item.content:
        raise PermanentError(f"the video {item.filename!r} has no content to upload")
    container_id = _id(container)
    uri = container.get("uri")
    if not isinstance(uri, str) or not uri.startswith("https://"):
        uri = f"{ig.rupload_base}/ig-api-upload/{ig.version}/{container_id}"
    response = await ig.call(
        "POST",
        uri,
        headers={
            "authorization": f"OAuth {credential.access_token.get_secret_value()}",
            "offset": "0",
            "file_size": str(len(item.content)),
        },
        content=item.content,
        deadline_s=ig.upload_deadline_s,
        expect_json=False,
    )
    # Errors were raised by status; a 200 must say {"success": true} or the bytes are lost.
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict) or body.get("success") is not True:
        detail = body.get("message") if isinstance(body, dict) else None
        raise RetryableError(f"Instagram did not confirm the video upload: {detail or 'no reason'}")


async def _ready(ig: InstagramConnector, credential: Credential, container: dict[str, Any]) -> str:
    container_id = _id(container)
    await ig.wait_ready(container_id, credential, status_field="status_code", error_field="status")
    return container_id


def _id(container: dict[str, Any]) -> str:
    container_id = container.get("id")
    if not isinstance(container_id, str) or not container_id:
        raise RetryableError("Instagram created no media container")
    return container_id

"""Bluesky connector: publishing (facets, media, threads) and finding posts again."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import respx

from siar.connectors import (
    MediaItem,
    MediaKind,
    OutgoingPost,
    PartiallyPublishedError,
    PermanentError,
)
from siar.connectors.bluesky import BlueskyConnector
from tests.unit.connectors.bluesky_fakes import (
    ACCESS,
    ACCOUNT,
    BOB,
    CID,
    CREDENTIAL,
    DID,
    POST_URI,
    body_of,
    created,
    xrpc,
)


def image(size: int = 100, mime: str = "image/png") -> MediaItem:
    return MediaItem(
        kind=MediaKind.IMAGE,
        mime_type=mime,
        filename="pic.png",
        size_bytes=size,
        width=1200,
        height=800,
        alt_text="A sunset",
        content=b"\x89PNG" + b"\x00" * (size - 4),
    )


def blob(mime: str = "image/png", size: int = 100) -> dict[str, Any]:
    return {"$type": "blob", "ref": {"$link": "bafkrei123"}, "mimeType": mime, "size": size}


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as router:
        yield router


@pytest.fixture
async def bsky() -> AsyncIterator[BlueskyConnector]:
    async with httpx.AsyncClient() as http:
        yield BlueskyConnector(http)


# -- publishing ------------------------------------------------------------------------
async def test_publish_writes_a_post_with_facets_on_utf8_byte_offsets(
    api: respx.MockRouter, bsky: BlueskyConnector
) -> None:
    resolve = api.get(xrpc("com.atproto.identity.resolveHandle")).respond(200, json={"did": BOB})
    create = api.post(xrpc("com.atproto.repo.createRecord")).mock(return_value=created())
    text = "✨ Nouveautés: https://siar.example/launch with @bob.test #Siar."
    published = await bsky.publish(ACCOUNT, CREDENTIAL, OutgoingPost(text=text, marker="dlv_1"))

    assert resolve.calls.last.request.url.params["handle"] == "bob.test"
    request = create.calls.last.request
    assert request.headers["authorization"] == f"Bearer {ACCESS}"
    sent = body_of(request)
    assert sent["repo"] == DID
    assert sent["collection"] == "app.bsky.feed.post"
    record = sent["record"]
    assert record["$type"] == "app.bsky.feed.post"
    assert record["text"] == text
    assert record["siarMarker"] == "dlv_1"
    assert record["createdAt"].endswith("Z")
    raw = text.encode()
    link, mention, tag = b"https://siar.example/launch", b"@bob.test", b"#Siar"
    assert record["facets"] == [
        {
            "index": {"byteStart": raw.index(link), "byteEnd": raw.index(link) + len(link)},
            "features": [
                {"$type": "app.bsky.richtext.facet#link", "uri": "https://siar.example/launch"}
            ],
        },
        {
            "index": {"byteStart": raw.index(mention), "byteEnd": raw.index(mention) + 9},
            "features": [{"$type": "app.bsky.richtext.facet#mention", "did": BOB}],
        },
        {
            "index": {"byteStart": raw.index(tag), "byteEnd": raw.index(tag) + len(tag)},
            "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": "Siar"}],
        },
    ]
    assert published.network_post_id == POST_URI
    assert published.permalink == f"https://bsky.app/profile/{DID}/post/3l6oveex3ii2l"


async def test_an_unresolvable_mention_gets_no_facet(
    api: respx.MockRouter, bsky: BlueskyConnector
) -> None:
    api.get(xrpc("com.atproto.identity.resolveHandle")).respond(
        400, json={"error": "InvalidRequest", "message": "Unable to resolve handle"}
    )
    create = api.post(xrpc("com.atproto.repo.createRecord")).mock(return_value=created())
    await bsky.publish(ACCOUNT, CREDENTIAL, OutgoingPost(text="hi @ghost.test", marker="d"))
    assert "facets" not in body_of(create.calls.last.request)["record"]


async def test_publish_uploads_images_first_and_embeds_them(
    api: respx.MockRouter, bsky: BlueskyConnector
) -> None:
    upload = api.post(xrpc("com.atproto.repo.uploadBlob")).respond(200, json={"blob": blob()})
    create = api.post(xrpc("com.atproto.repo.createRecord")).mock(return_value=created())
    post = OutgoingPost(
        text="Two pictures", marker="d", media=[image(), image()], link="https://siar.example"
    )
    await bsky.publish(ACCOUNT, CREDENTIAL, post)

    assert upload.call_count == 2
    sent = upload.calls.last.request
    assert sent.headers["content-type"] == "image/png"
    assert sent.headers["authorization"] == f"Bearer {ACCESS}"
    assert sent.content == image().content
    record = body_of(create.calls.last.request)["record"]
    assert record["embed"] == {
        "$type": "app.bsky.embed.images",
        "images": [
            {"alt": "A sunset", "image": blob(), "aspectRatio": {"width": 1200, "height": 800}}
        ]
        * 2,
    }
    # With the card taken by images, the link goes in the text (and gets a facet).
    assert record["text"] == "Two pictures\nhttps://siar.example"
    assert record["facets"][0]["features"][0]["uri"] == "https://siar.example"


async def test_publish_embeds_a_video_blob(api: respx.MockRouter, bsky: BlueskyConnector) -> None:
    api.post(xrpc("com.atproto.repo.uploadBlob")).respond(
        200, json={"blob": blob("video/mp4", 5000)}
    )
    create = api.post(xrpc("com.atproto.repo.createRecord")).mock(return_value=created())
    clip = MediaItem(
        kind=MediaKind.VIDEO, mime_type="video/mp4", size_bytes=5000, content=b"\x00" * 5000
    )
    await bsky.publish(ACCOUNT, CREDENTIAL, OutgoingPost(text="Clip", marker="d", media=[clip]))
    embed = body_of(create.calls.last.request)["record"]["embed"]
    assert embed == {"$type": "app.bsky.embed.video", "video": blob("video/mp4", 5000)}


async def test_a_link_outside_the_text_becomes_a_card(
    api: respx.MockRouter, bsky: BlueskyConnector
) -> None:
    create = api.post(xrpc("com.atproto.repo.createRecord")).mock(return_value=created())
    post = OutgoingPost(text="Read this", marker="d", link="https://siar.example", title="Siar")
    await bsky.publish(ACCOUNT, CREDENTIAL, post)
    record = body_of(create.calls.last.request)["record"]
    assert record["text"] == "Read this"
    assert record["embed"] == {
        "$type": "app.bsky.embed.external",
        "external": {"uri": "https://siar.example", "title": "Siar", "description": ""},
    }


async def test_thread_parts_and_first_comment_reply_to_root_and_parent(
    api: respx.MockRouter, bsky: BlueskyConnector
) -> None:
    create = api.post(xrpc("com.atproto.repo.createRecord")).mock(
        side_effect=[created("root"), created("part2"), created("comment")]
    )
    post = OutgoingPost(text="1/2", marker="d", thread=["2/2"], first_comment="Links below")
    published = await bsky.publish(ACCOUNT, CREDENTIAL, post)

    root = {"uri": f"at://{DID}/app.bsky.feed.post/root", "cid": CID}
    part2 = {"uri": f"at://{DID}/app.bsky.feed.post/part2", "cid": CID}
    records = [body_of(call.request)["record"] for call in create.calls]
    assert "reply" not in records[0]
    assert records[1]["text"] == "2/2"
    assert records[1]["reply"] == {"root": root, "parent": root}
    assert "siarMarker" not in records[1]
    assert records[2]["text"] == "Links below"
    assert records[2]["reply"] == {"root": root, "parent": root}
    assert published.network_post_id == root["uri"]
    assert part2["uri"] != root["uri"]


async def test_a_failed_thread_part_keeps_the_root_and_is_a_partial_publish(
    api: respx.MockRouter, bsky: BlueskyConnector
) -> None:
    create = api.post(xrpc("com.atproto.repo.createRecord")).mock(
        side_effect=[
            created("root"),
            created("part2"),
            httpx.Response(
                400, json={"error": "InvalidRequest", "message": "Record/text must not be empty"}
            ),
        ]
    )
    post = OutgoingPost(text="1/4", marker="d", thread=["2/4", "3/4", "4/4"])
    with pytest.raises(PartiallyPublishedError) as caught:
        await bsky.publish(ACCOUNT, CREDENTIAL, post)
    assert create.call_count == 3  # part 4 is not tried once part 3 failed
    assert caught.value.published.network_post_id == f"at://{DID}/app.bsky.feed.post/root"
    assert "Bluesky published the post but not part 3 of 4, nor what follows it" in (
        caught.value.reason
    )


@pytest.mark.parametrize(
    ("post", "message"),
    [
        (OutgoingPost(text="x" * 301, marker="d"), "limited to 300"),
        (OutgoingPost(text="ok", marker="d", thread=["y" * 301]), "limited to 300"),
        (OutgoingPost(text="ok", marker="d", media=[image()] * 5), "at most 4 images"),
        (OutgoingPost(text="ok", marker="d", media=[image(1_000_001)]), "at most 1000000"),
        (OutgoingPost(text="ok", marker="d", media=[image(mime="image/bmp")]), "image/bmp"),
        (
            OutgoingPost(
                text="ok",
                marker="d",
                media=[
                    image(),
                    MediaItem(
                        kind=MediaKind.VIDEO, mime_type="video/mp4", size_bytes=1, content=b"v"
                    ),
                ],
            ),
            "either one video",
        ),
    ],
)
async def test_invalid_posts_are_refused_before_any_call(
    api: respx.MockRouter, bsky: BlueskyConnector, post: OutgoingPost, message: str
) -> None:
    with pytest.raises(PermanentError, match=message):
        await bsky.publish(ACCOUNT, CREDENTIAL, post)
    assert not api.calls


async def test_300_graphemes_of_emoji_fit(api: respx.MockRouter, bsky: BlueskyConnector) -> None:
    create = api.post(xrpc("com.atproto.repo.createRecord")).mock(return_value=created())
    family = "👩‍👩‍👧‍👦"  # one grapheme, seven code points
    await bsky.publish(ACCOUNT, CREDENTIAL, OutgoingPost(text=family * 300, marker="d"))
    assert create.called


# -- finding a post again --------------------------------------------------------------
def listed(rkey: str, text: str, at: datetime, **extra: Any) -> dict[str, Any]:
    value = {"$type": "app.bsky.feed.post", "text": text, "createdAt": at.isoformat(), **extra}
    return {"uri": f"at://{DID}/app.bsky.feed.post/{rkey}", "cid": CID, "value": value}


async def test_find_by_marker_finds_the_record_carrying_the_marker(
    api: respx.MockRouter, bsky: BlueskyConnector
) -> None:
    now = datetime.now(UTC)
    route = api.get(xrpc("com.atproto.repo.listRecords")).mock(
        side_effect=[
            httpx.Response(
                200,
                json={
                    "records": [listed("a", "Hello", now, siarMarker="other")],
                    "cursor": "a",
                },
            ),
            httpx.Response(
                200,
                json={
                    "records": [
                        listed("b", "Hello (edited in Siar)", now, siarMarker="dlv_1"),
                        listed("c", "Old", now - timedelta(days=1)),
                    ],
                    "cursor": "c",
                },
            ),
        ]
    )
    post = OutgoingPost(text="Hello (edited in Siar)", marker="dlv_1")
    found = await bsky.find_by_marker(ACCOUNT, CREDENTIAL, post, now - timedelta(minutes=5))

    assert found is not None
    assert found.network_post_id == f"at://{DID}/app.bsky.feed.post/b"
    first, second = (call.request.url.params for call in route.calls)
    assert first["repo"] == DID
    assert first["collection"] == "app.bsky.feed.post"
    assert "cursor" not in first
    assert second["cursor"] == "a"


async def test_find_by_marker_falls_back_to_the_exact_text_of_a_top_level_post(
    api: respx.MockRouter, bsky: BlueskyConnector
) -> None:
    now = datetime.now(UTC)
    reply = {"root": {"uri": POST_URI, "cid": CID}, "parent": {"uri": POST_URI, "cid": CID}}
    api.get(xrpc("com.atproto.repo.listRecords")).respond(
        200,
        json={
            "records": [listed("r", "Same text", now, reply=reply), listed("t", "Same text", now)]
        },
    )
    post = OutgoingPost(text="Same text", marker="dlv_2")
    found = await bsky.find_by_marker(ACCOUNT, CREDENTIAL, post, now - timedelta(minutes=1))
    assert found is not None
    assert found.network_post_id.endswith("/t")


async def test_find_by_marker_stops_at_posts_older_than_since(
    api: respx.MockRouter, bsky: BlueskyConnector
) -> None:
    now = datetime.now(UTC)
    route = api.get(xrpc("com.atproto.repo.listRecords")).respond(
        200,
        json={"records": [listed("old", "Hello", now - timedelta(hours=2))], "cursor": "old"},
    )
    post = OutgoingPost(text="Hello", marker="dlv_3")
    assert await bsky.find_by_marker(ACCOUNT, CREDENTIAL, post, now - timedelta(hours=1)) is None
    assert route.call_count == 1

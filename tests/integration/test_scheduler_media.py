"""The scheduler's media library on a real MongoDB: GridFS content, duplicates, in-use
protection and tag search; then its HTTP routes through ``httpx.ASGITransport``."""

from __future__ import annotations

import io
import os
import struct
from collections.abc import AsyncIterator

import pytest
from PIL import Image
from pymongo.asynchronous.database import AsyncDatabase

from siar.connectors.rules import MediaKind
from siar.runtime.mongo import Document, ensure_indexes
from siar_scheduler.media import (
    MediaInUse,
    MediaLibrary,
    MediaNotFound,
    MediaTooLarge,
    UnknownMedia,
    UnsupportedMedia,
    UploadDetails,
    UploadLimits,
)
from siar_scheduler.media_store import MEDIA_INDEXES, MediaStore

from .conftest import unique

LIMITS = UploadLimits(image_bytes=64 * 1024, video_bytes=512 * 1024)


def image(fmt: str, width: int, height: int, *, seed: int = 0) -> bytes:
    """A real image made by Pillow; ``seed`` makes distinct content."""
    out = io.BytesIO()
    Image.new("RGB", (width, height), (seed % 256, 80, 90)).save(out, fmt)
    return out.getvalue()


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I4s", len(payload) + 8, kind) + payload


def mp4(
    *,
    seconds: float = 2.0,
    width: int = 640,
    height: int = 360,
    moov_last: bool = False,
    payload: bytes = bytes(1024),
) -> bytes:
    """A minimal MP4: ftyp, moov (mvhd + one video trak), mdat (see unit tests for more)."""
    identity = (0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)
    mvhd = _box(b"mvhd", struct.pack(">4xIIII", 0, 0, 1000, round(seconds * 1000)) + bytes(80))
    tkhd = _box(
        b"tkhd",
        struct.pack(">4xIII4xI16x9iII", 0, 0, 1, 0, *identity, width << 16, height << 16),
    )
    hdlr = _box(b"hdlr", bytes(8) + b"vide" + bytes(13))
    moov = _box(b"moov", mvhd + _box(b"trak", tkhd + _box(b"mdia", hdlr)))
    ftyp = _box(b"ftyp", b"isom" + bytes(4) + b"isommp41")
    mdat = _box(b"mdat", payload)
    return ftyp + (mdat + moov if moov_last else moov + mdat)


@pytest.fixture
async def library(db: AsyncDatabase[Document]) -> MediaLibrary:
    """A library on this test's own database, with small limits."""
    await ensure_indexes(db, MEDIA_INDEXES)
    return MediaLibrary(MediaStore(db), LIMITS)


async def pieces(data: bytes, size: int = 1000) -> AsyncIterator[bytes]:
    """``data`` arriving in pieces, as an upload does."""
    for i in range(0, len(data), size):
        yield data[i : i + size]


async def upload(
    library: MediaLibrary, ws: str, data: bytes, *, filename: str = "a.png", tags: str = ""
) -> tuple[str, bool]:
    """Upload ``data``; the id and whether it was a duplicate."""
    done = await library.upload(
        workspace_id=ws,
        created_by="usr_1",
        content=pieces(data),
        details=lambda: UploadDetails(filename=filename, tags=tags.split(","), alt_text=" A cat "),
    )
    return done.item.id, done.duplicate


async def gridfs_ids(db: AsyncDatabase[Document]) -> list[str]:
    """Ids of the files in the media bucket."""
    return sorted(str(d["_id"]) for d in await db["media.files"].find({}).to_list())


async def test_an_image_round_trips_through_gridfs(
    library: MediaLibrary, db: AsyncDatabase[Document]
) -> None:
    ws = unique("ws")
    data = image("PNG", 200, 100, seed=1)
    done = await library.upload(
        workspace_id=ws,
        created_by="usr_1",
        content=pieces(data, 333),
        details=lambda: UploadDetails(filename="C:\\pics\\Cat.png", tags=["#Cats", "cute "]),
    )
    item = done.item
    assert not done.duplicate
    assert item.id.startswith("med_")
    assert (item.filename, item.mime_type, item.kind) == ("Cat.png", "image/png", MediaKind.IMAGE)
    assert (item.size_bytes, item.width, item.height, item.duration_s) == (
        len(data),
        200,
        100,
        None,
    )
    assert item.tags == ["cats", "cute"]
    assert await library.content(ws, item.id) == data
    assert await gridfs_ids(db) == [item.id]
    assert (await library.get(ws, item.id)).checksum_sha256 == item.checksum_sha256
    with pytest.raises(MediaNotFound):
        await library.get(unique("ws"), item.id)  # another workspace sees nothing


async def test_a_video_keeps_its_duration_and_size(library: MediaLibrary) -> None:
    ws = unique("ws")
    data = mp4(seconds=4.2, width=1280, height=720, moov_last=True, payload=os.urandom(200_000))
    media_id, _ = await upload(library, ws, data, filename="clip.mov")
    item = await library.get(ws, media_id)
    assert (item.kind, item.mime_type, item.duration_s) == (MediaKind.VIDEO, "video/mp4", 4.2)
    assert (item.width, item.height) == (1280, 720)
    assert await library.content(ws, media_id) == data


async def test_a_duplicate_returns_the_existing_item_and_stores_nothing(
    library: MediaLibrary, db: AsyncDatabase[Document]
) -> None:
    ws = unique("ws")
    data = image("JPEG", 50, 50, seed=2)
    first, dup = await upload(library, ws, data, filename="one.jpg")
    again, dup_again = await upload(library, ws, data, filename="two.jpg")
    assert (dup, dup_again, again) == (False, True, first)
    assert await gridfs_ids(db) == [first]
    assert (await library.get(ws, first)).filename == "one.jpg"
    elsewhere, dup_elsewhere = await upload(library, unique("ws"), data)
    assert (elsewhere != first, dup_elsewhere) == (True, False)  # per workspace


async def test_too_large_content_is_refused_and_nothing_is_kept(
    library: MediaLibrary, db: AsyncDatabase[Document]
) -> None:
    ws = unique("ws")
    noisy = image("PNG", 8, 8) + os.urandom(LIMITS.image_bytes)  # a PNG header, then too much
    with pytest.raises(MediaTooLarge) as caught:
        await upload(library, ws, noisy)
    assert caught.value.problem_extra == {"media_kind": "image", "limit_bytes": LIMITS.image_bytes}
    video = mp4(payload=os.urandom(LIMITS.video_bytes))
    with pytest.raises(MediaTooLarge):
        await upload(library, ws, video)
    assert await gridfs_ids(db) == []
    assert await library.search(ws) == []


@pytest.mark.parametrize(
    ("data", "detected"),
    [
        (b"%PDF-1.7\n" + b"x" * 300_000, "application/pdf"),
        (b"\xff\xd8\xff\xe0" + b"not really a jpeg" * 2_000, "image/jpeg"),
        (b"", "empty"),
    ],
)
async def test_unsupported_content_is_refused_naming_its_type(
    library: MediaLibrary, db: AsyncDatabase[Document], data: bytes, detected: str
) -> None:
    with pytest.raises(UnsupportedMedia) as caught:
        await upload(library, unique("ws"), data)
    assert caught.value.problem_extra["detected_type"] == detected
    assert await gridfs_ids(db) == []


async def test_media_of_a_pending_post_cannot_be_deleted(
    library: MediaLibrary, db: AsyncDatabase[Document]
) -> None:
    ws = unique("ws")
    media_id, _ = await upload(library, ws, image("PNG", 10, 10, seed=3))
    post = {"_id": "pst_1", "workspace_id": ws, "status": "scheduled", "media_ids": [media_id]}
    await db["posts"].insert_one(post)
    await db["posts"].insert_one(
        {"_id": "pst_2", "workspace_id": unique("ws"), "status": "draft", "media_ids": [media_id]}
    )
    with pytest.raises(MediaInUse) as caught:
        await library.delete(workspace_id=ws, media_id=media_id)
    assert caught.value.problem_extra == {"post_ids": ["pst_1"]}
    await db["posts"].replace_one({"_id": "pst_1"}, {**post, "status": "published"})
    await library.delete(workspace_id=ws, media_id=media_id)
    with pytest.raises(MediaNotFound):
        await library.get(ws, media_id)
    assert await gridfs_ids(db) == []
    with pytest.raises(MediaNotFound):
        await library.delete(workspace_id=ws, media_id=media_id)


async def test_search_by_tags_file_name_and_kind(library: MediaLibrary) -> None:
    ws = unique("ws")
    beach, _ = await upload(
        library, ws, image("PNG", 9, 9, seed=4), filename="Beach.png", tags="summer,beach"
    )
    city, _ = await upload(
        library, ws, image("PNG", 9, 9, seed=5), filename="city.png", tags="summer"
    )
    clip, _ = await upload(library, ws, mp4(), filename="beach-clip.mp4", tags="Summer, Video")

    async def ids(**query: object) -> list[str]:
        return [i.id for i in await library.search(ws, **query)]  # type: ignore[arg-type]

    assert await ids(tags=["#SUMMER"]) == [clip, city, beach]  # newest first
    assert await ids(tags=["summer", "beach"]) == [beach]
    assert await ids(filename_contains="BEACH") == [clip, beach]
    assert await ids(filename_contains=".", kind=MediaKind.VIDEO) == [clip]
    assert await ids(tags=["summer"], limit=1) == [clip]
    await library.update(workspace_id=ws, media_id=city, tags=["beach", "night"], alt_text="")
    assert await ids(tags=["beach"]) == [city, beach]
    assert (await library.get(ws, city)).version == 2


async def test_describe_gives_connector_items_or_names_the_unknown(library: MediaLibrary) -> None:
    ws = unique("ws")
    a, _ = await upload(library, ws, image("PNG", 30, 20, seed=6), filename="a.png")
    b, _ = await upload(library, ws, mp4(seconds=1), filename="b.mp4")
    items = await library.describe(ws, [b, a])
    assert [(i.kind, i.filename, i.width) for i in items] == [
        (MediaKind.VIDEO, "b.mp4", 640),
        (MediaKind.IMAGE, "a.png", 30),
    ]
    assert (items[1].alt_text, items[1].content) == ("A cat", b"")
    with pytest.raises(UnknownMedia) as caught:
        await library.describe(ws, [a, "med_nope", "med_gone"])
    assert caught.value.problem_extra == {"media_ids": ["med_nope", "med_gone"]}

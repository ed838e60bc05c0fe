"""Media probing: types from magic bytes, image sizes by Pillow, MP4 boxes parsed by hand."""

from __future__ import annotations

import struct
import zlib

import pytest

from siar.connectors.rules import MediaKind
from siar_scheduler.media_probe import (
    IMAGE_HEAD_BYTES,
    MediaInfo,
    UnrecognisedMedia,
    probe_bytes,
    sniff,
    start_probe,
)

from .media_samples import ROTATE_90, box, image, mp4


def streamed(data: bytes, piece: int) -> MediaInfo:
    """Probe ``data`` fed in pieces, as an upload arrives."""
    probe = start_probe(data[:16])
    for i in range(0, len(data), piece):
        probe.feed(data[i : i + piece])
    return probe.finish()


@pytest.mark.parametrize(
    ("fmt", "mime"),
    [("PNG", "image/png"), ("JPEG", "image/jpeg"), ("GIF", "image/gif"), ("WEBP", "image/webp")],
)
def test_images_are_recognised_with_their_size(fmt: str, mime: str) -> None:
    info = probe_bytes(image(fmt, 321, 123))
    assert info == MediaInfo(mime, MediaKind.IMAGE, 321, 123, None)


def test_an_image_fed_in_small_pieces_gives_the_same_answer() -> None:
    data = image("PNG", 64, 48)
    assert streamed(data, 7) == probe_bytes(data)


def test_a_large_jpeg_is_sized_from_its_header_alone() -> None:
    data = image("JPEG", 40, 30) + b"\x00" * (IMAGE_HEAD_BYTES * 2)  # trailing bytes ignored
    assert streamed(data, 1 << 20).width == 40


@pytest.mark.parametrize("piece", [1, 5, 1000, 1 << 20])
def test_mp4_duration_and_size_from_the_boxes(piece: int) -> None:
    info = streamed(mp4(seconds=12.345, timescale=600, width=1920, height=1080), piece)
    assert info == MediaInfo("video/mp4", MediaKind.VIDEO, 1920, 1080, 12.345)


def test_moov_after_the_media_data_is_found() -> None:
    info = streamed(mp4(seconds=3, moov_last=True, payload=b"\x01" * 300_000), 65_536)
    assert (info.duration_s, info.width, info.height) == (3.0, 640, 360)


def test_version_1_headers_and_64_bit_box_sizes() -> None:
    data = mp4(seconds=7.5, timescale=90_000, version=1, large_mdat=True, moov_last=True)
    info = streamed(data, 3)
    assert (info.duration_s, info.width, info.height) == (7.5, 640, 360)


def test_a_video_filmed_upright_reports_its_display_size() -> None:
    info = probe_bytes(mp4(width=1920, height=1080, matrix=ROTATE_90))
    assert (info.width, info.height) == (1080, 1920)


def test_quicktime_is_recognised_by_its_brand() -> None:
    info = probe_bytes(mp4(brand=b"qt  ", seconds=1))
    assert (info.mime_type, info.kind, info.duration_s) == ("video/quicktime", MediaKind.VIDEO, 1.0)


@pytest.mark.parametrize(
    ("head", "mime"),
    [
        (b"%PDF-1.7\n", "application/pdf"),
        (b"PK\x03\x04rest", "application/zip"),
        (b"RIFF\x00\x00\x00\x00AVI LIST", "video/x-msvideo"),
        (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00", "image/heic"),
        (b"\x00\x00\x00\x18ftyp3gp5\x00\x00\x00\x00", "video/3gpp"),
        (b"\x1aE\xdf\xa3\x01\x00", "video/webm"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "image/svg+xml"),
        (b"hello, world", "text/plain"),
        (b"\x00\x01\x02\x03\xfe\xff\x00\x10", "application/octet-stream"),
        (b"", "empty"),
    ],
)
def test_other_types_are_named_and_refused(head: bytes, mime: str) -> None:
    assert sniff(head) == mime
    with pytest.raises(UnrecognisedMedia) as caught:
        start_probe(head)
    assert caught.value.detected == mime


def test_the_declared_type_is_irrelevant_a_png_named_mp4_is_a_png() -> None:
    assert probe_bytes(image("PNG", 10, 10)).mime_type == "image/png"


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"\xff\xd8\xff\xe0" + b"garbage" * 50, "unreadable image"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 20, "unreadable image"),
        (mp4()[:-100], "truncated"),
        (box(b"ftyp", b"isom\x00\x00\x00\x00") + box(b"mdat", b"\x00" * 64), "no moov"),
        (box(b"ftyp", b"isom\x00\x00\x00\x00") + b"\x00\x00\x00\x10\x00\xff\x01\x02" * 4, "box"),
        (box(b"ftyp", b"isom\x00\x00\x00\x00") + box(b"moov", b""), "no video track"),
    ],
)
def test_garbage_behind_allowed_magic_is_refused(data: bytes, reason: str) -> None:
    with pytest.raises(UnrecognisedMedia, match=reason):
        probe_bytes(data)


def test_an_image_of_too_many_pixels_is_refused() -> None:
    # A real PNG whose header is rewritten to claim 30000 x 30000 pixels: a bomb.
    data = bytearray(image("PNG", 8, 8))
    data[16:24] = struct.pack(">II", 30_000, 30_000)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    with pytest.raises(UnrecognisedMedia, match="pixels"):
        probe_bytes(bytes(data))

"""Real media files made in the test: images by Pillow, MP4/QuickTime from boxes."""

from __future__ import annotations

import io
import struct

from PIL import Image

ROTATE_90 = (0, 0x10000, 0, -0x10000, 0, 0, 0, 0, 0x40000000)
IDENTITY = (0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)


def image(fmt: str, width: int, height: int, *, seed: int = 0) -> bytes:
    """An image of ``fmt`` (PNG, JPEG, GIF, WEBP); ``seed`` makes distinct content."""
    picture = Image.new("RGB", (width, height), (seed % 256, (seed * 7) % 256, 90))
    picture.putpixel((0, 0), (255, seed % 256, 0))
    out = io.BytesIO()
    picture.save(out, fmt)
    return out.getvalue()


def box(kind: bytes, payload: bytes, *, large: bool = False) -> bytes:
    """One ISO-BMFF box (a 64-bit size when ``large``)."""
    if large:
        return struct.pack(">I4sQ", 1, kind, len(payload) + 16) + payload
    return struct.pack(">I4s", len(payload) + 8, kind) + payload


def full_box(kind: bytes, version: int, payload: bytes) -> bytes:
    """A box with version and (zero) flags."""
    return box(kind, bytes([version, 0, 0, 0]) + payload)


def mvhd(timescale: int, duration: int, *, version: int = 0) -> bytes:
    """Movie header."""
    if version == 1:
        times = struct.pack(">QQIQ", 0, 0, timescale, duration)
    else:
        times = struct.pack(">IIII", 0, 0, timescale, duration)
    rest = struct.pack(">iH10x9i24xI", 0x10000, 0x100, *IDENTITY, 2)
    return full_box(b"mvhd", version, times + rest)


def tkhd(width: int, height: int, *, version: int = 0, matrix: tuple[int, ...] = IDENTITY) -> bytes:
    """Track header; width and height in 16.16 fixed point."""
    if version == 1:
        times = struct.pack(">QQI4xQ", 0, 0, 1, 0)
    else:
        times = struct.pack(">III4xI", 0, 0, 1, 0)
    rest = struct.pack(">8xhhh2x9iII", 0, 0, 0, *matrix, width << 16, height << 16)
    return full_box(b"tkhd", version, times + rest)


def trak(handler: bytes, width: int, height: int, **tkhd_args: object) -> bytes:
    """A track with its header and handler type (``vide``, ``soun``)."""
    hdlr = full_box(b"hdlr", 0, bytes(4) + handler + bytes(12) + b"\x00")
    return box(b"trak", tkhd(width, height, **tkhd_args) + box(b"mdia", hdlr))  # type: ignore[arg-type]


def mp4(
    *,
    seconds: float = 2.5,
    timescale: int = 1000,
    width: int = 640,
    height: int = 360,
    brand: bytes = b"isom",
    moov_last: bool = False,
    version: int = 0,
    matrix: tuple[int, ...] = IDENTITY,
    payload: bytes = b"\x00" * 4096,
    large_mdat: bool = False,
) -> bytes:
    """A small, structurally valid MP4 (or QuickTime, with brand ``qt  ``)."""
    ftyp = box(b"ftyp", brand + struct.pack(">I", 0) + brand + b"mp41")
    moov = box(
        b"moov",
        mvhd(timescale, round(seconds * timescale), version=version)
        + trak(b"soun", 0, 0)
        + trak(b"vide", width, height, version=version, matrix=matrix),
    )
    mdat = box(b"mdat", payload, large=large_mdat)
    return ftyp + (mdat + moov if moov_last else moov + mdat)

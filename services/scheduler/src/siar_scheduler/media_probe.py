"""What an upload really is, read from its bytes: type, dimensions and duration.

The client's declared content type is never consulted. :func:`sniff` names the type
from magic bytes; :func:`start_probe` returns a probe that is fed the content as it
streams past and, at the end, reads dimensions (Pillow, for images) or duration and
dimensions (ISO-BMFF boxes, for MP4 and QuickTime) without holding whole videos.
"""

from __future__ import annotations

import io
import struct
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

from PIL import Image

from siar.connectors.rules import MediaKind

ALLOWED: dict[str, MediaKind] = {
    "image/jpeg": MediaKind.IMAGE,
    "image/png": MediaKind.IMAGE,
    "image/gif": MediaKind.IMAGE,
    "image/webp": MediaKind.IMAGE,
    "video/mp4": MediaKind.VIDEO,
    "video/quicktime": MediaKind.VIDEO,
}
SNIFF_BYTES = 16
"""Enough of the start of a file to name every type :func:`sniff` knows."""
IMAGE_HEAD_BYTES = 1 << 20
"""Pillow finds JPEG, PNG and GIF dimensions in the header; this much is kept."""
MAX_MOOV_BYTES = 64 << 20
"""A larger ``moov`` box (the index of a video) is refused rather than buffered."""

_PIL_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/gif": "GIF", "image/webp": "WEBP"}
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"%PDF-", "application/pdf"),
    (b"PK\x03\x04", "application/zip"),
    (b"\x1f\x8b", "application/gzip"),
    (b"\x1aE\xdf\xa3", "video/webm"),
    (b"OggS", "application/ogg"),
    (b"ID3", "audio/mpeg"),
    (b"fLaC", "audio/flac"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
    (b"BM", "image/bmp"),
    (b"<svg", "image/svg+xml"),
    (b"<?xml", "application/xml"),
)
_RIFF = {b"WEBP": "image/webp", b"AVI ": "video/x-msvideo", b"WAVE": "audio/wav"}
_FTYP_BRANDS = {
    b"qt  ": "video/quicktime",
    b"M4A ": "audio/mp4",
    b"M4B ": "audio/mp4",
    b"heic": "image/heic",
    b"heix": "image/heic",
    b"mif1": "image/heif",
    b"msf1": "image/heif",
    b"avif": "image/avif",
    b"avis": "image/avif",
    b"crx ": "image/x-canon-cr3",
}
# QuickTime files from before ``ftyp`` existed start straight with one of these boxes.
_LEGACY_QT = {b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"}


class UnrecognisedMedia(ValueError):
    """The content is not an allowed type, or claims to be one but cannot be read."""

    def __init__(self, detected: str, reason: str) -> None:
        super().__init__(f"{detected}: {reason}")
        self.detected = detected
        self.reason = reason


@dataclass(frozen=True)
class MediaInfo:
    """What the bytes say about themselves."""

    mime_type: str
    kind: MediaKind
    width: int | None = None
    height: int | None = None
    duration_s: float | None = None


class Probe(Protocol):
    """Fed the whole content in order, then asked what it saw."""

    mime_type: str

    def feed(self, data: bytes) -> None:
        """Take the next piece of the content."""

    def finish(self) -> MediaInfo:
        """Everything was fed: the result, or :class:`UnrecognisedMedia`."""


def sniff(head: bytes) -> str:
    """The media type the first bytes of a file announce (allowed or not)."""
    if not head:
        return "empty"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand.startswith(b"3g2"):
            return "video/3gpp2"
        if brand.startswith(b"3gp"):
            return "video/3gpp"
        return _FTYP_BRANDS.get(brand, "video/mp4")
    if head[4:8] in _LEGACY_QT:
        return "video/quicktime"
    if head[:4] == b"RIFF":
        return _RIFF.get(head[8:12], "application/x-riff")
    for magic, mime in _MAGIC:
        if head.startswith(magic):
            return mime
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return "application/octet-stream"
    return "text/plain"


def start_probe(head: bytes) -> Probe:
    """A probe for content starting with ``head``, or :class:`UnrecognisedMedia`.

    ``head`` is only looked at (at least :data:`SNIFF_BYTES` unless the file is
    shorter); feed it to the probe like the rest of the content.
    """
    mime = sniff(head)
    kind = ALLOWED.get(mime)
    if kind is None:
        raise UnrecognisedMedia(mime, "not an allowed media type")
    if kind is MediaKind.IMAGE:
        return _ImageProbe(mime)
    return _IsoBmffProbe(mime)


def probe_bytes(data: bytes) -> MediaInfo:
    """Probe content held whole in memory."""
    probe = start_probe(data[:SNIFF_BYTES])
    probe.feed(data)
    return probe.finish()


class _ImageProbe:
    """Keeps the header (WebP: the whole file, as Pillow wants it) and asks Pillow."""

    def __init__(self, mime_type: str) -> None:
        self.mime_type = mime_type
        self._keep = None if mime_type == "image/webp" else IMAGE_HEAD_BYTES
        self._head = bytearray()

    def feed(self, data: bytes) -> None:
        room = len(data) if self._keep is None else self._keep - len(self._head)
        if room > 0:
            self._head += data[:room]

    def finish(self) -> MediaInfo:
        fmt = _PIL_FORMATS[self.mime_type]
        try:
            with warnings.catch_warnings():
                # An image of more pixels than Pillow's limit is refused, not opened.
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                with Image.open(io.BytesIO(self._head), formats=[fmt]) as image:
                    width, height = image.size
        except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as err:
            raise UnrecognisedMedia(self.mime_type, f"unreadable image ({err})") from err
        except Image.DecompressionBombWarning as err:
            raise UnrecognisedMedia(self.mime_type, "too many pixels") from err
        return MediaInfo(self.mime_type, MediaKind.IMAGE, width, height)


class _IsoBmffProbe:
    """Walks the top-level boxes as they stream past, keeping only ``moov``.

    Camera files often put ``moov`` after the media data; skipping ``mdat`` by its
    size finds it wherever it is without buffering the video.
    """

    def __init__(self, mime_type: str) -> None:
        self.mime_type = mime_type
        self._header = bytearray()
        self._skip = 0
        self._moov_left = 0
        self._moov = bytearray()
        self._to_end: str | None = None  # a box of size 0 runs to the end of the file
        self.moov: bytes | None = None

    def _fail(self, reason: str) -> UnrecognisedMedia:
        return UnrecognisedMedia(self.mime_type, reason)

    def feed(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            if self._to_end == "moov":
                self._collect(view)
                return
            if self._to_end == "skip":
                return
            if self._skip:
                n = min(self._skip, len(view))
                self._skip -= n
                view = view[n:]
            elif self._moov_left:
                n = min(self._moov_left, len(view))
                self._collect(view[:n])
                self._moov_left -= n
                view = view[n:]
                if not self._moov_left:
                    self.moov = bytes(self._moov)
            else:
                view = self._read_header(view)

    def _collect(self, data: memoryview) -> None:
        if len(self._moov) + len(data) > MAX_MOOV_BYTES:
            raise self._fail("moov box too large")
        self._moov += data

    def _read_header(self, view: memoryview) -> memoryview:
        need = 16 if len(self._header) >= 8 and self._header[:4] == b"\x00\x00\x00\x01" else 8
        n = min(need - len(self._header), len(view))
        self._header += view[:n]
        view = view[n:]
        if len(self._header) < need:
            return view
        if need == 8 and self._header[:4] == b"\x00\x00\x00\x01":
            return view  # a 64-bit size follows
        size, kind = struct.unpack(">I4s", self._header[:8])
        if size == 1:
            (size,) = struct.unpack(">Q", self._header[8:16])
        if not _printable(kind) or (size != 0 and size < need):
            raise self._fail("not a valid ISO-BMFF box structure")
        self._header.clear()
        wants_moov = kind == b"moov" and self.moov is None
        if size == 0:
            self._to_end = "moov" if wants_moov else "skip"
        elif wants_moov:
            self._moov_left = size - need
            if self._moov_left > MAX_MOOV_BYTES:
                raise self._fail("moov box too large")
            if not self._moov_left:
                self.moov = b""
        else:
            self._skip = size - need
        return view

    def finish(self) -> MediaInfo:
        if self._to_end == "moov":
            self.moov = bytes(self._moov)
        elif self._header or self._skip or self._moov_left:
            raise self._fail("truncated file (a box ends past the end of the data)")
        if self.moov is None:
            raise self._fail("no moov box (not a complete video)")
        duration, width, height = parse_moov(self.moov, self.mime_type)
        return MediaInfo(self.mime_type, MediaKind.VIDEO, width, height, duration)


def _printable(kind: bytes) -> bool:
    return all(0x20 <= b < 0x7F for b in kind)


def _boxes(data: bytes) -> Iterator[tuple[bytes, bytes]]:
    """The child boxes of a container payload: (type, payload)."""
    pos = 0
    while pos + 8 <= len(data):
        size, kind = struct.unpack_from(">I4s", data, pos)
        header = 8
        if size == 1:
            if pos + 16 > len(data):
                return
            (size,) = struct.unpack_from(">Q", data, pos + 8)
            header = 16
        elif size == 0:
            size = len(data) - pos
        if size < header or pos + size > len(data):
            return
        yield kind, data[pos + header : pos + size]
        pos += size


def parse_moov(moov: bytes, mime_type: str = "video/mp4") -> tuple[float | None, int, int]:
    """Duration (from ``mvhd``, else ``mehd``) and display size of the video track."""
    timescale = duration = 0
    tracks: list[tuple[bytes, int, int]] = []
    for kind, payload in _boxes(moov):
        if kind == b"mvhd" and len(payload) >= 20:
            timescale, duration = _mvhd(payload)
        elif kind == b"mvex" and not duration:
            duration = next((_mehd(p) for k, p in _boxes(payload) if k == b"mehd"), 0)
        elif kind == b"trak":
            tracks.append(_trak(payload))
    video = [t for t in tracks if t[0] == b"vide" and t[1] and t[2]]
    video = video or [t for t in tracks if t[1] and t[2] and t[0] != b"soun"]
    if not video:
        raise UnrecognisedMedia(mime_type, "no video track")
    _, width, height = video[0]
    unknown = duration in (0, 0xFFFFFFFF, 0xFFFFFFFFFFFFFFFF) or timescale == 0
    return (None if unknown else round(duration / timescale, 3)), width, height


def _mvhd(p: bytes) -> tuple[int, int]:
    if p[0] == 1 and len(p) >= 32:
        timescale, duration = struct.unpack_from(">IQ", p, 20)
    else:
        timescale, duration = struct.unpack_from(">II", p, 12)
    return int(timescale), int(duration)


def _mehd(p: bytes) -> int:
    if p[0] == 1 and len(p) >= 12:
        return int(struct.unpack_from(">Q", p, 4)[0])
    return int(struct.unpack_from(">I", p, 4)[0]) if len(p) >= 8 else 0


def _trak(payload: bytes) -> tuple[bytes, int, int]:
    """(handler type, width, height) of a track; width and height as displayed."""
    handler, width, height = b"", 0, 0
    for kind, p in _boxes(payload):
        if kind == b"tkhd":
            width, height = _tkhd_size(p)
        elif kind == b"mdia":
            for sub, q in _boxes(p):
                if sub == b"hdlr" and len(q) >= 12:
                    handler = q[8:12]
    return handler, width, height


def _tkhd_size(p: bytes) -> tuple[int, int]:
    base = 36 if p[:1] == b"\x01" else 24  # after version/flags, times, track id, duration
    if len(p) < base + 60:
        return 0, 0
    a, b, _, c, d = struct.unpack_from(">5i", p, base + 16)
    width, height = struct.unpack_from(">II", p, base + 52)
    width, height = width >> 16, height >> 16  # 16.16 fixed point
    if a == 0 and d == 0 and abs(b) == abs(c) == 0x10000:
        return height, width  # rotated a quarter turn (phones filming upright)
    return width, height

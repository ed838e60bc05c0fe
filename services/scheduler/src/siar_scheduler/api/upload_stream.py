"""A multipart/form-data body read as it arrives, its one file passed on in 1 MiB pieces.

FastAPI's ``UploadFile`` spools the whole body to a temporary file before the route
runs, so a size limit checked afterwards would only bound what is kept, not what is
received (or written to disk). :class:`StreamingForm` feeds the request's byte stream
to python-multipart's push parser instead: the file part goes straight on to the
consumer (the media library writes it to GridFS), the body is bounded while it is
read, and the small text fields are collected for when the file is done.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from fastapi import Request
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header

from siar.runtime.problems import Problem

if TYPE_CHECKING:  # a typing-only name in python-multipart
    from python_multipart.multipart import MultipartCallbacks

PIECE_BYTES = 1 << 20
MAX_FIELD_BYTES = 16 * 1024
MAX_PARTS = 16
FORM_OVERHEAD_BYTES = 1 << 20
"""What the body may hold beyond the file: boundaries, headers and text fields."""


def _too_large(limit: int) -> Problem:
    return Problem(
        413, "media-too-large", "Request body too large", f"at most {limit} bytes per upload"
    )


def _malformed(detail: str) -> Problem:
    return Problem(400, "malformed-multipart", "Malformed multipart body", detail)


class StreamingForm:
    """One request's multipart body: the file part streamed, other fields collected."""

    def __init__(self, request: Request, *, file_field: str, max_file_bytes: int) -> None:
        content_type, params = parse_options_header(request.headers.get("content-type"))
        if content_type != b"multipart/form-data" or not params.get(b"boundary"):
            raise Problem(
                415,
                "unsupported-media-type",
                "Expected multipart/form-data",
                f"send the file as the form field '{file_field}' of a multipart/form-data body",
            )
        self.max_body = max_file_bytes + FORM_OVERHEAD_BYTES
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_body:
            raise _too_large(self.max_body)  # refused before a byte of the body is read
        self.request = request
        self.file_field = file_field
        self.boundary = params[b"boundary"]
        self.filename: str | None = None
        self.fields: dict[str, str] = {}
        self._pending = bytearray()
        self._headers: list[tuple[bytes, bytes]] = []
        self._header = [bytearray(), bytearray()]
        self._in_file = False
        self._field: str | None = None  # the text field being read, if any
        self._value = bytearray()
        self._parts = 0
        self._files = 0
        self._ended = False

    def field(self, name: str) -> str | None:
        """A text field's value (complete once :meth:`file_chunks` is exhausted)."""
        return self.fields.get(name)

    async def file_chunks(self) -> AsyncIterator[bytes]:
        """The file's bytes in pieces of about 1 MiB; reads the whole body.

        Raises a problem (400, 413 or 422) for a malformed, oversized or file-less body.
        """
        parser = MultipartParser(self.boundary, self._callbacks())
        received = 0
        piece = bytearray()
        async for data in self.request.stream():
            received += len(data)
            if received > self.max_body:
                raise _too_large(self.max_body)
            try:
                parser.write(data)
            except FormParserError as err:
                raise _malformed(str(err)) from err
            piece += self._pending
            self._pending.clear()
            if len(piece) >= PIECE_BYTES:
                yield bytes(piece)
                piece.clear()
        parser.finalize()
        if not self._ended:
            raise _malformed("the body ends before the closing boundary")
        if not self._files:
            raise Problem(
                422, "validation", "No file", f"the form field '{self.file_field}' is required"
            )
        if piece:
            yield bytes(piece)

    def _callbacks(self) -> MultipartCallbacks:
        return {
            "on_part_begin": self._on_part_begin,
            "on_part_data": self._on_part_data,
            "on_part_end": self._on_part_end,
            "on_header_field": lambda data, start, end: self._header[0].extend(data[start:end]),
            "on_header_value": lambda data, start, end: self._header[1].extend(data[start:end]),
            "on_header_end": self._on_header_end,
            "on_headers_finished": self._on_headers_finished,
            "on_end": self._on_end,
        }

    def _on_part_begin(self) -> None:
        self._parts += 1
        if self._parts > MAX_PARTS:
            raise _malformed(f"at most {MAX_PARTS} form fields")
        self._headers.clear()
        self._value.clear()
        self._in_file = False
        self._field = None

    def _on_header_end(self) -> None:
        name, value = (bytes(h) for h in self._header)
        self._headers.append((name.lower(), value))
        for h in self._header:
            h.clear()

    def _on_headers_finished(self) -> None:
        disposition = next((v for k, v in self._headers if k == b"content-disposition"), b"")
        _, options = parse_options_header(disposition)
        name = options.get(b"name", b"").decode("utf-8", "replace")
        if name == self.file_field and b"filename" in options:
            self._files += 1
            if self._files > 1:
                raise Problem(422, "validation", "One file per upload", "send one file at a time")
            self.filename = options[b"filename"].decode("utf-8", "replace")
            self._in_file = True
        elif b"filename" not in options and name:
            self._field = name

    def _on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self._in_file:
            self._pending += data[start:end]
        elif self._field is not None:
            if len(self._value) + (end - start) > MAX_FIELD_BYTES:
                raise _malformed(
                    f"the field '{self._field}' is longer than {MAX_FIELD_BYTES} bytes"
                )
            self._value += data[start:end]

    def _on_part_end(self) -> None:
        if self._field is not None:
            self.fields[self._field] = self._value.decode("utf-8", "replace")
        self._in_file = False
        self._field = None

    def _on_end(self) -> None:
        self._ended = True

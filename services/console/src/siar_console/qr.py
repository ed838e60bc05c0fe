"""QR codes of ``otpauth://`` URIs, drawn on the server for the profile page's 2FA set-up.

The URI holds the TOTP secret, so it comes in a POST body (a GET would put it in access
logs and the browser's history) and the SVG is never cached. Only ``otpauth:`` URIs of at
most 1 KB are drawn: this is not a general QR service.
"""

from __future__ import annotations

import io
import json
from typing import Any

import segno
from fastapi import FastAPI, Request, Response

from siar.runtime.problems import Problem

MAX_BODY = 1024
SCHEME = "otpauth://"
# Medium error correction: phone cameras read it off a screen easily, and a typical TOTP
# URI (issuer, account, 32-character secret) still fits a version 6-8 symbol.
ERROR = "m"
SCALE = 4
BORDER = 4


def qr_svg(data: str, *, title: str | None = None) -> bytes:
    """``data`` as a standalone SVG QR code (``SCALE`` px per module, quiet zone ``BORDER``).

    Width and height in px plus a viewBox: shown at its own size it is crisp, and a page
    may still scale it (an SVG without a viewBox would be cropped instead).
    """
    symbol = segno.make(data, error=ERROR, micro=False, boost_error=False)
    out = io.BytesIO()
    symbol.save(
        out,
        kind="svg",
        scale=SCALE,
        border=BORDER,
        unit="px",
        title=title,
        dark="#000",
        light="#fff",
    )
    return out.getvalue()


def _too_large() -> Problem:
    return Problem(413, "payload-too-large", "Body too large", f"At most {MAX_BODY} bytes.")


def _invalid(kind: str, title: str, detail: str) -> Problem:
    # The FastAPI-shaped `errors` list, so the app places the message like any other 422.
    errors = [{"loc": ["body", "data"], "msg": detail, "type": kind}]
    return Problem(422, kind, title, detail, errors=errors)


def otpauth_uri(raw: bytes) -> str:
    """The ``data`` of a request body, or a :class:`Problem` naming what is wrong with it."""
    if len(raw) > MAX_BODY:
        raise _too_large()
    try:
        body: Any = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise Problem(
            400, "malformed-json", "Malformed JSON body", 'Send {"data": "otpauth://…"}.'
        ) from None
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, str) or not data:
        raise _invalid("validation", "Request is not valid", "data: a non-empty string is required")
    if not data.lower().startswith(SCHEME):
        raise _invalid("not-otpauth", "Not an otpauth URI", "data: only otpauth:// URIs are drawn")
    return data


def install_qr_route(app: FastAPI) -> None:
    """``POST /console/qr`` {"data": "otpauth://…"} → ``image/svg+xml``, never cached."""

    @app.post("/console/qr", include_in_schema=False)
    async def qr(request: Request) -> Response:
        media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media_type != "application/json":
            raise Problem(415, "unsupported-media-type", "JSON only", "Send application/json.")
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > MAX_BODY:
            raise _too_large()
        raw = bytearray()
        async for chunk in request.stream():
            raw += chunk
            if len(raw) > MAX_BODY:  # a chunked body that lied or said nothing
                raise _too_large()
        svg = qr_svg(otpauth_uri(bytes(raw)))
        return Response(svg, media_type="image/svg+xml", headers={"cache-control": "no-store"})

"""AT Protocol data as Bluesky writes it: datetimes, at-uris, text length and facets.

A post's ``text`` is limited to 300 graphemes, and links, mentions and hashtags are
not markup but *facets*: byte ranges (inclusive start, exclusive end, counted in the
UTF-8 encoding) with a feature attached (``app.bsky.richtext.facet``). Mentions carry
the account's DID, so handles are resolved before the post is written; a handle that
does not resolve gets no facet, as the Bluesky app does.
"""

from __future__ import annotations

import base64
import json
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from siar.connectors.errors import PermanentError
from siar.connectors.text import grapheme_count

MAX_GRAPHEMES = 300
MAX_TAG_GRAPHEMES = 64
FACET = "app.bsky.richtext.facet"
POST = "app.bsky.feed.post"

_URL = re.compile(r"(?:^|(?<=[\s(]))(https?://[^\s]+)", re.IGNORECASE)
_LABEL = r"[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?"
_MENTION = re.compile(
    rf"(?:^|(?<=[\s(]))@((?:{_LABEL}\.)+[a-zA-Z](?:[a-zA-Z0-9-]{{0,61}}[a-zA-Z0-9])?)"
)
_TAG = re.compile(r"(?:^|(?<=\s))[#\uff03](\S+)")
# Invisible characters that never belong to a tag (soft hyphen, joiners, spaces).
_TAG_STOP = "\u00ad\u2060\u200a\u200b\u200c\u200d\u20e2"


@dataclass(frozen=True)
class Span:
    """A link, mention or hashtag found in text, on UTF-8 byte offsets."""

    kind: Literal["link", "mention", "tag"]
    byte_start: int
    byte_end: int
    value: str  # the URL, the handle without "@", or the tag without "#"


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


def _span(text: str, kind: Literal["link", "mention", "tag"], start: int, end: int) -> Span:
    value = text[start:end]
    if kind != "link":
        value = value[1:]
    return Span(kind, _byte_offset(text, start), _byte_offset(text, end), value)


def _trim_url(url: str) -> str:
    url = url.rstrip(".,;:!?\"'")
    if url.endswith(")") and "(" not in url:
        url = url[:-1]
    return url


def _trim_tag(tag: str) -> str:
    for i, ch in enumerate(tag):
        if ch in _TAG_STOP:
            tag = tag[:i]
            break
    while tag and unicodedata.category(tag[-1]).startswith("P"):
        tag = tag[:-1]
    return tag


def find_spans(text: str) -> list[Span]:
    """Links (http/https), mentions (@handle.domain) and hashtags in ``text``."""
    spans: list[Span] = []
    for match in _URL.finditer(text):
        url = _trim_url(match.group(1))
        spans.append(_span(text, "link", match.start(1), match.start(1) + len(url)))
    for match in _MENTION.finditer(text):
        spans.append(_span(text, "mention", match.start(), match.end()))
    for match in _TAG.finditer(text):
        tag = _trim_tag(match.group(1))
        if (
            not tag
            or tag.isdigit()
            or tag.startswith("\ufe0f")
            or grapheme_count(tag) > MAX_TAG_GRAPHEMES
        ):
            continue
        spans.append(_span(text, "tag", match.start(), match.start(1) + len(tag)))
    return sorted(spans, key=lambda s: s.byte_start)


def build_facets(spans: list[Span], dids: Mapping[str, str]) -> list[dict[str, Any]]:
    """Facets for ``spans``; ``dids`` maps handles to DIDs (unresolved mentions are skipped)."""
    facets: list[dict[str, Any]] = []
    for span in spans:
        feature: dict[str, str]
        if span.kind == "link":
            feature = {"$type": f"{FACET}#link", "uri": span.value}
        elif span.kind == "tag":
            feature = {"$type": f"{FACET}#tag", "tag": span.value}
        elif span.value.lower() in dids:
            feature = {"$type": f"{FACET}#mention", "did": dids[span.value.lower()]}
        else:
            continue
        facets.append(
            {
                "index": {"byteStart": span.byte_start, "byteEnd": span.byte_end},
                "features": [feature],
            }
        )
    return facets


def now_iso() -> str:
    """The current UTC time as AT Protocol datetimes are written."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_time(value: Any) -> datetime | None:
    """An AT Protocol datetime, or None when absent or malformed."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def check_length(text: str) -> None:
    """Refuse text over Bluesky's 300-grapheme limit before anything is written."""
    count = grapheme_count(text)
    if count > MAX_GRAPHEMES:
        raise PermanentError(
            f"Bluesky posts are limited to {MAX_GRAPHEMES} characters; this one has {count}"
        )


def jwt_expiry(token: str) -> datetime | None:
    """When a JWT expires, so the vault knows when to refresh (read, not verified)."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return datetime.fromtimestamp(int(claims["exp"]), UTC)
    except (IndexError, ValueError, KeyError, TypeError):
        return None


@dataclass(frozen=True)
class AtUri:
    """``at://<repo>/<collection>/<rkey>``: how a record is named."""

    repo: str
    collection: str
    rkey: str

    @classmethod
    def parse(cls, uri: str) -> AtUri:
        """Split an at-uri; a malformed one is a permanent error."""
        parts = uri.removeprefix("at://").split("/") if uri.startswith("at://") else []
        if len(parts) != 3 or not all(parts):
            raise PermanentError(f"not a Bluesky record address: {uri!r}")
        return cls(*parts)

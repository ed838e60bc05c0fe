"""Bluesky text rules: graphemes, facet spans on UTF-8 bytes, at-uris."""

from __future__ import annotations

import pytest

from siar.connectors import PermanentError
from siar.connectors.bluesky_lexicon import (
    AtUri,
    Span,
    build_facets,
    check_length,
    find_spans,
    grapheme_count,
)


@pytest.mark.parametrize(
    ("text", "count"),
    [
        ("hello", 5),
        ("café", 4),
        ("cafe\u0301", 4),  # e + combining acute
        ("👍🏽", 1),  # skin tone modifier
        ("👩‍👩‍👧‍👦", 1),  # ZWJ family
        ("🇫🇷🇩🇪", 2),  # two flags, four regional indicators
        ("❤️", 1),  # heart + variation selector
        ("a\r\nb", 3),
        ("a\r\r\nb\n", 5),
        ("é\r\n👍🏽", 3),
        ("👩‍a", 2),  # ZWJ then a letter: two
        ("Ñu\u0303 🇮🇩 ok", 7),
        ("한국어", 3),
        ("\u1100\u1161\u11a8", 1),  # conjoining jamo
    ],
)
def test_grapheme_count(text: str, count: int) -> None:
    assert grapheme_count(text) == count


def test_check_length_allows_300_and_refuses_301() -> None:
    check_length("é" * 300)
    with pytest.raises(PermanentError, match="this one has 301"):
        check_length("é" * 301)


def test_spans_are_on_utf8_byte_offsets() -> None:
    text = "🎉 https://a.example/x, @alice.test and #tag!"
    spans = find_spans(text)
    raw = text.encode()
    assert spans == [
        Span("link", raw.index(b"https"), raw.index(b","), "https://a.example/x"),
        Span("mention", raw.index(b"@"), raw.index(b" and"), "alice.test"),
        Span("tag", raw.index(b"#"), raw.index(b"!"), "tag"),
    ]


@pytest.mark.parametrize(
    ("text", "kinds"),
    [
        ("mail me at bob@example.com", []),  # an email is not a mention
        ("#123 is an issue number", []),  # all-digit tags are not tags
        ("see (https://a.example/p)", ["link"]),
        ("x#notatag and #yes", ["tag"]),
        ("@nodots is not a handle", []),
        ("#️⃣ keycap", []),
    ],
)
def test_what_is_and_is_not_a_facet(text: str, kinds: list[str]) -> None:
    assert [s.kind for s in find_spans(text)] == kinds


def test_link_in_parentheses_drops_the_closing_parenthesis() -> None:
    (span,) = find_spans("see (https://a.example/p)")
    assert span.value == "https://a.example/p"


def test_build_facets_skips_unresolved_mentions() -> None:
    spans = find_spans("@alice.test @ghost.test")
    facets = build_facets(spans, {"alice.test": "did:plc:alice"})
    assert facets == [
        {
            "index": {"byteStart": 0, "byteEnd": 11},
            "features": [{"$type": "app.bsky.richtext.facet#mention", "did": "did:plc:alice"}],
        }
    ]


def test_at_uri_parsing() -> None:
    uri = AtUri.parse("at://did:plc:abc/app.bsky.feed.post/3k")
    assert (uri.repo, uri.collection, uri.rkey) == ("did:plc:abc", "app.bsky.feed.post", "3k")
    with pytest.raises(PermanentError, match="not a Bluesky record address"):
        AtUri.parse("https://bsky.app/profile/x/post/3k")

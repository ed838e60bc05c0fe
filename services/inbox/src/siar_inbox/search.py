"""Full-text search terms: tokenised, case- and accent-folded words, and each emoji.

nx-27017 accepts a ``text`` index but its ``$text`` finds nothing, so the inbox keeps a
``search_terms`` array on each conversation and queries it with ``$all``; that works
on it and on real MongoDB alike, and an index on the array serves it on both.
Matching is by whole word after folding: "Café" finds "cafe", "TERIMA" finds "terima".
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

MAX_TERMS = 1000
"""Terms kept per conversation; a very long thread keeps its first words."""
MAX_TERM_CHARS = 40
"""Longer tokens (URLs, hashes) are cut so one cannot bloat the array."""

_WORD = re.compile(r"\w+", re.UNICODE)
# Variation selectors, zero-width joiners and skin-tone modifiers only decorate an
# emoji: dropping them lets "👍🏽" find "👍" and keeps the term list small.
_DECORATION = {0x200D, 0xFE0E, 0xFE0F, *range(0x1F3FB, 0x1F400)}


def fold(text: str) -> str:
    """Lower-case ``text`` and strip accents (NFKD, combining marks removed)."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def _symbols(text: str) -> Iterable[str]:
    for char in text:
        if ord(char) in _DECORATION:
            continue
        if unicodedata.category(char) == "So":
            yield char


def terms(text: str) -> list[str]:
    """The distinct search terms of ``text``, in order of first appearance."""
    folded = fold(text)
    seen: dict[str, None] = {}
    for word in _WORD.findall(folded):
        seen.setdefault(word[:MAX_TERM_CHARS], None)
    for symbol in _symbols(folded):
        seen.setdefault(symbol, None)
    return list(seen)


def merge_terms(existing: Iterable[str], text: str) -> list[str]:
    """``existing`` plus the new terms of ``text``, capped at :data:`MAX_TERMS`."""
    merged = dict.fromkeys(existing)
    for term in terms(text):
        if len(merged) >= MAX_TERMS:
            break
        merged.setdefault(term, None)
    return list(merged)

"""Counting text the way networks do."""

from __future__ import annotations

import unicodedata

_ZWJ = 0x200D
_FIRST_JOINER = 0x0300
"""Combining diacritical marks start here; no code point below extends a grapheme."""


def _extends(cp: int) -> bool:
    """Whether a code point continues the grapheme before it (UAX #29, simplified)."""
    if cp == _ZWJ or 0xFE00 <= cp <= 0xFE0F or 0xE0100 <= cp <= 0xE01EF:
        return True
    # Skin-tone modifiers, emoji tag characters, Hangul medial vowels and final consonants.
    if 0x1F3FB <= cp <= 0x1F3FF or 0xE0020 <= cp <= 0xE007F or 0x1160 <= cp <= 0x11FF:
        return True
    return unicodedata.category(chr(cp)) in ("Mn", "Me", "Mc")


def _regional(cp: int) -> bool:
    return 0x1F1E6 <= cp <= 0x1F1FF


def grapheme_count(text: str) -> int:
    """User-perceived characters, as Bluesky and Mastodon count them.

    A close approximation of Unicode extended grapheme clusters: combining marks,
    variation selectors, skin tones, ZWJ emoji sequences, flags and CR LF each join.
    """
    if text.isascii():  # most captions: one character each, CR LF joined
        return len(text) - text.count("\r\n")
    count = 0
    prev: int | None = None
    regional_run = 0
    for ch in text:
        cp = ord(ch)
        if cp < _FIRST_JOINER:  # nothing below joins what precedes it, but LF after CR
            count += prev != 0x0D or cp != 0x0A
            prev, regional_run = cp, 0
            continue
        joins = prev is not None and (
            _extends(cp)
            or (prev == _ZWJ and unicodedata.category(ch) == "So")
            or (prev == 0x0D and cp == 0x0A)
            or (_regional(cp) and regional_run % 2 == 1)
        )
        regional_run = regional_run + 1 if _regional(cp) else 0
        if not joins:
            count += 1
        prev = cp
    return count

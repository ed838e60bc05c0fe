"""How X counts a post's length: twitter-text's weighted length (configuration v3).

X allows 280 *weighted* characters. After NFC normalization each code point weighs
100 (counts as one character) inside the ranges below (Latin, Greek, Cyrillic,
Hebrew, Arabic, Indic scripts, general punctuation…) and 200 (two characters)
elsewhere, which covers CJK, Hangul and emoji; an emoji sequence (ZWJ family,
skin tone, flag, keycap) weighs 200 however many code points it takes; every URL
weighs 23, the length of the t.co link X replaces it with.

The URL and emoji detection here is a close approximation of twitter-text's
(which relies on the full TLD list and the twemoji parser), documented in
:func:`weighted_length`.
"""

from __future__ import annotations

import re
import unicodedata

MAX_WEIGHTED_LENGTH = 280
SCALE = 100
DEFAULT_WEIGHT = 200
TRANSFORMED_URL_LENGTH = 23
# (first code point, last code point, weight) from twitter-text config/v3.json.
WEIGHT_RANGES: tuple[tuple[int, int, int], ...] = (
    (0, 4351, 100),
    (8192, 8205, 100),
    (8208, 8223, 100),
    (8242, 8247, 100),
)

# Top-level domains accepted for links written without a scheme ("siar.dev/x").
# twitter-text checks the full IANA list; these cover what people write in posts.
_BARE_TLDS = (
    "com|net|org|io|co|ai|app|dev|me|info|biz|xyz|gov|edu|tv|ly|gl|link|news|blog|"
    "shop|store|site|online|tech|us|uk|de|fr|es|it|nl|be|ch|at|se|no|dk|fi|pl|pt|ie|"
    "eu|ca|au|nz|jp|kr|cn|in|br|mx|ar|ru|ua|tr|za|ng|ke|sg|hk|tw|id|my|ph|vn|th"
)
_URL = re.compile(
    r"(?<![\w@$#./-])"
    r"(?:"
    r"https?://[^\s<>\"]+"  # with a scheme: anything up to whitespace
    r"|(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+(?:" + _BARE_TLDS + r")\b"
    r"(?::\d{1,5})?(?:/[^\s<>\"]*)?"
    r")",
    re.IGNORECASE,
)
# Punctuation that ends a sentence rather than a URL.
_URL_TRAILING = ".,;:!?'\")]}"

_EMOJI_MOD = r"(?:\uFE0F|[\U0001F3FB-\U0001F3FF])?(?:[\U000E0020-\U000E007F]+)?"
_EMOJI_BASE = (
    r"(?:[\u00A9\u00AE]\uFE0F"  # © and ® are text unless asked to be emoji
    r"|[\u203C\u2049\u2122\u2139\u2194-\u21AA\u231A-\u23FF\u24C2\u25AA-\u27BF"
    r"\u2934\u2935\u2B05-\u2B55\u3030\u303D\u3297\u3299\U0001F000-\U0001FAFF])"
)
_EMOJI = re.compile(
    r"[\U0001F1E6-\U0001F1FF]{2}"  # flags: two regional indicators
    r"|[0-9#*]\uFE0F?\u20E3"  # keycaps
    r"|" + _EMOJI_BASE + _EMOJI_MOD + r"(?:\u200D" + _EMOJI_BASE + _EMOJI_MOD + r")*"
)


def char_weight(char: str) -> int:
    """The weight of one code point, in hundredths of a character."""
    code = ord(char)
    for first, last, weight in WEIGHT_RANGES:
        if first <= code <= last:
            return weight
    return DEFAULT_WEIGHT


def url_spans(text: str) -> list[tuple[int, int]]:
    """Where the URLs X would shorten are in ``text`` (start, end), in order."""
    spans = []
    for match in _URL.finditer(text):
        start, end = match.span()
        while end > start and text[end - 1] in _URL_TRAILING:
            end -= 1
        if end > start:
            spans.append((start, end))
    return spans


def _plain_weight(segment: str) -> int:
    total = 0
    position = 0
    for match in _EMOJI.finditer(segment):
        total += sum(char_weight(c) for c in segment[position : match.start()])
        total += DEFAULT_WEIGHT
        position = match.end()
    return total + sum(char_weight(c) for c in segment[position:])


def weighted_length(text: str) -> int:
    """The length X counts for ``text``, to compare with :data:`MAX_WEIGHTED_LENGTH`.

    Follows twitter-text v3: NFC first, URLs count 23, emoji sequences count 2,
    other code points 1 or 2 by range. Links without a scheme are recognised for
    common top-level domains only (twitter-text knows them all).
    """
    text = unicodedata.normalize("NFC", text)
    total = 0
    position = 0
    for start, end in url_spans(text):
        total += _plain_weight(text[position:start]) + TRANSFORMED_URL_LENGTH * SCALE
        position = end
    total += _plain_weight(text[position:])
    return total // SCALE


def fits(text: str, limit: int = MAX_WEIGHTED_LENGTH) -> bool:
    """Whether ``text`` is within X's weighted limit (and not empty)."""
    return bool(text.strip()) and weighted_length(text) <= limit


def strip_urls(text: str) -> str:
    """``text`` without its URLs and with whitespace collapsed (to compare posts).

    X rewrites links to t.co and appends a link for attached media, so a post's
    text as fetched back equals what was sent only once URLs are set aside.
    """
    text = unicodedata.normalize("NFC", text)
    pieces = []
    position = 0
    for start, end in url_spans(text):
        pieces.append(text[position:start])
        position = end
    pieces.append(text[position:])
    return " ".join("".join(pieces).split())

"""Offline sentiment of a message: VADER for English, a lexicon for Indonesian, and emoji.

Both text models give a compound score in [-1, 1]; VADER's published thresholds
(±0.05) turn it into positive, neutral or negative. VADER reads emoji by their names,
which misses how people use them in replies to a brand (😡, 👎, ❤️ and 👍 score 0;
🔥 scores negative and 💔 positive), so the common ones are scored here instead and
added to the text's score, in any language — "😡😡" alone is negative.
"""

from __future__ import annotations

import math

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer  # type: ignore[import-untyped]

from siar_inbox import lexicon_id
from siar_inbox.domain import Sentiment

THRESHOLD = 0.05
_vader = SentimentIntensityAnalyzer()


def _scored(chars: str, valence: float) -> dict[str, float]:
    return dict.fromkeys(chars.split(), valence)


# Valences on VADER's -4..4 scale.
EMOJI: dict[str, float] = {
    **_scored("🤬 😡 👿", -3.0),
    **_scored("😠 🤮 💔 😾", -2.5),
    **_scored("👎 💩 😤 😭 😢 😞 😩 😫 😖", -2.0),
    **_scored("❌ 🙄 😒 😣 😔 😑", -1.5),
    **_scored("😍 🥰 ❤ 🤩 💕 💖", 3.0),
    **_scored("👍 😊 😁 😄 😃 🔥 💯 👏 😘 🎉 🙌 🥳", 2.0),
    **_scored("👌 🌟 🙏 ✅ 😂 ⭐", 1.0),
}
# Skin tones and the emoji presentation selector do not change what an emoji says.
_MODIFIERS = {chr(c) for c in range(0x1F3FB, 0x1F400)} | {"\ufe0f"}


def _emoji(text: str) -> tuple[str, float]:
    """The text without the emoji scored here, and their summed valence."""
    kept: list[str] = []
    total = 0.0
    for ch in text:
        if ch in EMOJI:
            total += EMOJI[ch]
        elif ch not in _MODIFIERS:
            kept.append(ch)
    return "".join(kept), total


def compound(text: str, language: str | None) -> float | None:
    """The compound score, or None for a language no model here reads (emoji aside)."""
    words, emoji_sum = _emoji(text)
    # VADER's normalisation (alpha 15), so emoji weigh as VADER's own words do.
    emoji = emoji_sum / math.sqrt(emoji_sum * emoji_sum + 15) if emoji_sum else 0.0
    if language == "id":
        score = lexicon_id.compound(words)
    elif language in (None, "en"):
        score = float(_vader.polarity_scores(words)["compound"])
    elif emoji:
        score = 0.0  # a language we cannot read, but its emoji speak
    else:
        return None
    return max(-1.0, min(1.0, score + emoji))


def sentiment(text: str, language: str | None) -> Sentiment | None:
    """positive, neutral or negative; None when the language is not scored."""
    score = compound(text, language)
    if score is None:
        return None
    if score >= THRESHOLD:
        return "positive"
    if score <= -THRESHOLD:
        return "negative"
    return "neutral"

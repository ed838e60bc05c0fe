"""Offline sentiment of a message: VADER for English, a lexicon for Indonesian.

Both give a compound score in [-1, 1]; VADER's published thresholds (±0.05) turn it
into positive, neutral or negative. VADER also scores emoji and emoticons, so a text
with no detectable language (``"😡😡"``) is scored by it too.
"""

from __future__ import annotations

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer  # type: ignore[import-untyped]

from siar_inbox import lexicon_id
from siar_inbox.domain import Sentiment

THRESHOLD = 0.05
_vader = SentimentIntensityAnalyzer()


def compound(text: str, language: str | None) -> float | None:
    """The compound score, or None for a language neither model reads."""
    if language == "id":
        score = lexicon_id.compound(text)
        # Emoji say as much in Indonesian chats as in English ones.
        emoji = _vader.polarity_scores(_emoji_only(text))["compound"] if _has_emoji(text) else 0.0
        return max(-1.0, min(1.0, score + emoji)) if score or emoji else 0.0
    if language in (None, "en"):
        return float(_vader.polarity_scores(text)["compound"])
    return None


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


def _has_emoji(text: str) -> bool:
    return any(ord(ch) > 0x2000 for ch in text)


def _emoji_only(text: str) -> str:
    return " ".join(ch for ch in text if ord(ch) > 0x2000)

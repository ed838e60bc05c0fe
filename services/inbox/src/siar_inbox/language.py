"""Offline language detection (ISO 639-1), deterministic, with a fallback for short texts.

langdetect is a naive-Bayes model over character n-grams: good on a sentence, unreliable
on "ok" or "thx kak" (it guesses Slovak for "ok"). Short texts are decided by a small
word list of the languages Siar triages (English and Indonesian) or left unknown, and
emoji-only or number-only texts are always unknown rather than guessed.
"""

from __future__ import annotations

import re
import threading

from langdetect import DetectorFactory, detect_langs  # type: ignore[import-untyped]
from langdetect.lang_detect_exception import LangDetectException  # type: ignore[import-untyped]

# Letters of any script; emoji, digits and punctuation carry no language.
_LETTERS = re.compile(r"[^\W\d_]", re.UNICODE)
_WORDS = re.compile(r"[^\W\d_]+", re.UNICODE)
_URLS_AND_HANDLES = re.compile(r"https?://\S+|[@#]\w+")

# Below this many letters langdetect's guess is noise; the word lists decide instead.
MIN_LETTERS = 12
MIN_CONFIDENCE = 0.80


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_SHORT_WORDS: dict[str, frozenset[str]] = {
    "en": _words(
        "the a an is are was you your i me my we our it this that thanks thank please "
        "love hate good bad great ok okay yes no not why how what when where help"
    ),
    "id": _words(
        "yang dan di ke dari ini itu saya aku kamu kak min gan tidak gak nggak enggak ga "
        "tak belum bukan sudah udah mau bisa tolong terima kasih makasih mantap bagus "
        "jelek kenapa gimana bagaimana kapan dong ya sih nih banget sangat"
    ),
}

_lock = threading.Lock()
DetectorFactory.seed = 0  # langdetect is randomised; a fixed seed makes it repeatable.


def _short_guess(words: list[str]) -> str | None:
    scores = {lang: sum(w in vocab for w in words) for lang, vocab in _SHORT_WORDS.items()}
    best = max(scores, key=lambda lang: scores[lang])
    ties = [lang for lang, score in scores.items() if score == scores[best]]
    return best if scores[best] > 0 and len(ties) == 1 else None


def detect_language(text: str) -> str | None:
    """The text's language as an ISO 639-1 code, or None when it cannot be told."""
    cleaned = _URLS_AND_HANDLES.sub(" ", text)
    letters = len(_LETTERS.findall(cleaned))
    if letters == 0:
        return None
    words = [w.lower() for w in _WORDS.findall(cleaned)]
    if letters < MIN_LETTERS:
        return _short_guess(words)
    try:
        # The detector factory is shared module state; one detection at a time.
        with _lock:
            guesses = detect_langs(cleaned)
    except LangDetectException:
        return _short_guess(words)
    top = guesses[0]
    if top.prob < MIN_CONFIDENCE:
        return _short_guess(words)
    # langdetect names a few languages with a region (zh-cn, zh-tw); ISO 639-1 has none.
    return str(top.lang).split("-")[0]

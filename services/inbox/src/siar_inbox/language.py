"""Offline language detection (ISO 639-1), deterministic, with a fallback for short texts.

langdetect is a naive-Bayes model over character n-grams: good on a sentence, unreliable
on "ok" or "thx kak" (it guesses Slovak for "ok"). Short texts are decided by a small
word list of the languages Siar triages (English and Indonesian) or left unknown, and
emoji-only or number-only texts are always unknown rather than guessed.
"""

from __future__ import annotations

import re
import threading
from typing import Any

from langdetect import DetectorFactory  # type: ignore[import-untyped]
from langdetect.detector_factory import PROFILES_DIRECTORY  # type: ignore[import-untyped]
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

# Function words that (almost) only these languages use: two of one language and none of
# the other decide without langdetect, which costs ~3 ms of CPU a message and misreads
# chatty Indonesian ("kapan restock kak") as Tagalog. Words shared with Romance
# languages ("a", "no", "di", "ya") are left out.
_MARKERS: dict[str, frozenset[str]] = {
    "en": _words(
        "the is are was were you your this that thanks thank please with have has what "
        "when where why how and for of my it not but just can will would love great"
    ),
    "id": _words(
        "yang dan ke dari ini itu saya aku kamu kak min gan tidak gak nggak enggak belum "
        "bukan sudah udah mau bisa tolong terima kasih makasih kapan dong sih nih banget "
        "sangat apa ada untuk dengan juga karena tapi kok"
    ),
}
TRIALS = 3  # langdetect's default is 7: a third of the CPU, as accurate on our samples

_lock = threading.Lock()
_factories: list[Any] = []  # loaded on first use (about a second: 55 language profiles)
DetectorFactory.seed = 0  # langdetect is randomised; a fixed seed makes it repeatable.


def _short_guess(words: list[str]) -> str | None:
    scores = {lang: sum(w in vocab for w in words) for lang, vocab in _SHORT_WORDS.items()}
    best = max(scores, key=lambda lang: scores[lang])
    ties = [lang for lang, score in scores.items() if score == scores[best]]
    return best if scores[best] > 0 and len(ties) == 1 else None


def _marked(words: list[str]) -> str | None:
    seen = set(words)
    hits = {lang: len(seen & vocab) for lang, vocab in _MARKERS.items()}
    decided = [lang for lang, n in hits.items() if n >= 2]
    if len(decided) == 1 and sum(hits.values()) == hits[decided[0]]:
        return decided[0]
    return None


def _langdetect(text: str) -> tuple[str, float] | None:
    try:
        # The detector factory is shared module state; one detection at a time.
        with _lock:
            if not _factories:
                _factories.append(DetectorFactory())
                _factories[0].load_profile(PROFILES_DIRECTORY)
            detector = _factories[0].create()
            detector.n_trial = TRIALS
            detector.append(text)
            top = detector.get_probabilities()[0]
    except LangDetectException:
        return None
    return str(top.lang), float(top.prob)


def detect_language(text: str) -> str | None:
    """The text's language as an ISO 639-1 code, or None when it cannot be told."""
    cleaned = _URLS_AND_HANDLES.sub(" ", text)
    letters = len(_LETTERS.findall(cleaned))
    if letters == 0:
        return None
    words = [w.lower() for w in _WORDS.findall(cleaned)]
    if letters < MIN_LETTERS:
        return _short_guess(words)
    marked = _marked(words)
    if marked is not None:
        return marked
    guess = _langdetect(cleaned)
    if guess is None or guess[1] < MIN_CONFIDENCE:
        return None  # an unsure guess would put a Spanish text in the English queue
    # langdetect names a few languages with a region (zh-cn, zh-tw); ISO 639-1 has none.
    return guess[0].split("-")[0]

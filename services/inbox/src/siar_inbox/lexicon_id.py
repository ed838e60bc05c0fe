"""A small Indonesian sentiment lexicon with negation and intensifiers (no I/O).

No Indonesian lexicon ships on PyPI among Siar's dependencies, so this module holds one:
common customer-service words (formal and chat spellings), scored -3..+3 like VADER.
A negator (``tidak bagus``, ``gak puas``) flips and damps the next sentiment word within
three words, as VADER does for English; intensifiers (``sangat``, ``banget``) strengthen.
"""

from __future__ import annotations

import math
import re

_POSITIVE_3 = "mantap mantul keren luar_biasa sempurna terbaik puas memuaskan cinta suka_banget"
_POSITIVE_2 = (
    "bagus baik suka senang gembira ramah cepat murah enak nyaman rekomendasi recommended "
    "top oke mantab hebat indah cantik lancar membantu berguna bermanfaat aman asli "
    "terima_kasih makasih trims thanks sukses berhasil untung jujur sopan responsif"
)
_POSITIVE_1 = "lumayan cukup ok sip setuju semoga"
_NEGATIVE_3 = (
    "buruk parah kecewa mengecewakan penipu tipu penipuan bohong benci jelek_banget "
    "sampah payah brengsek bangsat anjing goblok bodoh"
)
_NEGATIVE_2 = (
    "jelek lambat lelet lemot mahal rusak cacat kotor kasar marah kesal sebel sebal "
    "gagal error eror hilang palsu telat terlambat lama ribet susah sulit bingung "
    "rugi nyesel menyesal refund komplain keluhan masalah bermasalah zonk kurang_ajar"
)
_NEGATIVE_1 = "kurang lumayan_mahal biasa_saja capek sedih khawatir"

_NEGATOR_WORDS = "tidak tak bukan belum jangan gak ga nggak enggak ngga engga tdk gk g"
NEGATORS = frozenset(_NEGATOR_WORDS.split(" "))
INTENSIFIERS = {"sangat": 0.3, "banget": 0.3, "sekali": 0.3, "amat": 0.3, "paling": 0.4}
INTENSIFIERS |= {"terlalu": 0.3, "bgt": 0.3, "super": 0.3, "benar-benar": 0.3, "sungguh": 0.3}
NEGATION_DAMPING = -0.74  # VADER's factor: "not good" is less negative than "bad" is.
NEGATION_REACH = 3


def _scored(words: str, score: float) -> dict[str, float]:
    return {w.replace("_", " "): score for w in words.split()}


LEXICON: dict[str, float] = {
    **_scored(_POSITIVE_1, 1.0),
    **_scored(_POSITIVE_2, 2.0),
    **_scored(_POSITIVE_3, 3.0),
    **_scored(_NEGATIVE_1, -1.0),
    **_scored(_NEGATIVE_2, -2.0),
    **_scored(_NEGATIVE_3, -3.0),
}
_TOKEN = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*", re.UNICODE)


def _tokens(text: str) -> list[str]:
    words = _TOKEN.findall(text.lower())
    tokens: list[str] = []
    i = 0
    while i < len(words):
        # Two-word entries ("terima kasih", "kurang ajar") count once, as a phrase.
        pair = " ".join(words[i : i + 2])
        if i + 1 < len(words) and pair in LEXICON:
            tokens.append(pair)
            i += 2
        else:
            tokens.append(words[i])
            i += 1
    return tokens


def _word_score(tokens: list[str], index: int) -> float:
    score = LEXICON[tokens[index]]
    window = tokens[max(0, index - NEGATION_REACH) : index]
    boost = sum(INTENSIFIERS.get(w, 0.0) for w in window[-2:])
    # "banget" and "sekali" follow the word they strengthen.
    boost += sum(INTENSIFIERS.get(w, 0.0) for w in tokens[index + 1 : index + 2])
    score += math.copysign(boost, score)
    if any(w in NEGATORS for w in window):
        score *= NEGATION_DAMPING
    return score


def compound(text: str) -> float:
    """A VADER-style compound score in [-1, 1] for Indonesian ``text``."""
    tokens = _tokens(text)
    total = sum(_word_score(tokens, i) for i, token in enumerate(tokens) if token in LEXICON)
    return total / math.sqrt(total * total + 15) if total else 0.0

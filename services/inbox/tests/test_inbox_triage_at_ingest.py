"""Triage at ingest: language, sentiment (English and Indonesian), influencers, priority."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from siar.connectors import FetchedMessage
from siar_inbox.domain import Message, priority_at_ingest
from siar_inbox.ingest import fold_triage, normalise, received_event
from siar_inbox.language import detect_language
from siar_inbox.lexicon_id import compound
from siar_inbox.sentiment import sentiment

NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("I love this product, thank you so much for the quick help", "en"),
        ("Saya tidak suka produk ini, pelayanannya sangat lambat", "id"),
        ("makasih kak", "id"),  # too short for langdetect: the word list decides
        ("thanks!", "en"),
        ("ok", "en"),
        ("😍😍🔥", None),  # emoji only: no language
        ("12345 !!!", None),
        ("@siar https://example.com/x", None),
        ("Bonjour, je voudrais annuler ma commande s'il vous plaît", "fr"),
        ("Kapan restock kak, barangnya bagus", "id"),  # langdetect alone says Tagalog
        ("No me gusta nada este producto", None),  # langdetect is unsure: no guess
    ],
)
def test_language(text: str, language: str | None) -> None:
    assert detect_language(text) == language


def test_language_is_deterministic() -> None:
    text = "Barangnya bagus tapi pengirimannya lama sekali"
    assert {detect_language(text) for _ in range(5)} == {"id"}


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("This is the worst service ever, I want a refund", "en", "negative"),
        ("Great job, love it!", "en", "positive"),
        ("The parcel arrived on Tuesday", "en", "neutral"),
        ("Pelayanan sangat lambat, kecewa", "id", "negative"),
        ("mantap banget kak, terima kasih", "id", "positive"),
        ("gak puas sama sekali", "id", "negative"),  # negated positive
        ("tidak buruk kok", "id", "positive"),  # negated negative, damped
        ("barangnya bagus 😍", "id", "positive"),
        ("Pesanan saya sudah dikirim", "id", "neutral"),
        ("Ce produit est nul", "fr", None),  # neither model reads French
        ("Ce produit est nul 👎", "fr", "negative"),  # but its emoji speak
        ("😡😡", None, "negative"),  # VADER alone scores 😡 as 0
        ("❤️👍🏽", None, "positive"),  # emoji presentation and skin tone ignored
        ("This drop is 🔥", "en", "positive"),  # VADER alone calls 🔥 negative
        ("paketnya hilang 💔", "id", "negative"),
    ],
)
def test_sentiment(text: str, language: str | None, expected: str | None) -> None:
    assert sentiment(text, language) == expected


def test_indonesian_intensifier_and_negation_damping() -> None:
    assert compound("sangat jelek") < compound("jelek") < 0
    assert compound("tidak jelek") > 0 > compound("jelek")
    assert abs(compound("tidak jelek")) < abs(compound("jelek"))


def test_priority_rises_for_negative_and_influencers() -> None:
    assert priority_at_ingest("positive", influencer=False) == "normal"
    assert priority_at_ingest("negative", influencer=False) == "high"
    assert priority_at_ingest(None, influencer=True) == "high"
    assert priority_at_ingest("negative", influencer=True) == "urgent"


def fetched(text: str, followers: int | None = None, **extra: Any) -> FetchedMessage:
    return FetchedMessage(
        network_message_id=extra.pop("mid", "m1"),
        kind="comment",
        author_handle="fan",
        author_followers=followers,
        text=text,
        network_post_id="p1",
        sent_at=NOW,
        **extra,
    )


def test_normalise_triages_and_keeps_text_intact() -> None:
    text = "Produk rusak, kecewa berat 😡 — 日本語も 👍🏽 ok"
    message, conv = normalise(
        workspace_id="ws",
        account_id="acc",
        network="x",
        fetched=fetched(text, followers=50_000),
        post_id=None,
        received_at=NOW,
        influencer_followers=10_000,
    )
    assert message.text == text  # emoji, skin tones and mixed scripts kept as sent
    assert (message.sentiment, message.influencer, message.priority) == ("negative", True, "urgent")
    assert (conv.sentiment, conv.priority, conv.influencer) == ("negative", "urgent", True)
    event = received_event(message)
    assert (event.text, event.sentiment, event.influencer) == (text, "negative", True)
    assert event.language == message.language


def triaged(message: FetchedMessage, **threshold: int) -> Message:
    stored, _ = normalise(
        workspace_id="ws",
        account_id="a",
        network="x",
        fetched=message,
        post_id=None,
        received_at=NOW,
        **threshold,
    )
    return stored


def test_influencer_threshold_is_the_workspaces() -> None:
    low = triaged(fetched("hi", 500), influencer_followers=400)
    high = triaged(fetched("hi", 500))
    unknown = triaged(fetched("hi"))
    assert (low.influencer, high.influencer, unknown.influencer) == (True, False, False)


def test_fold_keeps_the_highest_priority_and_follows_the_newest_mood() -> None:
    thread: dict[str, Any] = {"priority": "urgent", "influencer": True, "tags": ["vip"]}
    _, calm = normalise(
        workspace_id="ws",
        account_id="a",
        network="x",
        fetched=fetched("Thanks, great!"),
        post_id=None,
        received_at=NOW,
    )
    calm.tags = ["thanks"]
    fold_triage(thread, calm, newest=True)
    assert thread["priority"] == "urgent"
    assert thread["influencer"] is True
    assert thread["tags"] == ["thanks", "vip"]
    assert thread["sentiment"] == "positive"
    fold_triage(thread, calm.model_copy(update={"sentiment": "negative"}), newest=False)
    assert thread["sentiment"] == "positive"  # an older message arriving late changes no mood

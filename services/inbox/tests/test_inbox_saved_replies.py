"""Saved-reply variables are filled in, and unknown ones are left visible."""

from __future__ import annotations

from siar_inbox.domain import render_saved_reply


def test_variables_are_filled_in() -> None:
    text = "Hi {{first_name}}, thanks from {{ account }}! 🙏"
    assert render_saved_reply(text, {"first_name": "Ana", "account": "siarbrand"}) == (
        "Hi Ana, thanks from siarbrand! 🙏"
    )


def test_unknown_variables_stay_for_a_person_to_notice() -> None:
    assert render_saved_reply("Dear {{title}} {{name}}", {"name": "Budi"}) == "Dear {{title}} Budi"


def test_text_without_variables_is_unchanged() -> None:
    assert render_saved_reply("Terima kasih!", {"first_name": "x"}) == "Terima kasih!"

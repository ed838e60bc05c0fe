"""Requests of the act routes refuse what cannot be done, before anything is written."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from siar_inbox.api.act_routes import ActionCreate, BulkCreate, SnoozeCreate
from siar_inbox.bulk import BULK_LIMIT
from siar_inbox.domain import ConversationStatus

SOON = datetime.now(UTC) + timedelta(hours=1)


@pytest.mark.parametrize(
    "body",
    [
        {"action": "dm"},  # a DM needs text
        {"action": "like", "text": "no text for a like"},
        {"action": "archive"},
        {"action": "hide", "extra": 1},
    ],
)
def test_bad_actions_are_refused(body: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        ActionCreate.model_validate(body)


def test_a_snooze_needs_an_offset_and_at_most_a_year() -> None:
    with pytest.raises(ValidationError):
        SnoozeCreate.model_validate({"until": "2030-01-01T09:00:00"})
    with pytest.raises(ValidationError):
        SnoozeCreate.model_validate({"until": (SOON + timedelta(days=400)).isoformat()})
    assert SnoozeCreate.model_validate({"until": SOON.isoformat()}).until == SOON


@pytest.mark.parametrize(
    "body",
    [
        {"ids": [], "action": "close"},
        {"ids": [f"cnv_{i}" for i in range(BULK_LIMIT + 1)], "action": "close"},
        {"ids": ["cnv_1"], "action": "assign"},
        {"ids": ["cnv_1"], "action": "tag"},
        {"ids": ["cnv_1"], "action": "snooze"},
        {"ids": ["cnv_1"], "action": "snooze", "until": (SOON + timedelta(days=400)).isoformat()},
    ],
)
def test_bad_bulk_requests_are_refused(body: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        BulkCreate.model_validate(body)


def test_bulk_actions_become_changes() -> None:
    close = BulkCreate.model_validate({"ids": ["cnv_1"], "action": "close"}).change()
    assert close.status is ConversationStatus.CLOSED
    tag = BulkCreate.model_validate({"ids": ["c"], "action": "untag", "tags": ["x"]}).change()
    assert tag.remove_tags == ("x",)
    snooze = BulkCreate.model_validate(
        {"ids": ["c"], "action": "snooze", "until": SOON.isoformat()}
    ).change()
    assert snooze.snooze_until == SOON

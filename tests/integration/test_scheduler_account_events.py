"""The scheduler's view of account events on a real MongoDB: who may be planned for."""

from __future__ import annotations

from datetime import timedelta

from siar.contracts import utcnow

from .scheduler_workflow_app import (
    Harness,
    auth,
    plain_scheduler,  # noqa: F401 - the app fixture
)


async def plan(app: Harness) -> tuple[int, str]:
    at = (utcnow() + timedelta(days=1)).replace(microsecond=0).isoformat()
    r = await app.http.post(
        app.url("/posts"),
        json={"text": "Weekend opening hours", "account_ids": ["acc_box"], "scheduled_at": at},
        headers=auth("editor"),
    )
    return r.status_code, r.text


async def test_an_account_awaiting_a_reconnect_can_still_be_planned_for(app: Harness) -> None:
    ws = app.workspace_id
    await app.service.account_disconnected(ws, "acc_box", needs_reconnect=True)
    assert (await plan(app))[0] == 201

    await app.service.account_disconnected(ws, "acc_box")
    status, text = await plan(app)
    assert status == 422
    assert "acc_box is disconnected" in text

    await app.service.account_connected(
        ws, {"account_id": "acc_box", "network": "sandbox", "handle": "acc_box"}
    )
    assert (await plan(app))[0] == 201

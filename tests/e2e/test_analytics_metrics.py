"""Metrics over real sockets: a connected sandbox account is backfilled and collected,
a published post's figures follow, and the series API refuses bad input."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx

from tests.e2e.conftest import Stack
from tests.e2e.flows import eventually, new_tenant


async def test_account_history_and_post_metrics_are_collected(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    urls = stack.urls
    tenant = await new_tenant(http, urls["vault"])
    ws, account = tenant.workspace_id, tenant.account_id
    metrics = f"{urls['analytics']}/v1/workspaces/{ws}/metrics"
    today = datetime.now(UTC).date()

    async def followers() -> list[dict[str, Any]] | None:
        r = await http.get(
            f"{metrics}/series",
            params={
                "metric": "followers",
                "from": str(today - timedelta(days=200)),
                "to": str(today),
                "account_id": account,
            },
            headers=tenant.auth,
        )
        assert r.status_code == 200, r.text
        points: list[dict[str, Any]] = r.json()
        return points if len(points) >= 181 else None

    # ~6 months of daily history from the first collection, plus today's snapshot.
    points = await eventually(followers, within_s=90, every=1)
    assert date.fromisoformat(points[0]["at"][:10]) == today - timedelta(days=180)
    assert points[-1]["value"] > points[0]["value"]

    r = await http.get(f"{metrics}/accounts/{account}/audience", headers=tenant.auth)
    assert r.status_code == 200, r.text
    assert {"age", "gender", "country", "city"} <= set(r.json()["dimensions"])

    r = await http.post(
        f"{urls['scheduler']}/v1/workspaces/{ws}/posts",
        json={
            "text": "Metrics please #siar",
            "account_ids": [account],
            "scheduled_at": (datetime.now(UTC) + timedelta(seconds=2)).isoformat(),
        },
        headers=tenant.auth,
    )
    assert r.status_code == 201, r.text
    post_id = r.json()["id"]

    async def post_figures() -> dict[str, Any] | None:
        r = await http.get(f"{metrics}/posts", headers=tenant.auth)
        found = [p for p in r.json() if p["post_id"] == post_id]
        return found[0] if found else None

    figures = await eventually(post_figures, within_s=120, every=1)
    assert figures["network_post_id"].startswith("sbxpost_")
    assert {"likes", "comments", "shares", "saves", "impressions"} <= set(figures["metrics"])
    assert figures["published_at"] is not None


async def test_bad_series_requests_are_refused(stack: Stack, http: httpx.AsyncClient) -> None:
    urls = stack.urls
    tenant = await new_tenant(http, urls["vault"])
    series = f"{urls['analytics']}/v1/workspaces/{tenant.workspace_id}/metrics/series"
    cases = [
        ({"metric": "followers", "from": "2026-03-02", "to": "2026-03-01"}, "invalid-range"),
        (
            {"metric": "followers", "from": "2026-01-01", "to": "2026-03-01", "grain": "hour"},
            "invalid-range",
        ),
        ({"metric": "Followers; drop", "from": "2026-01-01", "to": "2026-01-02"}, None),
        ({"metric": "followers", "from": "2026-01-01", "to": "2026-01-02", "grain": "week"}, None),
    ]
    for params, kind in cases:
        r = await http.get(series, params=params, headers=tenant.auth)
        assert r.status_code == 422, (params, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        if kind:
            assert r.json()["type"].endswith(kind)
    r = await http.get(
        f"{urls['analytics']}/v1/workspaces/{tenant.workspace_id}/metrics/accounts/acc_x/audience",
        headers=tenant.auth,
    )
    assert r.status_code == 200, r.text
    assert r.json() == {"account_id": "acc_x", "collected_at": None, "dimensions": {}}

"""Reports, research and exports over the running platform: a published post shows up in
the overview, its CSV and its PDF; research collects sandbox mentions; bad input is named."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from tests.e2e.conftest import Stack
from tests.e2e.flows import eventually, new_tenant


def period() -> dict[str, str]:
    today = datetime.now(UTC).date()
    return {"from": (today - timedelta(days=6)).isoformat(), "to": today.isoformat()}


async def test_a_published_post_is_reported_exported_and_compared(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    urls = stack.urls
    tenant = await new_tenant(http, urls["vault"])
    ws = tenant.workspace_id
    r = await http.post(
        f"{urls['scheduler']}/v1/workspaces/{ws}/posts",
        json={
            "text": "Reported in the overview #siarreport",
            "account_ids": [tenant.account_id],
            "scheduled_at": (datetime.now(UTC) + timedelta(seconds=2)).isoformat(),
        },
        headers=tenant.auth,
    )
    assert r.status_code == 201, r.text
    post_id = r.json()["id"]
    reports = f"{urls['analytics']}/v1/workspaces/{ws}/reports"

    async def reported() -> dict[str, Any] | None:
        r = await http.get(f"{reports}/overview", params=period(), headers=tenant.auth)
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        posts = [p["post_id"] for p in body["top_posts"]]
        return body if post_id in posts else None

    # Published, then its metrics collected by analytics (every few seconds in e2e).
    body = await eventually(reported, within_s=120, every=2)
    assert body["posts_published"]["current"] >= 1
    assert body["posts_published"]["previous"] == 0
    assert "siarreport" in [b["key"] for b in body["by_hashtag"]]
    assert body["accounts"] >= 1

    r = await http.get(
        f"{reports}/overview.csv",
        params={**period(), "section": "top_posts"},
        headers=tenant.auth,
    )
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    assert post_id in r.text
    r = await http.get(
        f"{reports}/overview.pdf",
        params={**period(), "commentary": "A good week."},
        headers=tenant.auth,
    )
    assert r.status_code == 200
    assert r.content.startswith(b"%PDF")
    r = await http.get(
        f"{reports}/overview",
        params={**period(), "account_id": tenant.account_id, "tz": "Asia/Jakarta"},
        headers=tenant.auth,
    )
    assert r.status_code == 200
    assert r.json()["heatmap"]["timezone"] == "Asia/Jakarta"

    r = await http.get(
        f"{urls['analytics']}/v1/reports/agency", params=period(), headers=tenant.auth
    )
    assert r.status_code == 200
    assert [row["workspace_id"] for row in r.json()["workspaces"]] == [ws]


async def test_research_collects_mentions_on_the_sandbox(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    urls = stack.urls
    tenant = await new_tenant(http, urls["vault"])
    base = f"{urls['analytics']}/v1/workspaces/{tenant.workspace_id}/research"
    r = await http.post(
        f"{base}/items",
        json={"kind": "hashtag", "value": "#SiarE2E", "account_id": tenant.account_id},
        headers=tenant.auth,
    )
    assert r.status_code == 201, r.text
    item = r.json()
    assert (item["value"], item["network"]) == ("#siare2e", "sandbox")

    async def mentions() -> list[Any] | None:
        r = await http.get(f"{base}/items/{item['id']}/mentions", headers=tenant.auth)
        assert r.status_code == 200, r.text
        found: list[Any] = r.json()
        return found or None

    found = await eventually(mentions, within_s=90, every=2)
    assert "#siare2e" in found[0]["text"].lower()
    r = await http.get(f"{base}/report", params=period(), headers=tenant.auth)
    assert r.status_code == 200
    trend = r.json()["items"][0]
    assert trend["mentions"]["current"] >= len(found) > 0
    assert trend["share_of_voice_pct"] == 100
    r = await http.get(f"{base}/report.csv", params=period(), headers=tenant.auth)
    assert r.status_code == 200
    assert item["id"] in r.text


async def test_bad_report_input_is_named(stack: Stack, http: httpx.AsyncClient) -> None:
    urls = stack.urls
    tenant = await new_tenant(http, urls["vault"])
    other = await new_tenant(http, urls["vault"])
    reports = f"{urls['analytics']}/v1/workspaces/{tenant.workspace_id}/reports"
    today = datetime.now(UTC).date()

    r = await http.get(
        f"{reports}/overview",
        params={"from": today.isoformat(), "to": (today - timedelta(days=3)).isoformat()},
        headers=tenant.auth,
    )
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["type"].endswith("invalid-range")
    r = await http.get(
        f"{reports}/overview",
        params={"from": "2020-01-01", "to": today.isoformat()},
        headers=tenant.auth,
    )
    assert r.status_code == 422
    assert "days" in r.json()["detail"]
    r = await http.get(
        f"{reports}/overview", params={**period(), "account_id": "acc_nope"}, headers=tenant.auth
    )
    assert r.status_code == 404
    assert r.json()["type"].endswith("not-found")
    r = await http.get(
        f"{reports}/overview", params={**period(), "tz": "Nowhere/Land"}, headers=tenant.auth
    )
    assert r.status_code == 422
    r = await http.get(
        f"{reports}/overview.csv", params={**period(), "section": "nope"}, headers=tenant.auth
    )
    assert r.status_code == 422
    # Someone else's workspace does not exist for this caller.
    r = await http.get(
        f"{urls['analytics']}/v1/workspaces/{other.workspace_id}/reports/overview",
        params=period(),
        headers=tenant.auth,
    )
    assert r.status_code == 404
    research = f"{urls['analytics']}/v1/workspaces/{tenant.workspace_id}/research/items"
    r = await http.post(
        research,
        json={"kind": "competitor", "value": "@rival", "account_id": "acc_nope"},
        headers=tenant.auth,
    )
    assert r.status_code == 404
    r = await http.post(
        research,
        json={"kind": "hashtag", "value": "not a tag", "account_id": tenant.account_id},
        headers=tenant.auth,
    )
    assert r.status_code == 422
    assert r.json()["type"].endswith("invalid-research-item")
    r = await http.put(
        f"{reports}/branding/logo",
        content=b"<svg/>",
        headers={**tenant.auth, "content-type": "image/svg+xml"},
    )
    assert r.status_code == 422

"""Per-network variants through the scheduler API on a real MongoDB: create, edit, CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from siar.connectors.sandbox import SandboxConnector
from siar.contracts import utcnow
from siar.devstack import Infra
from siar.runtime.mongo import Document
from siar_scheduler.csv_io import COLUMNS

from .conftest import unique
from .scheduler_workflow_app import Harness, auth, scheduler_harness

LONG = "Spring is here. " * 25  # 400 characters: fine on the sandbox, too long for Bluesky
SHORT = "Spring is here 🌷"


@pytest.fixture(name="app")
async def scheduler_with_sandbox(
    mongo: AsyncMongoClient[Document], db: AsyncDatabase[Document], infra: Infra
) -> AsyncIterator[Harness]:
    """The scheduler with Bluesky's and the sandbox's rules (the thread tests' app too)."""
    async with scheduler_harness(
        mongo, db, unique("ws"), serialize=infra.kind == "embedded"
    ) as harness:
        harness.service.connectors["sandbox"] = SandboxConnector(mongo)
        yield harness


def body(**extra: object) -> dict[str, object]:
    at = (utcnow() + timedelta(days=2)).replace(microsecond=0).isoformat()
    return {"text": LONG, "account_ids": ["acc_sky", "acc_box"], "scheduled_at": at, **extra}


async def posts_in(app: Harness) -> int:
    return await app.db["posts"].count_documents({"workspace_id": app.workspace_id})


def violations(response_json: dict[str, object]) -> set[tuple[str, str]]:
    assert response_json["type"] == "urn:siar:problem:network-rules", response_json
    found = response_json["violations"]
    assert isinstance(found, list)
    return {(v["network"], v["rule"]) for v in found}


async def test_a_variant_gives_one_network_its_own_caption_and_comment(app: Harness) -> None:
    r = await app.http.post(app.url("/posts"), json=body(), headers=auth("editor"))
    assert r.status_code == 422
    assert violations(r.json()) == {("bluesky", "text.length")}
    assert "Bluesky" in r.json()["detail"]

    variants = {"bluesky": {"text": SHORT, "first_comment": "More at example.com"}}
    r = await app.http.post(app.url("/posts"), json=body(variants=variants), headers=auth("editor"))
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["variants"]["bluesky"] == {
        "text": SHORT,
        "format": None,
        "title": None,
        "first_comment": "More at example.com",
        "thread": [],
    }
    r = await app.http.get(app.url(f"/posts/{created['id']}"), headers=auth("viewer"))
    assert r.json()["variants"] == created["variants"]
    assert await posts_in(app) == 1


@pytest.mark.parametrize(
    ("variants", "broken"),
    [
        ({"instagram": {"format": "reel"}}, ("instagram", "variant.not_a_target")),
        ({"bluesky": {"text": SHORT, "format": "reel"}}, ("bluesky", "format")),
        ({"bluesky": {"text": SHORT, "title": "Spring"}}, ("bluesky", "title.unsupported")),
        ({"bluesky": {"text": SHORT, "format": "carousel"}}, ("bluesky", "format.carousel")),
        ({"sandbox": {"text": "#a " * 31}}, ("sandbox", "text.hashtags")),
    ],
)
async def test_bad_variants_are_refused_naming_network_and_rule(
    app: Harness, variants: dict[str, object], broken: tuple[str, str]
) -> None:
    variants.setdefault("bluesky", {"text": SHORT})
    r = await app.http.post(app.url("/posts"), json=body(variants=variants), headers=auth("editor"))
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert broken in violations(r.json())
    assert await posts_in(app) == 0


async def test_an_unknown_format_or_field_is_a_validation_problem(app: Harness) -> None:
    for variant in ({"text": SHORT, "format": "hologram"}, {"text": SHORT, "colour": "red"}):
        r = await app.http.post(
            app.url("/posts"), json=body(variants={"bluesky": variant}), headers=auth("editor")
        )
        assert r.status_code == 422
        assert r.json()["type"] == "urn:siar:problem:validation"
    assert await posts_in(app) == 0


async def test_patch_replaces_the_variants_and_checks_them_with_the_text(app: Harness) -> None:
    first = {"bluesky": {"text": SHORT}}
    r = await app.http.post(app.url("/posts"), json=body(variants=first), headers=auth("editor"))
    assert r.status_code == 201, r.text
    post_url = app.url(f"/posts/{r.json()['id']}")

    # Dropping Bluesky's own caption would send it the long text: refused, nothing changed.
    r = await app.http.patch(
        post_url, json={"variants": {"sandbox": {"text": "Box"}}}, headers=auth("editor")
    )
    assert r.status_code == 422
    assert violations(r.json()) == {("bluesky", "text.length")}
    r = await app.http.get(post_url, headers=auth("viewer"))
    assert set(r.json()["variants"]) == {"bluesky"}

    # A short main text and a new map: the old Bluesky variant is gone.
    r = await app.http.patch(
        post_url,
        json={"text": SHORT, "variants": {"sandbox": {"text": "Box", "first_comment": "c"}}},
        headers=auth("editor"),
    )
    assert r.status_code == 200, r.text
    assert set(r.json()["variants"]) == {"sandbox"}
    # The text alone is checked against the kept variants too.
    r = await app.http.patch(post_url, json={"text": LONG}, headers=auth("editor"))
    assert violations(r.json()) == {("bluesky", "text.length")}
    r = await app.http.patch(post_url, json={"variants": {}}, headers=auth("editor"))
    assert r.status_code == 200
    assert r.json()["variants"] == {}
    assert r.json()["text"] == SHORT


async def test_csv_carries_variants_both_ways(app: Harness) -> None:
    at = (utcnow() + timedelta(days=3)).strftime("%Y-%m-%dT09:00:00")
    good = '{"bluesky":{"text":"Short","first_comment":"more"}}'
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    writer.writerow([at, "Europe/Berlin", "acc_sky;acc_box", LONG, "", "", "", good])
    writer.writerow([at, "Europe/Berlin", "acc_sky", LONG, "", "", "", ""])
    writer.writerow([at, "Europe/Berlin", "acc_sky", "x", "", "", "", '{"x":{"text":"y"}}'])
    headers = {**auth("editor"), "content-type": "text/csv"}
    r = await app.http.post(
        app.url("/posts:import"),
        content=out.getvalue().encode(),
        params={"mode": "valid_only"},
        headers=headers,
    )
    assert r.status_code == 200, r.text
    rows = r.json()["rows"]
    assert rows[0]["errors"] == []
    assert any("bluesky" in e for e in rows[1]["errors"])
    assert any("no x account" in e for e in rows[2]["errors"])

    window = {"from": utcnow().isoformat(), "to": (utcnow() + timedelta(days=10)).isoformat()}
    r = await app.http.get(app.url("/posts.csv"), params=window, headers=auth("viewer"))
    exported = list(csv.DictReader(io.StringIO(r.text)))
    assert [e["variants"] for e in exported] == [good]

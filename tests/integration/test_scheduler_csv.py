"""CSV import and export on a real MongoDB: per-row reports, modes, bad files, round trip."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import UTC, timedelta

import pytest
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from siar.contracts import utcnow
from siar.devstack import Infra
from siar.runtime.mongo import Document
from siar_scheduler.api import import_routes
from siar_scheduler.csv_io import COLUMNS, MAX_ROWS

from .conftest import unique
from .scheduler_workflow_app import Harness, auth, scheduler_harness

HEADER = ",".join(COLUMNS)


@pytest.fixture
async def app(
    mongo: AsyncMongoClient[Document], db: AsyncDatabase[Document], infra: Infra
) -> AsyncIterator[Harness]:
    """The scheduler on this test's database, with a label named Launch."""
    async with scheduler_harness(
        mongo, db, unique("ws"), serialize=infra.kind == "embedded"
    ) as harness:
        r = await harness.http.post(
            harness.url("/labels"),
            json={"name": "Launch", "colour": "#123456"},
            headers=auth("editor"),
        )
        assert r.status_code == 201
        yield harness


def wall(days: int) -> str:
    """A wall-clock time (no offset) ``days`` from now, at 09:00."""
    return (utcnow() + timedelta(days=days)).strftime("%Y-%m-%dT09:00:00")


def table(*rows: list[str], header: str = HEADER) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    for row in rows:
        writer.writerow(row)
    return (header + "\r\n" + out.getvalue()).encode()


GOOD = [
    [wall(3), "Asia/Jakarta", "acc_box", "Hello, Jakarta", "https://example.com", "", "Launch"],
    [wall(4), "Europe/Berlin", "acc_sky;acc_box", 'Quotes "work", commas too', "", "", ""],
]


async def posts_in(app: Harness) -> int:
    return await app.db["posts"].count_documents({"workspace_id": app.workspace_id})


async def upload(
    app: Harness, data: bytes, role: str = "editor", **params: str
) -> tuple[int, dict[str, object]]:
    r = await app.http.post(
        app.url("/posts:import"),
        content=data,
        params=params,
        headers={**auth(role), "content-type": "text/csv"},
    )
    return r.status_code, dict(r.json())


async def test_import_with_bom_then_export_reimports(app: Harness) -> None:
    status, report = await upload(app, b"\xef\xbb\xbf" + table(*GOOD))
    assert status == 200, report
    assert report["imported"] == 2
    assert report["invalid"] == 0
    rows = report["rows"]
    assert isinstance(rows, list)
    assert [r["line"] for r in rows] == [2, 3]
    first = await app.service.get_post(app.workspace_id, rows[0]["post_id"])
    assert first.scheduled_at is not None
    assert first.scheduled_at.astimezone(UTC).hour == 2  # 09:00 read in Asia/Jakarta (UTC+7)
    assert first.status.value == "scheduled"
    assert len(first.label_ids) == 1

    window = {"from": utcnow().isoformat(), "to": (utcnow() + timedelta(days=10)).isoformat()}
    r = await app.http.get(app.url("/posts.csv"), params=window, headers=auth("viewer"))
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    exported = list(csv.DictReader(io.StringIO(r.text)))
    assert [e["text"] for e in exported] == ["Hello, Jakarta", 'Quotes "work", commas too']
    assert exported[0]["labels"] == "Launch"
    assert exported[1]["account_ids"] == "acc_sky;acc_box"

    status, again = await upload(app, r.content)
    assert status == 200, again
    assert again["imported"] == 2
    assert await posts_in(app) == 4


async def test_all_or_nothing_refuses_the_file_and_names_each_bad_row(app: Harness) -> None:
    bad = [
        [wall(3), "", "acc_box", "no zone", "", "", ""],
        [wall(3), "Mars/Olympus", "acc_box", "bad zone", "", "", ""],
        [wall(-3), "UTC", "acc_box", "in the past", "", "", ""],
        [wall(3), "UTC", "acc_gone", "unknown account", "", "", ""],
        [wall(3), "UTC", "acc_sky", "x" * 301, "", "", ""],
        [wall(3), "UTC", "acc_box", "", "", "", ""],
        [wall(3), "UTC", "acc_box", "unknown label", "", "", "Nope"],
        ["tomorrow", "UTC", "acc_box", "bad time", "", "", ""],
    ]
    status, problem = await upload(app, table(*GOOD, *bad))
    assert status == 422, problem
    assert problem["type"] == "urn:siar:problem:csv-rows-invalid"
    errors = {r["line"]: " ".join(r["errors"]) for r in problem["rows"]}  # type: ignore[attr-defined]
    assert sorted(errors) == list(range(4, 12))
    assert "timezone" in errors[4]
    assert "Mars/Olympus" in errors[5]
    assert "in the past" in errors[6]
    assert "acc_gone" in errors[7]
    assert "bluesky" in errors[8]
    assert "300" in errors[8]
    assert "text is empty" in errors[9]
    assert "Nope" in errors[10]
    assert "ISO 8601" in errors[11]
    assert await posts_in(app) == 0

    status, report = await upload(app, table(*GOOD, *bad), mode="valid_only")
    assert status == 200, report
    assert report["imported"] == 2
    assert report["invalid"] == 8
    assert await posts_in(app) == 2


@pytest.mark.parametrize(
    ("data", "status", "kind", "words"),
    [
        (b"", 400, "csv-columns", "empty"),
        (b"when,text\r\n", 400, "csv-columns", "missing account_ids, scheduled_at"),
        (table(header=HEADER + ",extra"), 400, "csv-columns", "unknown extra"),
        (table(header=HEADER + ",text"), 400, "csv-columns", "repeated text"),
        (
            table([wall(3), "", "acc_box", "caf\xe9", "", "", ""]).replace(
                b"caf\xc3\xa9", b"caf\xe9"
            ),
            400,
            "csv-encoding",
            "not UTF-8",
        ),
        (
            table([wall(3), "UTC", "acc_box", "a", "", "", "", "", "surplus"]),
            400,
            "csv-encoding",
            "more fields",
        ),
        (
            table(*([[wall(3), "UTC", "acc_box", "t", "", "", ""]] * (MAX_ROWS + 1))),
            413,
            "csv-too-large",
            "5000",
        ),
        (b"x" * (10 * 1024 * 1024 + 1), 413, "csv-too-large", "over"),
    ],
)
async def test_bad_files_are_refused_whole(
    app: Harness, data: bytes, status: int, kind: str, words: str
) -> None:
    got, problem = await upload(app, data)
    assert got == status, problem
    assert problem["type"] == f"urn:siar:problem:{kind}"
    assert words in str(problem["detail"])
    assert await posts_in(app) == 0


async def test_contributors_import_drafts_when_approval_is_required(app: Harness) -> None:
    await app.http.patch(
        app.url("/scheduler-settings"), json={"approvals_required": True}, headers=auth("owner")
    )
    status, problem = await upload(app, table(*GOOD), role="contributor")
    assert status == 403, problem
    status, report = await upload(app, table(*GOOD), role="contributor", drafts="true")
    assert status == 200, report
    rows = report["rows"]
    assert isinstance(rows, list)
    post = await app.service.get_post(app.workspace_id, rows[0]["post_id"])
    assert post.status.value == "draft"
    assert post.created_by == "usr_contributor"


async def test_an_export_is_never_cut_short(app: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    status, _ = await upload(app, table(*GOOD))
    assert status == 200
    monkeypatch.setattr(import_routes, "EXPORT_MAX", 1)  # instead of seeding 5,001 posts
    window = {"from": utcnow().isoformat(), "to": (utcnow() + timedelta(days=10)).isoformat()}
    r = await app.http.get(app.url("/posts.csv"), params=window, headers=auth("viewer"))
    assert r.status_code == 422
    assert r.json()["type"] == "urn:siar:problem:export-too-large"
    assert "more than 1 posts" in r.json()["detail"]

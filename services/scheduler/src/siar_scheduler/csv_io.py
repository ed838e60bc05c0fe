"""CSV import and export of posts: the same columns both ways, so an export re-imports.

Import checks every row the way creating one post does (accounts, time and zone,
media, labels, each network's rules) and reports per row. The caller chooses
all-or-nothing (any bad row: nothing written, 422 with the report) or valid rows
only. Whatever is written goes in one bulk insert inside one transaction.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from pymongo.asynchronous.client_session import AsyncClientSession

from siar.connectors import MediaItem
from siar.contracts import utcnow
from siar_scheduler.domain import (
    Post,
    PostStatus,
    PostVariant,
    Target,
    check_schedule,
    resolve_local_time,
)
from siar_scheduler.errors import (
    CsvColumns,
    CsvRowsInvalid,
    CsvTooLarge,
    CsvUnreadable,
    SchedulerError,
)
from siar_scheduler.labels import LabelService
from siar_scheduler.service import SchedulerService
from siar_scheduler.variants import variants_from_json, variants_to_json
from siar_scheduler.workflow_store import WorkflowStore

COLUMNS = (
    "scheduled_at",
    "timezone",
    "account_ids",
    "text",
    "link",
    "media_ids",
    "labels",
    "variants",
)
"""``variants`` (optional) is a JSON object like the API's, e.g. {"x":{"text":"Short"}}."""
REQUIRED = frozenset({"scheduled_at", "account_ids", "text"})
LIST_SEPARATOR = ";"
MAX_ROWS = 5000
MAX_BYTES = 10 * 1024 * 1024
MAX_TEXT = 20_000


class ImportMode(StrEnum):
    """What to do when some rows are invalid."""

    ALL_OR_NOTHING = "all_or_nothing"
    VALID_ONLY = "valid_only"


@dataclass
class RowReport:
    """The verdict on one data row (``line`` counts the header as line 1)."""

    line: int
    post_id: str | None = None
    errors: list[str] = field(default_factory=list)


@dataclass
class ImportResult:
    """What an import did."""

    mode: ImportMode
    imported: int
    rows: list[RowReport]


def read_rows(data: bytes) -> list[dict[str, str]]:
    """The CSV's data rows by column, after checking size, encoding and header."""
    if len(data) > MAX_BYTES:
        raise CsvTooLarge(f"the file is {len(data)} bytes; at most {MAX_BYTES} are accepted")
    try:
        text = data.decode("utf-8-sig")  # a leading byte-order mark is dropped
    except UnicodeDecodeError as err:
        raise CsvUnreadable(
            f"the file is not UTF-8 (invalid byte at offset {err.start}); save it as CSV UTF-8"
        ) from err
    if "\x00" in text:
        raise CsvUnreadable("the file contains NUL bytes; it is not a CSV text file")
    reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)
    header = [h.strip() for h in reader.fieldnames or []]
    _check_header(header)
    reader.fieldnames = header
    rows: list[dict[str, str]] = []
    try:
        for row in reader:
            if len(rows) == MAX_ROWS:
                raise CsvTooLarge(f"more than {MAX_ROWS} rows; split the file")
            if None in row:
                raise CsvUnreadable(f"line {reader.line_num} has more fields than the header")
            rows.append({k: (v or "").strip() for k, v in row.items()})
    except csv.Error as err:
        raise CsvUnreadable(f"line {reader.line_num} is not valid CSV: {err}") from err
    return rows


def _check_header(header: list[str]) -> None:
    if not header:
        raise CsvColumns(
            f"the file is empty; the first line must name columns: {', '.join(COLUMNS)}"
        )
    unknown = [h for h in header if h not in COLUMNS]
    missing = sorted(REQUIRED - set(header))
    doubled = sorted({h for h in header if header.count(h) > 1})
    problems = []
    if missing:
        problems.append(f"missing {', '.join(missing)}")
    if unknown:
        problems.append(f"unknown {', '.join(unknown)}")
    if doubled:
        problems.append(f"repeated {', '.join(doubled)}")
    if problems:
        raise CsvColumns(f"{'; '.join(problems)} (columns are: {', '.join(COLUMNS)})")


def _split(value: str) -> list[str]:
    return list(dict.fromkeys(p.strip() for p in value.split(LIST_SEPARATOR) if p.strip()))


def _variants(row: dict[str, str], errors: list[str]) -> dict[str, PostVariant]:
    try:
        return variants_from_json(row.get("variants", ""))
    except ValueError as err:
        errors.append(str(err))
        return {}


def write_csv(posts: Iterable[Post], label_names: dict[str, str]) -> str:
    """The posts as CSV with :data:`COLUMNS`; times in UTC with their offset."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for post in posts:
        writer.writerow(
            [
                post.scheduled_at.isoformat() if post.scheduled_at else "",
                "",
                LIST_SEPARATOR.join(t.account_id for t in post.targets),
                post.text,
                post.link or "",
                LIST_SEPARATOR.join(post.media_ids),
                LIST_SEPARATOR.join(label_names[i] for i in post.label_ids if i in label_names),
                variants_to_json(post.variants),
            ]
        )
    return out.getvalue()


class CsvImporter:
    """Checks rows like one-post creation does, then writes the chosen ones at once."""

    def __init__(self, posts: SchedulerService, store: WorkflowStore, labels: LabelService):
        self.posts = posts
        self.store = store
        self.labels = labels

    async def run(
        self, workspace_id: str, data: bytes, *, author: str, mode: ImportMode, drafts: bool
    ) -> ImportResult:
        """Import a CSV: validate every row, report, write valid rows per ``mode``."""
        rows = read_rows(data)
        checker = _RowChecker(self.posts, workspace_id, await self.labels.ids_by_name(workspace_id))
        reports: list[RowReport] = []
        good: list[Post] = []
        for line, row in enumerate(rows, start=2):
            report = RowReport(line=line)
            post = await checker.post(row, report, author=author, drafts=drafts)
            if post is not None:
                report.post_id = post.id
                good.append(post)
            reports.append(report)
        bad = [r for r in reports if r.errors]
        if bad and mode is ImportMode.ALL_OR_NOTHING:
            raise CsvRowsInvalid(
                f"{len(bad)} of {len(reports)} rows are invalid (first: line {bad[0].line}: "
                f"{bad[0].errors[0]}); nothing was imported",
                [{"line": r.line, "errors": r.errors} for r in bad],
            )
        if good:
            await self._insert(workspace_id, good)
        return ImportResult(mode=mode, imported=len(good), rows=reports)

    async def _insert(self, workspace_id: str, posts: list[Post]) -> None:
        async def work(session: AsyncClientSession) -> None:
            await self.store.bulk_posts(workspace_id, insert=posts, session=session)

        await self.posts.uow.run(work)
        for post in posts:
            self.posts.hand_to_dispatch(post)


class _RowChecker:
    """Per-import caches: a 5,000-row file names the same few accounts and media often."""

    def __init__(self, posts: SchedulerService, workspace_id: str, labels: dict[str, str]):
        self.posts = posts
        self.workspace_id = workspace_id
        self.labels = labels
        self.targets: dict[str, Target | str] = {}
        self.media: dict[tuple[str, ...], list[MediaItem] | str] = {}
        self.now = utcnow()

    async def post(
        self, row: dict[str, str], report: RowReport, *, author: str, drafts: bool
    ) -> Post | None:
        errors = report.errors
        text, link = row.get("text", ""), row.get("link") or None
        if not text:
            errors.append("text is empty")
        elif len(text) > MAX_TEXT:
            errors.append(f"text is {len(text)} characters; at most {MAX_TEXT}")
        if link and len(link) > 2048:
            errors.append("link is longer than 2048 characters")
        at = self._time(row, errors)
        targets = await self._targets(_split(row.get("account_ids", "")), errors)
        media = await self._media(_split(row.get("media_ids", "")), errors)
        label_ids = self._labels(_split(row.get("labels", "")), errors)
        variants = _variants(row, errors)
        if text and targets and media is not None:
            try:
                self.posts.check_rules(text, targets, media, variants)
            except SchedulerError as err:
                extra: dict[str, Any] = getattr(err, "problem_extra", {})
                violations = extra.get("violations") or [{"network": "", "message": str(err)}]
                errors.extend(f"{v['network']}: {v['message']}".lstrip(": ") for v in violations)
        if errors or at is None:
            return None
        return Post(
            id=f"pst_{uuid.uuid4().hex[:20]}",
            workspace_id=self.workspace_id,
            text=text,
            link=link,
            media_ids=_split(row.get("media_ids", "")),
            media_kinds=[m.kind.value for m in media or []],
            variants=variants,
            scheduled_at=at,
            status=PostStatus.DRAFT if drafts else PostStatus.SCHEDULED,
            targets=targets,
            created_by=author,
            created_at=self.now,
            updated_at=self.now,
            label_ids=label_ids,
        )

    def _time(self, row: dict[str, str], errors: list[str]) -> datetime | None:
        raw = row.get("scheduled_at", "")
        if not raw:
            errors.append("scheduled_at is empty")
            return None
        try:
            at = resolve_local_time(datetime.fromisoformat(raw), row.get("timezone") or None)
            check_schedule(at, now=self.now, min_lead=self.posts.min_lead)
        except ValueError:
            errors.append(f"scheduled_at {raw!r} is not an ISO 8601 time (2026-05-01T09:00)")
            return None
        except SchedulerError as err:
            errors.append(str(err))
            return None
        return at

    async def _targets(self, account_ids: list[str], errors: list[str]) -> list[Target]:
        if not account_ids:
            errors.append("account_ids is empty")
        found: list[Target] = []
        for account_id in account_ids:
            if account_id not in self.targets:
                try:
                    self.targets[account_id] = await self.posts.target_for(
                        self.workspace_id, account_id
                    )
                except SchedulerError as err:
                    self.targets[account_id] = str(err)
            target = self.targets[account_id]
            if isinstance(target, str):
                errors.append(target)
            else:
                found.append(target)
        return found

    async def _media(self, media_ids: list[str], errors: list[str]) -> list[MediaItem] | None:
        if not media_ids:
            return []
        key = tuple(media_ids)
        if key not in self.media:
            try:
                self.media[key] = await self.posts.describe_media(self.workspace_id, media_ids)
            except SchedulerError as err:  # media errors are scheduler errors
                self.media[key] = str(err)
        described = self.media[key]
        if isinstance(described, str):
            errors.append(described)
            return None
        return described

    def _labels(self, names: list[str], errors: list[str]) -> list[str]:
        ids = []
        for name in names:
            label_id = self.labels.get(LabelService.key(name))
            if label_id is None:
                errors.append(f"label {name!r} does not exist; create it first")
            else:
                ids.append(label_id)
        return ids

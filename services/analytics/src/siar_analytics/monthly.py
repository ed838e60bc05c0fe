"""Branding and scheduled monthly reports: each enabled workspace gets last month's PDF.

Once a month has ended, the loop renders each enabled workspace's overview of that
month, stores the PDF in the GridFS bucket ``report_files`` and announces it on the
workspace's report webhook (HMAC-signed by :mod:`siar.runtime.webhooks`). Any number
of replicas may run the loop: the month's record is inserted with a unique ``_id``
before any work, so exactly one replica renders it. A failed webhook is retried on
later rounds, up to :data:`MAX_DELIVERIES`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta

import httpx
from gridfs import AsyncGridFSBucket
from gridfs.errors import NoFile
from pydantic import AnyHttpUrl, BaseModel, Field, SecretStr
from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError, PyMongoError

from siar.runtime import sealing, webhooks
from siar.runtime.mongo import Document, IndexSpec, TenantCollection
from siar_analytics.errors import InvalidReportRequest, NotFound
from siar_analytics.pdf_report import render_pdf
from siar_analytics.report_service import ReportService, Scope, check_timezone

log = logging.getLogger(__name__)
BUCKET = "report_files"
MAX_LOGO_BYTES = 512 * 1024
LOGO_TYPES = {"image/png": b"\x89PNG\r\n\x1a\n", "image/jpeg": b"\xff\xd8\xff"}
MAX_DELIVERIES = 5
WEBHOOK_SECRET = "monthly report webhook secret"  # noqa: S105 - a name, not a secret
SEALING_PURPOSE = "siar-analytics:monthly-webhook"
MONTHLY_INDEXES = (
    IndexSpec("report_settings", [("workspace_id", ASCENDING)], unique=True),
    IndexSpec("report_settings", [("monthly.enabled", ASCENDING)]),
    IndexSpec("monthly_reports", [("workspace_id", ASCENDING), ("month", ASCENDING)]),
    IndexSpec("monthly_reports", [("delivered", ASCENDING)]),
)


class MonthlySettings(BaseModel):
    """Where and how a workspace's monthly report goes."""

    enabled: bool = True
    webhook_url: AnyHttpUrl
    secret: SecretStr = Field(min_length=16, description="HMAC key the receiver checks.")
    title: str = Field(default="Monthly social media report", max_length=200)
    timezone: str = Field(default="UTC", max_length=64)
    commentary: str | None = Field(default=None, max_length=5000)


class MonthlySettingsPublic(BaseModel):
    """The monthly settings as shown: never the secret."""

    enabled: bool
    webhook_url: str
    title: str
    timezone: str
    commentary: str | None


class MonthlyFile(BaseModel):
    """A stored monthly report."""

    month: str
    size_bytes: int
    created_at: datetime
    delivered: bool


def month_before(today: date) -> tuple[date, date, str]:
    """First and last day of the month before ``today``'s, and its "YYYY-MM" name."""
    last = today.replace(day=1) - timedelta(days=1)
    return last.replace(day=1), last, f"{last.year:04d}-{last.month:02d}"


def check_logo(content_type: str, body: bytes) -> str:
    """The logo's media type, if it is a PNG or JPEG of allowed size."""
    kind = content_type.split(";")[0].strip().lower()
    magic = LOGO_TYPES.get(kind)
    if magic is None:
        raise InvalidReportRequest("a logo is a PNG or JPEG image (image/png, image/jpeg)")
    if len(body) > MAX_LOGO_BYTES:
        raise InvalidReportRequest(f"a logo is at most {MAX_LOGO_BYTES // 1024} KiB")
    if not body.startswith(magic):
        raise InvalidReportRequest(f"the body is not a {kind} image")
    return kind


class MonthlyReports:
    """Branding, monthly settings, stored PDFs and the monthly loop."""

    def __init__(
        self,
        db: AsyncDatabase[Document],
        reports: ReportService,
        http: httpx.AsyncClient,
        key: bytes,
    ) -> None:
        self.key = key  # seals the webhook secret (see siar.runtime.sealing)
        self.settings = TenantCollection(db["report_settings"])
        self.files = TenantCollection(db["monthly_reports"])
        self.bucket = AsyncGridFSBucket(db, bucket_name=BUCKET)
        self.reports = reports
        self.http = http
        self._stop = asyncio.Event()

    # -- branding and settings -----------------------------------------------------------
    async def set_logo(self, workspace_id: str, content_type: str, body: bytes) -> None:
        """Store the logo printed on the cover of the workspace's PDF reports."""
        kind = check_logo(content_type, body)
        await self.settings.update_one(
            workspace_id, {}, {"$set": {"logo": body, "logo_type": kind}}, upsert=True
        )

    async def logo(self, workspace_id: str) -> tuple[bytes, str] | None:
        """The workspace's logo and its media type, if one is set."""
        doc = await self.settings.find_one(workspace_id, {})
        if not doc or not doc.get("logo"):
            return None
        return bytes(doc["logo"]), str(doc.get("logo_type", "image/png"))

    async def remove_logo(self, workspace_id: str) -> None:
        """Print reports without a logo."""
        await self.settings.update_one(workspace_id, {}, {"$set": {"logo": None}})

    async def configure(self, workspace_id: str, body: MonthlySettings) -> MonthlySettingsPublic:
        """Turn monthly reports on (or change where they go)."""
        check_timezone(body.timezone)
        secret = sealing.seal(self.key, workspace_id, body.secret.get_secret_value())
        monthly = body.model_dump(mode="json") | {"secret": secret}
        await self.settings.update_one(
            workspace_id, {}, {"$set": {"monthly": monthly}}, upsert=True
        )
        return MonthlySettingsPublic.model_validate(monthly)

    async def configured(self, workspace_id: str) -> MonthlySettingsPublic:
        """The monthly settings as shown, or 404."""
        doc = await self.settings.find_one(workspace_id, {})
        if not doc or not doc.get("monthly"):
            raise NotFound("monthly report settings")
        return MonthlySettingsPublic.model_validate(doc["monthly"])

    async def disable(self, workspace_id: str) -> None:
        """Stop monthly reports (stored ones stay)."""
        await self.settings.update_one(workspace_id, {}, {"$set": {"monthly": None}})

    # -- rendering and files -------------------------------------------------------------
    async def render(
        self,
        workspace_id: str,
        start: date,
        end: date,
        scope: Scope,
        *,
        tz: str = "UTC",
        title: str = "Social media report",
        commentary: str | None = None,
    ) -> bytes:
        """A PDF of the overview of ``scope`` over [start, end], with the logo if set."""
        report = await self.reports.overview(workspace_id, start, end, scope, tz)
        logo = await self.logo(workspace_id)
        return render_pdf(
            report, title=title, logo=logo[0] if logo else None, commentary=commentary
        )

    async def stored(self, workspace_id: str) -> list[MonthlyFile]:
        """The workspace's stored monthly reports, newest first."""
        docs = await self.files.find(workspace_id, {"file_id": {"$exists": True}})
        docs.sort(key=lambda d: str(d["month"]), reverse=True)
        return [MonthlyFile.model_validate(d) for d in docs]

    async def open_file(self, workspace_id: str, month: str) -> AsyncIterator[bytes]:
        """The stored PDF of a month, in chunks, or 404."""
        doc = await self.files.find_one(workspace_id, {"month": month})
        if not doc or not doc.get("file_id"):
            raise NotFound("monthly report", f"no stored report for {month}")
        try:
            stream = await self.bucket.open_download_stream(doc["file_id"])
        except NoFile as err:
            raise NotFound("monthly report", f"no stored report for {month}") from err

        async def chunks() -> AsyncIterator[bytes]:
            while chunk := await stream.readchunk():
                yield chunk

        return chunks()

    # -- the monthly job -----------------------------------------------------------------
    async def run_due(self, today: date) -> int:
        """Render and announce last month's report for every enabled workspace; returns
        how many were rendered in this round (retrying unannounced ones as well)."""
        start, end, month = month_before(today)
        rendered = 0
        enabled = self.settings.raw.find({"monthly.enabled": True})
        async for doc in enabled:
            ws = str(doc["workspace_id"])
            record = {"_id": f"{ws}:{month}", "workspace_id": ws, "month": month}
            try:
                await self.files.raw.insert_one({**record, "delivered": False, "attempts": 0})
            except DuplicateKeyError:
                continue  # another round or replica has it
            try:
                await self._render_month(ws, doc["monthly"], start, end, month)
            except Exception:
                # Free the month again so a later round renders it.
                await self.files.delete_one(ws, {"month": month})
                raise
            rendered += 1
        await self._retry_webhooks()
        return rendered

    async def _render_month(
        self, ws: str, monthly: Document, start: date, end: date, month: str
    ) -> None:
        pdf = await self.render(
            ws,
            start,
            end,
            Scope(),
            tz=str(monthly.get("timezone") or "UTC"),
            title=str(monthly.get("title") or "Monthly social media report"),
            commentary=monthly.get("commentary"),
        )
        file_id = f"{ws}:{month}"
        with contextlib.suppress(NoFile, PyMongoError):
            await self.bucket.delete(file_id)  # a crashed earlier attempt's file
        await self.bucket.upload_from_stream_with_id(
            file_id, f"{ws}-{month}.pdf", pdf, metadata={"workspace_id": ws}
        )
        stored = {
            "workspace_id": ws,
            "month": month,
            "file_id": file_id,
            "size_bytes": len(pdf),
            "created_at": datetime.now(UTC),
            "delivered": False,
            "attempts": 0,
        }
        await self.files.replace_one(ws, {"month": month}, stored)

    async def _retry_webhooks(self) -> None:
        pending = self.files.raw.find(
            {"delivered": False, "file_id": {"$exists": True}, "attempts": {"$lt": MAX_DELIVERIES}}
        )
        async for doc in pending:
            ws = str(doc["workspace_id"])
            settings = await self.settings.find_one(ws, {})
            monthly = (settings or {}).get("monthly")
            if not monthly:
                continue
            # A secret stored before sealing (a plain string) or sealed under a rotated
            # service secret reads as unset: the delivery fails and counts as an attempt.
            secret = sealing.unseal(self.key, ws, monthly.get("secret"), what=WEBHOOK_SECRET)
            ok = secret is not None and await webhooks.send(
                self.http,
                str(monthly["webhook_url"]),
                secret,
                kind="report.monthly",
                text=f"Your Siar report for {doc['month']} is ready.",
                data={
                    "workspace_id": ws,
                    "month": doc["month"],
                    "size_bytes": doc.get("size_bytes"),
                    "path": f"/v1/workspaces/{ws}/reports/monthly/files/{doc['month']}.pdf",
                },
                attempts=1,
            )
            await self.files.update_one(
                ws, {"month": doc["month"]}, {"$set": {"delivered": ok}, "$inc": {"attempts": 1}}
            )

    async def run(self, tick_s: float) -> None:
        """Check for due monthly reports every ``tick_s`` until :meth:`stop`."""
        while not self._stop.is_set():
            try:
                await self.run_due(datetime.now(UTC).date())
            except Exception:  # a bad round must not end the loop; the next one retries
                log.exception("monthly report round failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), tick_s)

    def stop(self) -> None:
        """Ask :meth:`run` to return."""
        self._stop.set()

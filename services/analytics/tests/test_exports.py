"""CSV and PDF exports of the overview; the PDF is rendered to pixels and looked at."""

from __future__ import annotations

import csv
import io
import struct
import zlib
from datetime import UTC, date, datetime, timedelta

import pypdfium2 as pdfium
import pytest

from siar_analytics.domain import ActivitySummary
from siar_analytics.errors import InvalidReportRequest
from siar_analytics.exports_csv import (
    OVERVIEW_SECTIONS,
    activity_csv,
    overview_csv,
    research_csv,
    to_csv,
)
from siar_analytics.inbox_report import inbox_summary
from siar_analytics.monthly import check_logo, month_before
from siar_analytics.pdf_report import ACCENT, render_pdf
from siar_analytics.report_service import Overview, Scope
from siar_analytics.reports import PostFacts, breakdown, delta, heatmap, rank
from siar_analytics.research import TrackedItem, research_report

START, END = date(2026, 3, 1), date(2026, 3, 31)


def png(width: int = 40, height: int = 20) -> bytes:
    """A small solid-red PNG, built by hand (a logo)."""
    row = b"\x00" + b"\xff\x00\x00" * width
    raw = zlib.compress(row * height)

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


def overview(*, days: int = 31, text: str = "Spring sale #spring") -> Overview:
    at = datetime(2026, 3, 2, 9, tzinfo=UTC)
    posts = [
        PostFacts(
            post_id=f"pst_{i}",
            account_id="acc_1",
            network="x" if i % 2 else "bluesky",
            network_post_id=f"n{i}",
            published_at=at + timedelta(hours=7 * i),
            text=text,
            hashtags=["spring"],
            content_type="image" if i % 3 else "video",
            metrics={"likes": float(i * 3), "reposts": 1.0, "impressions": 400.0},
            followers=1000.0,
        )
        for i in range(12)
    ]
    top, bottom = rank(posts)
    return Overview(
        workspace_id="ws_1",
        start=START,
        end=END,
        previous_start=date(2026, 1, 29),
        previous_end=date(2026, 2, 28),
        scope=Scope(),
        timezone="UTC",
        accounts=2,
        followers=delta(1500, 1400),
        follower_growth=delta(100, 80),
        impressions=delta(9000, 7000),
        reach=delta(5000, 0),
        engagement=delta(300, 250),
        engagement_rate=delta(2.5, 2.0),
        posts_published=delta(12, 10),
        followers_daily=[(START + timedelta(days=d), 1400.0 + d * 3) for d in range(days)],
        impressions_daily=[(START + timedelta(days=d), 250.0 + (d % 7) * 40) for d in range(days)],
        top_posts=top,
        bottom_posts=bottom,
        by_network=breakdown(posts, "network"),
        by_content_type=breakdown(posts, "content_type"),
        by_format=breakdown(posts, "format"),
        by_hashtag=breakdown(posts, "hashtag"),
        by_hour=breakdown(posts, "hour"),
        heatmap=heatmap(posts),
        demographics={"country": {"ID": 0.6, "SG": 0.4}},
        inbox=inbox_summary([{"day": "2026-03-03", "received": 5, "sentiment": {"positive": 5}}]),
        inbox_received=delta(5, 2),
        avg_first_response_s=delta(0, 0),
    )


def read_csv(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_every_overview_section_exports_with_a_header() -> None:
    report = overview()
    for section in OVERVIEW_SECTIONS:
        rows = read_csv(overview_csv(report, section))
        assert rows, section
        assert all(len(r) == len(rows[0]) for r in rows), section
    summary = {r[0]: r for r in read_csv(overview_csv(report, "summary"))[1:]}
    assert summary["followers"][1:] == ["1500.0", "1400.0", "100.0", "7.14"]
    assert summary["reach"][4] == ""  # no percentage from zero
    heat = read_csv(overview_csv(report, "heatmap"))
    assert heat[0][0] == "weekday"
    assert [r[0] for r in heat[1:]] == ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    with pytest.raises(InvalidReportRequest, match="unknown section"):
        overview_csv(report, "nope")


def test_activity_exports_each_counter_with_its_previous_value() -> None:
    summary = ActivitySummary(
        start=START,
        end=END,
        posts_published=4,
        messages_received=9,
        previous={"posts_published": 2},
    )
    rows = read_csv(activity_csv(summary))
    assert rows == [
        ["counter", "current", "previous"],
        ["posts_published", "4", "2"],
        ["posts_failed", "0", "0"],
        ["messages_received", "9", "0"],
    ]


def test_csv_cells_cannot_become_formulas() -> None:
    rows = read_csv(to_csv(["text"], [['=HYPERLINK("http://evil")'], ["+1"], ["@x"], ["ok"]]))
    assert [r[0] for r in rows[1:]] == ['\'=HYPERLINK("http://evil")', "'+1", "'@x", "ok"]
    top = read_csv(overview_csv(overview(text="=cmd|' /C calc'!A0"), "top_posts"))
    assert top[1][-1].startswith("'=")


def test_research_csv_has_a_row_per_item_and_day() -> None:
    item = TrackedItem(
        id="trk_1",
        workspace_id="ws_1",
        kind="competitor",
        value="rival.sandbox",
        account_id="acc_1",
        network="sandbox",
        created_by="usr_1",
        created_at=datetime(2026, 3, 1, tzinfo=UTC),
    )
    report = research_report(
        START,
        END,
        [item],
        {"trk_1": {"2026-03-02": (3, 10.0)}},
        {},
        {"trk_1": [("2026-03-01", 900.0), ("2026-03-02", 950.0)]},
    )
    rows = read_csv(research_csv(report))
    assert rows[1][4:7] == ["2026-03-01", "0", "900.0"]
    assert rows[2][4:7] == ["2026-03-02", "3", "950.0"]


def ink(image: object, box: tuple[int, int, int, int] | None = None) -> float:
    """Share of non-white pixels (in ``box`` if given) of a PIL image."""
    region = image.crop(box) if box else image  # type: ignore[attr-defined]
    gray = region.convert("L")
    pixels = list(gray.get_flattened_data())
    return sum(1 for p in pixels if p < 240) / len(pixels)


def accent_pixels(image: object) -> int:
    target = (round(ACCENT.red * 255), round(ACCENT.green * 255), round(ACCENT.blue * 255))
    rgb = image.convert("RGB")  # type: ignore[attr-defined]
    return sum(
        1
        for p in rgb.get_flattened_data()
        if all(abs(a - b) < 40 for a, b in zip(p, target, strict=True))
    )


def render(pdf: bytes) -> list[object]:
    document = pdfium.PdfDocument(pdf)
    try:
        return [document[i].render(scale=1).to_pil() for i in range(len(document))]
    finally:
        document.close()


def test_pdf_has_a_cover_with_the_logo_and_pages_with_ink() -> None:
    pdf = render_pdf(
        overview(), title="Acme <b>March</b>", logo=png(), commentary="Good month.\n\nMore soon."
    )
    assert pdf.startswith(b"%PDF")
    pages = render(pdf)
    assert len(pages) >= 2
    for page in pages:
        assert ink(page) > 0.002, "no page is blank"
    cover = pages[0].convert("RGB")  # type: ignore[attr-defined]
    red = sum(1 for r, g, b in cover.get_flattened_data() if r > 200 and g < 60 and b < 60)
    assert red > 200, "the logo is on the cover"


def test_pdf_charts_draw_ink_where_the_data_is() -> None:
    with_data = render(render_pdf(overview(), title="Report"))
    without = render(render_pdf(overview(days=0), title="Report"))
    # The same document without daily series: the line charts' strokes are the difference.
    assert accent_pixels(with_data[1]) > accent_pixels(without[1]) + 300
    width, height = with_data[1].size  # type: ignore[attr-defined]
    # The charts sit below the summary table, across the page's body.
    assert ink(with_data[1], (0, height // 3, width, height)) > ink(
        without[1], (0, height // 3, width, height)
    )


def test_logo_and_month_checks() -> None:
    assert check_logo("image/png", png()) == "image/png"
    with pytest.raises(InvalidReportRequest, match="PNG or JPEG"):
        check_logo("image/svg+xml", b"<svg/>")
    with pytest.raises(InvalidReportRequest, match="not a image/jpeg"):
        check_logo("image/jpeg", png())
    with pytest.raises(InvalidReportRequest, match="KiB"):
        check_logo("image/png", b"\x89PNG\r\n\x1a\n" + b"0" * 600_000)
    assert month_before(date(2026, 3, 1)) == (date(2026, 2, 1), date(2026, 2, 28), "2026-02")
    assert month_before(date(2026, 1, 15))[2] == "2025-12"

"""The client-ready PDF report, drawn with reportlab from the same Overview the API serves.

Page 1 is a cover (the workspace's logo, title, period); then the headline figures
against the previous period, the commentary someone wrote, charts (followers, daily
impressions, engagement by posting hour), the best-time heatmap and the tables.
Every text from users or the public goes through :func:`xml.sax.saxutils.escape`,
because reportlab paragraphs parse a small markup language.
"""

from __future__ import annotations

import io
from xml.sax.saxutils import escape

from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.charts.lineplots import LinePlot
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import cm
from reportlab.lib.utils import ImageReader
from reportlab.platypus import (
    Flowable,
    Image,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from siar_analytics.exports_csv import summary_figures
from siar_analytics.report_service import Overview
from siar_analytics.reports import Breakdown, RankedPost

ACCENT = colors.HexColor("#1f6feb")
CHART_W, CHART_H = 16 * cm, 6 * cm
_STYLES = getSampleStyleSheet()
BODY = _STYLES["BodyText"]
H1 = _STYLES["Title"]
H2 = _STYLES["Heading2"]
SMALL = ParagraphStyle("small", parent=BODY, fontSize=8, leading=10)
GRID = TableStyle(
    [
        ("BACKGROUND", (0, 0), (-1, 0), ACCENT),
        ("TEXTCOLOR", (0, 0), (-1, 0), colors.white),
        ("FONTSIZE", (0, 0), (-1, -1), 8),
        ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ]
)


def _fmt(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:,.0f}" if abs(value) >= 100 or float(value).is_integer() else f"{value:,.2f}"


def _cover(report: Overview, title: str, logo: bytes | None) -> list[Flowable]:
    parts: list[Flowable] = [Spacer(1, 3 * cm)]
    if logo:
        reader = ImageReader(io.BytesIO(logo))
        width, height = reader.getSize()
        scale = min(6 * cm / width, 3 * cm / height)
        parts += [Image(io.BytesIO(logo), width * scale, height * scale), Spacer(1, cm)]
    period = f"{report.start.isoformat()} to {report.end.isoformat()}"
    scope = report.scope.account_id or report.scope.network or "all accounts"
    parts += [
        Paragraph(escape(title), H1),
        Paragraph(escape(f"Performance report · {period}"), H2),
        Paragraph(
            escape(
                f"Scope: {scope} · compared with {report.previous_start.isoformat()}"
                f" to {report.previous_end.isoformat()}"
            ),
            BODY,
        ),
        PageBreak(),
    ]
    return parts


def _summary(report: Overview) -> Table:
    rows = [["Metric", "This period", "Previous", "Change"]]
    for name, figure in summary_figures(report):
        pct = figure.change_pct
        change = "-" if pct is None else f"{pct:+.1f}%"
        rows.append([name.replace("_", " "), _fmt(figure.current), _fmt(figure.previous), change])
    return Table(rows, style=GRID, hAlign="LEFT")


def _line_chart(title: str, points: list[tuple[object, float]]) -> Drawing:
    drawing = Drawing(CHART_W, CHART_H)
    drawing.add(String(0, CHART_H - 12, title, fontSize=10))
    if len(points) < 2:
        drawing.add(String(CHART_W / 3, CHART_H / 2, "not enough data yet", fontSize=9))
        return drawing
    chart = LinePlot()
    chart.x, chart.y, chart.width, chart.height = 40, 20, CHART_W - 60, CHART_H - 45
    chart.data = [[(i, v) for i, (_, v) in enumerate(points)]]
    chart.lines[0].strokeColor = ACCENT
    chart.lines[0].strokeWidth = 2
    chart.xValueAxis.visibleLabels = False
    drawing.add(chart)
    return drawing


def _bar_chart(title: str, rows: list[Breakdown]) -> Drawing:
    drawing = Drawing(CHART_W, CHART_H)
    drawing.add(String(0, CHART_H - 12, title, fontSize=10))
    if not rows:
        drawing.add(String(CHART_W / 3, CHART_H / 2, "no posts in this period", fontSize=9))
        return drawing
    ordered = sorted(rows, key=lambda r: r.key)
    chart = VerticalBarChart()
    chart.x, chart.y, chart.width, chart.height = 40, 25, CHART_W - 60, CHART_H - 50
    chart.data = [[r.avg_engagement for r in ordered]]
    chart.categoryAxis.categoryNames = [r.key for r in ordered]
    chart.categoryAxis.labels.fontSize = 7
    chart.bars[0].fillColor = ACCENT
    chart.valueAxis.valueMin = 0
    drawing.add(chart)
    return drawing


def _heatmap(report: Overview) -> Table:
    h = report.heatmap
    peak = max((v for row in h.avg_engagement for v in row), default=0.0) or 1.0
    rows: list[list[str]] = [["", *[f"{hour}" for hour in range(24)]]]
    style = [("FONTSIZE", (0, 0), (-1, -1), 6), ("GRID", (0, 0), (-1, -1), 0.1, colors.white)]
    for d, day in enumerate(h.weekdays):
        rows.append([day, *["" for _ in range(24)]])
        for hour, value in enumerate(h.avg_engagement[d]):
            shade = colors.Color(0.12, 0.44, 0.92, alpha=0.08 + 0.92 * value / peak)
            style.append(("BACKGROUND", (hour + 1, d + 1), (hour + 1, d + 1), shade))
    return Table(rows, colWidths=[1.2 * cm] + [0.62 * cm] * 24, style=TableStyle(style))


def _posts(title: str, posts: list[RankedPost]) -> list[Flowable]:
    if not posts:
        return []
    rows: list[list[object]] = [["Published", "Network", "Engagement", "Rate %", "Text"]]
    for p in posts:
        rows.append(
            [
                p.published_at.strftime("%Y-%m-%d %H:%M"),
                p.network,
                _fmt(p.engagement),
                _fmt(p.engagement_rate),
                Paragraph(escape(p.text[:160]), SMALL),
            ]
        )
    widths = [2.6 * cm, 2 * cm, 2 * cm, 1.6 * cm, 8.8 * cm]
    return [Paragraph(escape(title), H2), Table(rows, colWidths=widths, style=GRID, hAlign="LEFT")]


def _breakdown(title: str, rows: list[Breakdown]) -> list[Flowable]:
    if not rows:
        return []
    table = [["", "Posts", "Avg engagement", "Avg rate %"]]
    table += [
        [r.key, str(r.posts), _fmt(r.avg_engagement), _fmt(r.avg_engagement_rate)] for r in rows
    ]
    return [Paragraph(escape(title), H2), Table(table, style=GRID, hAlign="LEFT")]


def render_pdf(
    report: Overview, *, title: str, logo: bytes | None = None, commentary: str | None = None
) -> bytes:
    """The PDF document of an overview."""
    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=A4, title=title, author="Siar")
    story = _cover(report, title, logo)
    story += [Paragraph("Summary", H2), _summary(report), Spacer(1, 0.5 * cm)]
    if commentary:
        story += [Paragraph("Commentary", H2)]
        story += [Paragraph(escape(p), BODY) for p in commentary.split("\n\n") if p.strip()]
        story += [Spacer(1, 0.4 * cm)]
    story += [
        _line_chart("Followers", list(report.followers_daily)),
        _line_chart("Impressions per day", list(report.impressions_daily)),
        _bar_chart(f"Average engagement by posting hour ({report.timezone})", report.by_hour),
        Paragraph(f"Best time to post ({escape(report.timezone)})", H2),
        _heatmap(report),
    ]
    story += _posts("Top posts", report.top_posts) + _posts("Bottom posts", report.bottom_posts)
    story += _breakdown("By network", report.by_network)
    story += _breakdown("By content type", report.by_content_type)
    story += _breakdown("By format", report.by_format)
    story += _breakdown("By hashtag", report.by_hashtag[:15])
    inbox = report.inbox
    story += [
        Paragraph("Inbox", H2),
        Paragraph(
            escape(
                f"{inbox.received} messages received ({_fmt(report.inbox_received.change_pct)}% "
                f"vs previous), {inbox.responded} answered, average first response "
                f"{_fmt(inbox.avg_first_response_s)} s; sentiment {inbox.sentiment}."
            ),
            BODY,
        ),
    ]
    doc.build(story)
    return out.getvalue()

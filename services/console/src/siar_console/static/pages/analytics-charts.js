// Charts drawn by hand in SVG (no chart library): a line chart (this period against the
// previous one), a bar chart and the weekday × hour heatmap. Each chart is a <figure> whose
// SVG is labelled by its caption, with the same figures in a table under a disclosure,
// so a screen reader (or anyone) can read the numbers. Colours come from styles.css classes.

import { h } from "../dom.js";

const SVG = "http://www.w3.org/2000/svg";
const W = 520; // about the width a half-page chart gets at 1280 px, so text stays legible
const PAD = { left: 56, right: 12, top: 12, bottom: 28 };

function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value !== undefined && value !== null) el.setAttribute(key, String(value));
  }
  for (const child of children.flat(Infinity)) if (child) el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return el;
}

/** A round upper bound for an axis (1, 2, 2.5, 5 × 10^n) at or above `max`. */
export function niceMax(max) {
  if (!(max > 0)) return 1;
  const step = 10 ** Math.floor(Math.log10(max));
  return [1, 2, 2.5, 5, 10].map((m) => m * step).find((v) => v >= max);
}

let chartId = 0;
function figure(title, svg, table, legend) {
  chartId += 1;
  const captionId = `chart-${chartId}`;
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-labelledby", captionId);
  return h("figure", { class: "chart" },
    h("figcaption", { id: captionId }, title),
    svg,
    legend,
    table);
}

/** The figures behind a chart, in a disclosure (headers, rows of cells). */
export function dataTable(summary, headers, rows) {
  return h("details", { class: "chart-data" },
    h("summary", {}, summary),
    h("div", { class: "table-wrap" }, h("table", {},
      h("thead", {}, h("tr", {}, headers.map((x) => h("th", { scope: "col" }, x)))),
      h("tbody", {}, rows.map((r) => h("tr", {}, r.map((c) => h("td", {}, c))))))));
}

function yAxis(max, height, fmt) {
  const inner = height - PAD.top - PAD.bottom;
  return [0, 0.5, 1].map((f) => {
    const y = PAD.top + inner * (1 - f);
    return s("g", { class: "axis" },
      s("line", { x1: PAD.left, x2: W - PAD.right, y1: y, y2: y, class: "grid" }),
      s("text", { x: PAD.left - 6, y: y + 4, "text-anchor": "end" }, fmt(max * f)));
  });
}

/**
 * A line chart: `series` = [{label, values, className}] over the same `labels` (days).
 * The previous period's line is drawn dashed under this period's (by day index).
 */
export function lineChart({ title, labels, series, fmt, tableSummary, headers }) {
  const height = 220;
  const all = series.flatMap((x) => x.values);
  const max = niceMax(Math.max(0, ...all));
  const inner = { w: W - PAD.left - PAD.right, h: height - PAD.top - PAD.bottom };
  const count = Math.max(labels.length, ...series.map((x) => x.values.length), 2);
  const x = (i) => PAD.left + (inner.w * i) / (count - 1);
  const y = (v) => PAD.top + inner.h * (1 - v / max);
  const ticks = [0, Math.floor((labels.length - 1) / 2), labels.length - 1].filter((v, i, a) => v >= 0 && a.indexOf(v) === i);
  const svg = s("svg", { viewBox: `0 0 ${W} ${height}`, class: "chart-svg" },
    yAxis(max, height, fmt),
    ticks.map((i) => s("text", { x: x(i), y: height - 8, "text-anchor": i === 0 ? "start" : i === labels.length - 1 ? "end" : "middle", class: "axis" }, labels[i])),
    series.map((line) => line.values.length === 1
      ? s("circle", { cx: x(0), cy: y(line.values[0]), r: 4, class: line.className })
      : s("polyline", { points: line.values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(" "), class: line.className, fill: "none" })));
  const legend = h("ul", { class: "legend" }, series.map((line) => h("li", {}, h("span", { class: `swatch ${line.className}` }), line.label)));
  const rows = labels.map((label, i) => [label, ...series.map((line) => (line.values[i] === undefined ? "—" : fmt(line.values[i])))]);
  return figure(title, svg, dataTable(tableSummary, headers, rows), legend);
}

/** Vertical bars, one per label; `best` indexes get the highlight class. */
export function barChart({ title, labels, values, fmt, tableSummary, headers, best = [] }) {
  const height = 200;
  const max = niceMax(Math.max(0, ...values));
  const inner = { w: W - PAD.left - PAD.right, h: height - PAD.top - PAD.bottom };
  const slot = inner.w / Math.max(values.length, 1);
  const svg = s("svg", { viewBox: `0 0 ${W} ${height}`, class: "chart-svg" },
    yAxis(max, height, fmt),
    values.map((v, i) => {
      const barH = (inner.h * v) / max;
      return s("rect", {
        x: (PAD.left + slot * i + slot * 0.15).toFixed(1), y: (PAD.top + inner.h - barH).toFixed(1),
        width: (slot * 0.7).toFixed(1), height: barH.toFixed(1), class: best.includes(i) ? "bar best" : "bar",
      }, s("title", {}, `${labels[i]}: ${fmt(v)}`));
    }),
    labels.map((label, i) => (i % Math.ceil(values.length / 8) === 0
      ? s("text", { x: PAD.left + slot * (i + 0.5), y: height - 8, "text-anchor": "middle", class: "axis" }, label)
      : null)));
  const rows = labels.map((label, i) => [label, fmt(values[i])]);
  return figure(title, svg, dataTable(tableSummary, headers, rows));
}

/** Weekday names Monday-first in `locale` ("Sen", "Sel", … in Indonesian). */
export function weekdays(locale) {
  // 1 January 2024 was a Monday.
  return [0, 1, 2, 3, 4, 5, 6].map((i) => new Date(Date.UTC(2024, 0, 1 + i)).toLocaleDateString(locale, { weekday: "short", timeZone: "UTC" }));
}

/** The best-time heatmap: 7 rows × 24 hours, darker = more engagement per post. */
export function heatmapChart({ title, heatmap, locale, cellText, fmt, tableSummary, headers }) {
  const days = weekdays(locale);
  const cell = { w: 22, h: 24 };
  const left = 48;
  const top = 18;
  const width = left + cell.w * 24 + 4;
  const height = top + cell.h * 7 + 4;
  const max = Math.max(0, ...heatmap.avg_engagement.flat());
  const best = new Set((heatmap.best || []).map(([d, hr]) => `${d}-${hr}`));
  const rects = [];
  const rows = [];
  heatmap.avg_engagement.forEach((hours, d) => {
    hours.forEach((value, hr) => {
      const posts = heatmap.posts?.[d]?.[hr] ?? 0;
      const label = cellText(days[d], String(hr).padStart(2, "0"), fmt(value), posts);
      rects.push(s("rect", {
        x: left + hr * cell.w, y: top + d * cell.h, width: cell.w - 2, height: cell.h - 2, rx: 3,
        class: best.has(`${d}-${hr}`) ? "cell best" : posts ? "cell" : "cell empty",
        "fill-opacity": max > 0 && posts ? (0.15 + (0.85 * value) / max).toFixed(2) : 1,
      }, s("title", {}, label)));
      if (posts) rows.push([days[d], `${String(hr).padStart(2, "0")}:00`, fmt(value), String(posts)]);
    });
  });
  const svg = s("svg", { viewBox: `0 0 ${width} ${height}`, class: "chart-svg heatmap" },
    days.map((day, d) => s("text", { x: left - 6, y: top + d * cell.h + 16, "text-anchor": "end", class: "axis" }, day)),
    [0, 6, 12, 18, 23].map((hr) => s("text", { x: left + hr * cell.w + cell.w / 2, y: 12, "text-anchor": "middle", class: "axis" }, String(hr).padStart(2, "0"))),
    rects);
  return figure(title, svg, dataTable(tableSummary, headers, rows));
}

/** A horizontal stacked bar of shares (sentiment), each part labelled in the legend. */
export function shareBar({ title, parts }) {
  const total = parts.reduce((sum, p) => sum + p.value, 0) || 1;
  let x = 0;
  const svg = s("svg", { viewBox: `0 0 ${W} 28`, class: "chart-svg share" },
    parts.map((p) => {
      const w = (W * p.value) / total;
      const rect = s("rect", { x: x.toFixed(1), y: 0, width: w.toFixed(1), height: 28, class: p.className }, s("title", {}, `${p.label}: ${p.value}`));
      x += w;
      return rect;
    }));
  const legend = h("ul", { class: "legend" }, parts.map((p) => h("li", {}, h("span", { class: `swatch ${p.className}` }), `${p.label}: ${p.value}`)));
  return figure(title, svg, null, legend);
}

/** Horizontal bars of shares (0..1), e.g. an audience dimension: label, bar, percentage. */
export function shareBars({ title, rows, pct, tableSummary, headers }) {
  const rowH = 24;
  const left = 150;
  const right = 60;
  const height = rows.length * rowH + 4;
  const max = Math.max(0, ...rows.map(([, v]) => v)) || 1;
  const svg = s("svg", { viewBox: `0 0 ${W} ${height}`, class: "chart-svg" },
    rows.map(([label, value], i) => [
      s("text", { x: left - 8, y: i * rowH + 16, "text-anchor": "end", class: "axis" }, label.length > 22 ? `${label.slice(0, 21)}…` : label),
      s("rect", { x: left, y: i * rowH + 4, height: rowH - 8, width: (((W - left - right) * value) / max).toFixed(1), class: "bar" }, s("title", {}, `${label}: ${pct(value)}`)),
      s("text", { x: left + ((W - left - right) * value) / max + 6, y: i * rowH + 16, class: "axis" }, pct(value)),
    ]));
  return figure(title, svg, dataTable(tableSummary, headers, rows.map(([label, value]) => [label, pct(value)])));
}

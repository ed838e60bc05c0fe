// The overview report drawn as the page's sections: headline figures against the previous
// period, daily lines (with the previous period dashed), posting hours, the best-time
// heatmap, breakdowns, top and bottom posts and the inbox. Pure DOM from the API's JSON.

import { h, when } from "../dom.js";
import { barChart, heatmapChart, lineChart, shareBar, shareBars, weekdays } from "./analytics-charts.js";
import { duration } from "./inbox-thread.js";

const KPIS = ["followers", "follower_growth", "impressions", "reach", "engagement", "engagement_rate", "posts_published", "inbox_received", "avg_first_response_s"];

/** Number formatters for the user's locale. */
export function formats(locale) {
  const num = new Intl.NumberFormat(locale, { maximumFractionDigits: 1 });
  return {
    num: (v) => (v === null || v === undefined ? "—" : num.format(v)),
    pct: (v) => (v === null || v === undefined ? "—" : `${num.format(v)} %`),
    secs: (v) => (v === null || v === undefined || v === 0 ? "—" : duration(v)),
  };
}

function kpiValue(name, value, f) {
  if (name === "engagement_rate") return f.pct(value);
  if (name === "avg_first_response_s") return f.secs(value);
  return f.num(value);
}

/** The change of a headline figure in words (never by colour alone). */
export function changeText(delta, t, f) {
  if (delta.change === 0) return { text: t("analytics.flat"), tone: "" };
  if (delta.change_pct === null) return { text: t("analytics.new"), tone: "" };
  const pct = f.pct(Math.abs(delta.change_pct));
  return delta.change > 0 ? { text: t("analytics.up", { pct }), tone: "up" } : { text: t("analytics.down", { pct }), tone: "down" };
}

export function headline(report, t, f) {
  return h("section", { class: "panel", "aria-labelledby": "an-headline" },
    h("h2", { id: "an-headline" }, t("analytics.headline")),
    h("ul", { class: "kpis" }, KPIS.map((name) => {
      const delta = report[name];
      const change = changeText(delta, t, f);
      return h("li", { class: "kpi", dataset: { kpi: name } },
        h("p", { class: "kpi-label" }, t(`analytics.kpi.${name}`)),
        h("p", { class: "kpi-value" }, kpiValue(name, delta.current, f)),
        h("p", { class: `kpi-change ${change.tone}`.trim() }, change.text),
        h("p", { class: "muted kpi-prev" }, t("analytics.previous", { value: kpiValue(name, delta.previous, f) })));
    })));
}

/** A UTC day ("2026-11-23") as a short date in `locale` ("23 Nov"). */
export function dayLabel(day, locale) {
  return new Date(`${day}T00:00:00Z`).toLocaleDateString(locale, { day: "numeric", month: "short", timeZone: "UTC" });
}

/** Followers and impressions per day, this period against the previous one. */
export function dailyCharts(report, previous, t, f, locale) {
  const chart = (key, title) => {
    const labels = report[key].map(([day]) => dayLabel(day, locale));
    const series = [{ label: t("analytics.this-period"), values: report[key].map(([, v]) => v), className: "line-current" }];
    if (previous) series.push({ label: t("analytics.previous-period"), values: previous[key].map(([, v]) => v), className: "line-previous" });
    if (!labels.length) return h("p", { class: "muted" }, t("analytics.no-data"));
    return lineChart({
      title, labels, series, fmt: f.num, tableSummary: t("analytics.data-table"),
      headers: [t("analytics.day"), ...series.map((x) => x.label)],
    });
  };
  return h("div", { class: "chart-grid" },
    h("section", { class: "panel" }, chart("followers_daily", t("analytics.followers-chart"))),
    h("section", { class: "panel" }, chart("impressions_daily", t("analytics.impressions-chart"))));
}

/** Engagement by posting hour and the weekday × hour heatmap in the report's zone. */
export function timing(report, t, f, locale) {
  const tz = report.timezone;
  const byHour = new Map(report.by_hour.map((row) => [Number(row.key), row.avg_engagement]));
  const hours = [...Array(24).keys()];
  const values = hours.map((hr) => byHour.get(hr) ?? 0);
  const max = Math.max(...values);
  const days = weekdays(locale);
  const best = (report.heatmap.best || []).map(([d, hr]) => `${days[d]} ${String(hr).padStart(2, "0")}:00`);
  return h("div", { class: "chart-grid" },
    h("section", { class: "panel" }, barChart({
      title: t("analytics.hours-chart", { tz }), labels: hours.map((hr) => String(hr).padStart(2, "0")), values, fmt: f.num,
      best: max > 0 ? [values.indexOf(max)] : [], tableSummary: t("analytics.data-table"),
      headers: [t("analytics.hour"), t("analytics.avg-engagement")],
    })),
    h("section", { class: "panel" },
      heatmapChart({
        title: t("analytics.heatmap", { tz }), heatmap: report.heatmap, locale, fmt: f.num,
        cellText: (day, hour, value, posts) => t("analytics.heatmap-cell", { day, hour, value, posts }),
        tableSummary: t("analytics.data-table"),
        headers: [t("analytics.day"), t("analytics.hour"), t("analytics.avg-engagement"), t("analytics.posts")],
      }),
      h("p", { class: "best-slots" }, best.length ? t("analytics.heatmap-best", { slots: best.join(", ") }) : t("analytics.heatmap-none"))));
}

function postsTable(id, title, posts, t, f, locale) {
  return h("section", { class: "panel", "aria-labelledby": id },
    h("h2", { id }, title),
    posts.length
      ? h("div", { class: "table-wrap" }, h("table", { class: "cards" },
          h("thead", {}, h("tr", {}, [t("analytics.post"), t("analytics.network"), t("analytics.published"), t("analytics.kpi.engagement"), t("analytics.rate")].map((x) => h("th", { scope: "col" }, x)))),
          h("tbody", {}, posts.map((p) => h("tr", {},
            h("td", { "data-label": t("analytics.post") }, p.permalink
              ? h("a", { href: p.permalink, target: "_blank", rel: "noopener noreferrer" }, p.text || t("analytics.open-post"))
              : p.text || "—"),
            h("td", { "data-label": t("analytics.network") }, p.network),
            h("td", { "data-label": t("analytics.published") }, when(p.published_at, locale)),
            h("td", { "data-label": t("analytics.kpi.engagement") }, f.num(p.engagement)),
            h("td", { "data-label": t("analytics.rate") }, f.pct(p.engagement_rate)))))))
      : h("p", { class: "muted" }, t("analytics.no-data")));
}

function breakdownTable(id, title, rows, t, f) {
  return h("section", { class: "panel", "aria-labelledby": id },
    h("h2", { id }, title),
    rows.length
      ? h("div", { class: "table-wrap" }, h("table", { class: "cards" },
          h("thead", {}, h("tr", {}, [t("analytics.group"), t("analytics.posts"), t("analytics.kpi.engagement"), t("analytics.avg-engagement"), t("analytics.rate")].map((x) => h("th", { scope: "col" }, x)))),
          h("tbody", {}, rows.map((r) => h("tr", {},
            h("td", { "data-label": t("analytics.group") }, r.key),
            h("td", { "data-label": t("analytics.posts") }, f.num(r.posts)),
            h("td", { "data-label": t("analytics.kpi.engagement") }, f.num(r.engagement)),
            h("td", { "data-label": t("analytics.avg-engagement") }, f.num(r.avg_engagement)),
            h("td", { "data-label": t("analytics.rate") }, f.pct(r.avg_engagement_rate)))))))
      : h("p", { class: "muted" }, t("analytics.no-data")));
}

export function posts(report, t, f, locale) {
  return [
    postsTable("an-top", t("analytics.top-posts"), report.top_posts, t, f, locale),
    report.bottom_posts.length ? postsTable("an-bottom", t("analytics.bottom-posts"), report.bottom_posts, t, f, locale) : null,
    h("div", { class: "chart-grid" },
      breakdownTable("an-net", t("analytics.by-network"), report.by_network, t, f),
      breakdownTable("an-type", t("analytics.by-content-type"), report.by_content_type, t, f),
      breakdownTable("an-format", t("analytics.by-format"), report.by_format, t, f),
      breakdownTable("an-tag", t("analytics.by-hashtag"), report.by_hashtag, t, f)),
  ];
}

const DIMENSIONS = ["age", "gender", "country", "city"];

/** Audience shares per dimension (followers-weighted by the API), the largest eight each. */
export function audience(report, t, f) {
  const dims = Object.keys(report.demographics || {}).sort((a, b) => {
    const rank = (d) => (DIMENSIONS.includes(d) ? DIMENSIONS.indexOf(d) : DIMENSIONS.length);
    return rank(a) - rank(b);
  });
  const share = (v) => f.pct(v * 100);
  return h("section", { class: "panel", "aria-labelledby": "an-audience" },
    h("h2", { id: "an-audience" }, t("analytics.audience")),
    dims.length
      ? h("div", { class: "chart-grid" }, dims.map((dim) => shareBars({
          title: DIMENSIONS.includes(dim) ? t(`analytics.dimension.${dim}`) : dim,
          rows: Object.entries(report.demographics[dim]).sort((a, b) => b[1] - a[1]).slice(0, 8),
          pct: share, tableSummary: t("analytics.data-table"), headers: [t("analytics.group"), t("analytics.share")],
        })))
      : h("p", { class: "muted" }, t("analytics.no-data")));
}

/** One entry per day of the period (days without messages count zero, so bars line up). */
export function everyDay(start, end, days) {
  const known = new Map(days.map((d) => [d.day, d]));
  const out = [];
  for (let at = Date.parse(`${start}T00:00:00Z`); at <= Date.parse(`${end}T00:00:00Z`); at += 86_400_000) {
    const day = new Date(at).toISOString().slice(0, 10);
    out.push(known.get(day) ?? { day, received: 0 });
  }
  return out;
}

/** Inbox volume, answers, response times and the sentiment split. */
export function inbox(report, t, f, locale) {
  const box = report.inbox;
  const stat = (label, value) => h("div", { class: "stat" }, h("dt", {}, label), h("dd", {}, value));
  const sentiments = ["positive", "neutral", "negative", "unscored"];
  const daily = everyDay(report.start, report.end, box.daily || []);
  return h("section", { class: "panel", "aria-labelledby": "an-inbox" },
    h("h2", { id: "an-inbox" }, t("analytics.inbox")),
    h("dl", { class: "stats" },
      stat(t("analytics.inbox.received"), f.num(box.received)),
      stat(t("analytics.inbox.responded"), f.num(box.responded)),
      stat(t("analytics.inbox.resolved"), f.num(box.resolved)),
      stat(t("analytics.inbox.avg-first"), f.secs(box.avg_first_response_s)),
      stat(t("analytics.inbox.median-first"), box.median_first_response ?? "—"),
      stat(t("analytics.inbox.avg-resolution"), f.secs(box.avg_resolution_s)),
      stat(t("analytics.inbox.influencers"), f.num(box.influencer_messages))),
    box.received
      ? shareBar({
          title: t("analytics.inbox.sentiment"),
          parts: sentiments.map((k) => ({ label: t(`analytics.sentiment.${k}`), value: box.sentiment?.[k] ?? 0, className: `sent-${k}` })).filter((p) => p.value),
        })
      : null,
    box.received
      ? barChart({
          title: t("analytics.inbox.daily"), labels: daily.map((d) => dayLabel(d.day, locale)), values: daily.map((d) => d.received),
          fmt: f.num, tableSummary: t("analytics.data-table"), headers: [t("analytics.day"), t("analytics.inbox.received")],
        })
      : h("p", { class: "muted" }, t("analytics.no-data")));
}

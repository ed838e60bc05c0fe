// Analytics: the overview report of the workspace, one account or one network over a date
// range, against the previous period of the same length, drawn with hand-made SVG charts
// (analytics-charts.js), and its exports: any section as CSV, the whole report as PDF.
// The range and scope live in the route's query, so a reload shows the same report.

import { h, mount } from "../dom.js";
import { field, formError, keepDraft, onSubmit, problemText } from "../forms.js";
import { agencyPanel } from "./analytics-agency.js";
import { researchView } from "./analytics-research.js";
import { teamPanel } from "./analytics-team.js";
import { audience, dailyCharts, formats, headline, inbox, posts, timing } from "./analytics-sections.js";
import { strings } from "./analytics-strings.js";

export { strings };

const SECTIONS = ["summary", "followers_daily", "impressions_daily", "top_posts", "bottom_posts", "by_network", "by_content_type", "by_format", "by_hashtag", "by_hour", "heatmap", "demographics", "inbox_daily"];
const DAY_MS = 86_400_000;

/** YYYY-MM-DD of a Date (UTC, as the API's days are). */
export function isoDay(date) {
  return date.toISOString().slice(0, 10);
}

/** The `days` days ending today (UTC), both ends included. */
export function lastDays(days, now = new Date()) {
  return { from: isoDay(new Date(now.getTime() - (days - 1) * DAY_MS)), to: isoDay(now) };
}

/** The period of the same length just before `from` (what the API compares with). */
export function previousPeriod(from, to) {
  const start = Date.parse(`${from}T00:00:00Z`);
  const days = Math.round((Date.parse(`${to}T00:00:00Z`) - start) / DAY_MS) + 1;
  return { from: isoDay(new Date(start - days * DAY_MS)), to: isoDay(new Date(start - DAY_MS)) };
}

/** The API's query for the page's params: dates, zone and the scope (account or network). */
export function reportQuery(params) {
  const query = { from: params.from, to: params.to, tz: params.tz || "UTC" };
  const [kind, value] = (params.scope || "").split(":");
  if (kind === "account") query.account_id = value;
  if (kind === "network") query.network = value;
  return query;
}

function paramsOf(query) {
  const fallback = lastDays(28);
  return {
    from: query.get("from") || fallback.from,
    to: query.get("to") || fallback.to,
    scope: query.get("scope") || "",
    tz: query.get("tz") || Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC",
  };
}

function rangeForm(ctx, params, accounts) {
  const { t } = ctx;
  const networks = [...new Set(accounts.map((a) => a.network))];
  const scopes = [
    ["", t("analytics.scope.workspace")],
    ...accounts.map((a) => [`account:${a.id}`, t("analytics.scope.account", { handle: a.handle, network: a.network })]),
    ...networks.map((n) => [`network:${n}`, t("analytics.scope.network", { network: n })]),
  ];
  const preset = field({
    name: "preset", label: t("analytics.preset"), type: "select", value: "",
    options: [["", t("analytics.preset.custom")], ...[7, 28, 90].map((d) => [String(d), t(`analytics.preset.${d}`)])],
  });
  const form = h("form", { class: "panel range", novalidate: true, "aria-labelledby": "an-range" },
    h("h2", { id: "an-range" }, t("analytics.range")),
    formError(),
    h("div", { class: "row" },
      preset,
      field({ name: "from", label: t("analytics.from"), type: "date", required: true, value: params.from }),
      field({ name: "to", label: t("analytics.to"), type: "date", required: true, value: params.to }),
      field({ name: "scope", label: t("analytics.scope"), type: "select", value: params.scope, options: scopes }),
      field({ name: "tz", label: t("analytics.tz"), hint: t("analytics.tz-hint"), value: params.tz, maxlength: 64 })),
    h("button", { type: "submit", class: "primary" }, t("analytics.show")));
  preset.querySelector("select").addEventListener("change", (event) => {
    if (!event.target.value) return;
    const range = lastDays(Number(event.target.value));
    form.elements.from.value = range.from;
    form.elements.to.value = range.to;
  });
  return form;
}

function exportPanel(ctx, current) {
  const { t, api } = ctx;
  const csv = h("form", { class: "row", novalidate: true, "aria-label": t("analytics.csv") }, formError(),
    field({ name: "section", label: t("analytics.csv-section"), type: "select", value: "summary", options: SECTIONS.map((x) => [x, t(`analytics.section.${x}`)]) }),
    h("button", { type: "submit" }, t("analytics.csv")));
  const pdf = h("form", { novalidate: true, "aria-label": t("analytics.pdf") }, formError(),
    field({ name: "title", label: t("analytics.pdf-title"), value: ctx.workspace.name, maxlength: 200 }),
    field({ name: "commentary", label: t("analytics.pdf-commentary"), type: "textarea", hint: t("analytics.pdf-commentary-hint"), maxlength: 5000 }),
    h("button", { type: "submit" }, t("analytics.pdf")));
  const name = (ext, section) => `siar-${section}-${current().from}-${current().to}.${ext}`;
  const downloaded = (file) => ctx.toast(t("analytics.downloaded", { file }));
  onSubmit(csv, async (v) => {
    const file = name("csv", v.section);
    await api.download(ctx.wsPath("/reports/overview.csv"), { ...reportQuery(current()), section: v.section }, file);
    return file;
  }, { done: downloaded });
  const draft = keepDraft(pdf, `analytics-pdf-${ctx.workspace.id}`);
  onSubmit(pdf, async (v) => {
    const file = name("pdf", "report");
    await api.download(ctx.wsPath("/reports/overview.pdf"), { ...reportQuery(current()), title: v.title, commentary: v.commentary }, file);
    return file;
  }, { done: downloaded, draft });
  return h("section", { class: "panel", "aria-labelledby": "an-export" },
    h("h2", { id: "an-export" }, t("analytics.export")), csv, pdf);
}

export async function render(root, ctx) {
  const { t, api } = ctx;
  let params = paramsOf(ctx.query);
  const accounts = await api.get(ctx.wsPath("/accounts")).then((r) => r.items ?? r).catch(() => []);
  const form = rangeForm(ctx, params, accounts);
  const status = h("p", { class: "muted", role: "status" });
  const report = h("div", { class: "report" });
  // Two views over one period: the performance report, and research (tracked terms).
  const view = ctx.query.get("view") === "research" ? "research" : "report";
  const tabs = h("div", { class: "row tabs", role: "group", "aria-label": t("analytics.views") },
    ["report", "research"].map((v) => h("button", {
      type: "button", "aria-pressed": String(v === view),
      onclick: () => ctx.navigate("analytics", { from: params.from, to: params.to, scope: params.scope, tz: params.tz, view: v }),
    }, t(`analytics.view.${v}`))));
  const research = view === "research" ? researchView(ctx, accounts, formats(ctx.locale)) : null;
  const agency = research ? null : agencyPanel(ctx, formats(ctx.locale));
  const team = research ? null : teamPanel(ctx, formats(ctx.locale));
  mount(root, h("h1", { id: "page-title" }, t("analytics.title")), tabs, form, status,
    research ? research.node : [report, team?.panel, exportPanel(ctx, () => params), agency?.panel]);
  const draft = keepDraft(form, `analytics-range-${ctx.workspace.id}`);
  let left = false; // set when the user leaves: a late answer is not drawn, starts no more loads

  async function load(next) {
    if (research) {
      await research.load(next);
      if (left) return;
      params = next;
      ctx.setQuery({ from: next.from, to: next.to, scope: next.scope, tz: next.tz, view });
      return;
    }
    status.textContent = t("analytics.loading");
    report.setAttribute("aria-busy", "true");
    const prev = previousPeriod(next.from, next.to);
    try {
      const [current, previous] = await Promise.all([
        api.get(ctx.wsPath("/reports/overview"), reportQuery(next)),
        // The previous period only draws the dashed lines: without it the report still shows.
        api.get(ctx.wsPath("/reports/overview"), reportQuery({ ...next, ...prev })).catch(() => null),
      ]);
      if (left) return;
      params = next;
      ctx.setQuery({ from: next.from, to: next.to, scope: next.scope, tz: next.tz });
      draw(current, previous);
      agency?.load(next);
      team?.load(next);
    } finally {
      report.removeAttribute("aria-busy");
    }
  }

  function draw(data, previous) {
    const f = formats(ctx.locale);
    const day = (d) => new Date(`${d}T00:00:00Z`).toLocaleDateString(ctx.locale, { dateStyle: "medium", timeZone: "UTC" });
    status.textContent = t("analytics.compared", {
      from: day(data.start), to: day(data.end), prev_from: day(data.previous_start), prev_to: day(data.previous_end),
    });
    mount(report,
      headline(data, t, f),
      dailyCharts(data, previous, t, f, ctx.locale),
      timing(data, t, f, ctx.locale),
      posts(data, t, f, ctx.locale),
      audience(data, t, f),
      inbox(data, t, f, ctx.locale));
  }

  onSubmit(form, (v) => load({ from: v.from, to: v.to, scope: v.scope, tz: v.tz.trim() || "UTC" }), {
    draft,
    aliases: { account_id: "scope", network: "scope" },
  });
  // Not awaited: the cleanup below must be in the shell's hands before any answer comes.
  load(params).catch((err) => {
    if (left) return;
    status.textContent = research ? problemText(err) : "";
    if (!research) mount(report, h("p", { class: "form-error", role: "alert" }, problemText(err)));
  });
  return () => {
    left = true;
  };
}

// The agency view: the headline figures of every client workspace the user may report on,
// for the same period, with totals (GET /v1/reports/agency), each row opening that
// workspace's own report. Shown only to people in more than one workspace.

import { h, mount } from "../dom.js";
import { problemText } from "../forms.js";
import { changeText } from "./analytics-sections.js";

const FIGURES = ["followers", "impressions", "engagement", "posts_published", "inbox_received"];

/** A panel loading the agency view for `period()` on `load()`; null for a single workspace. */
export function agencyPanel(ctx, f) {
  const { t, api } = ctx;
  if (ctx.workspaces.filter((w) => ctx.config.permissions?.[w.role]?.includes("reports.read")).length < 2) return null;
  const body = h("div", {});
  const csv = h("button", { type: "button" }, t("analytics.agency-csv"));
  const panel = h("section", { class: "panel", "aria-labelledby": "an-agency" },
    h("h2", { id: "an-agency" }, t("analytics.agency")), body, csv);
  let period = null;
  csv.addEventListener("click", async () => {
    const file = `siar-agency-${period.from}-${period.to}.csv`;
    try {
      await api.download("/v1/reports/agency.csv", { from: period.from, to: period.to }, file);
      ctx.toast(t("analytics.downloaded", { file }));
    } catch (err) {
      ctx.toast(problemText(err));
    }
  });

  const cell = (delta, name) => {
    const change = changeText(delta, t, f);
    return h("td", { "data-label": t(`analytics.kpi.${name}`) }, f.num(delta.current), " ",
      h("span", { class: `kpi-change ${change.tone}`.trim() }, change.text));
  };

  async function load(next) {
    period = next;
    try {
      const report = await api.get("/v1/reports/agency", { from: next.from, to: next.to });
      const names = Object.fromEntries(ctx.workspaces.map((w) => [w.id, w.name]));
      const query = new URLSearchParams({ from: next.from, to: next.to, tz: next.tz });
      mount(body, h("div", { class: "table-wrap" }, h("table", { class: "cards" },
        h("thead", {}, h("tr", {}, h("th", { scope: "col" }, t("analytics.workspace")), FIGURES.map((n) => h("th", { scope: "col" }, t(`analytics.kpi.${n}`))))),
        h("tbody", {},
          report.workspaces.map((row) => h("tr", {},
            h("td", { "data-label": t("analytics.workspace") },
              h("a", { href: `#/w/${encodeURIComponent(row.workspace_id)}/analytics?${query}` }, names[row.workspace_id] ?? row.workspace_id)),
            FIGURES.map((n) => cell(row[n], n)))),
          h("tr", { class: "totals" },
            h("th", { scope: "row" }, t("analytics.agency-total")),
            FIGURES.map((n) => (report.totals[n] ? cell(report.totals[n], n) : h("td", {}, "—"))))))));
    } catch (err) {
      mount(body, h("p", { class: "form-error", role: "alert" }, problemText(err)));
    }
  }
  return { panel, load };
}

// Response times per teammate for the period, from the inbox itself
// (GET /inbox/response-times): first answers count for whoever answered first, closings for
// whoever closed. Shown to roles that may read the inbox.

import { h, mount } from "../dom.js";
import { problemText } from "../forms.js";
import { claims } from "../session.js";
import { duration } from "./inbox-thread.js";

/** {panel, load(period)} or null when the role cannot read the inbox. */
export function teamPanel(ctx, f) {
  const { t, api } = ctx;
  if (!ctx.can("inbox.read")) return null;
  const body = h("div", {});
  const panel = h("section", { class: "panel", "aria-labelledby": "an-team" },
    h("h2", { id: "an-team" }, t("analytics.team")), body);
  const me = claims()?.sub;
  const secs = (v) => (v === null || v === undefined ? "—" : duration(v));
  const who = (id) => (id === me ? t("analytics.team.me") : t("analytics.team.member", { id }));

  async function load(period) {
    // The inbox takes times: the period's UTC days, the end day included.
    const end = new Date(Date.parse(`${period.to}T00:00:00Z`) + 86_400_000).toISOString();
    try {
      const found = await api.get(ctx.wsPath("/inbox/response-times"), { from: `${period.from}T00:00:00Z`, to: end, items: 0 });
      const head = [t("analytics.team.who"), t("analytics.team.answers"), t("analytics.team.mean"), t("analytics.team.median"), t("analytics.team.closings"), t("analytics.team.close-mean")];
      const row = (label, first, closed) => h("tr", {},
        [label, f.num(first?.count ?? 0), secs(first?.mean_s), secs(first?.median_s), f.num(closed?.count ?? 0), secs(closed?.mean_s)]
          .map((cell, i) => h(i ? "td" : "th", i ? { "data-label": head[i] } : { scope: "row" }, cell)));
      const total = row(t("analytics.agency-total"), found.first_response, found.resolution);
      total.classList.add("totals");
      mount(body,
        h("p", {}, t("analytics.team.summary", { conversations: f.num(found.conversations), unanswered: f.num(found.unanswered) })),
        h("div", { class: "table-wrap" }, h("table", { class: "cards" },
          h("thead", {}, h("tr", {}, head.map((x) => h("th", { scope: "col" }, x)))),
          h("tbody", {},
            found.by_teammate.map((m) => row(who(m.user_id), m.first_response, m.resolution)),
            total))));
    } catch (err) {
      mount(body, h("p", { class: "form-error", role: "alert" }, problemText(err)));
    }
  }
  return { panel, load };
}

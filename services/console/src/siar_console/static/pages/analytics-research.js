// Research: tracked hashtags, keywords and competitors (analytics' /research API) — add one
// through a connected account, see when it was last searched and any error, and for the
// period: mentions per day, against the previous period, share of voice, and a
// competitor's followers. Exported as CSV like every report.

import { h, mount, when } from "../dom.js";
import { field, formError, keepDraft, onSubmit, problemText } from "../forms.js";
import { lineChart } from "./analytics-charts.js";
import { changeText, dayLabel } from "./analytics-sections.js";

const KINDS = ["hashtag", "keyword", "competitor"];

/** The research view: {node, load(period)}; `f` are the page's number formats. */
export function researchView(ctx, accounts, f) {
  const { t, api } = ctx;
  const base = ctx.wsPath("/research");
  const items = h("div", {});
  const trends = h("div", {});
  const form = h("form", { class: "panel", novalidate: true, "aria-labelledby": "rs-add" },
    h("h2", { id: "rs-add" }, t("analytics.rs.add")),
    formError(),
    h("div", { class: "row" },
      field({ name: "kind", label: t("analytics.rs.kind"), type: "select", value: "hashtag", options: KINDS.map((k) => [k, t(`analytics.rs.kind.${k}`)]) }),
      field({ name: "value", label: t("analytics.rs.value"), hint: t("analytics.rs.value-hint"), required: true, maxlength: 200 }),
      field({ name: "account_id", label: t("analytics.rs.account"), type: "select", options: accounts.map((a) => [a.id, `@${a.handle} (${a.network})`]) })),
    h("button", { type: "submit", class: "primary" }, t("analytics.rs.track")));
  const csv = h("button", { type: "button" }, t("analytics.csv"));
  let period = null;

  async function drawItems() {
    const found = await api.get(`${base}/items`);
    const account = (id) => accounts.find((a) => a.id === id);
    mount(items, found.length
      ? h("div", { class: "table-wrap" }, h("table", { class: "cards" },
          h("thead", {}, h("tr", {}, [t("analytics.rs.value"), t("analytics.rs.kind"), t("analytics.rs.account"), t("analytics.rs.polled"), ""].map((x) => h("th", { scope: "col" }, x)))),
          h("tbody", {}, found.map((item) => h("tr", {},
            h("td", { "data-label": t("analytics.rs.value") }, item.value),
            h("td", { "data-label": t("analytics.rs.kind") }, t(`analytics.rs.kind.${item.kind}`)),
            h("td", { "data-label": t("analytics.rs.account") }, account(item.account_id) ? `@${account(item.account_id).handle}` : item.network),
            h("td", { "data-label": t("analytics.rs.polled") }, when(item.last_polled_at, ctx.locale),
              item.last_error ? h("p", { class: "bad" }, item.last_error) : null),
            h("td", {}, ctx.can("posts.write")
              ? h("button", { type: "button", class: "danger", onclick: () => remove(item) }, t("analytics.rs.stop"), h("span", { class: "visually-hidden" }, ` ${item.value}`))
              : null))))))
      : h("p", { class: "muted" }, t("analytics.rs.none")));
  }

  async function remove(item) {
    try {
      await api.del(`${base}/items/${encodeURIComponent(item.id)}`);
      ctx.toast(t("analytics.rs.stopped", { value: item.value }));
      await load(period);
    } catch (err) {
      ctx.toast(problemText(err));
    }
  }

  function trend(row) {
    const change = changeText(row.mentions, t, f);
    const days = row.daily_mentions.map(([day]) => dayLabel(day, ctx.locale));
    const series = [{ label: t("analytics.rs.mentions"), values: row.daily_mentions.map(([, v]) => v), className: "line-current" }];
    return h("section", { class: "panel", "aria-label": row.item.value },
      h("h3", {}, row.item.value),
      h("p", {}, t("analytics.rs.summary", {
        mentions: f.num(row.mentions.current), change: change.text,
        share: row.share_of_voice_pct === null ? "—" : f.pct(row.share_of_voice_pct), engagement: f.num(row.engagement),
      })),
      days.length
        ? lineChart({ title: t("analytics.rs.per-day"), labels: days, series, fmt: f.num, tableSummary: t("analytics.data-table"), headers: [t("analytics.day"), series[0].label] })
        : h("p", { class: "muted" }, t("analytics.no-data")),
      row.followers.length
        ? lineChart({
            title: t("analytics.rs.followers", { growth: f.num(row.follower_growth ?? 0) }), labels: row.followers.map(([day]) => dayLabel(day, ctx.locale)),
            series: [{ label: t("analytics.kpi.followers"), values: row.followers.map(([, v]) => v), className: "line-current" }],
            fmt: f.num, tableSummary: t("analytics.data-table"), headers: [t("analytics.day"), t("analytics.kpi.followers")],
          })
        : null);
  }

  async function load(next) {
    period = next;
    await drawItems();
    const report = await api.get(`${base}/report`, { from: next.from, to: next.to });
    mount(trends, report.items.length ? h("div", { class: "chart-grid" }, report.items.map(trend)) : null);
  }

  csv.addEventListener("click", async () => {
    const file = `siar-research-${period.from}-${period.to}.csv`;
    try {
      await api.download(`${base}/report.csv`, { from: period.from, to: period.to }, file);
      ctx.toast(t("analytics.downloaded", { file }));
    } catch (err) {
      ctx.toast(problemText(err));
    }
  });
  const draft = keepDraft(form, `analytics-research-${ctx.workspace.id}`);
  onSubmit(form, (v) => api.post(`${base}/items`, { kind: v.kind, value: v.value.trim(), account_id: v.account_id }), {
    draft,
    aliases: { _: "value" },
    done: async (item) => {
      form.elements.value.value = "";
      ctx.toast(t("analytics.rs.added", { value: item.value }));
      await load(period);
    },
  });
  const node = h("div", {},
    ctx.can("posts.write") ? form : null,
    h("section", { class: "panel", "aria-labelledby": "rs-items" }, h("h2", { id: "rs-items" }, t("analytics.rs.items")), items, csv),
    trends);
  return { node, load };
}

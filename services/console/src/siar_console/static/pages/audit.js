// Audit log (owners): who did what, filtered by action, actor, target and time; pages of
// 100 with "load more"; the same filters exported as CSV.

import { h, mount, when } from "../dom.js";
import { field, formError, onSubmit, showErrors } from "../forms.js";
import { table } from "../widgets.js";

export const strings = {
  en: {
    "audit.title": "Audit log",
    "audit.filters": "Filters",
    "audit.action": "Action",
    "audit.action-hint": "e.g. account.connected, member.added",
    "audit.actor": "Actor (user id)",
    "audit.target": "Target",
    "audit.from": "From",
    "audit.to": "To",
    "audit.apply": "Apply filters",
    "audit.export": "Export CSV",
    "audit.seq": "#",
    "audit.at": "When",
    "audit.details": "Details",
    "audit.more": "Load more",
    "audit.none": "No entries match.",
    "audit.count": "{count} entries shown",
  },
  id: {
    "audit.title": "Log audit",
    "audit.filters": "Filter",
    "audit.action": "Tindakan",
    "audit.action-hint": "mis. account.connected, member.added",
    "audit.actor": "Pelaku (id pengguna)",
    "audit.target": "Sasaran",
    "audit.from": "Dari",
    "audit.to": "Sampai",
    "audit.apply": "Terapkan filter",
    "audit.export": "Ekspor CSV",
    "audit.seq": "#",
    "audit.at": "Waktu",
    "audit.details": "Rincian",
    "audit.more": "Muat lebih banyak",
    "audit.none": "Tidak ada entri yang cocok.",
    "audit.count": "{count} entri ditampilkan",
  },
};

const PAGE = 100;
const TEXT_FILTERS = ["action", "actor", "target"];

/** The API's query from the form's values (local date-times become UTC instants). */
function filtersOf(values) {
  const query = {};
  for (const name of TEXT_FILTERS) if (values[name]?.trim()) query[name] = values[name].trim();
  for (const name of ["from", "to"]) {
    if (values[name]) query[name] = new Date(values[name]).toISOString();
  }
  return query;
}

export async function render(root, ctx) {
  const { t, api } = ctx;
  const initial = Object.fromEntries(ctx.query);
  const form = h("form", { novalidate: true, "aria-labelledby": "audit-filters" },
    h("h2", { id: "audit-filters", class: "visually-hidden" }, t("audit.filters")),
    formError(),
    h("div", { class: "row" },
      field({ name: "action", label: t("audit.action"), hint: t("audit.action-hint"), value: initial.action ?? "" }),
      field({ name: "actor", label: t("audit.actor"), value: initial.actor ?? "" }),
      field({ name: "target", label: t("audit.target"), value: initial.target ?? "" }),
      field({ name: "from", label: t("audit.from"), type: "datetime-local", value: initial.from ?? "" }),
      field({ name: "to", label: t("audit.to"), type: "datetime-local", value: initial.to ?? "" })),
    h("div", { class: "row" },
      h("button", { type: "submit", class: "primary" }, t("audit.apply")),
      h("button", { type: "button", id: "audit-export" }, t("audit.export"))));
  const results = h("div", { "aria-live": "polite" });
  mount(root, h("h1", { id: "page-title" }, t("audit.title")), h("div", { class: "panel" }, form), results);

  const rows = [];
  const load = async (values, more = false) => {
    if (!more) rows.length = 0;
    const after = rows.length ? rows[rows.length - 1].seq : 0;
    const page = await api.get(ctx.wsPath("/audit"), { ...filtersOf(values), limit: PAGE, after_seq: after });
    rows.push(...page.items);
    draw(page.items.length === PAGE, values);
  };
  const draw = (hasMore, values) => {
    mount(results,
      h("p", { class: "muted" }, t("audit.count", { count: rows.length })),
      table([
        { label: t("audit.seq"), cell: (e) => String(e.seq) },
        { label: t("audit.at"), cell: (e) => when(e.at, ctx.locale) },
        { label: t("audit.actor"), cell: (e) => h("code", {}, e.actor) },
        { label: t("audit.action"), cell: (e) => h("code", {}, e.action) },
        { label: t("audit.target"), cell: (e) => h("code", {}, e.target) },
        { label: t("audit.details"), cell: (e) => Object.entries(e.details).map(([k, v]) => h("div", {}, `${k}: ${v}`)) },
      ], rows, { caption: t("audit.title"), empty: t("audit.none") }),
      hasMore ? h("button", { type: "button", onclick: () => load(values, true).catch((err) => showErrors(form, err)) }, t("audit.more")) : null);
  };
  onSubmit(form, async (values) => {
    ctx.setQuery(Object.fromEntries(Object.entries(values).filter(([, v]) => v)));
    await load(values);
  });
  form.querySelector("#audit-export").addEventListener("click", async () => {
    const values = Object.fromEntries(new FormData(form));
    try {
      await api.download(ctx.wsPath("/audit.csv"), filtersOf(values), `siar-audit-${ctx.workspace.id}.csv`);
    } catch (err) {
      showErrors(form, err);
    }
  });
  try {
    await load(initial);
  } catch (err) {
    showErrors(form, err);
  }
}

// Small pieces pages share: data tables that become cards on phones, badges, empty states.

import { h } from "./dom.js";

/**
 * A table: `columns` = [{label, cell(row) → node|text, key?}], `rows` = data. On a phone the
 * rows become stacked cards, each cell labelled with its column (styles.css `table.cards`).
 */
export function table(columns, rows, { caption, empty } = {}) {
  if (!rows.length && empty) return h("p", { class: "muted" }, empty);
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      { class: "cards" },
      caption ? h("caption", { class: "visually-hidden" }, caption) : null,
      h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col" }, c.label)))),
      h(
        "tbody",
        {},
        rows.map((row) =>
          h("tr", { dataset: row.id ? { id: row.id } : {} },
            columns.map((c) => h("td", { "data-label": c.label }, c.cell(row)))),
        ),
      ),
    ),
  );
}

/** A coloured status word: tone is "ok", "warn", "bad" or "" (neutral). */
export function badge(text, tone = "") {
  return h("span", { class: `badge ${tone}`.trim() }, text);
}

/** A section with a heading (h2) whose id labels it. */
export function section(id, title, ...children) {
  return h("section", { class: "panel", "aria-labelledby": id }, h("h2", { id }, title), ...children);
}

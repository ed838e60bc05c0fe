// Small pieces pages share: data tables that become cards on phones, badges, empty states,
// and the toasts (the shell's, through ctx.toast).

import { h } from "./dom.js";
import { t } from "./i18n.js";

const TOAST_MS = 5000;
const MAX_TOASTS = 3;

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

function armToast(item) {
  clearTimeout(item.timer);
  item.timer = setTimeout(() => item.remove(), TOAST_MS);
}

/**
 * Announce `text` in a toast (#toasts is aria-live polite). At most MAX_TOASTS show, the
 * oldest going first; the same text again counts up on its toast ("×2") instead of piling
 * up. Each has a dismiss button and stays while pointed at or focused (time to read it).
 */
export function toast(text) {
  const region = document.getElementById("toasts");
  if (!region) return;
  let item = [...region.children].find((el) => el.dataset.text === text);
  if (item) {
    const count = Number(item.dataset.count) + 1;
    item.dataset.count = String(count);
    item.querySelector(".toast-count").textContent = ` ×${count}`;
  } else {
    item = h("div", { class: "toast", dataset: { text, count: "1" } },
      h("p", { class: "toast-text" }, text, h("span", { class: "toast-count" })),
      h("button", { type: "button", class: "toast-close", "aria-label": t("shell.dismiss"),
        onclick: () => item.remove() }, "×"));
    const hold = () => clearTimeout(item.timer);
    const release = () => !item.matches(":hover, :focus-within") && armToast(item);
    item.addEventListener("mouseenter", hold);
    item.addEventListener("focusin", hold);
    item.addEventListener("mouseleave", release);
    item.addEventListener("focusout", () => setTimeout(release));
  }
  // (Re-)appended last: newest at the bottom, and a repeat is announced again.
  region.append(item);
  while (region.children.length > MAX_TOASTS) region.firstElementChild.remove();
  if (!item.matches(":hover, :focus-within")) armToast(item);
}

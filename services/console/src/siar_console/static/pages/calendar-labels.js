// Campaign labels, managed from the calendar: create one (name and colour), delete one
// (it comes off every post). Posts get labels in the composer; the calendar colours them.

import { h, mount } from "../dom.js";
import { field, formError, keepDraft, onSubmit, problemText } from "../forms.js";

export const LABEL_STRINGS = {
  en: {
    "labels.manage": "Manage campaigns",
    "labels.name": "Campaign name",
    "labels.colour": "Colour",
    "labels.create": "Add campaign",
    "labels.created": "Campaign {name} added.",
    "labels.delete": "Delete {name}",
    "labels.deleted": "Campaign {name} deleted.",
    "labels.none": "No campaigns yet.",
  },
  id: {
    "labels.manage": "Kelola kampanye",
    "labels.name": "Nama kampanye",
    "labels.colour": "Warna",
    "labels.create": "Tambah kampanye",
    "labels.created": "Kampanye {name} ditambahkan.",
    "labels.delete": "Hapus {name}",
    "labels.deleted": "Kampanye {name} dihapus.",
    "labels.none": "Belum ada kampanye.",
  },
};

/** The "manage campaigns" disclosure; `changed()` after a label is added or deleted. */
export function labelManager(ctx, labels, changed) {
  const { t, api } = ctx;
  const list = h("ul", { class: "checks label-list" });
  const draw = () => mount(list, labels.length ? labels.map((l) => h("li", {},
    h("span", { class: "swatch", style: { background: l.colour }, "aria-hidden": "true" }), l.name,
    h("button", { type: "button", class: "link danger", onclick: async () => {
      if (!window.confirm(t("common.confirm-delete"))) return;
      try {
        await api.del(ctx.wsPath(`/labels/${encodeURIComponent(l.id)}`));
        ctx.toast(t("labels.deleted", { name: l.name }));
        changed();
      } catch (err) {
        if (err.status === undefined) throw err;
        ctx.toast(problemText(err));
      }
    } }, t("labels.delete", { name: l.name })))) : h("li", { class: "muted" }, t("labels.none")));
  draw();
  const form = h("form", { class: "row label-form", novalidate: true },
    formError(),
    field({ name: "name", label: t("labels.name"), required: true, maxlength: 80 }),
    field({ name: "colour", label: t("labels.colour"), type: "color", value: "#0b5cad" }),
    h("button", { type: "submit" }, t("labels.create")));
  const draft = keepDraft(form, `labels.${ctx.workspace.id}`);
  onSubmit(form, (v) => api.post(ctx.wsPath("/labels"), { name: v.name.trim(), colour: v.colour }), {
    draft,
    done: (label) => {
      ctx.toast(t("labels.created", { name: label.name }));
      changed();
    },
  });
  return h("details", { class: "panel labels-manager" }, h("summary", {}, t("labels.manage")), list, form);
}

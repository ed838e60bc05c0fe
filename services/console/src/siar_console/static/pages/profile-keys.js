// API keys on the profile page: create one limited to some permissions and workspaces
// (its secret shown once), list them, revoke.

import { h, mount, nextId, when } from "../dom.js";
import { field, formError, onSubmit } from "../forms.js";
import { badge, section, table } from "../widgets.js";

export const strings = {
  en: {
    "keys.title": "API keys",
    "keys.hint": "For scripts and integrations: a key acts as you, limited to what you tick here.",
    "keys.name": "Name",
    "keys.permissions": "Permissions",
    "keys.workspaces": "Workspaces (none ticked: all of yours)",
    "keys.days": "Expires after (days)",
    "keys.create": "Create key",
    "keys.secret": "Copy the key now — it is not shown again:",
    "keys.expires": "Expires",
    "keys.state": "State",
    "keys.active": "Active",
    "keys.revoked": "Revoked",
    "keys.revoke": "Revoke",
    "keys.revoked-toast": "Key {name} revoked.",
    "keys.all": "All",
  },
  id: {
    "keys.title": "Kunci API",
    "keys.hint": "Untuk skrip dan integrasi: kunci bertindak sebagai Anda, terbatas pada yang Anda centang di sini.",
    "keys.name": "Nama",
    "keys.permissions": "Izin",
    "keys.workspaces": "Ruang kerja (tidak dicentang: semua milik Anda)",
    "keys.days": "Berakhir setelah (hari)",
    "keys.create": "Buat kunci",
    "keys.secret": "Salin kunci sekarang — tidak akan ditampilkan lagi:",
    "keys.expires": "Berakhir",
    "keys.state": "Status",
    "keys.active": "Aktif",
    "keys.revoked": "Dicabut",
    "keys.revoke": "Cabut",
    "keys.revoked-toast": "Kunci {name} dicabut.",
    "keys.all": "Semua",
  },
};

function checkboxes(legend, name, options, fieldName) {
  return h("fieldset", { class: "field", dataset: { field: fieldName } },
    h("legend", {}, legend),
    options.map(([value, text]) => {
      const id = nextId(name);
      return h("div", { class: "field-check" },
        h("input", { type: "checkbox", id, name, value }), h("label", { for: id }, text));
    }),
    h("p", { class: "field-error", hidden: true }));
}

function ticked(form, name) {
  return [...form.querySelectorAll(`input[name="${name}"]:checked`)].map((el) => el.value);
}

export async function keysSection(ctx) {
  const { t, api } = ctx;
  const permissions = [...new Set(Object.values(ctx.config.permissions || {}).flat())].sort();
  const workspaces = ctx.workspaces || [];
  const listBox = h("div", {});
  const secretBox = h("div", { "aria-live": "polite" });
  const form = h("form", { novalidate: true },
    h("p", { class: "hint" }, t("keys.hint")),
    formError(),
    field({ name: "name", label: t("keys.name"), maxlength: 100, required: true }),
    checkboxes(t("keys.permissions"), "perm", permissions.map((p) => [p, p]), "permissions"),
    workspaces.length ? checkboxes(t("keys.workspaces"), "ws", workspaces.map((w) => [w.id, w.name]), "workspace_ids") : null,
    field({ name: "expires_in_days", label: t("keys.days"), type: "number", min: 1, max: 366, value: "90" }),
    h("button", { type: "submit", class: "primary" }, t("keys.create")),
    secretBox);
  const reload = async () => drawKeys(ctx, listBox, await api.get("/v1/me/api-keys"), reload);
  onSubmit(form, (v) => api.post("/v1/me/api-keys", {
    name: v.name.trim(), permissions: ticked(form, "perm"), workspace_ids: ticked(form, "ws"),
    expires_in_days: v.expires_in_days ?? 90,
  }), {
    done: async (key) => {
      mount(secretBox, h("p", {}, t("keys.secret")), h("p", {}, h("code", { class: "secret", "data-testid": "api-key" }, key.key)));
      await reload();
    },
  });
  await reload();
  return section("profile-keys", t("keys.title"), form, listBox);
}

function drawKeys(ctx, box, keys, reload) {
  const { t, api } = ctx;
  const names = Object.fromEntries((ctx.workspaces || []).map((w) => [w.id, w.name]));
  mount(box, table([
    { label: t("keys.name"), cell: (k) => k.name },
    { label: t("keys.permissions"), cell: (k) => k.permissions.map((p) => h("div", {}, h("code", {}, p))) },
    { label: t("nav.workspaces"), cell: (k) => (k.workspace_ids.length ? k.workspace_ids.map((id) => names[id] ?? id).join(", ") : t("keys.all")) },
    { label: t("keys.expires"), cell: (k) => when(k.expires_at, ctx.locale) },
    { label: t("keys.state"), cell: (k) => (k.revoked ? badge(t("keys.revoked")) : badge(t("keys.active"), "ok")) },
    { label: t("common.actions"), cell: (k) => (k.revoked ? "" : h("button", { type: "button", class: "danger", onclick: async () => {
      try {
        await api.del(`/v1/me/api-keys/${encodeURIComponent(k.id)}`);
        ctx.toast(t("keys.revoked-toast", { name: k.name }));
        await reload();
      } catch (err) {
        ctx.toast(err.message);
      }
    } }, t("keys.revoke"), h("span", { class: "visually-hidden" }, ` ${k.name}`))) },
  ], keys, { caption: t("keys.title"), empty: t("common.none") }));
}

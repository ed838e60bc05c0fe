// Workspace settings: approvals, the failure webhook (scheduler), the workspace webhook
// (vault), the calendar feed, and each account's posting schedule (settings-queue.js).

import { h, mount } from "../dom.js";
import { field, formError, keepDraft, onSubmit } from "../forms.js";
import { section } from "../widgets.js";
import { queueSection, strings as queueStrings } from "./settings-queue.js";

export const strings = {
  en: {
    ...queueStrings.en,
    "settings.title": "Workspace settings",
    "settings.approvals": "Approvals",
    "settings.approvals-required": "Posts need an approver before they are scheduled",
    "settings.approvals-hint": "Contributors' posts always need approval; this makes every post need it.",
    "settings.failure-hook": "Failure notices",
    "settings.failure-hook-hint": "Siar calls this URL (signed with the secret, HMAC-SHA256) when a post fails.",
    "settings.hook-url": "Webhook URL",
    "settings.hook-secret": "Signing secret",
    "settings.hook-secret-hint": "At least 16 characters; never shown again.",
    "settings.hook-current": "Current: {url}",
    "settings.hook-none": "No webhook set.",
    "settings.hook-remove": "Remove webhook",
    "settings.workspace-hook": "Workspace webhook",
    "settings.workspace-hook-hint": "Slack-compatible JSON about accounts and members, signed with the secret.",
    "settings.feed": "Calendar feed",
    "settings.feed-hint": "A secret iCalendar URL of the scheduled posts, for Google Calendar or Outlook.",
    "settings.feed-on": "A feed exists. Making a new URL stops the old one.",
    "settings.feed-off": "No feed yet.",
    "settings.feed-rotate": "Make a new feed URL",
    "settings.feed-delete": "Turn the feed off",
    "settings.feed-url": "Feed URL (shown once):",
    "settings.read-only": "Your role can see these settings but not change them.",
  },
  id: {
    ...queueStrings.id,
    "settings.title": "Pengaturan ruang kerja",
    "settings.approvals": "Persetujuan",
    "settings.approvals-required": "Postingan perlu penyetuju sebelum dijadwalkan",
    "settings.approvals-hint": "Postingan kontributor selalu perlu persetujuan; ini membuat setiap postingan memerlukannya.",
    "settings.failure-hook": "Pemberitahuan kegagalan",
    "settings.failure-hook-hint": "Siar memanggil URL ini (ditandatangani dengan rahasia, HMAC-SHA256) saat postingan gagal.",
    "settings.hook-url": "URL webhook",
    "settings.hook-secret": "Rahasia penandatanganan",
    "settings.hook-secret-hint": "Minimal 16 karakter; tidak akan ditampilkan lagi.",
    "settings.hook-current": "Saat ini: {url}",
    "settings.hook-none": "Belum ada webhook.",
    "settings.hook-remove": "Hapus webhook",
    "settings.workspace-hook": "Webhook ruang kerja",
    "settings.workspace-hook-hint": "JSON kompatibel Slack tentang akun dan anggota, ditandatangani dengan rahasia.",
    "settings.feed": "Umpan kalender",
    "settings.feed-hint": "URL iCalendar rahasia berisi postingan terjadwal, untuk Google Calendar atau Outlook.",
    "settings.feed-on": "Umpan sudah ada. Membuat URL baru menghentikan yang lama.",
    "settings.feed-off": "Belum ada umpan.",
    "settings.feed-rotate": "Buat URL umpan baru",
    "settings.feed-delete": "Matikan umpan",
    "settings.feed-url": "URL umpan (hanya ditampilkan sekali):",
    "settings.read-only": "Peran Anda dapat melihat pengaturan ini tetapi tidak dapat mengubahnya.",
  },
};

export async function render(root, ctx) {
  const { t, api } = ctx;
  const manage = ctx.can("workspace.manage");
  const [scheduler, webhook, accounts] = await Promise.all([
    api.get(ctx.wsPath("/scheduler-settings")),
    manage ? api.get(ctx.wsPath("/webhook")) : Promise.resolve(null),
    api.get(ctx.wsPath("/accounts")),
  ]);
  mount(
    root,
    h("h1", { id: "page-title" }, t("settings.title")),
    manage ? null : h("p", { class: "muted" }, t("settings.read-only")),
    approvals(ctx, scheduler, manage),
    hookSection(ctx, {
      id: "failure-hook", title: t("settings.failure-hook"), hint: t("settings.failure-hook-hint"),
      current: scheduler.failure_webhook_url, manage,
      save: (body) => api.patch(ctx.wsPath("/scheduler-settings"), { failure_webhook: body }),
      remove: () => api.patch(ctx.wsPath("/scheduler-settings"), { failure_webhook: null }),
      aliases: { "failure_webhook.url": "url", "failure_webhook.secret": "secret" },
    }),
    manage ? hookSection(ctx, {
      id: "workspace-hook", title: t("settings.workspace-hook"), hint: t("settings.workspace-hook-hint"),
      current: webhook.url, manage,
      save: (body) => api.put(ctx.wsPath("/webhook"), body),
      remove: () => api.del(ctx.wsPath("/webhook")),
    }) : null,
    feedSection(ctx, scheduler, manage),
    await queueSection(ctx, accounts.items),
  );
}

function approvals(ctx, current, manage) {
  const { t, api } = ctx;
  const form = h("form", { novalidate: true },
    formError(),
    field({ name: "approvals_required", type: "checkbox", label: t("settings.approvals-required"),
      hint: t("settings.approvals-hint"), checked: current.approvals_required, disabled: !manage }),
    manage ? h("button", { type: "submit", class: "primary" }, t("common.save")) : null);
  onSubmit(form, (v) => api.patch(ctx.wsPath("/scheduler-settings"), { approvals_required: v.approvals_required }), {
    done: () => ctx.toast(t("common.saved")),
  });
  return section("settings-approvals", t("settings.approvals"), form);
}

function hookSection(ctx, { id, title, hint, current, manage, save, remove, aliases }) {
  const { t } = ctx;
  const form = h("form", { novalidate: true },
    h("p", { class: "hint" }, hint),
    h("p", {}, current ? t("settings.hook-current", { url: current }) : t("settings.hook-none")),
    formError(),
    manage ? [
      field({ name: "url", label: t("settings.hook-url"), type: "url", placeholder: "https://", autocomplete: "off" }),
      field({ name: "secret", label: t("settings.hook-secret"), hint: t("settings.hook-secret-hint"), type: "password", autocomplete: "new-password" }),
      h("div", { class: "row" },
        h("button", { type: "submit", class: "primary", value: "save" }, t("common.save")),
        current ? h("button", { type: "submit", class: "danger", value: "remove", formnovalidate: true }, t("settings.hook-remove")) : null),
    ] : null);
  const draft = keepDraft(form, `${id}-${ctx.workspace.id}`);
  onSubmit(form, (v, submitter) => (submitter?.value === "remove" ? remove() : save({ url: v.url.trim(), secret: v.secret })), {
    draft, aliases, done: () => { ctx.toast(t("common.saved")); ctx.refresh(); },
  });
  return section(`settings-${id}`, title, form);
}

function feedSection(ctx, current, manage) {
  const { t, api } = ctx;
  const out = h("div", { "aria-live": "polite" });
  const form = h("form", { novalidate: true },
    h("p", { class: "hint" }, t("settings.feed-hint")),
    h("p", {}, current.calendar_feed ? t("settings.feed-on") : t("settings.feed-off")),
    formError(),
    manage ? h("div", { class: "row" },
      h("button", { type: "submit", class: "primary", value: "rotate" }, t("settings.feed-rotate")),
      current.calendar_feed ? h("button", { type: "submit", class: "danger", value: "delete" }, t("settings.feed-delete")) : null) : null,
    out);
  onSubmit(form, async (_, submitter) => {
    if (submitter?.value === "delete") return api.del(ctx.wsPath("/calendar-feed"));
    return api.post(ctx.wsPath("/calendar-feed:rotate"));
  }, {
    done: (feed) => {
      if (!feed) return ctx.refresh();
      mount(out, h("p", {}, t("settings.feed-url")), h("p", {}, h("code", { class: "secret" }, feed.url)));
    },
  });
  return section("settings-feed", t("settings.feed"), form);
}

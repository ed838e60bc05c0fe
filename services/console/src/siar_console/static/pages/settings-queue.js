// One account's posting schedule (queue): weekly slots in its time zone, or its best hours.

import { h } from "../dom.js";
import { field, formError, keepDraft, onSubmit } from "../forms.js";
import { section } from "../widgets.js";

export const strings = {
  en: {
    "queue.title": "Posting schedules",
    "queue.hint": "Queued posts go out at the account's next free slot. Times are in the schedule's zone.",
    "queue.account": "Account",
    "queue.timezone": "Time zone",
    "queue.day": "{day}: times (HH:MM, comma-separated)",
    "queue.best": "Use the best hours",
    "queue.best-count": "How many best hours",
    "queue.none": "No posting schedule yet.",
    "queue.no-accounts": "Connect an account first.",
    "queue.read-only": "Your role can see schedules but not change them.",
    "day.mon": "Monday", "day.tue": "Tuesday", "day.wed": "Wednesday", "day.thu": "Thursday",
    "day.fri": "Friday", "day.sat": "Saturday", "day.sun": "Sunday",
  },
  id: {
    "queue.title": "Jadwal posting",
    "queue.hint": "Postingan antrean terbit pada slot kosong berikutnya. Waktu mengikuti zona jadwal.",
    "queue.account": "Akun",
    "queue.timezone": "Zona waktu",
    "queue.day": "{day}: waktu (JJ:MM, dipisah koma)",
    "queue.best": "Pakai jam terbaik",
    "queue.best-count": "Berapa jam terbaik",
    "queue.none": "Belum ada jadwal posting.",
    "queue.no-accounts": "Hubungkan akun terlebih dahulu.",
    "queue.read-only": "Peran Anda dapat melihat jadwal tetapi tidak dapat mengubahnya.",
    "day.mon": "Senin", "day.tue": "Selasa", "day.wed": "Rabu", "day.thu": "Kamis",
    "day.fri": "Jumat", "day.sat": "Sabtu", "day.sun": "Minggu",
  },
};

const DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/** "09:00, 13:30" per day → [{day, time}] as the scheduler's PUT …/queue expects. */
export function slotsOf(values) {
  return DAYS.flatMap((day) =>
    String(values[`day-${day}`] || "").split(/[,\s]+/).filter(Boolean).map((time) => ({ day, time })));
}

async function loadQueue(ctx, accountId) {
  try {
    return await ctx.api.get(ctx.wsPath(`/accounts/${encodeURIComponent(accountId)}/queue`));
  } catch (err) {
    if (err.status === 404) return null;
    throw err;
  }
}

function fill(form, queue) {
  form.elements.timezone.value = queue?.timezone || Intl.DateTimeFormat().resolvedOptions().timeZone;
  for (const day of DAYS) {
    form.elements[`day-${day}`].value = (queue?.slots || []).filter((s) => s.day === day).map((s) => s.time).join(", ");
  }
}

export async function queueSection(ctx, accounts) {
  const { t, api } = ctx;
  if (!accounts.length) return section("settings-queue", t("queue.title"), h("p", {}, t("queue.no-accounts")));
  const manage = ctx.can("posts.publish");
  const chosen = accounts.find((a) => a.id === ctx.query.get("account")) ?? accounts[0];
  const zones = typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : [];
  const form = h("form", { novalidate: true },
    h("p", { class: "hint" }, t("queue.hint")),
    formError(),
    field({ name: "account", label: t("queue.account"), type: "select", value: chosen.id,
      options: accounts.map((a) => [a.id, `${a.handle} (${a.network})`]) }),
    field({ name: "timezone", label: t("queue.timezone"), list: "tz-list", autocomplete: "off", disabled: !manage }),
    h("datalist", { id: "tz-list" }, zones.map((z) => h("option", { value: z }))),
    h("div", { dataset: { field: "slots" } },
      DAYS.map((day) => field({ name: `day-${day}`, label: t("queue.day", { day: t(`day.${day}`) }), placeholder: "09:00, 13:00", disabled: !manage })),
      h("p", { class: "field-error", hidden: true })),
    manage ? h("div", { class: "row" },
      h("button", { type: "submit", class: "primary", value: "save" }, t("common.save")),
      field({ name: "count", label: t("queue.best-count"), type: "number", min: 1, max: 168, value: "7" }),
      h("button", { type: "submit", value: "best" }, t("queue.best"))) : h("p", { class: "muted" }, t("queue.read-only")));
  fill(form, await loadQueue(ctx, chosen.id));
  const draft = keepDraft(form, `queue-${ctx.workspace.id}-${chosen.id}`);
  form.elements.account.addEventListener("change", async (e) => {
    draft.clear();
    ctx.setQuery({ account: e.target.value });
    fill(form, await loadQueue(ctx, e.target.value));
  });
  onSubmit(form, (v, submitter) => {
    const path = ctx.wsPath(`/accounts/${encodeURIComponent(v.account)}/queue`);
    if (submitter?.value === "best") {
      return api.post(`${path}:fill-from-best-times`, { count: v.count ?? 7, timezone: v.timezone || null });
    }
    return api.put(path, { timezone: v.timezone.trim(), slots: slotsOf(v) });
  }, {
    draft,
    done: (queue) => {
      fill(form, queue);
      ctx.toast(t("common.saved"));
    },
  });
  if (ctx.query.get("account")) queueMicrotask(() => form.scrollIntoView());
  return section("settings-queue", t("queue.title"), form);
}

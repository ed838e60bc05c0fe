// Calendar: the workspace's posts by month, week (hour rows) or as a list, filtered by
// account, network, status, campaign label and author, coloured by campaign. Posts that have
// not gone out yet can be dragged to another day (month: keeping their time of day) or hour
// (week: keeping their minutes), moved with Alt+arrow keys (a day left or right; a week —
// in the week view an hour — up or down), or given a new time in the list view.

import { h, mount } from "../dom.js";
import { field, problemText } from "../forms.js";
import { addDays, addHours, atHour, isoDay, onDay, parseDay, rangeFor, startOfDay, step } from "./calendar-dates.js";
import { LABEL_STRINGS, labelManager } from "./calendar-labels.js";
import { listView, monthView } from "./calendar-views.js";
import { placeNowLine, scrollWeek, weekScroll, weekView } from "./calendar-week.js";
import { EDITABLE, STATUSES, loadBasics, who, withPostStrings } from "./posts-common.js";

const OWN_STRINGS = {
  en: {
    "calendar.title": "Calendar",
    "calendar.view": "View",
    "calendar.view.month": "Month",
    "calendar.view.week": "Week",
    "calendar.view.list": "List",
    "calendar.previous": "Previous",
    "calendar.next": "Next",
    "calendar.today": "Today",
    "calendar.new-post": "New post",
    "calendar.filters": "Filters",
    "calendar.filter.account": "Account",
    "calendar.filter.network": "Network",
    "calendar.filter.status": "Status",
    "calendar.filter.label": "Campaign",
    "calendar.filter.author": "Author",
    "calendar.filter.any": "All",
    "calendar.filter.me": "Me",
    "calendar.clear-filters": "Clear filters",
    "calendar.labels": "Campaigns",
    "calendar.legend": "Campaign colours",
    "calendar.no-time": "no time",
    "calendar.empty": "No posts in these days.",
    "calendar.move-hint": "Drag a post to another day, or press Alt with an arrow key: a day left or right, a week up or down.",
    "calendar.move-hint-week": "Drag a post to another hour, or press Alt with an arrow key: a day left or right, an hour up or down.",
    "calendar.week-caption": "Posts of the week by day and hour ({zone} time)",
    "calendar.time-zone": "Times in {zone}.",
    "calendar.hour": "Hour",
    "calendar.moved": "Moved to {when}.",
    "calendar.not-moved": "Not moved: {reason}",
    "calendar.new-time": "New time",
    "calendar.reschedule": "Reschedule",
    "calendar.col.when": "When",
    "calendar.col.accounts": "Accounts",
    "calendar.col.text": "Post",
    "calendar.col.status": "Status",
    "calendar.col.move": "Move",
    "calendar.count": "{count} posts",
    "calendar.count-one": "1 post",
  },
  id: {
    "calendar.title": "Kalender",
    "calendar.view": "Tampilan",
    "calendar.view.month": "Bulan",
    "calendar.view.week": "Minggu",
    "calendar.view.list": "Daftar",
    "calendar.previous": "Sebelumnya",
    "calendar.next": "Berikutnya",
    "calendar.today": "Hari ini",
    "calendar.new-post": "Postingan baru",
    "calendar.filters": "Filter",
    "calendar.filter.account": "Akun",
    "calendar.filter.network": "Jaringan",
    "calendar.filter.status": "Status",
    "calendar.filter.label": "Kampanye",
    "calendar.filter.author": "Penulis",
    "calendar.filter.any": "Semua",
    "calendar.filter.me": "Saya",
    "calendar.clear-filters": "Hapus filter",
    "calendar.labels": "Kampanye",
    "calendar.legend": "Warna kampanye",
    "calendar.no-time": "tanpa waktu",
    "calendar.empty": "Tidak ada postingan pada hari-hari ini.",
    "calendar.move-hint": "Seret postingan ke hari lain, atau tekan Alt dengan tombol panah: sehari ke kiri atau kanan, seminggu ke atas atau bawah.",
    "calendar.move-hint-week": "Seret postingan ke jam lain, atau tekan Alt dengan tombol panah: sehari ke kiri atau kanan, sejam ke atas atau bawah.",
    "calendar.week-caption": "Postingan minggu ini per hari dan jam (waktu {zone})",
    "calendar.time-zone": "Waktu dalam zona {zone}.",
    "calendar.hour": "Jam",
    "calendar.moved": "Dipindahkan ke {when}.",
    "calendar.not-moved": "Tidak dipindahkan: {reason}",
    "calendar.new-time": "Waktu baru",
    "calendar.reschedule": "Jadwalkan ulang",
    "calendar.col.when": "Kapan",
    "calendar.col.accounts": "Akun",
    "calendar.col.text": "Postingan",
    "calendar.col.status": "Status",
    "calendar.col.move": "Pindahkan",
    "calendar.count": "{count} postingan",
    "calendar.count-one": "1 postingan",
  },
};

export const strings = withPostStrings({
  en: { ...LABEL_STRINGS.en, ...OWN_STRINGS.en },
  id: { ...LABEL_STRINGS.id, ...OWN_STRINGS.id },
});

const VIEWS = ["month", "week", "list"];
const FILTERS = { account: "account_id", network: "network", status: "status", label: "label_id", author: "author" };
const POLL_MS = 10_000;

function filterForm(ctx, basics, members, state, reload) {
  const { t } = ctx;
  const any = ["", t("calendar.filter.any")];
  const networks = [...new Set(basics.accounts.map((a) => a.network))].sort();
  const options = {
    account: basics.accounts.map((a) => [a.id, `${a.handle} (${a.network})`]),
    network: networks.map((n) => [n, n]),
    status: STATUSES.map((s) => [s, t(`post.status.${s}`)]),
    label: basics.labels.map((l) => [l.id, l.name]),
    author: [
      ...(basics.me ? [[basics.me.id, t("calendar.filter.me")]] : []),
      ...members.filter((m) => m.user_id !== basics.me?.id).map((m) => [m.user_id, who(m.user_id, basics, t)]),
    ],
  };
  const form = h("form", { class: "filters row", "aria-label": t("calendar.filters") },
    Object.keys(FILTERS).map((name) => field({
      name, label: t(`calendar.filter.${name}`), type: "select",
      options: [any, ...options[name]], value: state.filters[name] || "",
    })),
    h("button", { type: "button", class: "link", onclick: () => {
      for (const name of Object.keys(FILTERS)) form.elements[name].value = "";
      form.dispatchEvent(new Event("change"));
    } }, t("calendar.clear-filters")));
  form.addEventListener("change", () => {
    for (const name of Object.keys(FILTERS)) state.filters[name] = form.elements[name].value;
    reload();
  });
  form.addEventListener("submit", (event) => event.preventDefault());
  return form;
}

function legend(ctx, labels) {
  if (!labels.length) return null;
  return h("div", { class: "legend", role: "group", "aria-label": ctx.t("calendar.legend") },
    labels.map((l) => h("span", { class: "legend-item" },
      h("span", { class: "swatch", style: { background: l.colour }, "aria-hidden": "true" }), l.name)));
}

function query(state) {
  const out = { view: state.view, date: isoDay(state.anchor) };
  for (const name of Object.keys(FILTERS)) if (state.filters[name]) out[name] = state.filters[name];
  return out;
}

function environment(ctx, state, basics, move) {
  return {
    t: ctx.t, locale: ctx.locale, labels: basics.labelsById, accounts: basics.accountsById,
    postHref: (post) => `#/w/${encodeURIComponent(ctx.workspace.id)}/composer?post=${encodeURIComponent(post.id)}`,
    editable: (post) => ctx.can("posts.write") && EDITABLE.has(post.status) && Boolean(post.scheduled_at),
    onDrop: (id, day, hour) => {
      const post = state.posts.find((p) => p.id === id);
      if (!post) return;
      const when = new Date(post.scheduled_at);
      move(post, hour === undefined ? onDay(when, day) : atHour(when, day, hour));
    },
    onKeyMove: (post, key) => {
      const when = new Date(post.scheduled_at);
      const vertical = { ArrowUp: -1, ArrowDown: 1 }[key];
      const days = { ArrowLeft: -1, ArrowRight: 1 }[key];
      // Up and down are an hour in the week's hour rows, a week in the month's grid.
      const next = days ? addDays(when, days)
        : vertical && state.view === "week" ? addHours(when, vertical)
          : vertical ? addDays(when, vertical * 7) : null;
      if (next) move(post, next, { refocus: true });
    },
    onReschedule: (post, iso) => move(post, new Date(iso)),
  };
}

function toolbar(ctx, state, reload) {
  const { t } = ctx;
  const viewButtons = VIEWS.map((v) => h("button", {
    type: "button", "aria-pressed": String(v === state.view), dataset: { view: v },
    onclick: () => {
      state.view = v;
      for (const b of viewButtons) b.setAttribute("aria-pressed", String(b.dataset.view === v));
      reload();
    },
  }, t(`calendar.view.${v}`)));
  const go = (direction) => {
    state.anchor = direction === 0 ? parseDay("") : step(state.view, state.anchor, direction);
    reload();
  };
  return h("div", { class: "cal-toolbar row" },
    h("div", { class: "button-group", role: "group", "aria-label": t("calendar.view") }, viewButtons),
    h("div", { class: "button-group" },
      h("button", { type: "button", onclick: () => go(-1) }, "‹ ", t("calendar.previous")),
      h("button", { type: "button", onclick: () => go(0) }, t("calendar.today")),
      h("button", { type: "button", onclick: () => go(1) }, t("calendar.next"), " ›")),
    ctx.can("posts.write")
      ? h("a", { class: "button primary", href: `#/w/${encodeURIComponent(ctx.workspace.id)}/composer` }, t("calendar.new-post")) : null);
}

/** The loader: fetch the range's posts and re-render the view when anything changed. */
function loader(ctx, state, { root, period, hint, body, env }) {
  return async ({ force = false } = {}) => {
    const range = rangeFor(state.view, state.anchor);
    const params = { from: range.start.toISOString(), to: range.end.toISOString() };
    for (const [name, param] of Object.entries(FILTERS)) if (state.filters[name]) params[param] = state.filters[name];
    if (!root.isConnected) return;
    ctx.setQuery(query(state));
    period.textContent = periodText(state, range, ctx.locale);
    hint.textContent = ctx.t(state.view === "week" ? "calendar.move-hint-week" : "calendar.move-hint");
    body.setAttribute("aria-busy", "true");
    const posts = (await ctx.api.get(ctx.wsPath("/posts"), params)).items;
    body.removeAttribute("aria-busy");
    if (!root.isConnected) return;
    const signature = JSON.stringify([state.view, isoDay(state.anchor), params, posts.map((p) => [p.id, p.status, p.scheduled_at, p.version])]);
    if (!force && signature === state.signature) return;
    state.posts = posts;
    state.signature = signature;
    const view = state.view === "week" ? weekView(range, posts, env)
      : state.view === "list" ? listView(posts, env) : monthView(range, state.anchor, posts, env);
    const count = posts.length === 1 ? ctx.t("calendar.count-one") : ctx.t("calendar.count", { count: posts.length });
    // The same week drawn again (a poll, a move) stays where it was scrolled to.
    const kept = state.view === "week" && state.drawn === signatureOfPeriod(state) ? weekScroll(body) : null;
    mount(body, h("p", { class: "muted count" }, count), view);
    state.drawn = signatureOfPeriod(state);
    if (state.view === "week") scrollWeek(body, kept);
  };
}

export async function render(root, ctx) {
  const { t, api } = ctx;
  const state = {
    view: VIEWS.includes(ctx.query.get("view")) ? ctx.query.get("view") : "month",
    anchor: parseDay(ctx.query.get("date")),
    filters: Object.fromEntries(Object.keys(FILTERS).map((n) => [n, ctx.query.get(n) || ""])),
    posts: [],
    signature: "",
  };
  const basics = await loadBasics(ctx);
  const members = ctx.can("workspace.read")
    ? await api.get(ctx.wsPath("/members")).then((r) => r.items).catch(() => []) : [];
  const period = h("h2", { class: "period", "aria-live": "polite" });
  const body = h("div", { class: "cal-body", "aria-busy": "true" });
  const env = environment(ctx, state, basics, async (post, when, { refocus = false } = {}) => {
    if (when.getTime() === new Date(post.scheduled_at).getTime()) return;
    try {
      await api.patch(ctx.wsPath(`/posts/${encodeURIComponent(post.id)}`), { scheduled_at: when.toISOString() });
      ctx.toast(t("calendar.moved", { when: when.toLocaleString(ctx.locale, { dateStyle: "full", timeStyle: "short" }) }));
      // A keyboard move past the edge of the shown days: the calendar follows the post, so
      // focus stays on it (Alt+→ on a Sunday opens the next week).
      const range = rangeFor(state.view, state.anchor);
      if (refocus && (when < range.start || when >= range.end)) state.anchor = startOfDay(when);
    } catch (err) {
      if (err.status === undefined) throw err;
      ctx.toast(t("calendar.not-moved", { reason: problemText(err) }));
    }
    await load({ force: true });
    if (refocus) body.querySelector(`[data-post-id="${CSS.escape(post.id)}"]`)?.focus();
  });
  const hint = h("p", { class: "hint", id: "calendar-move-hint" });
  const load = loader(ctx, state, { root, period, hint, body, env });
  const reload = () => load({ force: true });
  mount(root, h("h1", { id: "page-title" }, t("calendar.title")), toolbar(ctx, state, reload),
    filterForm(ctx, basics, members, state, reload), legend(ctx, basics.labels),
    ctx.can("posts.write") ? labelManager(ctx, basics.labels, () => ctx.refresh()) : null, period,
    hint, body);
  await reload();
  // Published posts appear without a reload: poll while the page is open (unchanged data
  // is not re-rendered, so focus and a half-typed new time stay where they are).
  const timer = setInterval(() => {
    if (document.hidden) return;
    placeNowLine(body);
    if (root.querySelector(".dragging, .reschedule input:focus")) return;
    load().catch(() => {});
  }, POLL_MS);
  return () => clearInterval(timer);
}

function signatureOfPeriod(state) {
  return `${state.view}:${isoDay(state.anchor)}`;
}

function periodText(state, range, locale) {
  if (state.view === "month") return state.anchor.toLocaleDateString(locale, { month: "long", year: "numeric" });
  const last = addDays(range.end, -1);
  const fmt = { day: "numeric", month: "short", year: "numeric" };
  return `${range.start.toLocaleDateString(locale, fmt)} – ${last.toLocaleDateString(locale, fmt)}`;
}

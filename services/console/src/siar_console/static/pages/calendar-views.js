// The calendar's month and list views and the post chip every view shares (the week view,
// with its hour rows, is calendar-week.js). Pure rendering: the page (calendar.js) loads the
// data and passes `env` with what to do when a post is dropped or moved with the keyboard.
//
// env = {t, locale, labels: Map(id → {name, colour}), accounts: Map(id → account),
//        postHref(post), editable(post), onDrop(postId, day, hour?), onKeyMove(post, key, chipEl),
//        onReschedule(post, isoString)}

import { h } from "../dom.js";
import { field } from "../forms.js";
import { daysBetween, isoDay, sameDay, toLocalInput, fromLocalInput } from "./calendar-dates.js";

const KEYS = "Alt+ArrowLeft Alt+ArrowRight Alt+ArrowUp Alt+ArrowDown";

function time(post, env) {
  if (!post.scheduled_at) return env.t("calendar.no-time");
  return new Date(post.scheduled_at).toLocaleTimeString(env.locale, { hour: "2-digit", minute: "2-digit" });
}

function networks(post) {
  return [...new Set(post.targets.map((target) => target.network))];
}

/** The colour of a post's first campaign label (null: none). */
export function labelColour(post, env) {
  for (const id of post.label_ids || []) if (env.labels.get(id)) return env.labels.get(id).colour;
  return null;
}

function statusBadge(post, env) {
  return h("span", { class: `badge status status-${post.status}` }, env.t(`post.status.${post.status}`));
}

/** One post on the calendar: a link to open it, draggable and keyboard-movable when editable. */
export function chip(post, env) {
  const editable = env.editable(post);
  const colour = labelColour(post, env);
  const labelNames = (post.label_ids || []).map((id) => env.labels.get(id)?.name).filter(Boolean);
  const el = h(
    "a",
    {
      class: `post-chip status-${post.status}${editable ? " movable" : ""}`,
      href: env.postHref(post),
      draggable: editable ? "true" : null,
      dataset: { postId: post.id },
      style: colour ? { borderLeftColor: colour } : null,
      "aria-keyshortcuts": editable ? KEYS : null,
      "aria-describedby": editable ? "calendar-move-hint" : null,
    },
    h("span", { class: "chip-time" }, time(post, env)),
    " ",
    h("span", { class: "chip-networks" }, networks(post).join(", ")),
    " ",
    h("span", { class: "chip-text" }, post.text.length > 80 ? `${post.text.slice(0, 79)}…` : post.text),
    " ",
    statusBadge(post, env),
    labelNames.length ? h("span", { class: "visually-hidden" }, ` ${env.t("calendar.labels")}: ${labelNames.join(", ")}`) : null,
  );
  if (editable) {
    el.addEventListener("dragstart", (event) => {
      event.dataTransfer.setData("text/x-siar-post", post.id);
      event.dataTransfer.effectAllowed = "move";
      el.classList.add("dragging");
    });
    el.addEventListener("dragend", () => el.classList.remove("dragging"));
    el.addEventListener("keydown", (event) => {
      if (!event.altKey || !event.key.startsWith("Arrow")) return;
      event.preventDefault();
      env.onKeyMove(post, event.key, el);
    });
  }
  return el;
}

function byTime(a, b) {
  return String(a.scheduled_at).localeCompare(String(b.scheduled_at));
}

/** Posts grouped by local day ("YYYY-MM-DD" → posts in time order). */
export function byDay(posts) {
  const days = new Map();
  for (const post of [...posts].sort(byTime)) {
    if (!post.scheduled_at) continue;
    const key = isoDay(new Date(post.scheduled_at));
    if (!days.has(key)) days.set(key, []);
    days.get(key).push(post);
  }
  return days;
}

/** Make `el` take dropped posts: env.onDrop(id, day) — with `hour`, that hour of the day. */
export function dropTarget(el, day, env, hour) {
  el.addEventListener("dragover", (event) => {
    if (!event.dataTransfer.types.includes("text/x-siar-post")) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    el.classList.add("drop-over");
  });
  el.addEventListener("dragleave", () => el.classList.remove("drop-over"));
  el.addEventListener("drop", (event) => {
    event.preventDefault();
    el.classList.remove("drop-over");
    const id = event.dataTransfer.getData("text/x-siar-post");
    if (id) env.onDrop(id, day, hour);
  });
  return el;
}

function dayCell(day, posts, env, { inMonth = true } = {}) {
  const today = sameDay(day, new Date());
  const heading = day.toLocaleDateString(env.locale, { day: "numeric" });
  const full = day.toLocaleDateString(env.locale, { weekday: "long", day: "numeric", month: "long", year: "numeric" });
  const cell = h(
    "li",
    { class: `day${inMonth ? "" : " other-month"}${today ? " today" : ""}`, dataset: { day: isoDay(day) } },
    h("p", { class: "day-head" },
      h("span", { class: "day-num", "aria-hidden": "true" }, heading),
      h("span", { class: "day-full" }, full),
      today ? h("span", { class: "visually-hidden" }, ` (${env.t("calendar.today")})`) : null),
    posts.length ? h("ul", { class: "day-posts" }, posts.map((p) => h("li", {}, chip(p, env)))) : null,
  );
  return dropTarget(cell, day, env);
}

function weekdayHeader(start, env) {
  return h("div", { class: "weekdays", "aria-hidden": "true" },
    daysBetween(start, new Date(start.getFullYear(), start.getMonth(), start.getDate() + 7)).map((d) =>
      h("span", {}, d.toLocaleDateString(env.locale, { weekday: "short" }))));
}

/** Whole weeks around the anchor's month, a drop target per day. */
export function monthView(range, anchor, posts, env) {
  const days = byDay(posts);
  return h("div", { class: "cal cal-month" },
    weekdayHeader(range.start, env),
    h("ol", { class: "month-grid", "aria-label": env.t("calendar.view.month") },
      daysBetween(range.start, range.end).map((d) =>
        dayCell(d, days.get(isoDay(d)) || [], env, { inMonth: d.getMonth() === anchor.getMonth() }))));
}

function rescheduleForm(post, env) {
  const form = h("form", { class: "reschedule", novalidate: true },
    field({ name: "scheduled_at", label: env.t("calendar.new-time"), type: "datetime-local", step: "1",
      value: toLocalInput(new Date(post.scheduled_at)), required: true }),
    h("button", { type: "submit" }, env.t("calendar.reschedule"), h("span", { class: "visually-hidden" }, ` ${post.text.slice(0, 40)}`)));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const at = fromLocalInput(form.elements.scheduled_at.value);
    if (at) env.onReschedule(post, at, form);
  });
  return form;
}

/** Posts of four weeks as a table (cards on a phone), with a reschedule form per post. */
export function listView(posts, env) {
  const rows = [...posts].filter((p) => p.scheduled_at).sort(byTime);
  if (!rows.length) return h("p", { class: "muted" }, env.t("calendar.empty"));
  const col = (key) => env.t(`calendar.col.${key}`);
  return h("div", { class: "table-wrap" }, h("table", { class: "cards cal-list" },
    h("caption", { class: "visually-hidden" }, env.t("calendar.view.list")),
    h("thead", {}, h("tr", {}, ["when", "accounts", "text", "status", "move"].map((k) => h("th", { scope: "col" }, col(k))))),
    h("tbody", {}, rows.map((post) => {
      const colour = labelColour(post, env);
      return h("tr", { dataset: { postId: post.id } },
        h("td", { "data-label": col("when") },
          new Date(post.scheduled_at).toLocaleString(env.locale, { dateStyle: "medium", timeStyle: "short" })),
        h("td", { "data-label": col("accounts") }, post.targets.map((target) => {
          const account = env.accounts.get(target.account_id);
          return account ? `${account.handle} (${account.network})` : target.network;
        }).join(", ")),
        h("td", { "data-label": col("text"), style: colour ? { borderLeft: `6px solid ${colour}` } : null },
          h("a", { href: env.postHref(post) }, post.text)),
        h("td", { "data-label": col("status") }, statusBadge(post, env)),
        h("td", { "data-label": col("move") }, env.editable(post) ? rescheduleForm(post, env) : "—"));
    }))));
}

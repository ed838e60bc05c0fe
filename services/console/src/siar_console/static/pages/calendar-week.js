// The calendar's week view: seven day columns (Monday first) × 24 hour rows in the viewer's
// own time zone, each post in its hour's cell, a line at the current time on today. Every
// cell is a drop target (the post moves to that day and hour, keeping its minutes); the
// grid scrolls inside its own box — to about 08:00 on opening — so on a phone the days
// scroll sideways under a fixed hour column and the page itself never overflows.

import { h } from "../dom.js";
import { daysBetween, isoDay, sameDay } from "./calendar-dates.js";
import { chip, dropTarget } from "./calendar-views.js";

/** The hour the grid opens at (earlier hours are a scroll up). */
export const OPENING_HOUR = 8;
const HOURS = Array.from({ length: 24 }, (_, hour) => hour);

/** The viewer's time zone ("Asia/Jakarta"), which the hour rows are in. */
export function viewerZone() {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
}

function hourLabel(hour, locale) {
  return new Date(2000, 0, 1, hour).toLocaleTimeString(locale, { hour: "2-digit", minute: "2-digit" });
}

/** Posts by local slot "YYYY-MM-DD@H", each slot in time order. */
function bySlot(posts) {
  const slots = new Map();
  const ordered = posts.filter((p) => p.scheduled_at)
    .sort((a, b) => String(a.scheduled_at).localeCompare(String(b.scheduled_at)));
  for (const post of ordered) {
    const at = new Date(post.scheduled_at);
    const key = `${isoDay(at)}@${at.getHours()}`;
    if (!slots.has(key)) slots.set(key, []);
    slots.get(key).push(post);
  }
  return slots;
}

function dayHeading(day, env) {
  const today = sameDay(day, new Date());
  return h("th", { scope: "col", class: today ? "today" : null, dataset: { day: isoDay(day) } },
    h("span", { class: "week-day" }, day.toLocaleDateString(env.locale, { weekday: "short" })), " ",
    h("span", { class: "week-date" }, day.toLocaleDateString(env.locale, { day: "numeric", month: "short" })),
    today ? h("span", { class: "visually-hidden" }, ` (${env.t("calendar.today")})`) : null);
}

function slotCell(day, hour, posts, env) {
  const cell = h("td", {
    class: `slot${sameDay(day, new Date()) ? " today" : ""}`,
    dataset: { day: isoDay(day), hour: String(hour) },
  }, posts.length ? h("ul", { class: "day-posts" }, posts.map((p) => h("li", {}, chip(p, env)))) : null);
  return dropTarget(cell, day, env, hour);
}

/** The week as a table: a column per day, a row per local hour, posts in their hour. */
export function weekView(range, posts, env) {
  const days = daysBetween(range.start, range.end);
  const slots = bySlot(posts);
  const zone = viewerZone();
  const table = h("table", { class: "week-table" },
    h("caption", { class: "visually-hidden" }, env.t("calendar.week-caption", { zone })),
    h("thead", {}, h("tr", {},
      h("th", { scope: "col", class: "hour-col" }, h("span", { class: "visually-hidden" }, env.t("calendar.hour"))),
      days.map((d) => dayHeading(d, env)))),
    h("tbody", {}, HOURS.map((hour) => h("tr", { dataset: { hour: String(hour) } },
      h("th", { scope: "row", class: "hour-col" }, hourLabel(hour, env.locale)),
      days.map((d) => slotCell(d, hour, slots.get(`${isoDay(d)}@${hour}`) || [], env))))));
  // Focusable so the keyboard can scroll it; named so a screen reader says what it is.
  const scroller = h("div", { class: "week-scroll", tabindex: "0", role: "region",
    "aria-label": env.t("calendar.view.week") }, table);
  const view = h("div", { class: "cal cal-week" },
    h("p", { class: "muted zone-note" }, env.t("calendar.time-zone", { zone })), scroller);
  placeNowLine(view);
  return view;
}

/** Put the current-time line in today's current hour (none when today is not shown). */
export function placeNowLine(root) {
  for (const old of root.querySelectorAll(".now-line")) old.remove();
  const now = new Date();
  const cell = root.querySelector(`td.slot[data-day="${isoDay(now)}"][data-hour="${now.getHours()}"]`);
  if (!cell) return;
  const top = `${((now.getMinutes() * 60 + now.getSeconds()) / 3600) * 100}%`;
  cell.prepend(h("div", { class: "now-line", style: { top }, "aria-hidden": "true" }));
}

/**
 * Scroll a freshly drawn week: where the previous drawing was (`kept`), else to
 * OPENING_HOUR — or, when that would hide today's current-time line, to a third above it —
 * and, when the days do not all fit (a phone), to today's column.
 */
export function scrollWeek(root, kept) {
  const scroller = root.querySelector(".week-scroll");
  if (!scroller) return;
  if (kept) {
    scroller.scrollTop = kept.top;
    scroller.scrollLeft = kept.left;
    return;
  }
  const head = scroller.querySelector("thead");
  const row = scroller.querySelector(`tbody tr[data-hour="${OPENING_HOUR}"]`);
  scroller.scrollTop = row.offsetTop - head.offsetHeight;
  const now = scroller.querySelector(".now-line")?.closest("tr");
  const shown = scroller.clientHeight - head.offsetHeight;
  if (now && (now.offsetTop < row.offsetTop || now.offsetTop + now.offsetHeight > row.offsetTop + shown)) {
    scroller.scrollTop = now.offsetTop - head.offsetHeight - shown / 3;
  }
  const today = scroller.querySelector("thead th.today");
  const hourCol = scroller.querySelector("thead th.hour-col");
  if (today && scroller.scrollWidth > scroller.clientWidth) scroller.scrollLeft = today.offsetLeft - hourCol.offsetWidth;
}

/** Where a drawn week is scrolled to (null when no week is drawn), to keep it on redraw. */
export function weekScroll(root) {
  const scroller = root.querySelector(".week-scroll");
  return scroller ? { top: scroller.scrollTop, left: scroller.scrollLeft } : null;
}

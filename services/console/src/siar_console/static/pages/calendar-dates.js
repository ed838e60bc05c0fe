// Dates for the calendar and the composer, in the browser's own time zone (pure functions).
// Weeks start on Monday (as in Indonesia and most of Europe); days are local midnights.

/** "YYYY-MM-DD" of a local date. */
export function isoDay(date) {
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

/** The local midnight of "YYYY-MM-DD" (today when missing or malformed). */
export function parseDay(text) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text || "");
  const d = m ? new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : new Date();
  return Number.isNaN(d.getTime()) ? startOfDay(new Date()) : startOfDay(d);
}

export function startOfDay(date) {
  return new Date(date.getFullYear(), date.getMonth(), date.getDate());
}

/** `date` moved by `days` calendar days, keeping the wall-clock time (DST-safe). */
export function addDays(date, days) {
  const d = new Date(date);
  d.setDate(d.getDate() + days);
  return d;
}

export function addMonths(date, months) {
  return new Date(date.getFullYear(), date.getMonth() + months, 1);
}

/** The Monday on or before `date`. */
export function startOfWeek(date) {
  const d = startOfDay(date);
  return addDays(d, -((d.getDay() + 6) % 7));
}

/** Days shown by a view around `anchor`: month (whole weeks), week (7) or list (28 from it). */
export function rangeFor(view, anchor) {
  if (view === "week") {
    const start = startOfWeek(anchor);
    return { start, end: addDays(start, 7) };
  }
  if (view === "list") {
    const start = startOfDay(anchor);
    return { start, end: addDays(start, 28) };
  }
  const first = new Date(anchor.getFullYear(), anchor.getMonth(), 1);
  const start = startOfWeek(first);
  const last = addMonths(first, 1);
  // The Monday on or after the next month's first day closes the last week.
  return { start, end: startOfWeek(addDays(last, 6)) };
}

/** Every local day from `start` (inclusive) to `end` (exclusive). */
export function daysBetween(start, end) {
  const days = [];
  for (let d = startOfDay(start); d < end; d = addDays(d, 1)) days.push(d);
  return days;
}

/** The anchor one step back or forward in `view`. */
export function step(view, anchor, direction) {
  if (view === "month") return addMonths(anchor, direction);
  return addDays(anchor, direction * (view === "week" ? 7 : 28));
}

/** `when` moved to local day `day`, keeping its wall-clock time (drag to another day). */
export function onDay(when, day) {
  return atHour(when, day, when.getHours());
}

/** `when` moved to `hour` of local day `day`, keeping its minutes (drag to an hour cell). */
export function atHour(when, day, hour) {
  const d = new Date(day);
  d.setHours(hour, when.getMinutes(), when.getSeconds(), 0);
  return d;
}

/** `when` moved by `hours` real hours (Alt+↑/↓ in the week view). */
export function addHours(when, hours) {
  return new Date(when.getTime() + hours * 3_600_000);
}

/** A Date as the value of <input type="datetime-local"> (local time, seconds kept). */
export function toLocalInput(date) {
  if (!date || Number.isNaN(date.getTime())) return "";
  const pad = (n) => String(n).padStart(2, "0");
  return `${isoDay(date)}T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}

/** A datetime-local value as an ISO instant with offset (null when empty or invalid). */
export function fromLocalInput(value) {
  if (!value) return null;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}

export function sameDay(a, b) {
  return a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate();
}

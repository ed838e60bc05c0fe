// The inbox: filters with sidebar counts, the conversation list (live over server-sent
// events) and the open thread beside it (pages/inbox-thread.js). Filters and the open
// conversation live in the route's query, so a reload or a shared link shows the same view.

import { focusFirst, h, mount, when } from "../dom.js";
import { field, problemText } from "../forms.js";
import { claims } from "../session.js";
import { bulkBar } from "./inbox-bulk.js";
import { savedRepliesPanel } from "./inbox-saved.js";
import { strings } from "./inbox-strings.js";
import { openThread } from "./inbox-thread.js";

export { strings };

const CHOICES = {
  status: ["open", "pending", "snoozed", "closed"],
  kind: ["comment", "reply", "dm", "mention", "review"],
  sentiment: ["positive", "neutral", "negative"],
  priority: ["urgent", "high", "normal", "low"],
};
const FILTER_NAMES = ["q", "status", "assignee", "kind", "network", "sentiment", "priority", "tag"];
const PAGE_SIZE = 30;

/** The filters of the route's query; `status` is "open" unless the user chose otherwise. */
export function filtersOf(query) {
  const filters = {};
  for (const name of FILTER_NAMES) filters[name] = query.get(name) ?? "";
  if (!query.has("status")) filters.status = "open";
  return filters;
}

/** Whether `conv` belongs in the list under `filters` (search text needs the server). */
export function matches(conv, filters, me) {
  const same = (name, value) => !filters[name] || filters[name] === value;
  if (!same("status", conv.status) || !same("kind", conv.kind) || !same("network", conv.network)) return false;
  if (!same("sentiment", conv.sentiment) || !same("priority", conv.priority)) return false;
  if (filters.tag && !(conv.tags || []).includes(filters.tag)) return false;
  if (filters.assignee === "me") return conv.assignee === me;
  if (filters.assignee === "none") return !conv.assignee;
  return !filters.assignee || conv.assignee === filters.assignee;
}

/** A conversation's one-line badges: sentiment and priority (with words, not colour only). */
export function badges(conv, t) {
  const tone = { positive: "ok", negative: "bad", neutral: "" };
  const out = [];
  if (conv.sentiment) out.push(h("span", { class: `badge ${tone[conv.sentiment]}` }, t(`inbox.sentiment.${conv.sentiment}`)));
  if (conv.priority && conv.priority !== "normal") {
    const level = conv.priority === "low" ? "" : conv.priority === "urgent" ? "bad" : "warn";
    out.push(h("span", { class: `badge ${level}`.trim() }, t(`inbox.priority.${conv.priority}`)));
  }
  if (conv.influencer) out.push(h("span", { class: "badge" }, t("inbox.influencer")));
  return out;
}

export async function render(root, ctx) {
  const { t, api } = ctx;
  const me = claims()?.sub ?? null;
  const state = { filters: filtersOf(ctx.query), items: [], cursor: null, counts: null, selected: ctx.query.get("c") };
  const [accounts, members] = await Promise.all([
    api.get(ctx.wsPath("/accounts")).then((r) => r.items ?? r).catch(() => []),
    api.get(ctx.wsPath("/members")).then((r) => r.items ?? r).catch(() => []),
  ]);
  const live = h("p", { class: "live muted", role: "status" });
  const total = h("p", { class: "muted", "aria-live": "polite" });
  const list = h("ul", { class: "conv-list", "aria-labelledby": "inbox-list-h", onkeydown: moveInList });
  const more = h("button", { type: "button", hidden: true, onclick: () => load(true) }, t("inbox.more"));
  const listError = h("p", { class: "form-error", role: "alert", hidden: true });
  const threadBox = h("section", { class: "inbox-thread", "aria-labelledby": "inbox-thread-h" });
  const frame = h("div", { class: "inbox" });
  const { form, showFacets } = filterForm(ctx, state.filters, { apply, clear: () => ctx.navigate("inbox") });
  let thread = null;
  let left = false; // set when the user leaves: a late answer is not shown
  const chosen = new Set();
  const bulk = ctx.can("inbox.reply") ? bulkBar(ctx, chosen, { me, done: () => load(false) }) : null;

  mount(frame,
    // On a phone the filters start folded so the list is on the first screen.
    h("aside", { class: "inbox-filters" },
      h("details", { class: "panel filters-box", open: !window.matchMedia("(max-width: 760px)").matches },
        h("summary", {}, t("inbox.filters")), form),
      savedRepliesPanel(ctx, { changed: () => state.selected && select(state.selected) })),
    h("section", { class: "inbox-list", "aria-labelledby": "inbox-list-h" },
      h("h2", { id: "inbox-list-h" }, t("inbox.list")), total, bulk?.form, listError, list, more),
    threadBox);
  mount(root, h("h1", { id: "page-title" }, t("inbox.title")), live, frame);

  function routeQuery() {
    const query = {};
    for (const [name, value] of Object.entries(state.filters)) if (value || name === "status") query[name] = value;
    if (state.selected) query.c = state.selected;
    return query;
  }

  async function apply(filters) {
    state.filters = filters;
    ctx.setQuery(routeQuery());
    await load(false);
  }

  async function load(append) {
    const query = { ...apiFilters(state.filters), limit: PAGE_SIZE, counts: !append };
    if (append) query.cursor = state.cursor;
    listError.hidden = true;
    // Filters change faster than answers come: only the latest request may fill the list.
    const seq = (state.loadSeq = (state.loadSeq ?? 0) + 1);
    try {
      const page = await api.get(ctx.wsPath("/conversations"), query);
      if (seq !== state.loadSeq || left) return;
      state.items = append ? [...state.items, ...page.items] : page.items;
      // Only what is listed can stay ticked: a bulk change never reaches unseen threads.
      for (const id of [...chosen]) if (!state.items.some((c) => c.id === id)) chosen.delete(id);
      bulk?.update();
      state.cursor = page.next_cursor;
      if (page.counts) showCounts(page.counts);
      drawList();
    } catch (err) {
      listError.textContent = problemText(err);
      listError.hidden = false;
    }
  }

  function showCounts(counts) {
    state.counts = counts;
    total.textContent = t("inbox.total", { count: counts.total ?? 0 });
    showFacets(counts);
  }

  let countsTimer = null;
  function refreshCounts() {
    clearTimeout(countsTimer);
    countsTimer = setTimeout(() => {
      api.get(ctx.wsPath("/conversations:counts"), apiFilters(state.filters)).then(showCounts, () => {});
    }, 400);
  }

  function drawList() {
    mount(list, state.items.length
      ? state.items.map((conv) => listItem(conv))
      : h("li", { class: "muted" }, t("inbox.empty")));
    more.hidden = !state.cursor;
  }

  function listItem(conv) {
    const account = accounts.find((a) => a.id === conv.account_id);
    const pick = bulk
      ? h("input", {
          type: "checkbox", class: "conv-pick", checked: chosen.has(conv.id),
          "aria-label": t("inbox.pick-one", { text: (conv.last_message_text || conv.id).slice(0, 60) }),
          onchange: (event) => {
            if (event.target.checked) chosen.add(conv.id);
            else chosen.delete(conv.id);
            bulk.update();
          },
        })
      : null;
    return h("li", { class: pick ? "pickable" : null }, pick,
      h("button", {
        type: "button", class: "conv", "aria-current": conv.id === state.selected ? "true" : null,
        dataset: { id: conv.id }, onclick: () => select(conv.id),
      },
      h("span", { class: "conv-top" },
        h("span", { class: "conv-network" }, account ? `${conv.network} · @${account.handle}` : conv.network),
        h("time", { datetime: conv.last_message_at }, when(conv.last_message_at, ctx.locale))),
      h("span", { class: "conv-text" }, conv.last_message_text || "—"),
      h("span", { class: "conv-meta" },
        h("span", { class: "badge" }, t(`inbox.status.${conv.status}`)),
        h("span", { class: "badge" }, t(`inbox.kind.${conv.kind}`)),
        badges(conv, t),
        (conv.tags || []).map((tag) => h("span", { class: "tag" }, `#${tag}`)))));
  }

  async function select(id) {
    thread?.close();
    thread = null;
    state.selected = id;
    ctx.setQuery(routeQuery());
    frame.classList.toggle("has-selection", Boolean(id));
    for (const b of list.querySelectorAll("button.conv")) b.setAttribute("aria-current", String(b.dataset.id === id));
    if (!id) {
      thread = null;
      mount(threadBox, h("h2", { id: "inbox-thread-h", class: "visually-hidden" }, t("inbox.thread")), h("p", { class: "muted" }, t("inbox.pick")));
      return;
    }
    // Each choice gets its own box: a slower, earlier choice then fills a box no longer shown.
    const box = h("div", {});
    mount(threadBox, box);
    const opened = await openThread(box, ctx, id, {
      accounts, members, me,
      back: () => {
        select(null);
        list.querySelector("button.conv")?.focus();
      },
      changed: (conv) => upsert(conv),
    });
    if (state.selected !== id || !box.isConnected) return opened.close();
    thread = opened;
    // On a phone the list is gone once a thread opens: move focus to what is now shown.
    if (window.matchMedia("(max-width: 760px)").matches) focusFirst(box.querySelector("h2"));
  }

  function upsert(conv) {
    const index = state.items.findIndex((c) => c.id === conv.id);
    const belongs = !state.filters.q && matches(conv, state.filters, me);
    if (index >= 0) state.items.splice(index, 1);
    // A changed thread moves to the top, as the API sorts by last activity.
    if (belongs || (index >= 0 && state.filters.q)) state.items.unshift(conv);
    state.items.sort((a, b) => String(b.last_message_at).localeCompare(String(a.last_message_at)));
    drawList();
    refreshCounts();
  }

  const stop = ctx.listen(ctx.wsPath("/conversations:stream"), {
    onEvent: (event) => {
      if (event.event === "conversation" && event.data?.id) {
        const known = state.items.some((c) => c.id === event.data.id);
        upsert(event.data);
        if (!known && matches(event.data, state.filters, me)) ctx.toast(t("inbox.new-arrived", { who: event.data.network }));
        if (thread && event.data.id === state.selected) thread.update(event.data);
      } else if (event.event === "reset") {
        ctx.toast(t("inbox.live-reset"));
        load(false);
      }
    },
    onState: (s) => {
      live.textContent = s === "open" ? t("inbox.live") : t("inbox.live-lost");
      live.classList.toggle("warn", s !== "open");
    },
  });

  // Not awaited: the cleanup below must be in the shell's hands before any answer comes.
  load(false).then(() => !left && select(state.selected));
  return () => {
    left = true;
    stop();
    thread?.close();
    clearTimeout(countsTimer);
  };
}

/** ↑/↓ (and Home/End) move between conversations of the list; Enter or Space opens one. */
function moveInList(event) {
  const buttons = [...event.currentTarget.querySelectorAll("button.conv")];
  const at = buttons.indexOf(document.activeElement);
  const next = { ArrowDown: at + 1, ArrowUp: at - 1, Home: 0, End: buttons.length - 1 }[event.key];
  if (at < 0 || next === undefined || !buttons[next]) return;
  event.preventDefault();
  buttons[next].focus();
}

/** The API's query for `filters` (the list and the counts take the same). */
function apiFilters(filters) {
  const query = {};
  for (const [name, value] of Object.entries(filters)) if (value) query[name] = value;
  return query;
}

function filterForm(ctx, filters, { apply, clear }) {
  const { t } = ctx;
  const tags = h("ul", { class: "tag-chips", "aria-label": t("inbox.top-tags") });
  const select = (name, label, values, anyLabel) =>
    field({
      name, label, type: "select", value: filters[name],
      options: [["", anyLabel ?? t("inbox.any")], ...values.map((v) => [v, t(`inbox.${name}.${v}`)])],
    });
  const networks = [...new Set([...(ctx.config.networks || []).map((n) => n.network), "sandbox", filters.network].filter(Boolean))];
  const form = h("form", { class: "filters", role: "search", novalidate: true, "aria-labelledby": "inbox-filters-h" },
    h("h2", { id: "inbox-filters-h", class: "visually-hidden" }, t("inbox.filters")),
    field({ name: "q", label: t("inbox.search"), type: "search", hint: t("inbox.search-hint"), value: filters.q, maxlength: 200 }),
    select("status", t("inbox.status"), CHOICES.status, t("inbox.all-statuses")),
    field({
      name: "assignee", label: t("inbox.assignee"), type: "select", value: filters.assignee,
      options: [["", t("inbox.any")], ["me", t("inbox.me")], ["none", t("inbox.nobody")]],
    }),
    select("kind", t("inbox.kind"), CHOICES.kind),
    field({ name: "network", label: t("inbox.network"), type: "select", value: filters.network, options: [["", t("inbox.any")], ...networks.map((n) => [n, n])] }),
    select("sentiment", t("inbox.sentiment"), CHOICES.sentiment),
    select("priority", t("inbox.priority"), CHOICES.priority),
    field({ name: "tag", label: t("inbox.tag"), hint: t("inbox.tag-hint"), value: filters.tag, maxlength: 100 }),
    tags,
    h("div", { class: "row" },
      h("button", { type: "submit", class: "primary" }, t("inbox.apply")),
      h("button", { type: "button", onclick: clear }, t("inbox.clear"))));
  const read = () => Object.fromEntries(FILTER_NAMES.map((name) => [name, (form.elements[name]?.value ?? "").trim()]));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    apply(read());
  });
  // Choosing from a list applies at once; typed fields wait for Enter or the button.
  form.addEventListener("change", (event) => {
    if (event.target.tagName === "SELECT") apply(read());
  });
  // The most used tags (from the counts) as one-click filters.
  const showFacets = (counts) => {
    updateCounts(form, counts, t);
    const top = Object.entries(counts.tags || {}).sort((a, b) => b[1] - a[1]).slice(0, 8);
    const chosen = form.elements.tag.value.trim();
    mount(tags, top.map(([tag, count]) => h("li", {}, h("button", {
      type: "button", class: "chip", "aria-pressed": String(tag === chosen),
      onclick: () => {
        form.elements.tag.value = tag === chosen ? "" : tag;
        apply(read());
      },
    }, t("inbox.count", { label: `#${tag}`, count })))));
  };
  return { form, showFacets };
}

/** Show each option's count ("Open (41)"); faceted, so every choice says what it gives. */
function updateCounts(form, counts, t) {
  const dims = { status: counts.status, kind: counts.kind, network: counts.network, sentiment: counts.sentiment, priority: counts.priority, assignee: counts.assignee };
  for (const [name, figures] of Object.entries(dims)) {
    const select = form.elements[name];
    if (!select || !figures) continue;
    for (const option of select.options) {
      if (!option.value) continue;
      option.dataset.label ??= option.textContent;
      option.textContent = t("inbox.count", { label: option.dataset.label, count: figures[option.value] ?? 0 });
    }
  }
}

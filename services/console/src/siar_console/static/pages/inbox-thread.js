// One conversation of the inbox: its messages (like / hide each), the answer box (public
// reply or DM, saved replies filled in for this person), status, assignment, tags, snooze
// and internal notes. The answer is kept as a draft per conversation until the API takes it.

import { h, mount, when } from "../dom.js";
import { field, formError, keepDraft, onSubmit, problemText } from "../forms.js";
import { badges } from "./inbox.js";

/** Fill {{first_name}}-style variables as the inbox does (siar_inbox.triage). */
export function fillSaved(text, values) {
  return text.replace(/\{\{\s*([a-z_]+)\s*\}\}/g, (whole, name) => values[name] ?? whole);
}

function variables(conv, messages, accounts) {
  const latest = [...messages].reverse().find((m) => m.direction !== "outbound");
  const name = latest ? latest.author_name || latest.author_handle : "";
  const account = accounts.find((a) => a.id === conv.account_id);
  return {
    first_name: name ? name.split(/\s+/)[0] : "",
    name,
    handle: latest?.author_handle ?? "",
    account: account?.handle ?? "",
    network: conv.network,
  };
}

/** Render conversation `id` into `box`; returns {update(conv)} for live changes. */
export async function openThread(box, ctx, id, opts) {
  const { api, t } = ctx;
  const base = ctx.wsPath(`/conversations/${encodeURIComponent(id)}`);
  const alert = h("p", { class: "form-error", role: "alert", tabindex: "-1", hidden: true });
  const state = { conv: null, messages: [], actions: [], saved: [], closed: false };
  const messagesBox = h("ol", { class: "messages", "aria-label": t("inbox.messages") });
  const head = h("div", { class: "thread-head" });
  const controlsBox = h("div", {});
  const notesBox = h("div", {});

  async function reload() {
    const [conv, messages, actions] = await Promise.all([
      api.get(base), api.get(`${base}/messages`), api.get(`${base}/actions`).catch(() => []),
    ]);
    if (state.closed) return;
    state.conv = conv;
    state.messages = messages.items ?? messages;
    state.actions = actions;
    drawHead();
    drawMessages();
    // The controls are rebuilt only when what they show changed, so a live update of the
    // thread never wipes tags or a snooze time being typed.
    const key = JSON.stringify([conv.status, conv.assignee, conv.tags]);
    if (ctx.can("inbox.reply") && key !== state.controlsKey) {
      state.controlsKey = key;
      mount(controlsBox, controls(conv));
    }
  }

  function fail(err) {
    alert.textContent = problemText(err);
    alert.hidden = false;
    alert.focus();
  }

  async function act(body, done) {
    alert.hidden = true;
    try {
      await api.post(`${base}/actions`, body);
      ctx.toast(done);
      await reload();
    } catch (err) {
      fail(err);
    }
  }

  async function change(body) {
    alert.hidden = true;
    try {
      const conv = await api.patch(base, body);
      opts.changed(conv);
      ctx.toast(t("inbox.changed"));
      await reload();
    } catch (err) {
      fail(err);
    }
  }

  function drawHead() {
    const conv = state.conv;
    const who = state.messages.find((m) => m.direction !== "outbound");
    mount(head,
      h("button", { type: "button", class: "back link", onclick: opts.back }, t("inbox.back")),
      h("h2", { id: "inbox-thread-h" }, who ? `${who.author_name || who.author_handle} (@${who.author_handle})` : t("inbox.thread")),
      h("p", { class: "conv-meta" },
        h("span", { class: "badge" }, t(`inbox.status.${conv.status}`)),
        h("span", { class: "badge" }, t(`inbox.kind.${conv.kind}`)),
        h("span", { class: "badge" }, conv.network),
        badges(conv, t),
        conv.snoozed_until ? h("span", {}, t("inbox.snoozed-until", { when: when(conv.snoozed_until, ctx.locale) })) : null,
        conv.first_response_s != null ? h("span", { class: "muted" }, t("inbox.first-response", { time: duration(conv.first_response_s) })) : null));
  }

  function controls(conv) {
    const statusButtons = conv.status === "closed"
      ? [h("button", { type: "button", onclick: () => change({ status: "open" }) }, t("inbox.reopen"))]
      : [
          h("button", { type: "button", onclick: () => change({ status: "closed" }) }, t("inbox.close")),
          conv.status !== "pending" ? h("button", { type: "button", onclick: () => change({ status: "pending" }) }, t("inbox.pending")) : null,
          conv.status === "snoozed" ? h("button", { type: "button", onclick: () => change({ status: "open" }) }, t("inbox.reopen")) : null,
        ];
    return h("div", { class: "thread-controls" },
      h("div", { class: "row" }, statusButtons),
      assignForm(conv), tagsForm(conv), snoozeForm());
  }

  function assignForm(conv) {
    const people = [["", t("inbox.nobody")], ...opts.members.map((m) => [m.user_id, m.user_id === opts.me ? t("inbox.me") : t("inbox.member", { id: m.user_id })])];
    const form = h("form", { class: "row inline-form", novalidate: true }, formError(),
      field({ name: "assignee", label: t("inbox.assign"), type: "select", value: conv.assignee ?? "", options: people }),
      h("button", { type: "submit" }, t("inbox.assign-save")));
    onSubmit(form, (v) => api.patch(base, v.assignee ? { assignee: v.assignee } : { unassign: true }), { done: after });
    return form;
  }

  function tagsForm(conv) {
    const form = h("form", { class: "row inline-form", novalidate: true }, formError(),
      field({ name: "tags", label: t("inbox.tags"), hint: t("inbox.tags-hint"), value: (conv.tags || []).join(", "), maxlength: 1000 }),
      h("button", { type: "submit" }, t("inbox.tags-save")));
    const tags = (text) => text.split(",").map((s) => s.trim()).filter(Boolean);
    onSubmit(form, (v) => api.patch(base, { tags: tags(v.tags) }), { done: after });
    return form;
  }

  function snoozeForm() {
    const form = h("form", { class: "row inline-form", novalidate: true }, formError(),
      field({ name: "until", label: t("inbox.snooze"), type: "datetime-local", required: true }),
      h("button", { type: "submit" }, t("inbox.snooze-save")));
    // datetime-local has no zone; the API wants an offset: the browser's own, as typed.
    const withOffset = (local) => (local ? new Date(local).toISOString() : local);
    onSubmit(form, (v) => api.post(`${base}:snooze`, { until: withOffset(v.until) }), { done: after });
    return form;
  }

  async function after(conv) {
    if (conv?.id) opts.changed(conv);
    ctx.toast(t("inbox.changed"));
    await reload();
  }

  function drawMessages() {
    const canAct = ctx.can("inbox.reply");
    mount(messagesBox, state.messages.map((m) => {
      const ours = m.direction === "outbound";
      return h("li", { class: `message ${ours ? "ours" : ""}`.trim(), dataset: { id: m.id } },
        h("p", { class: "message-head" },
          h("strong", {}, ours ? t("inbox.you") : `${m.author_name || m.author_handle} @${m.author_handle}`),
          " ", h("time", { datetime: m.sent_at }, when(m.sent_at, ctx.locale)),
          m.sentiment && !ours ? [" ", badges({ sentiment: m.sentiment, priority: m.priority, influencer: m.influencer }, t)] : null,
          m.delivery ? h("span", { class: `badge ${m.delivery === "failed" ? "bad" : m.delivery === "sent" ? "ok" : ""}`.trim() }, t(`inbox.delivery.${m.delivery}`)) : null,
          m.moderation ? h("span", { class: "badge warn" }, t(`inbox.moderation.${m.moderation}`)) : null),
        h("p", { class: "message-text" }, m.text),
        m.delivery_error ? h("p", { class: "bad" }, m.delivery_error) : null,
        actedOn(m),
        canAct && !ours && m.network_message_id
          ? h("div", { class: "row message-actions" },
              h("button", { type: "button", onclick: () => act({ action: "like", message_id: m.id }, t("inbox.like-asked")) }, t("inbox.like")),
              m.moderation ? null : h("button", { type: "button", onclick: () => act({ action: "hide", message_id: m.id }, t("inbox.hide-asked")) }, t("inbox.hide")))
          : null);
    }));
  }

  // What was asked of the network about this message (like, hide…) and where it stands.
  function actedOn(m) {
    const asked = state.actions.filter((a) => a.message_id === m.id && a.action !== "dm");
    if (!asked.length) return null;
    const tone = { done: "ok", failed: "bad", requested: "" };
    return h("p", { class: "acted" }, asked.map((a) => h("span", { class: `badge ${tone[a.state]}`.trim() },
      t("inbox.acted-line", { action: t(`inbox.acted.${a.action}`), state: t(`inbox.acted-state.${a.state}`) }),
      a.reason ? ` (${a.reason})` : "")));
  }

  function answerForm() {
    const saved = h("select", { id: `saved-${id}`, "aria-describedby": `saved-${id}-hint` },
      h("option", { value: "" }, t("inbox.saved-none")),
      state.saved.map((s) => h("option", { value: s.id }, s.name)));
    const form = h("form", { class: "panel answer", novalidate: true, "aria-labelledby": `answer-${id}` },
      h("h3", { id: `answer-${id}` }, t("inbox.answer")),
      formError(),
      field({ name: "mode", label: t("inbox.answer-mode"), type: "select", value: "reply", options: [["reply", t("inbox.mode.reply")], ["dm", t("inbox.mode.dm")]] }),
      state.saved.length ? h("div", { class: "field" }, h("label", { for: saved.id }, t("inbox.saved")),
        h("p", { class: "hint", id: `saved-${id}-hint` }, t("inbox.saved-hint")), saved) : null,
      field({ name: "text", label: t("inbox.text"), type: "textarea", required: true, maxlength: 10000 }),
      h("button", { type: "submit", class: "primary" }, t("inbox.send")));
    saved.addEventListener("change", () => {
      const chosen = state.saved.find((s) => s.id === saved.value);
      if (!chosen) return;
      form.elements.text.value = fillSaved(chosen.text, variables(state.conv, state.messages, opts.accounts));
      form.elements.text.dispatchEvent(new Event("input", { bubbles: true }));
      form.elements.text.focus();
    });
    const draft = keepDraft(form, `inbox-answer-${id}`);
    onSubmit(form, (v) => v.mode === "dm"
      ? api.post(`${base}/actions`, { action: "dm", text: v.text })
      : api.post(`${base}:reply`, { text: v.text }), {
      draft,
      done: async () => {
        form.elements.text.value = "";
        saved.value = "";
        ctx.toast(t("inbox.sent"));
        await reload();
      },
    });
    return form;
  }

  async function drawNotes() {
    const notes = await api.get(`${base}/notes`).catch(() => []);
    const form = h("form", { novalidate: true }, formError(),
      field({ name: "text", label: t("inbox.note"), type: "textarea", required: true, maxlength: 5000 }),
      h("button", { type: "submit" }, t("inbox.note-add")));
    mount(notesBox, h("h3", { id: `notes-${id}` }, t("inbox.notes")), h("p", { class: "hint" }, t("inbox.notes-hint")),
      notes.length
        ? h("ul", { class: "notes" }, notes.map((n) => h("li", {}, h("p", { class: "muted" }, when(n.at, ctx.locale)), h("p", {}, n.text))))
        : h("p", { class: "muted" }, t("inbox.notes-none")),
      ctx.can("inbox.reply") ? form : null);
    const draft = keepDraft(form, `inbox-note-${id}`);
    onSubmit(form, (v) => api.post(`${base}/notes`, { text: v.text }), { draft, done: drawNotes });
  }

  state.saved = await api.get(ctx.wsPath("/saved-replies")).catch(() => []);
  try {
    await reload();
  } catch (err) {
    mount(box, h("h2", { id: "inbox-thread-h" }, t("inbox.thread")), h("p", { class: "form-error", role: "alert" }, problemText(err)));
    return { update: () => {}, close: () => {} };
  }
  mount(box, head, controlsBox, alert, messagesBox,
    ctx.can("inbox.reply") ? answerForm() : h("p", { class: "muted" }, t("inbox.read-only")),
    h("section", { class: "panel", "aria-labelledby": `notes-${id}` }, notesBox));
  await drawNotes();
  return {
    // A live change of this thread (a new message, a teammate's change, or a delivery or
    // like/hide outcome, which the inbox announces on its conversation): read it again.
    update: () => {
      reload().catch(() => {});
    },
    close: () => {
      state.closed = true;
    },
  };
}

/** Seconds as "4 min" / "2 h" / "3 d" (rounded; locale-neutral units). */
export function duration(seconds) {
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172800) return `${Math.round(seconds / 3600)} h`;
  return `${Math.round(seconds / 86400)} d`;
}

// Approvals: what awaits approval, soonest first, with each post's review history. An
// approver approves (at a new time when the old one has passed) or requests changes with a
// comment; authors and approvers can comment. Authors also see their posts sent back for
// changes, with a link to edit them in the composer.

import { h, mount } from "../dom.js";
import { field, formError, keepDraft, onSubmit, problemText } from "../forms.js";
import { addDays, fromLocalInput, toLocalInput } from "./calendar-dates.js";
import { loadBasics, reviewAction, who, withPostStrings } from "./posts-common.js";

export const strings = withPostStrings({
  en: {
    "approvals.title": "Approvals",
    "approvals.waiting": "Awaiting approval",
    "approvals.none": "Nothing awaits approval.",
    "approvals.sent-back": "Sent back for changes",
    "approvals.none-sent-back": "No post is waiting for changes.",
    "approvals.when": "Scheduled for",
    "approvals.no-time": "No time yet",
    "approvals.accounts": "Accounts",
    "approvals.author": "Written by",
    "approvals.history": "History",
    "approvals.no-history": "No steps yet.",
    "approvals.comment": "Comment",
    "approvals.comment-hint": "Required when requesting changes.",
    "approvals.new-time": "New time (optional)",
    "approvals.new-time-hint": "Needed only when the scheduled time has passed.",
    "approvals.approve": "Approve",
    "approvals.reject": "Request changes",
    "approvals.add-comment": "Add comment",
    "approvals.edit": "Edit in the composer",
    "approvals.approved": "Approved: the post is scheduled.",
    "approvals.rejected": "Changes requested.",
    "approvals.commented": "Comment added.",
    "approvals.post": "Post",
    "approvals.labels": "Campaigns",
  },
  id: {
    "approvals.title": "Persetujuan",
    "approvals.waiting": "Menunggu persetujuan",
    "approvals.none": "Tidak ada yang menunggu persetujuan.",
    "approvals.sent-back": "Dikembalikan untuk diubah",
    "approvals.none-sent-back": "Tidak ada postingan yang menunggu perubahan.",
    "approvals.when": "Dijadwalkan pada",
    "approvals.no-time": "Belum ada waktu",
    "approvals.accounts": "Akun",
    "approvals.author": "Ditulis oleh",
    "approvals.history": "Riwayat",
    "approvals.no-history": "Belum ada langkah.",
    "approvals.comment": "Komentar",
    "approvals.comment-hint": "Wajib saat meminta perubahan.",
    "approvals.new-time": "Waktu baru (opsional)",
    "approvals.new-time-hint": "Hanya perlu bila waktu terjadwal sudah lewat.",
    "approvals.approve": "Setujui",
    "approvals.reject": "Minta perubahan",
    "approvals.add-comment": "Tambah komentar",
    "approvals.edit": "Ubah di penyusun",
    "approvals.approved": "Disetujui: postingan dijadwalkan.",
    "approvals.rejected": "Perubahan diminta.",
    "approvals.commented": "Komentar ditambahkan.",
    "approvals.post": "Postingan",
    "approvals.labels": "Kampanye",
  },
});

const DONE = { approve: "approvals.approved", reject: "approvals.rejected", comment: "approvals.commented" };

function history(ctx, post, basics) {
  const { t } = ctx;
  return h("details", { class: "history", open: post.review?.length ? true : null },
    h("summary", {}, t("approvals.history")),
    post.review?.length
      ? h("ol", { class: "review-list" }, post.review.map((r) => h("li", {},
        h("strong", {}, who(r.by, basics, t)), " ", reviewAction(r.action, t),
        h("span", { class: "muted" }, ` · ${new Date(r.at).toLocaleString(ctx.locale, { dateStyle: "medium", timeStyle: "short" })}`),
        r.comment ? h("blockquote", {}, r.comment) : null)))
      : h("p", { class: "muted" }, t("approvals.no-history")));
}

function facts(ctx, post, basics) {
  const { t } = ctx;
  const accounts = post.targets.map((target) => {
    const a = basics.accountsById.get(target.account_id);
    return a ? `${a.handle} (${a.network})` : target.network;
  }).join(", ");
  const when = post.scheduled_at
    ? new Date(post.scheduled_at).toLocaleString(ctx.locale, { dateStyle: "full", timeStyle: "short" })
    : t("approvals.no-time");
  const labels = (post.label_ids || []).map((id) => basics.labelsById.get(id)).filter(Boolean);
  return h("dl", { class: "facts" },
    h("dt", {}, t("approvals.when")), h("dd", {}, when),
    h("dt", {}, t("approvals.accounts")), h("dd", {}, accounts),
    h("dt", {}, t("approvals.author")), h("dd", {}, who(post.created_by, basics, t)),
    labels.length ? [h("dt", {}, t("approvals.labels")), h("dd", {}, labels.map((l) =>
      h("span", { class: "legend-item" }, h("span", { class: "swatch", style: { background: l.colour }, "aria-hidden": "true" }), l.name)))] : null);
}

function reviewForm(ctx, post, reload) {
  const { t, api } = ctx;
  const approver = ctx.can("posts.approve");
  const passed = post.scheduled_at && new Date(post.scheduled_at) < new Date();
  const suggested = passed ? toLocalInput(new Date(Date.now() + 3_600_000)) : "";
  const form = h("form", { class: "review-form", novalidate: true, "aria-label": t("approvals.post") },
    formError(),
    field({ name: "comment", label: t("approvals.comment"), type: "textarea", rows: 2, maxlength: 5000, hint: approver ? t("approvals.comment-hint") : null }),
    approver ? field({ name: "scheduled_at", label: t("approvals.new-time"), type: "datetime-local", step: "1", hint: t("approvals.new-time-hint"), value: suggested }) : null,
    h("div", { class: "actions row" },
      approver ? h("button", { type: "submit", class: "primary", dataset: { action: "approve" } }, t("approvals.approve")) : null,
      approver ? h("button", { type: "submit", dataset: { action: "reject" } }, t("approvals.reject")) : null,
      h("button", { type: "submit", dataset: { action: "comment" } }, t("approvals.add-comment"))));
  const draft = keepDraft(form, `approval.${post.id}`);
  const path = (action) => ctx.wsPath(`/posts/${encodeURIComponent(post.id)}:${action}`);
  onSubmit(form, async (v, submitter) => {
    const action = submitter?.dataset.action || (approver ? "approve" : "comment");
    const comment = v.comment.trim();
    try {
      if (action === "approve") {
        const at = fromLocalInput(v.scheduled_at);
        await api.post(path("approve"), { comment: comment || null, ...(at ? { scheduled_at: at } : {}) });
      } else {
        await api.post(path(action === "reject" ? "reject" : "comment"), { comment });
      }
    } catch (err) {
      if (err.status === undefined) throw err;
      if (["time-passed", "invalid-schedule"].includes(err.kind)) err.fields = { scheduled_at: problemText(err) };
      throw err;
    }
    return action;
  }, {
    draft,
    done: (action) => {
      ctx.toast(t(DONE[action]));
      return reload();
    },
  });
  return form;
}

function card(ctx, post, basics, reload, { review }) {
  const headingId = `post-${post.id}`;
  return h("article", { class: "panel approval", dataset: { postId: post.id }, "aria-labelledby": headingId },
    h("h3", { id: headingId, class: "approval-text" }, post.text),
    facts(ctx, post, basics),
    history(ctx, post, basics),
    review ? reviewForm(ctx, post, reload)
      : ctx.can("posts.write") ? h("a", { class: "button", href: `#/w/${encodeURIComponent(ctx.workspace.id)}/composer?post=${encodeURIComponent(post.id)}` }, ctx.t("approvals.edit")) : null);
}

export async function render(root, ctx) {
  const { t, api } = ctx;
  const basics = await loadBasics(ctx);
  const waiting = h("div", { class: "approval-list" });
  const sentBack = ctx.can("posts.write") ? h("div", { class: "approval-list" }) : null;
  async function reload() {
    const now = new Date();
    const [inReview, changes] = await Promise.all([
      api.get(ctx.wsPath("/approvals")).then((r) => r.items),
      sentBack
        ? api.get(ctx.wsPath("/posts"), { from: addDays(now, -30).toISOString(), to: addDays(now, 330).toISOString(), status: "changes_requested" }).then((r) => r.items)
        : [],
    ]);
    mount(waiting, inReview.length ? inReview.map((p) => card(ctx, p, basics, reload, { review: true })) : h("p", { class: "muted" }, t("approvals.none")));
    if (sentBack) mount(sentBack, changes.length ? changes.map((p) => card(ctx, p, basics, reload, { review: false })) : h("p", { class: "muted" }, t("approvals.none-sent-back")));
  }
  mount(root, h("h1", { id: "page-title" }, t("approvals.title")),
    h("section", { "aria-labelledby": "approvals-waiting" }, h("h2", { id: "approvals-waiting" }, t("approvals.waiting")), waiting),
    sentBack ? h("section", { "aria-labelledby": "approvals-sent-back" }, h("h2", { id: "approvals-sent-back" }, t("approvals.sent-back")), sentBack) : null);
  await reload();
}

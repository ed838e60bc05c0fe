// Composer: write a post once, give networks their own version where needed (text, format,
// title, first comment, a thread's parts: one post with per-network variants), watch each network's count
// and rules as you type, pick or upload media, see a preview per network,
// then schedule it, add it to the queue, post it now, keep it as a draft or submit it for
// approval. `?post=<id>` edits a post that has not gone out. A refused submit shows each
// problem beside its field and keeps everything typed (the draft lives in sessionStorage).

import { h, mount } from "../dom.js";
import { field, formError, keepDraft, onSubmit, problemText } from "../forms.js";
import { fromLocalInput, isoDay, toLocalInput } from "./calendar-dates.js";
import { accountPicker, customNetworks, fillVariants, picked, previews, refreshChecks, variantBlock, variantsFor } from "./composer-parts.js";
import { mediaPicker } from "./composer-media.js";
import { fieldForRule } from "./composer-rules.js";
import { threadSlotsFor } from "./composer-thread.js";
import { COMPOSER_STRINGS } from "./composer-strings.js";
import { EDITABLE, loadBasics, reviewAction, who } from "./posts-common.js";

export const strings = COMPOSER_STRINGS;

/** A refusal found before sending, shaped like an ApiError so forms.showErrors places it. */
function refused(fields, ctx) {
  return { status: 422, kind: "validation", fields, problem: { detail: ctx.t("composer.fix-rules") } };
}

/** The networks of the picked accounts: the ones a variant may be sent for. */
function pickedNetworks(form, accountsById) {
  return [...new Set(picked(form, "account").map((id) => accountsById.get(id)?.network).filter(Boolean))];
}

/** Where the scheduler's refusal belongs in this form (fields named as data-field). */
function placeServerProblem(err, form, ctx) {
  if (err.kind === "network-rules") {
    // Networks with their own text: a text rule broken there belongs beside that text.
    const custom = new Set([...customNetworks(form)].filter((n) => form.elements[`variant:${n}`]?.value.trim()));
    err.fields = {};
    for (const v of err.problem.violations || []) {
      const name = fieldForRule(v.rule, v.network, custom);
      err.fields[name] = err.fields[name] ? `${err.fields[name]} · ${v.message}` : v.message;
    }
  } else if (["invalid-schedule", "time-passed"].includes(err.kind)) {
    err.fields = { scheduled_at: problemText(err) };
  } else if (err.kind === "unknown-account") {
    err.fields = { account_ids: problemText(err) };
  } else if (["unknown-media", "invalid-media"].includes(err.kind)) {
    err.fields = { media_ids: problemText(err) };
  }
  return err;
}

function actionsFor(ctx, post) {
  if (post) {
    const out = ["save"];
    if (["draft", "changes_requested"].includes(post.status)) out.push("approval");
    return out;
  }
  const out = ctx.can("posts.publish") ? ["schedule", "queue", "now"] : [];
  return [...out, "draft", "approval"];
}

function reviewHistory(ctx, post, basics) {
  if (!post?.review?.length) return null;
  return h("section", { class: "panel", "aria-labelledby": "composer-review" },
    h("h2", { id: "composer-review" }, ctx.t("composer.review")),
    h("ol", { class: "review-list" }, post.review.map((r) => h("li", {},
      h("strong", {}, who(r.by, basics, ctx.t)), " ", reviewAction(r.action, ctx.t),
      h("span", { class: "muted" }, ` · ${new Date(r.at).toLocaleString(ctx.locale, { dateStyle: "medium", timeStyle: "short" })}`),
      r.comment ? h("blockquote", {}, r.comment) : null))));
}

function defaultTime() {
  const d = new Date(Date.now() + 3_600_000);
  d.setMinutes(0, 0, 0);
  return d;
}

function buildForm(ctx, { basics, rulesByNet, post, media }) {
  const { t } = ctx;
  const editing = Boolean(post);
  const nets = [...new Set(basics.accounts.map((a) => a.network))].filter((n) => rulesByNet.has(n));
  const problems = (name) => h("ul", { class: "rule-problems field-error", dataset: { for: name }, hidden: true, "aria-live": "polite" });
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  const form = h("form", { class: "composer-form", novalidate: true, "aria-labelledby": "page-title" },
    formError(),
    accountPicker(ctx, basics.accounts, { disabled: editing }),
    h("div", { class: "text-block" },
      field({ name: "text", label: t("composer.text"), type: "textarea", rows: 6, maxlength: 20000, hint: t("composer.text-hint"), required: true }),
      h("p", { class: "counter", dataset: { counter: "main" } }),
      problems("text")),
    !nets.length ? null : h("fieldset", { class: "variants" },
      h("legend", {}, t("composer.variants")),
      h("p", { class: "hint" }, t("composer.variants-hint")),
      nets.map((n) => h("div", {}, variantBlock(ctx, rulesByNet.get(n)), problems(`variant.${n}`)))),
    field({ name: "link", label: t("composer.link"), type: "url", maxlength: 2048, disabled: editing }),
    media.element,
    problems("media_ids"),
    h("fieldset", { class: "field labels-picker", dataset: { field: "label_ids" } },
      h("legend", {}, t("composer.labels")),
      basics.labels.length
        ? h("ul", { class: "checks" }, basics.labels.map((l) => h("li", {},
          h("input", { type: "checkbox", id: `label-${l.id}`, name: `label:${l.id}`, value: l.id }),
          h("label", { for: `label-${l.id}` }, h("span", { class: "swatch", style: { background: l.colour }, "aria-hidden": "true" }), l.name))))
        : h("p", { class: "muted" }, t("composer.no-labels")),
      h("p", { class: "field-error", hidden: true })),
    field({ name: "scheduled_at", label: t("composer.when"), type: "datetime-local", step: "1", hint: t("composer.when-hint", { zone }) }),
    field({ name: "comment", label: t("composer.comment"), type: "textarea", rows: 2, maxlength: 5000 }),
    h("div", { class: "actions row" }, actionsFor(ctx, post).map((a, i) =>
      h("button", { type: "submit", class: i === 0 ? "primary" : "", dataset: { action: a } }, t(`composer.action.${a}`)))));
  return form;
}

function fill(form, post, basics) {
  form.elements.text.value = post?.text ?? "";
  form.elements.scheduled_at.value = toLocalInput(post?.scheduled_at ? new Date(post.scheduled_at) : defaultTime());
  if (!post) return;
  if (form.elements.link) form.elements.link.value = post.link || "";
  for (const target of post.targets) {
    const box = form.elements[`account:${target.account_id}`];
    if (box) box.checked = true;
  }
  for (const id of post.label_ids || []) if (basics.labelsById.has(id)) form.elements[`label:${id}`].checked = true;
  fillVariants(form, post.variants);
}

/** Recount, recheck and re-preview on every keystroke and pick; `found()` the last problems. */
function watch(ctx, form, { basics, rulesByNet, media, previewBox }) {
  let found = {};
  const update = () => {
    const chosen = picked(form, "account").map((id) => basics.accountsById.get(id)).filter(Boolean);
    const networks = [...new Set(chosen.map((a) => a.network))];
    found = refreshChecks(ctx, form, networks, rulesByNet, media.selected());
    mount(previewBox, previews(ctx, form, chosen, rulesByNet, media.selected()));
  };
  form.addEventListener("input", update);
  form.addEventListener("change", update);
  update();
  return { update, found: () => found };
}

export async function render(root, ctx) {
  const { t, api } = ctx;
  const postId = ctx.query.get("post");
  const [basics, rules, post] = await Promise.all([
    loadBasics(ctx),
    api.get("/v1/networks").then((r) => r.items),
    postId ? api.get(ctx.wsPath(`/posts/${encodeURIComponent(postId)}`)) : null,
  ]);
  const rulesByNet = new Map(rules.map((r) => [r.network, r]));
  const title = h("h1", { id: "page-title" }, t(post ? "composer.title-edit" : "composer.title"));
  if (post && !EDITABLE.has(post.status)) {
    mount(root, title, h("p", {}, t("composer.status", { status: t(`post.status.${post.status}`) })),
      h("p", { role: "status" }, t("composer.locked")), h("p", { class: "preview-text" }, post.text), reviewHistory(ctx, post, basics));
    return;
  }
  let update = () => {};
  const media = await mediaPicker(ctx, { onChange: () => update(), disabled: Boolean(post) });
  const form = buildForm(ctx, { basics, rulesByNet, post, media });
  const previewBox = h("div", { class: "previews" });
  fill(form, post, basics);
  if (post?.media_ids?.length) await media.select(post.media_ids);
  const draftKey = `composer.${ctx.workspace.id}.${postId || "new"}`;
  // Thread parts are drawn on demand: make room for a kept draft's parts before it is restored
  // (keepDraft keeps drafts under "siar.draft.<key>").
  threadSlotsFor(form, Object.keys(JSON.parse(sessionStorage.getItem(`siar.draft.${draftKey}`) || "{}")));
  const draft = keepDraft(form, draftKey);
  const checks = watch(ctx, form, { basics, rulesByNet, media, previewBox });
  update = checks.update;

  onSubmit(form, (v, submitter) => send(ctx, form, { action: submitter?.dataset.action || actionsFor(ctx, post)[0], post, basics, media, found: checks.found(), draft }), {
    draft,
    done: (result) => finished(ctx, result),
  });
  mount(root, title,
    post ? h("p", {}, t("composer.status", { status: t(`post.status.${post.status}`) })) : null,
    h("div", { class: "composer" }, form,
      h("aside", { class: "panel preview-panel", "aria-labelledby": "composer-previews" },
        h("h2", { id: "composer-previews" }, t("composer.previews")), previewBox)),
    post ? h("div", { class: "row" }, h("button", { type: "button", class: "danger", onclick: () => remove(ctx, post, draft) }, t("composer.action.delete"))) : null,
    reviewHistory(ctx, post, basics));
}

function localChecks(ctx, form, { action, post, found }) {
  const { t } = ctx;
  const fields = {};
  if (!post && !picked(form, "account").length) fields.account_ids = t("composer.need-account");
  if (!form.elements.text.value.trim()) fields.text = t("composer.need-text");
  // Drafts and approval requests get a time too: the calendar lists posts by time, and no
  // route lists untimed ones, so a post without one would be lost to its author.
  const timed = ["schedule", "draft", "approval"].includes(action) && !post;
  if (timed && !fromLocalInput(form.elements.scheduled_at.value)) fields.scheduled_at = t("composer.need-time");
  for (const [name, messages] of Object.entries(found)) fields[name] ??= messages.join(" · ");
  if (Object.keys(fields).length) throw refused(fields, ctx);
}

async function send(ctx, form, { action, post, basics, media, found }) {
  localChecks(ctx, form, { action, post, found });
  const at = fromLocalInput(form.elements.scheduled_at.value);
  const comment = form.elements.comment.value.trim() || null;
  const labels = picked(form, "label");
  const path = (id, suffix = "") => ctx.wsPath(`/posts/${encodeURIComponent(id)}${suffix}`);
  try {
    if (post) {
      const networks = [...new Set(post.targets.map((target) => target.network))];
      const changes = { text: form.elements.text.value.trim(), label_ids: labels, variants: variantsFor(form, networks) };
      if (at && at !== new Date(post.scheduled_at || 0).toISOString()) changes.scheduled_at = at;
      let saved = await ctx.api.patch(path(post.id), changes);
      if (action === "approval") saved = await ctx.api.post(path(post.id, ":submit"), { comment });
      return { action, posts: [saved] };
    }
    return { action, posts: [await create(ctx, form, { action, at, comment, labels, basics, media })] };
  } catch (err) {
    if (err.status === undefined) throw err;
    throw placeServerProblem(err, form, ctx);
  }
}

/** One post for every picked account, each network's differences in its variant. */
async function create(ctx, form, { action, at, comment, labels, basics, media }) {
  const body = {
    text: form.elements.text.value.trim(),
    account_ids: picked(form, "account"),
    media_ids: media.selected().map((m) => m.id),
    link: form.elements.link.value.trim() || null,
    label_ids: labels,
    variants: variantsFor(form, pickedNetworks(form, basics.accountsById)),
  };
  if (action === "schedule") body.scheduled_at = at;
  else if (action === "queue") body.add_to_queue = true;
  else if (action === "now") body.publish_now = true;
  else {
    body.draft = true;
    if (at) body.scheduled_at = at;
  }
  const post = await ctx.api.post(ctx.wsPath("/posts"), body);
  if (action !== "approval") return post;
  return ctx.api.post(ctx.wsPath(`/posts/${encodeURIComponent(post.id)}:submit`), { comment });
}

function finished(ctx, { action, posts }) {
  const first = posts[0];
  const when = first?.scheduled_at ? new Date(first.scheduled_at).toLocaleString(ctx.locale, { dateStyle: "medium", timeStyle: "short" }) : "";
  ctx.toast(ctx.t(`composer.done.${action}`, { when }));
  if (action === "approval") return ctx.navigate("approvals");
  const date = first?.scheduled_at ? isoDay(new Date(first.scheduled_at)) : undefined;
  return ctx.navigate("calendar", date ? { view: "month", date } : {});
}

async function remove(ctx, post, draft) {
  if (!window.confirm(ctx.t("common.confirm-delete"))) return;
  try {
    await ctx.api.del(ctx.wsPath(`/posts/${encodeURIComponent(post.id)}`));
    draft.clear();
    ctx.toast(ctx.t("composer.done.delete"));
    ctx.navigate("calendar");
  } catch (err) {
    if (err.status === undefined) throw err;
    ctx.toast(problemText(err));
  }
}

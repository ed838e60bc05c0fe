// Pieces of the composer: the account picker, one variant per network that wants its own
// version (text, format, title, first comment, a thread's parts), the live counts and rule
// checks under each text, and the previews. One post carries every variant (the API's `variants` map).

import { h, mount } from "../dom.js";
import { field } from "../forms.js";
import { check } from "./composer-rules.js";
import { thumbnail } from "./composer-media.js";
import { fillThread, refreshThread, threadBlock, threadParts } from "./composer-thread.js";

/** Checkboxes `account:<id>` for every connected account, grouped under one legend. */
export function accountPicker(ctx, accounts, { disabled = false } = {}) {
  const { t } = ctx;
  return h("fieldset", { class: "field accounts-picker", dataset: { field: "account_ids" } },
    h("legend", {}, t("composer.accounts")),
    accounts.length
      ? h("ul", { class: "checks" }, accounts.map((a) => {
        const id = `acc-${a.id}`;
        const unhealthy = a.status && !["healthy", "active"].includes(a.status);
        return h("li", {},
          h("input", { type: "checkbox", id, name: `account:${a.id}`, value: a.id, disabled }),
          h("label", { for: id }, `${a.display_name || a.handle} · ${a.network}`,
            unhealthy ? h("span", { class: "badge warn" }, ` ${a.status}`) : null));
      }))
      : h("p", { class: "muted" }, t("composer.no-accounts")),
    h("p", { class: "field-error", hidden: true }));
}

/** The form's picked values of checkboxes named `<prefix>:<id>`. */
export function picked(form, prefix) {
  return [...form.querySelectorAll(`input[type=checkbox][name^="${prefix}:"]:checked`)].map((el) => el.value);
}

/**
 * One variant block per network: "own version for X" opens its text (with its counter), a
 * format picker where the network has several (GET /v1/networks), a title where it has
 * titles, a first comment where it takes comments, and a thread's parts where it has
 * threads (shown when the format is thread). Empty fields keep the defaults.
 */
export function variantBlock(ctx, rules) {
  const { t } = ctx;
  const net = rules.network;
  const name = rules.display_name;
  const toggle = field({ name: `custom:${net}`, type: "checkbox", label: t("composer.variant-toggle", { name }) });
  const box = field({ name: `variant:${net}`, type: "textarea", rows: 4, maxlength: 20000, label: t("composer.variant-text", { name }) });
  box.dataset.field = `variant.${net}`;
  box.append(h("p", { class: "counter", dataset: { counter: net } }));
  const formats = rules.formats.length > 1
    ? field({ name: `format:${net}`, type: "select", label: t("composer.variant-format", { name }), value: "feed",
      options: rules.formats.map((f) => [f, t(`composer.format.${f}`)]) })
    : null;
  const title = rules.max_title_chars != null
    ? field({ name: `title:${net}`, label: t("composer.variant-title", { name }), maxlength: rules.max_title_chars,
      hint: t("composer.variant-title-hint", { max: rules.max_title_chars }) })
    : null;
  const comment = rules.first_comment
    ? field({ name: `first_comment:${net}`, type: "textarea", rows: 2, maxlength: 20000, label: t("composer.variant-comment", { name }) })
    : null;
  const fields = h("div", { class: "variant-fields", hidden: true }, box, formats, threadBlock(ctx, rules), title, comment);
  return h("div", { class: "variant", dataset: { network: net } }, toggle, fields);
}

/** Networks whose variant is ticked (their own version is used for them). */
export function customNetworks(form) {
  return new Set([...form.querySelectorAll('input[type=checkbox][name^="custom:"]:checked')].map((el) => el.name.slice(7)));
}

/** The text each network gets: its own when ticked and written, else the main text. */
export function textFor(form, network, custom) {
  const own = custom.has(network) ? form.elements[`variant:${network}`]?.value ?? "" : "";
  return own.trim() ? own : form.elements.text.value;
}

/** The API's `variants` map for the ticked networks among `networks` (unset fields left out). */
export function variantsFor(form, networks) {
  const custom = customNetworks(form);
  const out = {};
  for (const net of networks) {
    if (!custom.has(net)) continue;
    const value = (prefix) => form.elements[`${prefix}:${net}`]?.value.trim() || null;
    const variant = { text: value("variant"), format: value("format"), title: value("title"), first_comment: value("first_comment") };
    if (variant.format === "thread" && threadParts(form, net).length) variant.thread = threadParts(form, net);
    if (variant.format === "feed") variant.format = null;  // the network's default
    for (const key of Object.keys(variant)) if (variant[key] === null) delete variant[key];
    if (Object.keys(variant).length) out[net] = variant;
  }
  return out;
}

/** Tick and fill the blocks of a stored post's variants (editing). */
export function fillVariants(form, variants) {
  for (const [net, variant] of Object.entries(variants || {})) {
    const toggle = form.elements[`custom:${net}`];
    if (!toggle) continue;
    toggle.checked = true;
    const set = (prefix, value) => { if (form.elements[`${prefix}:${net}`] && value) form.elements[`${prefix}:${net}`].value = value; };
    set("variant", variant.text);
    set("format", variant.format);
    set("title", variant.title);
    set("first_comment", variant.first_comment);
    fillThread(form, net, variant.thread);
  }
}

function counterLine(ctx, rules, verdict) {
  const over = verdict.length > verdict.max;
  return h("span", { class: `count-item${over ? " bad" : ""}` },
    `${rules.display_name}: `,
    ctx.t("composer.count", { count: verdict.length.toLocaleString(ctx.locale), max: verdict.max.toLocaleString(ctx.locale) }));
}

/**
 * Recount and recheck everything: counters under the main text and each variant, the rule
 * problems beside them (announced politely), and which variant boxes show. Returns the
 * problems by field name, so submit can refuse without a round trip.
 */
export function refreshChecks(ctx, form, networks, rulesByNet, media) {
  const custom = customNetworks(form);
  const byField = {};
  const mainCounts = [];
  for (const block of form.querySelectorAll(".variant")) {
    const net = block.dataset.network;
    block.hidden = !networks.includes(net);
    block.querySelector(".variant-fields").hidden = !custom.has(net);
  }
  for (const net of networks) {
    const rules = rulesByNet.get(net);
    if (!rules) continue;
    const verdict = check(rules, textFor(form, net, custom), media, ctx.t);
    const own = custom.has(net) && Boolean(form.elements[`variant:${net}`]?.value.trim());
    const where = own ? `variant.${net}` : "text";
    if (own) mount(form.querySelector(`[data-counter="${CSS.escape(net)}"]`), counterLine(ctx, rules, verdict));
    else mainCounts.push(counterLine(ctx, rules, verdict));
    for (const p of verdict.problems) {
      const target = p.rule.startsWith("media") ? "media_ids" : where;
      (byField[target] ??= []).push(p.message);
    }
    const threaded = custom.has(net) && form.elements[`format:${net}`]?.value === "thread";
    const partProblems = refreshThread(ctx, form, net, rules, threaded);
    if (partProblems.length) byField[`thread.${net}`] = partProblems;
  }
  // Every picked network with its own text: the main text counts for none of them.
  mount(form.querySelector('[data-counter="main"]'), mainCounts.length || networks.length ? mainCounts : ctx.t("composer.pick-accounts"));
  for (const slot of form.querySelectorAll(".rule-problems")) {
    const messages = byField[slot.dataset.for] || [];
    slot.hidden = !messages.length;
    mount(slot, messages.map((m) => h("li", {}, m)));
  }
  return byField;
}

/** A preview card per network: how the post will read there (handles, text, link, media). */
export function previews(ctx, form, accounts, rulesByNet, media) {
  const custom = customNetworks(form);
  const byNet = new Map();
  for (const a of accounts) (byNet.get(a.network) ?? byNet.set(a.network, []).get(a.network)).push(a);
  const link = form.elements.link?.value.trim();
  return [...byNet.entries()].map(([net, accs]) => {
    const rules = rulesByNet.get(net);
    const text = textFor(form, net, custom);
    const own = (prefix) => (custom.has(net) ? form.elements[`${prefix}:${net}`]?.value.trim() : "") || "";
    const title = own("title");
    const comment = own("first_comment");
    const parts = own("format") === "thread" ? threadParts(form, net) : [];
    return h("article", { class: `preview preview-${net}`, "aria-label": ctx.t("composer.preview-of", { name: rules?.display_name || net }) },
      h("header", {}, h("strong", {}, rules?.display_name || net), " ",
        h("span", { class: "muted" }, accs.map((a) => `@${a.handle}`).join(", "))),
      title ? h("p", { class: "preview-title" }, h("strong", {}, title)) : null,
      h("p", { class: "preview-text" }, text || h("span", { class: "muted" }, ctx.t("composer.preview-empty"))),
      parts.length ? h("ol", { class: "preview-thread", start: 2 }, parts.map((p) => h("li", {}, p))) : null,
      link ? h("p", { class: "preview-link" }, link) : null,
      media.length ? h("div", { class: "preview-media" }, media.map((m) => h("figure", {}, thumbnail(ctx, m), h("figcaption", {}, m.alt_text || m.filename)))) : null,
      comment ? h("p", { class: "preview-comment" }, ctx.t("composer.preview-comment", { text: comment })) : null);
  });
}

// Pieces of the composer: the account picker, one text box per network that wants its own
// wording (variants), the live counts and rule checks under each text, and the previews.

import { h, mount } from "../dom.js";
import { field } from "../forms.js";
import { check } from "./composer-rules.js";
import { thumbnail } from "./composer-media.js";

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

/** One variant block per network: "own text for X" and its text box (hidden until ticked). */
export function variantBlock(ctx, rules) {
  const { t } = ctx;
  const net = rules.network;
  const toggle = field({ name: `custom:${net}`, type: "checkbox", label: t("composer.variant-toggle", { name: rules.display_name }) });
  const box = field({
    name: `variant:${net}`, type: "textarea", rows: 4, maxlength: 20000,
    label: t("composer.variant-text", { name: rules.display_name }),
  });
  box.dataset.field = `variant.${net}`;
  box.append(h("p", { class: "counter", dataset: { counter: net } }));
  box.hidden = true;
  return h("div", { class: "variant", dataset: { network: net } }, toggle, box);
}

/** Networks whose variant is ticked (their own text is used for them). */
export function customNetworks(form) {
  return new Set([...form.querySelectorAll('input[type=checkbox][name^="custom:"]:checked')].map((el) => el.name.slice(7)));
}

/** The text each network gets: its own when ticked, else the main text. */
export function textFor(form, network, custom) {
  if (custom.has(network)) return form.elements[`variant:${network}`]?.value ?? "";
  return form.elements.text.value;
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
    block.querySelector(`[data-field="variant.${net}"]`).hidden = !custom.has(net);
  }
  for (const net of networks) {
    const rules = rulesByNet.get(net);
    if (!rules) continue;
    const verdict = check(rules, textFor(form, net, custom), media, ctx.t);
    const where = custom.has(net) ? `variant.${net}` : "text";
    if (custom.has(net)) mount(form.querySelector(`[data-counter="${CSS.escape(net)}"]`), counterLine(ctx, rules, verdict));
    else mainCounts.push(counterLine(ctx, rules, verdict));
    for (const p of verdict.problems) {
      const target = p.rule.startsWith("media") ? "media_ids" : where;
      (byField[target] ??= []).push(p.message);
    }
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
    return h("article", { class: `preview preview-${net}`, "aria-label": ctx.t("composer.preview-of", { name: rules?.display_name || net }) },
      h("header", {}, h("strong", {}, rules?.display_name || net), " ",
        h("span", { class: "muted" }, accs.map((a) => `@${a.handle}`).join(", "))),
      h("p", { class: "preview-text" }, text || h("span", { class: "muted" }, ctx.t("composer.preview-empty"))),
      link ? h("p", { class: "preview-link" }, link) : null,
      media.length ? h("div", { class: "preview-media" }, media.map((m) => h("figure", {}, thumbnail(ctx, m), h("figcaption", {}, m.alt_text || m.filename)))) : null);
  });
}

// A thread's further parts on one network's variant (format "thread"): a labelled textarea
// per part with its own live count from the network's rules, parts added at the end and
// removed anywhere (the rest close up). Sent as the variant's `thread`, the parts after
// its text; the scheduler checks each part again and has the final word.

import { h, mount } from "../dom.js";
import { field } from "../forms.js";
import { check } from "./composer-rules.js";

/** The API's most parts after the text, whatever a network allows. */
const MAX_PARTS = 25;

// Each block's network rules and words, so parts can be added when a stored post is filled.
const blocks = new WeakMap();

/** How many parts after the text `rules`' network takes in one thread. */
function maxParts(rules) {
  return rules.max_thread_parts ? Math.min(MAX_PARTS, rules.max_thread_parts - 1) : MAX_PARTS;
}

function partsOf(block) {
  return [...block.querySelectorAll("textarea[data-part]")];
}

/** Redraw the parts of `block` as `texts`; names and labels follow the order (part 2 first). */
function drawParts(block, texts) {
  const { ctx, rules } = blocks.get(block);
  const net = rules.network;
  const name = rules.display_name;
  const items = texts.map((text, i) => {
    const number = i + 2;  // part 1 is the variant's own text
    const part = field({ name: `thread:${net}:${i}`, type: "textarea", rows: 3, maxlength: 20000,
      label: ctx.t("composer.thread-part", { number, name }) });
    const box = part.querySelector("textarea");
    box.value = text;
    box.dataset.part = String(i);
    part.append(h("p", { class: "counter", dataset: { counter: `thread:${net}:${i}` } }));
    const remove = h("button", { type: "button", class: "link remove-part",
      "aria-label": ctx.t("composer.thread-remove-label", { number, name }),
      onclick: () => removePart(block, i) }, ctx.t("composer.thread-remove"));
    return h("li", {}, part, remove);
  });
  mount(block.querySelector("ol"), items);
  block.querySelector(".add-part").disabled = texts.length >= maxParts(rules);
}

function changed(block) {
  block.dispatchEvent(new Event("input", { bubbles: true }));  // recount, recheck, re-preview
}

function addPart(block) {
  drawParts(block, [...partsOf(block).map((el) => el.value), ""]);
  partsOf(block).at(-1)?.focus();
  changed(block);
}

function removePart(block, index) {
  const texts = partsOf(block).map((el) => el.value).filter((_, i) => i !== index);
  drawParts(block, texts);
  (partsOf(block)[Math.min(index, texts.length - 1)] ?? block.querySelector(".add-part")).focus();
  changed(block);
}

/** The thread fieldset of `rules`' network, or null where the network has no threads. */
export function threadBlock(ctx, rules) {
  if (!rules.formats.includes("thread")) return null;
  const { t } = ctx;
  const net = rules.network;
  const name = rules.display_name;
  const block = h("fieldset", { class: "thread", dataset: { thread: net, field: `thread.${net}` }, hidden: true },
    h("legend", {}, t("composer.thread", { name })),
    h("p", { class: "hint" }, t("composer.thread-hint", { max: maxParts(rules) + 1 })),
    h("p", { class: "field-error", hidden: true }),
    h("ol", { class: "thread-parts" }),
    h("button", { type: "button", class: "add-part", onclick: () => addPart(block) }, t("composer.thread-add", { name })),
    h("ul", { class: "rule-problems field-error", dataset: { for: `thread.${net}` }, hidden: true, "aria-live": "polite" }));
  blocks.set(block, { ctx, rules });
  return block;
}

function blockOf(form, net) {
  return form.querySelector(`fieldset[data-thread="${CSS.escape(net)}"]`);
}

/** The written parts of `net`'s thread, in order (empty ones left out). */
export function threadParts(form, net) {
  const block = blockOf(form, net);
  return block ? partsOf(block).map((el) => el.value.trim()).filter(Boolean) : [];
}

/** Show a stored variant's parts (editing), or the parts a kept draft had. */
export function fillThread(form, net, texts) {
  const block = blockOf(form, net);
  if (block && texts?.length) drawParts(block, texts);
}

/** Draft slots: the part names a saved draft has, so its values find their textareas. */
export function threadSlotsFor(form, savedNames) {
  const counts = {};
  for (const name of savedNames) {
    const [kind, net, index] = name.split(":");
    if (kind === "thread" && index !== undefined) counts[net] = Math.max(counts[net] ?? 0, Number(index) + 1);
  }
  for (const [net, count] of Object.entries(counts)) {
    const block = blockOf(form, net);
    if (block && partsOf(block).length < count) fillThread(form, net, Array(count).fill(""));
  }
}

/**
 * Show `net`'s thread block only while its variant is on and its format is thread; count
 * and check each part. Returns the problems (each naming its part) for the block's field.
 */
export function refreshThread(ctx, form, net, rules, shown) {
  const block = blockOf(form, net);
  if (!block) return [];
  block.hidden = !shown;
  if (!shown) return [];
  const problems = [];
  partsOf(block).forEach((el, i) => {
    const verdict = check(rules, el.value, [], ctx.t);
    const over = verdict.length > verdict.max;
    mount(block.querySelector(`[data-counter="${CSS.escape(`thread:${net}:${i}`)}"]`),
      h("span", { class: `count-item${over ? " bad" : ""}` },
        ctx.t("composer.count", { count: verdict.length.toLocaleString(ctx.locale), max: verdict.max.toLocaleString(ctx.locale) })));
    for (const p of verdict.problems) problems.push(ctx.t("composer.thread-problem", { number: i + 2, message: p.message }));
  });
  return problems;
}

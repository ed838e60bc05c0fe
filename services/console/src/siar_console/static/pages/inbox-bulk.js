// Many conversations at once: the ticked ones of the list are closed, reopened, assigned,
// tagged or untagged with one POST /conversations:bulk (all or nothing on the server; ids
// it could not find come back as failed items and are named here).

import { h, mount } from "../dom.js";
import { field, formError, onSubmit } from "../forms.js";

const ACTIONS = ["close", "reopen", "assign", "unassign", "tag", "untag"];

/** The bar above the list; `chosen` is the Set of ticked ids, `done(results)` after a change. */
export function bulkBar(ctx, chosen, { me, done }) {
  const { t, api } = ctx;
  const count = h("p", { class: "bulk-count", "aria-live": "polite" });
  const form = h("form", { class: "bulk panel", novalidate: true, hidden: true, "aria-labelledby": "inbox-bulk-h" },
    h("h3", { id: "inbox-bulk-h", class: "visually-hidden" }, t("inbox.bulk")),
    count,
    formError(),
    h("div", { class: "row" },
      field({ name: "action", label: t("inbox.bulk-action"), type: "select", value: "close", options: ACTIONS.map((a) => [a, t(`inbox.bulk.${a}`)]) }),
      field({ name: "tags", label: t("inbox.tags"), hint: t("inbox.tags-hint"), maxlength: 1000 }),
      h("button", { type: "submit", class: "primary" }, t("inbox.bulk-apply")),
      h("button", { type: "button", onclick: () => clear() }, t("inbox.bulk-clear"))));
  const tagsField = form.querySelector('[data-field="tags"]');
  const showTags = () => {
    tagsField.hidden = !["tag", "untag"].includes(form.elements.action.value);
  };
  form.elements.action.addEventListener("change", showTags);
  showTags();

  function update() {
    form.hidden = chosen.size === 0;
    mount(count, t("inbox.bulk-count", { count: chosen.size }));
  }

  function clear() {
    chosen.clear();
    for (const box of document.querySelectorAll("input.conv-pick")) box.checked = false;
    update();
  }

  onSubmit(form, async (v) => {
    const body = { ids: [...chosen], action: v.action };
    if (v.action === "assign") body.assignee = me;
    if (v.action === "tag" || v.action === "untag") body.tags = v.tags.split(",").map((s) => s.trim()).filter(Boolean);
    return api.post(ctx.wsPath("/conversations:bulk"), body);
  }, {
    done: async (answer) => {
      const failed = answer.results.filter((r) => !r.ok);
      ctx.toast(failed.length
        ? t("inbox.bulk-partly", { done: answer.results.length - failed.length, failed: failed.map((r) => r.error).join("; ") })
        : t("inbox.bulk-done", { count: answer.results.length }));
      clear();
      await done(answer.results);
    },
  });
  update();
  return { form, update };
}

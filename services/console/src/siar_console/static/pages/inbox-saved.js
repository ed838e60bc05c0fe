// Saved replies of the workspace: list, add (with {{variables}}), delete. Shown beside the
// inbox's filters; the answer box of a thread offers them (pages/inbox-thread.js).

import { h, mount } from "../dom.js";
import { field, formError, keepDraft, onSubmit, problemText } from "../forms.js";

/** A collapsible panel managing saved replies; `changed()` after an add or delete. */
export function savedRepliesPanel(ctx, { changed = () => {} } = {}) {
  const { api, t } = ctx;
  const list = h("ul", { class: "saved-list" });
  const alert = h("p", { class: "form-error", role: "alert", hidden: true });
  const form = h("form", { novalidate: true }, formError(),
    field({ name: "name", label: t("inbox.saved-name"), required: true, maxlength: 100 }),
    field({ name: "text", label: t("inbox.saved-text"), type: "textarea", hint: t("inbox.saved-text-hint"), required: true, maxlength: 5000 }),
    h("button", { type: "submit" }, t("inbox.saved-add")));
  const panel = h("details", { class: "panel saved-replies" },
    h("summary", {}, t("inbox.saved-title")), alert, list,
    ctx.can("inbox.reply") ? form : null);

  async function draw() {
    const items = await api.get(ctx.wsPath("/saved-replies")).catch(() => []);
    mount(list, items.length
      ? items.map((s) => h("li", {},
          h("p", {}, h("strong", {}, s.name)),
          h("p", { class: "muted saved-text" }, s.text),
          ctx.can("inbox.reply")
            ? h("button", { type: "button", class: "link danger", onclick: () => remove(s) }, t("inbox.saved-delete"), h("span", { class: "visually-hidden" }, ` ${s.name}`))
            : null))
      : h("li", { class: "muted" }, t("inbox.saved-empty")));
  }

  async function remove(saved) {
    alert.hidden = true;
    try {
      await api.del(ctx.wsPath(`/saved-replies/${encodeURIComponent(saved.id)}`));
      ctx.toast(t("inbox.saved-deleted"));
      await draw();
      changed();
    } catch (err) {
      alert.textContent = problemText(err);
      alert.hidden = false;
    }
  }

  const draft = keepDraft(form, "inbox-saved-reply");
  onSubmit(form, (v) => api.post(ctx.wsPath("/saved-replies"), { name: v.name.trim(), text: v.text }), {
    draft,
    done: async (saved) => {
      form.reset();
      ctx.toast(t("inbox.saved-added", { name: saved.name }));
      await draw();
      changed();
    },
  });
  draw();
  return panel;
}

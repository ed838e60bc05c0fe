// Forms the same way on every page: a label for every input, the API's problem messages
// next to the field they name, a form-level message otherwise, and drafts kept in
// sessionStorage as you type so a failed submit (or a reload, or a lost session) never
// loses what was typed. Drafts are cleared only when the API accepted the form.

import { h, nextId } from "./dom.js";
import { t, has } from "./i18n.js";

/**
 * A labelled control: field({name, label, type, value, options, required, hint, ...attrs}).
 * `type: "select"` takes `options: [[value, text], ...]`; `type: "textarea"` a textarea.
 */
export function field({ name, label, type = "text", options, hint, ...attrs }) {
  const id = nextId(name.replace(/\W/g, "-"));
  const errorId = `${id}-error`;
  const hintId = hint ? `${id}-hint` : null;
  const describedBy = [hintId, errorId].filter(Boolean).join(" ");
  let control;
  if (type === "select") {
    const selected = attrs.value;
    delete attrs.value;
    control = h(
      "select",
      { id, name, "aria-describedby": describedBy, ...attrs },
      (options || []).map(([value, text]) => h("option", { value, selected: value === selected }, text)),
    );
  } else if (type === "textarea") {
    control = h("textarea", { id, name, "aria-describedby": describedBy, ...attrs });
  } else if (type === "checkbox") {
    control = h("input", { id, name, type, "aria-describedby": describedBy, ...attrs });
    return h(
      "div",
      { class: "field field-check", dataset: { field: name } },
      control,
      h("label", { for: id }, label),
      hint ? h("p", { class: "hint", id: hintId }, hint) : null,
      h("p", { class: "field-error", id: errorId, hidden: true }),
    );
  } else {
    control = h("input", { id, name, type, "aria-describedby": describedBy, ...attrs });
  }
  return h(
    "div",
    { class: "field", dataset: { field: name } },
    h("label", { for: id }, label),
    hint ? h("p", { class: "hint", id: hintId }, hint) : null,
    control,
    h("p", { class: "field-error", id: errorId, hidden: true }),
  );
}

/** The form's values as an object (checkboxes as booleans, numbers as numbers). */
export function values(form) {
  const out = {};
  for (const el of form.elements) {
    if (!el.name || el.disabled) continue;
    if (el.type === "checkbox") out[el.name] = el.checked;
    else if (el.type === "number") out[el.name] = el.value === "" ? null : Number(el.value);
    else out[el.name] = el.value;
  }
  return out;
}

/** Clear every message of the form. */
export function clearErrors(form) {
  for (const p of form.querySelectorAll(".field-error, .form-error")) {
    p.hidden = true;
    p.textContent = "";
  }
  for (const el of form.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
}

/** A problem's message in the user's language: a known type's string, else the API's words. */
export function problemText(err) {
  if (err.status === 0) return t("error.network");
  const key = `problem.${err.kind}`;
  const known = has(key) ? t(key) : null;
  const detail = err.problem?.detail;
  return known && detail ? `${known}: ${detail}` : known || detail || err.problem?.title || t("error.unknown");
}

/**
 * Show an ApiError: each field message beside its field (the first such field focused),
 * anything not tied to a field at the top of the form. `aliases` maps API names to fields.
 */
export function showErrors(form, err, aliases = {}) {
  clearErrors(form);
  let focused = false;
  const unplaced = [];
  for (const [apiName, message] of Object.entries(err.fields || {})) {
    const name = aliases[apiName] ?? apiName;
    const box = form.querySelector(`[data-field="${CSS.escape(name)}"]`)
      ?? form.querySelector(`[data-field="${CSS.escape(name.split(".")[0])}"]`);
    if (!box) {
      unplaced.push(`${apiName}: ${message}`);
      continue;
    }
    const p = box.querySelector(".field-error");
    p.textContent = message;
    p.hidden = false;
    const control = box.querySelector("input, select, textarea");
    control?.setAttribute("aria-invalid", "true");
    if (!focused && control) {
      control.focus();
      focused = true;
    }
  }
  const top = form.querySelector(".form-error");
  if (top && (unplaced.length || !Object.keys(err.fields || {}).length)) {
    top.textContent = [problemText(err), ...unplaced].join(" — ");
    top.hidden = false;
    if (!focused) top.focus();
  }
}

/** The form-level message slot (role=alert so screen readers announce it). */
export function formError() {
  return h("p", { class: "form-error", role: "alert", tabindex: "-1", hidden: true });
}

/** Keep `form`'s typed values under `key` in sessionStorage; restore them now. */
export function keepDraft(form, key) {
  const storageKey = `siar.draft.${key}`;
  const saved = JSON.parse(sessionStorage.getItem(storageKey) || "null");
  if (saved) {
    for (const el of form.elements) {
      if (!el.name || !(el.name in saved) || el.type === "password" || el.type === "file") continue;
      if (el.type === "checkbox") el.checked = Boolean(saved[el.name]);
      else el.value = saved[el.name];
    }
  }
  const save = () => {
    const data = values(form);
    for (const el of form.elements) if (el.type === "password") delete data[el.name];
    sessionStorage.setItem(storageKey, JSON.stringify(data));
  };
  form.addEventListener("input", save);
  form.addEventListener("change", save);
  return { clear: () => sessionStorage.removeItem(storageKey) };
}

/**
 * Run `action(values)` on submit: the button is disabled meanwhile, problems are shown by
 * field, the draft is cleared only on success and `done(result)` is then called.
 */
export function onSubmit(form, action, { draft, done, aliases } = {}) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const buttons = form.querySelectorAll("button[type=submit]");
    buttons.forEach((b) => (b.disabled = true));
    form.setAttribute("aria-busy", "true");
    clearErrors(form);
    try {
      const result = await action(values(form), event.submitter);
      draft?.clear();
      await done?.(result);
    } catch (err) {
      if (!err.status && err.status !== 0) throw err;
      showErrors(form, err, aliases);
    } finally {
      buttons.forEach((b) => (b.disabled = false));
      form.removeAttribute("aria-busy");
    }
  });
}

// A confirmation asked in a real modal dialog rather than window.confirm(), which cannot be
// translated, styled or driven by the browser tests. <dialog>.showModal() makes the page
// behind it inert and turns Escape into "cancel"; focus starts on the safe choice (Cancel,
// as the WAI-ARIA alert dialog pattern advises for destructive actions) and goes back to the
// control that opened it.

import { h, nextId } from "./dom.js";
import { t } from "./i18n.js";

/**
 * Ask `text` under `title`; resolves true only when `confirmLabel` is chosen. Escape, Cancel
 * or closing the dialog any other way resolve false.
 */
export function confirmDialog({ title, text, confirmLabel, cancelLabel = t("common.cancel") }) {
  const opener = document.activeElement;
  const titleId = nextId("dialog-title");
  const textId = nextId("dialog-text");
  return new Promise((resolve) => {
    const dialog = h("dialog", { class: "confirm", role: "alertdialog", "aria-modal": "true",
      "aria-labelledby": titleId, "aria-describedby": textId },
    h("h2", { id: titleId }, title),
    h("p", { id: textId }, text),
    h("div", { class: "row" },
      h("button", { type: "button", class: "danger", onclick: () => dialog.close("confirm") }, confirmLabel),
      h("button", { type: "button", autofocus: true, onclick: () => dialog.close("cancel") }, cancelLabel)));
    dialog.addEventListener("close", () => {
      const confirmed = dialog.returnValue === "confirm";
      dialog.remove();
      if (opener instanceof HTMLElement && opener.isConnected) opener.focus();
      resolve(confirmed);
    });
    document.body.append(dialog);
    dialog.showModal();
  });
}

// The frame around every page: header with the workspace switcher, language and account
// menu, the navigation and the connection banner (aria-live). Toasts: widgets.js.

import { h, mount, nextId } from "./dom.js";
import { LANGUAGES, lang, t } from "./i18n.js";
import { email, signOut } from "./session.js";

/** Build the frame for this render; returns the <main> element the page goes into. */
export function renderShell(opts) {
  const header = document.getElementById("top");
  const nav = document.getElementById("nav");
  document.getElementById("skip-link").textContent = t("shell.skip");
  nav.setAttribute("aria-label", t("shell.main-nav"));
  mount(header, h("a", { class: "brand", href: "#/" }, "Siar"), controls(opts));
  if (opts.signedIn && opts.workspace) {
    mount(
      nav,
      h(
        "ul",
        {},
        opts.nav.map((r) =>
          h(
            "li",
            {},
            h(
              "a",
              {
                href: opts.navHref(r.name),
                "aria-current": r.name === opts.current ? "page" : null,
              },
              t(r.label),
            ),
          ),
        ),
      ),
    );
    nav.hidden = false;
  } else {
    nav.replaceChildren();
    nav.hidden = true;
  }
  return document.getElementById("main");
}

function controls(opts) {
  const box = h("div", { class: "top-controls" });
  if (opts.signedIn && opts.workspaces.length) box.append(switcher(opts));
  const langId = nextId("lang");
  box.append(
    h(
      "div",
      { class: "top-field" },
      h("label", { for: langId, class: "visually-hidden" }, t("shell.language")),
      h(
        "select",
        { id: langId, onchange: (e) => opts.onLanguage(e.target.value) },
        Object.entries(LANGUAGES).map(([code, name]) => h("option", { value: code, selected: code === lang() }, name)),
      ),
    ),
  );
  if (opts.signedIn) {
    box.append(
      h("a", { href: "#/profile", class: "top-user", title: t("nav.profile") }, email() || t("nav.profile")),
      h("button", { type: "button", class: "link", onclick: async () => {
        await signOut();
        location.hash = "#/signin";
      } }, t("shell.sign-out")),
    );
  }
  return box;
}

function switcher(opts) {
  const id = nextId("workspace");
  return h(
    "div",
    { class: "top-field" },
    h("label", { for: id }, t("shell.workspace")),
    h(
      "select",
      { id, "data-testid": "workspace-switcher", onchange: (e) => {
        if (e.target.value === "__manage") location.hash = "#/workspaces";
        else opts.onWorkspace(e.target.value);
      } },
      opts.workspace ? null : h("option", { value: "", selected: true }, "—"),
      opts.workspaces.map((w) =>
        h("option", { value: w.id, selected: w.id === opts.workspace?.id }, `${w.name} (${t(`role.${w.role}`)})`),
      ),
      h("option", { value: "__manage" }, t("shell.manage-workspaces")),
    ),
  );
}

let bannerTimer = null;
/** Show or hide "connection lost — retrying" (hidden a moment after the link is back). */
export function setBanner(lost) {
  const banner = document.getElementById("banner");
  clearTimeout(bannerTimer);
  if (lost) {
    banner.textContent = t("shell.connection-lost");
    banner.hidden = false;
  } else if (!banner.hidden) {
    banner.textContent = t("shell.connection-back");
    bannerTimer = setTimeout(() => {
      banner.hidden = true;
      banner.textContent = "";
    }, 1500);
  }
}

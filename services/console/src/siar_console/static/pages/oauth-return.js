// Where a network's consent screen sends the person back (/oauth/callback/<network>?…):
// the vault finishes the flow, then the accounts page opens again.

import { h, mount } from "../dom.js";
import { problemText } from "../forms.js";

export const strings = {
  en: {
    "oauth.title": "Connecting your account…",
    "oauth.failed": "The account could not be connected",
    "oauth.back": "Back to accounts",
  },
  id: {
    "oauth.title": "Menghubungkan akun Anda…",
    "oauth.failed": "Akun tidak dapat dihubungkan",
    "oauth.back": "Kembali ke akun",
  },
};

export async function render(root, ctx) {
  const { t } = ctx;
  const network = decodeURIComponent(location.pathname.split("/").pop());
  const workspace = sessionStorage.getItem("siar.oauth.workspace") || "";
  // Without a remembered workspace the router opens the accounts page of the last one used.
  const back = workspace ? `/#/w/${encodeURIComponent(workspace)}/accounts` : "/#/accounts";
  mount(root, h("h1", { id: "page-title" }, t("oauth.title")));
  try {
    const account = await ctx.api.get(`/v1/oauth/callback/${encodeURIComponent(network)}${location.search}`);
    sessionStorage.removeItem("siar.oauth.workspace");
    // Leaving the callback URL (its one-time state is spent) loads the app afresh, which
    // would drop a toast shown here: the accounts page says it once it has loaded.
    sessionStorage.setItem("siar.oauth.connected", account.handle);
    location.replace(back);
  } catch (err) {
    mount(root,
      h("h1", { id: "page-title" }, t("oauth.failed")),
      h("p", { role: "alert", class: "form-error" }, problemText(err)),
      h("a", { class: "button", href: back }, t("oauth.back")));
  }
}

// Accounts: every connected account with its health and token expiry; connect a new one
// (the network's consent screen, an app password, or a sandbox handle); disconnect.

import { h, mount, when } from "../dom.js";
import { field, formError, keepDraft, onSubmit } from "../forms.js";
import { badge, section, table } from "../widgets.js";

export const strings = {
  en: {
    "accounts.title": "Accounts",
    "accounts.none": "No account is connected yet.",
    "accounts.network": "Network",
    "accounts.account": "Account",
    "accounts.health": "Health",
    "accounts.expires": "Token expires",
    "accounts.connected": "Connected",
    "accounts.never": "Does not expire",
    "accounts.expired": "Expired {when}",
    "accounts.soon": "Expires soon: {when}",
    "accounts.status.healthy": "Healthy",
    "accounts.status.needs_reconnect": "Reconnect needed",
    "accounts.status.other": "{status}",
    "accounts.disconnect": "Disconnect",
    "accounts.disconnect-confirm": "Disconnect {handle}? Scheduled posts to it will fail.",
    "accounts.disconnected": "{handle} disconnected.",
    "accounts.queue": "Posting schedule",
    "accounts.connect": "Connect an account",
    "accounts.handle": "Handle",
    "accounts.handle-hint": "The account's name on the network, e.g. siar_brand.",
    "accounts.app-password": "App password",
    "accounts.app-password-hint": "Create one in Bluesky under Settings → App passwords.",
    "accounts.oauth-hint": "You will be sent to {network} to allow Siar, then brought back here.",
    "accounts.continue": "Continue to {network}",
    "accounts.connect-submit": "Connect",
    "accounts.added": "{handle} connected.",
    "accounts.read-only": "Your role can see accounts but not connect or disconnect them.",
  },
  id: {
    "accounts.title": "Akun",
    "accounts.none": "Belum ada akun yang terhubung.",
    "accounts.network": "Jaringan",
    "accounts.account": "Akun",
    "accounts.health": "Kesehatan",
    "accounts.expires": "Token berakhir",
    "accounts.connected": "Terhubung",
    "accounts.never": "Tidak berakhir",
    "accounts.expired": "Berakhir {when}",
    "accounts.soon": "Segera berakhir: {when}",
    "accounts.status.healthy": "Sehat",
    "accounts.status.needs_reconnect": "Perlu dihubungkan ulang",
    "accounts.status.other": "{status}",
    "accounts.disconnect": "Putuskan",
    "accounts.disconnect-confirm": "Putuskan {handle}? Postingan terjadwal ke akun ini akan gagal.",
    "accounts.disconnected": "{handle} diputuskan.",
    "accounts.queue": "Jadwal posting",
    "accounts.connect": "Hubungkan akun",
    "accounts.handle": "Nama akun",
    "accounts.handle-hint": "Nama akun di jaringan, mis. siar_brand.",
    "accounts.app-password": "Kata sandi aplikasi",
    "accounts.app-password-hint": "Buat di Bluesky pada Settings → App passwords.",
    "accounts.oauth-hint": "Anda akan dibawa ke {network} untuk mengizinkan Siar, lalu kembali ke sini.",
    "accounts.continue": "Lanjut ke {network}",
    "accounts.connect-submit": "Hubungkan",
    "accounts.added": "{handle} terhubung.",
    "accounts.read-only": "Peran Anda dapat melihat akun tetapi tidak dapat menghubungkan atau memutuskannya.",
  },
};

const SOON_MS = 7 * 24 * 3600 * 1000;

function health(t, account) {
  const known = ["healthy", "needs_reconnect"].includes(account.status);
  const text = known ? t(`accounts.status.${account.status}`) : t("accounts.status.other", { status: account.status });
  return badge(text, account.status === "healthy" ? "ok" : "bad");
}

function expiry(ctx, account) {
  if (!account.token_expires_at) return h("span", { class: "muted" }, ctx.t("accounts.never"));
  const left = new Date(account.token_expires_at).getTime() - Date.now();
  const at = when(account.token_expires_at, ctx.locale);
  if (left <= 0) return badge(ctx.t("accounts.expired", { when: at }), "bad");
  if (left < SOON_MS) return badge(ctx.t("accounts.soon", { when: at }), "warn");
  return at;
}

export async function render(root, ctx) {
  const { t, api } = ctx;
  const { items } = await api.get(ctx.wsPath("/accounts"));
  const manage = ctx.can("accounts.manage");
  const networks = Object.fromEntries(ctx.config.networks.map((n) => [n.network, n]));
  const columns = [
    { label: t("accounts.network"), cell: (a) => networks[a.network]?.display_name ?? a.network },
    { label: t("accounts.account"), cell: (a) => [h("strong", {}, a.handle), a.display_name ? h("div", { class: "muted" }, a.display_name) : null] },
    { label: t("accounts.health"), cell: (a) => health(t, a) },
    { label: t("accounts.expires"), cell: (a) => expiry(ctx, a) },
    { label: t("accounts.connected"), cell: (a) => when(a.connected_at, ctx.locale) },
  ];
  if (manage) {
    columns.push({
      label: t("common.actions"),
      cell: (a) => h("div", { class: "row" },
        h("a", { href: `#/w/${encodeURIComponent(ctx.workspace.id)}/settings?account=${encodeURIComponent(a.id)}` }, t("accounts.queue")),
        h("button", { type: "button", class: "danger", onclick: () => disconnect(ctx, a) },
          t("accounts.disconnect"), h("span", { class: "visually-hidden" }, ` ${a.handle}`))),
    });
  }
  mount(
    root,
    h("h1", { id: "page-title" }, t("accounts.title")),
    table(columns, items, { caption: t("accounts.title"), empty: t("accounts.none") }),
    manage ? connectForm(ctx) : h("p", { class: "muted" }, t("accounts.read-only")),
  );
  // Back from a network's consent screen (pages/oauth-return.js): say what was connected.
  const connected = sessionStorage.getItem("siar.oauth.connected");
  if (connected) {
    sessionStorage.removeItem("siar.oauth.connected");
    ctx.toast(t("accounts.added", { handle: connected }));
  }
}

async function disconnect(ctx, account) {
  if (!confirm(ctx.t("accounts.disconnect-confirm", { handle: account.handle }))) return;
  try {
    await ctx.api.del(ctx.wsPath(`/accounts/${encodeURIComponent(account.id)}`));
    ctx.toast(ctx.t("accounts.disconnected", { handle: account.handle }));
    ctx.refresh();
  } catch (err) {
    ctx.toast(err.message);
  }
}

function connectForm(ctx) {
  const { t, api } = ctx;
  const networks = ctx.config.networks;
  const form = h("form", { novalidate: true },
    formError(),
    field({ name: "network", label: t("accounts.network"), type: "select", value: "sandbox",
      options: networks.map((n) => [n.network, n.display_name]) }),
    field({ name: "handle", label: t("accounts.handle"), hint: t("accounts.handle-hint"), maxlength: 100, autocomplete: "off" }),
    field({ name: "app_password", label: t("accounts.app-password"), hint: t("accounts.app-password-hint"), type: "password", autocomplete: "off" }),
    h("p", { class: "hint", id: "oauth-hint" }),
    h("button", { type: "submit", class: "primary" }, t("accounts.connect-submit")));
  const draft = keepDraft(form, `accounts-connect-${ctx.workspace.id}`);
  const select = form.elements.network;
  const adapt = () => {
    const chosen = networks.find((n) => n.network === select.value) ?? networks[0];
    form.querySelector('[data-field="handle"]').hidden = chosen.connect === "oauth";
    form.querySelector('[data-field="app_password"]').hidden = chosen.connect !== "app_password";
    form.querySelector("#oauth-hint").textContent =
      chosen.connect === "oauth" ? t("accounts.oauth-hint", { network: chosen.display_name }) : "";
    form.querySelector("button[type=submit]").textContent = chosen.connect === "oauth"
      ? t("accounts.continue", { network: chosen.display_name }) : t("accounts.connect-submit");
  };
  select.addEventListener("change", adapt);
  adapt();
  onSubmit(form, async (v) => {
    const chosen = networks.find((n) => n.network === v.network);
    if (chosen.connect === "oauth") {
      // The network sends the person back to the console, which finishes the flow.
      const redirect_uri = `${location.origin}/oauth/callback/${encodeURIComponent(v.network)}`;
      const started = await api.post(ctx.wsPath("/accounts:authorize"), { network: v.network, redirect_uri });
      sessionStorage.setItem("siar.oauth.workspace", ctx.workspace.id);
      return { redirect: started.authorize_url };
    }
    const body = { network: v.network, handle: v.handle.trim() };
    if (chosen.connect === "app_password") body.app_password = v.app_password;
    return api.post(ctx.wsPath("/accounts"), body);
  }, {
    draft,
    done: (result) => {
      if (result.redirect) return location.assign(result.redirect);
      ctx.toast(t("accounts.added", { handle: result.handle }));
      return ctx.refresh();
    },
  });
  return section("accounts-connect", t("accounts.connect"), form);
}

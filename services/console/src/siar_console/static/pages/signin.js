// Sign in (password, then a two-factor code when the account has TOTP on) or sign up.

import { afterSignIn } from "../app.js";
import { h, mount } from "../dom.js";
import { field, formError, keepDraft, onSubmit } from "../forms.js";
import { signIn } from "../session.js";

export const strings = {
  en: {
    "signin.title": "Sign in to Siar",
    "signin.email": "Email",
    "signin.password": "Password",
    "signin.totp": "Two-factor code",
    "signin.totp-hint": "The 6-digit code from your authenticator app.",
    "signin.submit": "Sign in",
    "signin.signup-title": "Create your Siar account",
    "signin.name": "Your name",
    "signin.signup-submit": "Create account",
    "signin.to-signup": "New here? Create an account",
    "signin.to-signin": "Have an account? Sign in",
    "signin.created": "Account created; you are signed in.",
  },
  id: {
    "signin.title": "Masuk ke Siar",
    "signin.email": "Email",
    "signin.password": "Kata sandi",
    "signin.totp": "Kode dua langkah",
    "signin.totp-hint": "Kode 6 digit dari aplikasi autentikator Anda.",
    "signin.submit": "Masuk",
    "signin.signup-title": "Buat akun Siar Anda",
    "signin.name": "Nama Anda",
    "signin.signup-submit": "Buat akun",
    "signin.to-signup": "Baru di sini? Buat akun",
    "signin.to-signin": "Sudah punya akun? Masuk",
    "signin.created": "Akun dibuat; Anda sudah masuk.",
  },
};

// The token endpoint reads form fields named username/password/totp.
const ALIASES = { username: "email" };

export function render(root, ctx) {
  if (ctx.query.get("mode") === "signup") return renderSignUp(root, ctx);
  const { t } = ctx;
  const totpField = field({
    name: "totp", label: t("signin.totp"), hint: t("signin.totp-hint"),
    inputmode: "numeric", autocomplete: "one-time-code", pattern: "[0-9]{6,8}", maxlength: 8,
  });
  totpField.hidden = true;
  const form = h(
    "form",
    { class: "panel", novalidate: true, "aria-labelledby": "page-title" },
    formError(),
    field({ name: "email", label: t("signin.email"), type: "email", autocomplete: "username", required: true }),
    field({ name: "password", label: t("signin.password"), type: "password", autocomplete: "current-password", required: true }),
    totpField,
    h("button", { type: "submit", class: "primary" }, t("signin.submit")),
  );
  mount(
    root,
    h("div", { class: "narrow" },
      h("h1", { id: "page-title" }, t("signin.title")),
      form,
      h("p", {}, h("a", { href: "#/signin?mode=signup" }, t("signin.to-signup")))),
  );
  const draft = keepDraft(form, "signin");
  onSubmit(
    form,
    async (v) => {
      try {
        await signIn(v.email.trim(), v.password, totpField.hidden ? "" : v.totp.trim());
      } catch (err) {
        const apiError = asApiError(err);
        if (apiError.kind === "totp-required" && totpField.hidden) {
          // Email and password stay as typed; only the code is still needed.
          totpField.hidden = false;
          setTimeout(() => totpField.querySelector("input").focus(), 0);
        }
        throw apiError;
      }
    },
    { draft, done: afterSignIn, aliases: ALIASES },
  );
  form.querySelector("input").focus();
}

function asApiError(err) {
  if (err.network) return { status: 0, fields: {}, problem: {} };
  const body = err.body || {};
  const kind = String(body.type || "").replace("urn:siar:problem:", "");
  const e = { status: err.response?.status ?? 0, kind, problem: body, fields: {} };
  for (const item of body.errors || []) {
    const name = (item.loc || []).filter((p) => p !== "body").join(".");
    e.fields[name] ??= item.msg;
  }
  return e;
}

function renderSignUp(root, ctx) {
  const { t, api } = ctx;
  const form = h(
    "form",
    { class: "panel", novalidate: true },
    formError(),
    field({ name: "name", label: t("signin.name"), autocomplete: "name", required: true }),
    field({ name: "email", label: t("signin.email"), type: "email", autocomplete: "username", required: true }),
    field({ name: "password", label: t("signin.password"), type: "password", autocomplete: "new-password", required: true }),
    h("button", { type: "submit", class: "primary" }, t("signin.signup-submit")),
  );
  mount(
    root,
    h("div", { class: "narrow" },
      h("h1", { id: "page-title" }, t("signin.signup-title")),
      form,
      h("p", {}, h("a", { href: "#/signin" }, t("signin.to-signin")))),
  );
  const draft = keepDraft(form, "signup");
  onSubmit(
    form,
    async (v) => {
      await api.post("/v1/users", { name: v.name.trim(), email: v.email.trim(), password: v.password });
      await signIn(v.email.trim(), v.password).catch((err) => {
        throw asApiError(err);
      });
    },
    { draft, done: async () => { ctx.toast(t("signin.created")); await afterSignIn(); } },
  );
  form.querySelector("input").focus();
}

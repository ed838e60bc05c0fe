// Your profile: who you are, and two-factor sign-in (turn on with an authenticator app —
// scan the QR code or type the key — confirm with a code; turn off with a code).

import { h, mount } from "../dom.js";
import { field, formError, onSubmit } from "../forms.js";
import { section } from "../widgets.js";
import { keysSection, strings as keyStrings } from "./profile-keys.js";

export const strings = {
  en: {
    ...keyStrings.en,
    "profile.title": "Your profile",
    "profile.name": "Name",
    "profile.email": "Email",
    "profile.totp": "Two-factor sign-in",
    "profile.totp-hint": "After your password, Siar asks for a code from an authenticator app.",
    "profile.totp-begin": "Set up two-factor sign-in",
    "profile.totp-secret": "Add this key to your authenticator app (or open the link on your phone):",
    "profile.totp-qr": "QR code for your authenticator app: scan it to add Siar",
    "profile.totp-code": "Code from the app",
    "profile.totp-confirm": "Turn on",
    "profile.totp-on": "Two-factor sign-in is on.",
    "profile.totp-off-title": "Turn two-factor sign-in off",
    "profile.totp-disable": "Turn off",
    "profile.totp-off": "Two-factor sign-in is off.",
  },
  id: {
    ...keyStrings.id,
    "profile.title": "Profil Anda",
    "profile.name": "Nama",
    "profile.email": "Email",
    "profile.totp": "Masuk dua langkah",
    "profile.totp-hint": "Setelah kata sandi, Siar meminta kode dari aplikasi autentikator.",
    "profile.totp-begin": "Siapkan masuk dua langkah",
    "profile.totp-secret": "Tambahkan kunci ini ke aplikasi autentikator Anda (atau buka tautannya di ponsel):",
    "profile.totp-qr": "Kode QR untuk aplikasi autentikator Anda: pindai untuk menambahkan Siar",
    "profile.totp-code": "Kode dari aplikasi",
    "profile.totp-confirm": "Aktifkan",
    "profile.totp-on": "Masuk dua langkah aktif.",
    "profile.totp-off-title": "Matikan masuk dua langkah",
    "profile.totp-disable": "Matikan",
    "profile.totp-off": "Masuk dua langkah nonaktif.",
  },
};

function codeField(t) {
  return field({ name: "code", label: t("profile.totp-code"), inputmode: "numeric", autocomplete: "one-time-code", pattern: "[0-9]{6}", maxlength: 6 });
}

export async function render(root, ctx) {
  const { t, api } = ctx;
  const me = await api.get("/v1/me");
  const enrolment = h("div", { "aria-live": "polite" });
  const begin = h("form", { novalidate: true },
    h("p", { class: "hint" }, t("profile.totp-hint")),
    formError(),
    h("button", { type: "submit" }, t("profile.totp-begin")));
  const images = []; // object URLs of QR codes, freed when the user leaves the page
  onSubmit(begin, () => api.post("/v1/me/totp"), { done: (e) => showEnrolment(ctx, enrolment, e, images) });
  const off = h("form", { novalidate: true },
    formError(), codeField(t), h("button", { type: "submit", class: "danger" }, t("profile.totp-disable")));
  onSubmit(off, (v) => api.post("/v1/me/totp:disable", { code: v.code.trim() }), {
    done: () => ctx.toast(t("profile.totp-off")),
  });
  mount(root,
    h("h1", { id: "page-title" }, t("profile.title")),
    h("dl", { class: "panel" },
      h("dt", {}, t("profile.name")), h("dd", {}, me.name),
      h("dt", {}, t("profile.email")), h("dd", {}, me.email)),
    section("profile-totp", t("profile.totp"), begin, enrolment),
    section("profile-totp-off", t("profile.totp-off-title"), off),
    await keysSection(ctx));
  return () => images.forEach((url) => URL.revokeObjectURL(url));
}

/**
 * The otpauth:// URI as a QR code image (null if it cannot be drawn: the key and link are
 * still there). The console draws it (POST /console/qr) — the URI holds the secret, so it
 * travels in a body, never in an address that logs keep.
 */
async function qrImage(uri, alt, images) {
  try {
    const answer = await fetch("/console/qr", {
      method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ data: uri }),
      cache: "no-store",
    });
    if (!answer.ok) return null;
    const url = URL.createObjectURL(await answer.blob());
    images.push(url);
    return h("img", { class: "totp-qr", src: url, alt });
  } catch {
    return null;
  }
}

async function showEnrolment(ctx, box, enrolment, images) {
  const { t, api } = ctx;
  const confirm = h("form", { novalidate: true },
    formError(), codeField(t), h("button", { type: "submit", class: "primary" }, t("profile.totp-confirm")));
  onSubmit(confirm, (v) => api.post("/v1/me/totp:confirm", { code: v.code.trim() }), {
    done: () => {
      mount(box, h("p", { class: "ok", role: "status" }, t("profile.totp-on")));
      ctx.toast(t("profile.totp-on"));
    },
  });
  const qr = await qrImage(enrolment.otpauth_uri, t("profile.totp-qr"), images);
  mount(box,
    h("div", { class: "totp-setup" }, qr,
      h("div", {},
        h("p", {}, t("profile.totp-secret")),
        h("p", {}, h("code", { class: "secret", "data-testid": "totp-secret" }, enrolment.secret)),
        h("p", {}, h("a", { class: "otpauth", href: enrolment.otpauth_uri }, enrolment.otpauth_uri)))),
    confirm);
  confirm.querySelector("input").focus();
}

// Every visible string goes through t(). The shell's strings are here; each page module
// exports its own `strings = {en: {...}, id: {...}}`, merged by register() when the page
// loads, so helpers adding pages never edit this file. A unit test checks that every
// dictionary has the same keys in both languages and that the keys pages use exist.

import { SHELL_STRINGS } from "./strings.js";

export const LANGUAGES = { en: "English", id: "Bahasa Indonesia" };
const dictionaries = { en: {}, id: {} };
let current = pickLanguage();

function pickLanguage() {
  const saved = localStorage.getItem("siar.lang");
  if (saved && saved in LANGUAGES) return saved;
  return (navigator.language || "en").toLowerCase().startsWith("id") ? "id" : "en";
}

/** Merge a module's `{en: {...}, id: {...}}` strings into the dictionaries. */
export function register(strings) {
  for (const lang of Object.keys(LANGUAGES)) Object.assign(dictionaries[lang], strings[lang] || {});
}

/** The current language code ("en" or "id"). */
export function lang() {
  return current;
}

/** The locale for dates and numbers. */
export function locale() {
  return current === "id" ? "id-ID" : "en-GB";
}

/** Switch language (kept for the next visit); the caller re-renders. */
export function setLang(code) {
  if (!(code in LANGUAGES)) return;
  current = code;
  localStorage.setItem("siar.lang", code);
  document.documentElement.lang = code;
}

/** The string for `key` with `{name}` placeholders filled; the key itself if unknown. */
export function t(key, vars = {}) {
  const text = dictionaries[current][key] ?? dictionaries.en[key];
  if (text === undefined) {
    console.warn(`i18n: no string for ${key}`);
    return key;
  }
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in vars ? String(vars[name]) : whole));
}

/** Whether a string exists (for problem types with their own translation). */
export function has(key) {
  return key in dictionaries[current] || key in dictionaries.en;
}

register(SHELL_STRINGS);
document.documentElement.lang = current;

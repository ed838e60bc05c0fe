// The composer's media: pick items of the workspace's library (searched by file name) or
// upload a new one, which is then picked. Thumbnails are fetched with the bearer token
// (the library's content route is authorised) and shown from blob: URLs.

import { h, mount } from "../dom.js";
import { field, problemText } from "../forms.js";

const thumbs = new Map(); // media id → blob: URL, kept for the session (items never change)

/** A thumbnail <img> for an image item (empty alt: the file name is written beside it). */
export function thumbnail(ctx, item) {
  if (item.kind !== "image") return h("span", { class: "thumb thumb-video", "aria-hidden": "true" }, "▶");
  const img = h("img", { class: "thumb", alt: "", width: 48, height: 48 });
  const cached = thumbs.get(item.id);
  if (cached) img.src = cached;
  else {
    ctx.api.raw(ctx.wsPath(`/media/${encodeURIComponent(item.id)}/content`))
      .then((r) => r.blob())
      .then((blob) => {
        const url = URL.createObjectURL(blob);
        thumbs.set(item.id, url);
        img.src = url;
      })
      .catch(() => img.remove());
  }
  return img;
}

function sizeText(bytes, locale) {
  if (bytes < 1_048_576) return `${Math.max(1, Math.round(bytes / 1024)).toLocaleString(locale)} KB`;
  return `${(bytes / 1_048_576).toLocaleString(locale, { maximumFractionDigits: 1 })} MB`;
}

function mediaRow(ctx, item, disabled) {
  const id = `media-${item.id}`;
  return h("li", { class: "media-item" },
    h("input", { type: "checkbox", id, name: `media:${item.id}`, value: item.id, disabled }),
    h("label", { for: id }, thumbnail(ctx, item),
      h("span", {}, item.filename, h("span", { class: "muted" }, ` · ${item.kind} · ${sizeText(item.size_bytes, ctx.locale)}`))));
}

/** Tick the listed items `ids`; the ids ticked now. */
function tick(list, ids) {
  for (const id of ids) {
    const box = list.querySelector(`input[value="${CSS.escape(id)}"]`);
    if (box) box.checked = true;
  }
  return [...list.querySelectorAll("input[type=checkbox]:checked")].map((el) => el.value);
}

/** Upload the chosen file (with its alt text) to the library; `added(item)` on success. */
async function uploadOne(ctx, { upload, alt, uploadButton, status, disabled }, added) {
  const { t } = ctx;
  const input = upload.querySelector("input");
  const error = upload.querySelector(".field-error");
  error.hidden = true;
  input.removeAttribute("aria-invalid");
  if (!input.files.length) {
    error.textContent = t("composer.media-choose");
    error.hidden = false;
    input.focus();
    return;
  }
  const data = new FormData();
  data.append("file", input.files[0]);
  const altText = alt.querySelector("input").value.trim();
  if (altText) data.append("alt_text", altText);
  uploadButton.disabled = true;
  status.textContent = t("composer.media-uploading");
  try {
    const item = await ctx.api.upload(ctx.wsPath("/media"), data);
    input.value = "";
    status.textContent = t("composer.media-uploaded", { file: item.filename });
    added(item);
  } catch (err) {
    if (err.status === undefined) throw err;
    status.textContent = "";
    error.textContent = problemText(err);
    error.hidden = false;
    input.setAttribute("aria-invalid", "true");
    input.focus();
  } finally {
    uploadButton.disabled = disabled;
  }
}

/**
 * The picker: `onChange()` after any pick. Returns {element, selected(), items, select(id)}.
 * Checkboxes are named `media:<id>` so the form's draft keeps the picks.
 */
export async function mediaPicker(ctx, { onChange, disabled = false }) {
  const { t, api } = ctx;
  const items = new Map();
  const list = h("ul", { class: "media-list" });
  const listBox = h("div", { class: "media-scroll" }, list);
  const search = field({ name: "media_q", label: t("composer.media-search"), type: "search", disabled });
  const upload = field({ name: "upload", label: t("composer.media-upload"), type: "file", accept: "image/*,video/*", disabled });
  const alt = field({ name: "alt_text", label: t("composer.media-alt"), hint: t("composer.media-alt-hint"), maxlength: 1000, disabled });
  const uploadButton = h("button", { type: "button", disabled }, t("composer.media-upload-button"));
  const status = h("p", { class: "muted", "aria-live": "polite" });

  function show(found) {
    const picked = new Set(selectedIds());
    for (const item of found) items.set(item.id, item);
    // Picked items stay listed while searching, so a search never silently drops a pick.
    const shown = [...new Map([...[...picked].map((id) => [id, items.get(id)]), ...found.map((i) => [i.id, i])]).values()].filter(Boolean);
    mount(list, shown.length ? shown.map((item) => mediaRow(ctx, item, disabled)) : h("li", { class: "muted" }, t("composer.media-none")));
    tick(list, picked);
  }

  const selectedIds = () => tick(list, []);

  async function load(q) {
    show((await api.get(ctx.wsPath("/media"), { q: q || undefined, limit: 50 })).items);
  }

  let searchTimer = null;
  search.querySelector("input").addEventListener("input", (event) => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => load(event.target.value.trim()).catch(() => {}), 300);
  });
  list.addEventListener("change", () => onChange());
  uploadButton.addEventListener("click", () => uploadOne(ctx, { upload, alt, uploadButton, status, disabled }, (item) => {
    items.set(item.id, item);
    show([item, ...[...items.values()].filter((i) => i && i.id !== item.id)]);
    tick(list, [item.id]);
    onChange();
  }));

  await load("").catch(() => show([]));
  const element = h("fieldset", { class: "media-picker field", dataset: { field: "media_ids" } },
    h("legend", {}, t("composer.media")),
    search, listBox,
    h("div", { class: "upload row" }, upload, alt, uploadButton),
    status,
    h("p", { class: "field-error", hidden: true }));
  return {
    element,
    selected: () => selectedIds().map((id) => items.get(id)).filter(Boolean),
    /** Tick `ids` (e.g. the media of a post being edited), fetching items not listed. */
    async select(ids) {
      for (const id of ids) {
        if (!items.has(id)) items.set(id, await api.get(ctx.wsPath(`/media/${encodeURIComponent(id)}`)).catch(() => null));
      }
      show([...items.values()].filter(Boolean));
      tick(list, ids);
    },
  };
}

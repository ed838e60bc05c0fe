// Workspaces: the agency's list (open one), create a workspace, accept an invitation.

import { go, workspacesChanged } from "../app.js";
import { h, mount } from "../dom.js";
import { field, formError, keepDraft, onSubmit } from "../forms.js";
import { accessToken } from "../session.js";

export const strings = {
  en: {
    "workspaces.title": "Workspaces",
    "workspaces.none": "You are not a member of any workspace yet. Create one, or accept an invitation.",
    "workspaces.missing": "That workspace does not exist or you are not a member of it.",
    "workspaces.open": "Open",
    "workspaces.name": "Name",
    "workspaces.role": "Your role",
    "workspaces.create": "Create a workspace",
    "workspaces.create-submit": "Create",
    "workspaces.created": "Workspace {name} created.",
    "workspaces.invite": "Accept an invitation",
    "workspaces.invite-token": "Invitation code",
    "workspaces.invite-hint": "The code at the end of the invitation link you were sent.",
    "workspaces.invite-submit": "Accept",
    "workspaces.joined": "You joined the workspace.",
  },
  id: {
    "workspaces.title": "Ruang kerja",
    "workspaces.none": "Anda belum menjadi anggota ruang kerja mana pun. Buat satu, atau terima undangan.",
    "workspaces.missing": "Ruang kerja itu tidak ada atau Anda bukan anggotanya.",
    "workspaces.open": "Buka",
    "workspaces.name": "Nama",
    "workspaces.role": "Peran Anda",
    "workspaces.create": "Buat ruang kerja",
    "workspaces.create-submit": "Buat",
    "workspaces.created": "Ruang kerja {name} dibuat.",
    "workspaces.invite": "Terima undangan",
    "workspaces.invite-token": "Kode undangan",
    "workspaces.invite-hint": "Kode di akhir tautan undangan yang dikirim kepada Anda.",
    "workspaces.invite-submit": "Terima",
    "workspaces.joined": "Anda bergabung dengan ruang kerja.",
  },
};

// A new membership is only in a fresh token's claims: refresh before opening it.
async function joined(ctx, workspaceId, message) {
  await accessToken({ force: true });
  workspacesChanged();
  ctx.toast(message);
  go(workspaceId, "");
}

export function render(root, ctx) {
  const { t, api } = ctx;
  const list = ctx.workspaces.length
    ? h("div", { class: "table-wrap" }, h("table", { class: "cards" },
        h("thead", {}, h("tr", {}, h("th", { scope: "col" }, t("workspaces.name")),
          h("th", { scope: "col" }, t("workspaces.role")), h("th", { scope: "col" }, h("span", { class: "visually-hidden" }, t("workspaces.open"))))),
        h("tbody", {}, ctx.workspaces.map((w) => h("tr", {},
          h("td", { "data-label": t("workspaces.name") }, w.name),
          h("td", { "data-label": t("workspaces.role") }, t(`role.${w.role}`)),
          h("td", {}, h("a", { class: "button", href: `#/w/${encodeURIComponent(w.id)}/` }, t("workspaces.open"), h("span", { class: "visually-hidden" }, ` ${w.name}`))))))))
    : h("p", {}, t("workspaces.none"));
  const create = h("form", { class: "panel", novalidate: true, "aria-labelledby": "ws-create" },
    h("h2", { id: "ws-create" }, t("workspaces.create")),
    formError(),
    field({ name: "name", label: t("workspaces.name"), required: true, maxlength: 200 }),
    h("button", { type: "submit", class: "primary" }, t("workspaces.create-submit")));
  const invite = h("form", { class: "panel", novalidate: true, "aria-labelledby": "ws-invite" },
    h("h2", { id: "ws-invite" }, t("workspaces.invite")),
    formError(),
    field({ name: "token", label: t("workspaces.invite-token"), hint: t("workspaces.invite-hint"), required: true, value: ctx.query.get("invite") || "" }),
    h("button", { type: "submit", class: "primary" }, t("workspaces.invite-submit")));
  mount(root,
    h("h1", { id: "page-title" }, t("workspaces.title")),
    ctx.query.get("missing") ? h("p", { class: "form-error", role: "alert" }, t("workspaces.missing")) : null,
    list, create, invite);
  const draft = keepDraft(create, "workspace-create");
  onSubmit(create, (v) => api.post("/v1/workspaces", { name: v.name.trim() }), {
    draft,
    done: (ws) => joined(ctx, ws.id, t("workspaces.created", { name: ws.name })),
  });
  onSubmit(invite, (v) => api.post(`/v1/invitations/${encodeURIComponent(v.token.trim())}:accept`), {
    done: (answer) => joined(ctx, answer?.workspace_id ?? answer?.id ?? "", t("workspaces.joined")),
  });
}

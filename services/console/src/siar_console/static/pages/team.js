// Team: the workspace's members and roles (the table, role changes and removal:
// team-members.js); add a member by email, invite by link, revoke an invitation (owners
// and admins).

import { h, mount, when } from "../dom.js";
import { field, formError, keepDraft, onSubmit, problemText } from "../forms.js";
import { badge, section, table } from "../widgets.js";
import { ROLES, membersSection, roleOptions } from "./team-members.js";

export const strings = {
  en: {
    "team.title": "Team",
    "team.members": "Members",
    "team.member": "Member",
    "team.role": "Role",
    "team.you": "you",
    "team.add": "Add a member",
    "team.add-hint": "They need a Siar account already; otherwise invite them by link.",
    "team.email": "Email",
    "team.add-submit": "Add",
    "team.added": "Member added as {role}.",
    "team.invitations": "Invitations",
    "team.invite": "Invite by link",
    "team.invite-email": "Only this email may accept (optional)",
    "team.invite-hours": "Valid for (hours)",
    "team.invite-submit": "Create link",
    "team.invite-link": "Invitation link (shown once): send it to the person you invite.",
    "team.expires": "Expires",
    "team.state": "State",
    "team.state.open": "Open",
    "team.state.used": "Accepted",
    "team.state.revoked": "Revoked",
    "team.state.expired": "Expired",
    "team.anyone": "Anyone with the link",
    "team.revoke": "Revoke",
    "team.revoked": "Invitation revoked.",
    "team.roles-help": "What each role may do",
    "team.permission": "Permission",
    "team.role-of": "Role of {name}",
    "team.change-role": "Change",
    "team.role-changed": "{name} is now {role}.",
    "team.leave": "Leave workspace",
    "team.leave-title": "Leave {workspace}?",
    "team.leave-text": "You will no longer see this workspace or anything in it. To come back, someone who manages its members must add you again.",
    "team.remove-title": "Remove {name}?",
    "team.remove-text": "{name} will no longer be a member of {workspace}. Posts they wrote stay. A sign-in they already have keeps working for a few minutes at most, until it is renewed.",
    "team.removed": "{name} was removed from the workspace.",
    "team.left": "You left {workspace}.",
    "team.owner-only": "Only an owner can change or remove an owner.",
    "team.last-owner": "{name} is the only owner, and a workspace must keep one. Make someone else owner first.",
    "team.last-owner-self": "You are the only owner, and a workspace must keep one. Make someone else owner before you leave.",
    "team.remove-forbidden": "Your role does not allow removing members (it may have changed since you signed in).",
    "team.remove-conflict": "{name}'s role was being changed at the same moment. Try again.",
    "problem.last-owner": "A workspace must keep at least one owner",
  },
  id: {
    "team.title": "Tim",
    "team.members": "Anggota",
    "team.member": "Anggota",
    "team.role": "Peran",
    "team.you": "Anda",
    "team.add": "Tambah anggota",
    "team.add-hint": "Mereka harus sudah punya akun Siar; jika belum, undang lewat tautan.",
    "team.email": "Email",
    "team.add-submit": "Tambah",
    "team.added": "Anggota ditambahkan sebagai {role}.",
    "team.invitations": "Undangan",
    "team.invite": "Undang lewat tautan",
    "team.invite-email": "Hanya email ini yang boleh menerima (opsional)",
    "team.invite-hours": "Berlaku selama (jam)",
    "team.invite-submit": "Buat tautan",
    "team.invite-link": "Tautan undangan (hanya ditampilkan sekali): kirimkan ke orang yang Anda undang.",
    "team.expires": "Berakhir",
    "team.state": "Status",
    "team.state.open": "Terbuka",
    "team.state.used": "Diterima",
    "team.state.revoked": "Dicabut",
    "team.state.expired": "Kedaluwarsa",
    "team.anyone": "Siapa pun yang punya tautan",
    "team.revoke": "Cabut",
    "team.revoked": "Undangan dicabut.",
    "team.roles-help": "Apa yang boleh dilakukan setiap peran",
    "team.permission": "Izin",
    "team.role-of": "Peran {name}",
    "team.change-role": "Ubah",
    "team.role-changed": "{name} sekarang {role}.",
    "team.leave": "Keluar dari ruang kerja",
    "team.leave-title": "Keluar dari {workspace}?",
    "team.leave-text": "Anda tidak akan lagi melihat ruang kerja ini atau isinya. Untuk kembali, orang yang mengelola anggotanya harus menambahkan Anda lagi.",
    "team.remove-title": "Keluarkan {name}?",
    "team.remove-text": "{name} tidak akan lagi menjadi anggota {workspace}. Postingan yang mereka tulis tetap ada. Sesi masuk yang sudah mereka miliki masih berlaku paling lama beberapa menit, sampai diperbarui.",
    "team.removed": "{name} telah dikeluarkan dari ruang kerja.",
    "team.left": "Anda keluar dari {workspace}.",
    "team.owner-only": "Hanya pemilik yang dapat mengubah atau mengeluarkan pemilik.",
    "team.last-owner": "{name} adalah satu-satunya pemilik, dan ruang kerja harus tetap punya pemilik. Jadikan orang lain pemilik terlebih dahulu.",
    "team.last-owner-self": "Anda satu-satunya pemilik, dan ruang kerja harus tetap punya pemilik. Jadikan orang lain pemilik sebelum Anda keluar.",
    "team.remove-forbidden": "Peran Anda tidak mengizinkan mengeluarkan anggota (mungkin sudah berubah sejak Anda masuk).",
    "team.remove-conflict": "Peran {name} sedang diubah pada saat yang sama. Coba lagi.",
    "problem.last-owner": "Ruang kerja harus tetap punya setidaknya satu pemilik",
  },
};

export async function render(root, ctx) {
  const { t, api } = ctx;
  const manage = ctx.can("members.manage");
  const [members, invitations] = await Promise.all([
    api.get(ctx.wsPath("/members")),
    manage ? api.get(ctx.wsPath("/invitations")) : Promise.resolve(null),
  ]);
  mount(
    root,
    h("h1", { id: "page-title" }, t("team.title")),
    membersSection(ctx, members.items),
    manage ? addForm(ctx) : null,
    manage ? invitationsSection(ctx, invitations) : null,
    rolesHelp(ctx),
  );
}

function addForm(ctx) {
  const { t, api } = ctx;
  const form = h("form", { novalidate: true },
    h("p", { class: "hint" }, t("team.add-hint")),
    formError(),
    h("div", { class: "row" },
      field({ name: "email", label: t("team.email"), type: "email", autocomplete: "off", required: true }),
      field({ name: "role", label: t("team.role"), type: "select", value: "editor", options: roleOptions(ctx) }),
      h("button", { type: "submit", class: "primary" }, t("team.add-submit"))));
  const draft = keepDraft(form, `team-add-${ctx.workspace.id}`);
  onSubmit(form, (v) => api.post(ctx.wsPath("/members"), { email: v.email.trim(), role: v.role }), {
    draft,
    done: (m) => {
      ctx.toast(t("team.added", { role: t(`role.${m.role}`) }));
      ctx.refresh();
    },
  });
  return section("team-add", t("team.add"), form);
}

function invitationState(t, inv) {
  if (inv.revoked) return badge(t("team.state.revoked"));
  if (inv.accepted_by) return badge(t("team.state.used"), "ok");
  if (new Date(inv.expires_at) < new Date()) return badge(t("team.state.expired"), "warn");
  return badge(t("team.state.open"), "ok");
}

function invitationsSection(ctx, items) {
  const { t, api } = ctx;
  const linkBox = h("div", { "aria-live": "polite" });
  const listBox = h("div", {});
  const form = h("form", { novalidate: true },
    formError(),
    h("div", { class: "row" },
      field({ name: "role", label: t("team.role"), type: "select", value: "contributor", options: roleOptions(ctx) }),
      field({ name: "email", label: t("team.invite-email"), type: "email", autocomplete: "off" }),
      field({ name: "expires_in_hours", label: t("team.invite-hours"), type: "number", min: 1, max: 720, value: "72" }),
      h("button", { type: "submit", class: "primary" }, t("team.invite-submit"))),
    linkBox);
  const reload = async () => drawInvitations(ctx, listBox, await api.get(ctx.wsPath("/invitations")), reload);
  onSubmit(form, (v) => api.post(ctx.wsPath("/invitations"), {
    role: v.role, email: v.email.trim() || null, expires_in_hours: v.expires_in_hours,
  }), {
    done: async (inv) => {
      const link = `${location.origin}/#/workspaces?invite=${encodeURIComponent(inv.token)}`;
      mount(linkBox, h("p", {}, t("team.invite-link")), h("p", {}, h("code", { class: "secret", "data-testid": "invite-link" }, link)),
        h("button", { type: "button", onclick: async () => {
          await navigator.clipboard?.writeText(link).catch(() => {});
          ctx.toast(t("common.copied"));
        } }, t("common.copy")));
      await reload();
    },
  });
  drawInvitations(ctx, listBox, items, reload);
  return section("team-invite", t("team.invitations"), form, listBox);
}

function drawInvitations(ctx, box, items, reload) {
  const { t, api } = ctx;
  const revoke = async (invitation) => {
    try {
      await api.del(ctx.wsPath(`/invitations/${encodeURIComponent(invitation.id)}`));
      ctx.toast(t("team.revoked"));
      await reload();
    } catch (err) {
      if (err.status === undefined) throw err;
      ctx.toast(problemText(err)); // in the user's language, as forms show problems
    }
  };
  mount(box, table(
    [
      { label: t("team.role"), cell: (i) => t(`role.${i.role}`) },
      { label: t("team.email"), cell: (i) => i.email || h("span", { class: "muted" }, t("team.anyone")) },
      { label: t("team.expires"), cell: (i) => when(i.expires_at, ctx.locale) },
      { label: t("team.state"), cell: (i) => invitationState(t, i) },
      { label: t("common.actions"), cell: (i) => (i.revoked || i.accepted_by ? ""
        : h("button", { type: "button", class: "danger", onclick: () => revoke(i) }, t("team.revoke"))) },
    ],
    items,
    { caption: t("team.invitations"), empty: t("common.none") },
  ));
}

function rolesHelp(ctx) {
  const { t } = ctx;
  const matrix = ctx.config.permissions || {};
  const permissions = [...new Set(Object.values(matrix).flat())].sort();
  return h("details", { class: "panel" },
    h("summary", {}, t("team.roles-help")),
    table(
      [{ label: t("team.permission"), cell: (p) => h("code", {}, p) },
        ...ROLES.map((r) => ({ label: t(`role.${r}`), cell: (p) => (matrix[r]?.includes(p) ? "✓" : "") }))],
      permissions,
    ));
}

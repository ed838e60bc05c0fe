// Team: the members table. Managers (members.manage) change a member's role and remove
// them from their row, under the vault's owner rules (docs/permissions.md#owners): only an
// owner grants, revokes or removes ownership, so a manager who is not an owner sees owners'
// rows read-only and is never offered the owner role; a workspace always keeps an owner, so
// removing or demoting the last one is refused (409 last-owner) and said beside the row.

import { go, workspacesChanged } from "../app.js";
import { confirmDialog } from "../dialog.js";
import { h } from "../dom.js";
import { field, formError, onSubmit, problemText } from "../forms.js";
import { accessToken, claims, signOut } from "../session.js";
import { badge, section, table } from "../widgets.js";

export const ROLES = ["owner", "admin", "editor", "contributor", "approver", "viewer"];

/** The roles the signed-in person may give: only an owner grants ownership. */
export function roleOptions(ctx) {
  return ROLES.filter((r) => r !== "owner" || ctx.role === "owner").map((r) => [r, ctx.t(`role.${r}`)]);
}

const nameOf = (m) => m.name || m.email || m.user_id;

/** The "Members" section: one row per member, with role changes and removal for managers. */
export function membersSection(ctx, members) {
  const { t } = ctx;
  const me = claims()?.sub;
  const manage = ctx.can("members.manage");
  // An owner's row is an owner's business: the vault refuses anyone else (403).
  const editable = (m) => manage && (m.role !== "owner" || ctx.role === "owner");
  const columns = [
    { label: t("team.member"), cell: (m) => [
      m.name || m.email || h("code", {}, m.user_id),
      m.email && m.name ? h("div", { class: "muted" }, m.email) : null,
      m.user_id === me ? [" ", badge(t("team.you"))] : null] },
    { label: t("team.role"), cell: (m) => (editable(m) && m.email && m.user_id !== me ? roleForm(ctx, m) : t(`role.${m.role}`)) },
  ];
  if (manage) {
    columns.push({ label: t("common.actions"), cell: (m) => (editable(m)
      ? removeControl(ctx, m, m.user_id === me)
      : h("span", { class: "muted" }, t("team.owner-only"))) });
  }
  return section("team-members", t("team.members"), table(columns, members, { caption: t("team.members") }));
}

// Adding an existing member again sets their role (the vault's POST …/members upserts).
function roleForm(ctx, member) {
  const { t, api } = ctx;
  const form = h("form", { class: "row", novalidate: true },
    field({ name: "role", label: t("team.role-of", { name: nameOf(member) }), type: "select",
      value: member.role, options: roleOptions(ctx) }),
    h("button", { type: "submit" }, t("team.change-role")),
    formError());
  form.querySelector("label").classList.add("visually-hidden");
  onSubmit(form, (v) => api.post(ctx.wsPath("/members"), { email: member.email, role: v.role }), {
    done: (m) => {
      ctx.toast(t("team.role-changed", { name: nameOf(member), role: t(`role.${m.role}`) }));
      ctx.refresh();
    },
  });
  return form;
}

function removeControl(ctx, member, self) {
  const { t } = ctx;
  const name = nameOf(member);
  const message = h("p", { class: "field-error", role: "alert", hidden: true });
  const button = h("button", { type: "button", class: "danger" },
    self ? t("team.leave") : [t("common.remove"), h("span", { class: "visually-hidden" }, ` ${name}`)]);
  button.addEventListener("click", () => removeMember(ctx, member, self, { button, message }));
  return h("div", { class: "member-actions" }, button, message);
}

async function removeMember(ctx, member, self, { button, message }) {
  const { t, api } = ctx;
  const name = nameOf(member);
  const workspace = ctx.workspace.name;
  const confirmed = await confirmDialog({
    title: self ? t("team.leave-title", { workspace }) : t("team.remove-title", { name }),
    text: self ? t("team.leave-text") : t("team.remove-text", { name, workspace }),
    confirmLabel: self ? t("team.leave") : t("common.remove"),
  });
  if (!confirmed) return;
  message.hidden = true;
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  try {
    await api.del(ctx.wsPath(`/members/${encodeURIComponent(member.user_id)}`));
  } catch (err) {
    if (err.status === undefined) throw err;
    // 404: already gone (another manager, or a retried call whose first try went through).
    if (err.status !== 404) {
      button.disabled = false;
      button.removeAttribute("aria-busy");
      message.textContent = removalProblem(ctx, err, member, self);
      message.hidden = false;
      button.focus();
      return;
    }
  }
  if (self) return leave(ctx, workspace);
  const row = button.closest("tr");
  const heading = document.getElementById("team-members");
  row?.remove();
  heading?.setAttribute("tabindex", "-1");
  heading?.focus();
  ctx.toast(t("team.removed", { name }));
}

/** A refusal in a manager's words: the owner rules first, then the shell's wording. */
export function removalProblem(ctx, err, member, self) {
  const { t } = ctx;
  const name = nameOf(member);
  if (err.kind === "last-owner") return self ? t("team.last-owner-self") : t("team.last-owner", { name });
  if (err.kind === "forbidden") return member.role === "owner" ? t("team.owner-only") : t("team.remove-forbidden");
  if (err.kind === "conflict") return t("team.remove-conflict", { name });
  return problemText(err);
}

// The access token still names the workspace (its claims were issued before): a fresh one
// is fetched so the workspace list and switcher no longer offer it. If that fails, signing
// out is the only state that is surely not broken.
async function leave(ctx, workspace) {
  localStorage.removeItem("siar.workspace");
  try {
    await accessToken({ force: true });
  } catch {
    await signOut();
  }
  workspacesChanged();
  ctx.toast(ctx.t("team.left", { workspace }));
  go(null, "workspaces");
}

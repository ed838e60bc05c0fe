// Siar console: boot, hash router and the context every page gets.
//
// PAGE CONTRACT (read before adding a page)
// - A page is an ES module `pages/<name>.js` with one line in routes.js.
// - It exports `render(root, ctx)`: build the page inside `root` (a <section> already in
//   <main>), usually with `h()` from dom.js — never innerHTML with data. It may be async and
//   may return a cleanup function, called when the user leaves the page (stop timers, SSE).
// - It may export `strings = {en: {...}, id: {...}}`: merged into i18n before render. Every
//   visible string goes through `ctx.t(key)`; prefix keys with the page name ("inbox.…").
// - ctx = {
//     api,             // api.js: get/post/put/patch/del/upload/raw/download/url; ApiError
//     t, lang, locale, // i18n
//     workspace,       // {id, name, role} or null on pages without one
//     workspaces,      // every workspace the user belongs to (agency switcher)
//     role, can(perm), // the role here and a permission check (siar.runtime.roles matrix)
//     config,          // /console/config.json: {networks: [{network, display_name, connect}]}
//     query,           // URLSearchParams of the route (#/w/<ws>/<page>?a=b)
//     navigate(page, query?), // go to another page of the same workspace
//     setQuery(query), // replace this page's query without re-rendering (filters, views);
//                      // ignored once the user has left the page (no guard needed)
//     wsPath(rest),    // "/v1/workspaces/<ws>" + rest
//     toast(text), refresh(), // announce something (aria-live); re-render this page
//     listen,          // sse.js listen(path, {onEvent, onState}) for live updates
//   }
// - Forms: use forms.js (field, onSubmit, keepDraft, formError, showErrors) so problems land
//   beside their field and nothing typed is lost on a failed submit.

import { api, configure } from "./api.js";
import { h, mount, focusFirst } from "./dom.js";
import { lang, locale, register, setLang, t } from "./i18n.js";
import { renderShell, setBanner } from "./layout.js";
import { HOME_ORDER, ROUTES } from "./routes.js";
import { onSessionChange, signedIn } from "./session.js";
import { listen } from "./sse.js";
import { toast } from "./widgets.js";

const state = { permissions: {}, config: { networks: [] }, workspaces: null, cleanup: null, renderId: 0 };
const OAUTH_RETURN = { module: "./pages/oauth-return.js", name: "oauth-return" };

/** Parse the hash: #/w/<ws>/<page>?query | #/<page>?query. */
export function parseRoute(hash) {
  const [path, search = ""] = hash.replace(/^#/, "").split("?");
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  const query = new URLSearchParams(search);
  if (parts[0] === "w" && parts[1]) return { ws: parts[1], page: parts[2] || "", query };
  return { ws: null, page: parts[0] || "", query };
}

function routeHash(ws, page, query) {
  const search = query && String(new URLSearchParams(query)) ? `?${new URLSearchParams(query)}` : "";
  return ws ? `#/w/${encodeURIComponent(ws)}/${page}${search}` : `#/${page}${search}`;
}

/** Go to `page` of workspace `ws` (null: a page without a workspace). */
export function go(ws, page, query) {
  const target = routeHash(ws, page, query);
  if (location.hash === target) render();
  else location.hash = target;
}

function can(role, permission) {
  return !permission || Boolean(role && state.permissions[role]?.includes(permission));
}

async function loadWorkspaces(force = false) {
  if (state.workspaces && !force) return state.workspaces;
  state.workspaces = (await api.get("/v1/workspaces")).items;
  return state.workspaces;
}

function lastWorkspace(workspaces) {
  const saved = localStorage.getItem("siar.workspace");
  return workspaces.find((w) => w.id === saved) || workspaces[0] || null;
}

function homeFor(role) {
  const names = ROUTES.filter((r) => r.nav !== false && can(role, r.permission)).map((r) => r.name);
  return HOME_ORDER.find((n) => names.includes(n)) || names[0] || "workspaces";
}

async function render() {
  const renderId = ++state.renderId;
  state.cleanup?.();
  state.cleanup = null;
  const route = parseRoute(location.hash);
  if (!signedIn()) {
    if (route.page !== "signin") sessionStorage.setItem("siar.after-signin", location.hash);
    return show(route, { module: "./pages/signin.js", name: "signin" }, null, []);
  }
  if (location.pathname.startsWith("/oauth/callback/")) return show(route, OAUTH_RETURN, null, []);
  const workspaces = await loadWorkspaces().catch(() => []);
  if (renderId !== state.renderId) return;
  let workspace = route.ws ? workspaces.find((w) => w.id === route.ws) : null;
  if (route.ws && !workspace) return go(null, "workspaces", { missing: route.ws });
  const entry = ROUTES.find((r) => r.name === route.page);
  if (!entry && !workspace) {
    workspace = lastWorkspace(workspaces);
    return workspace ? go(workspace.id, homeFor(workspace.role)) : go(null, "workspaces");
  }
  if (entry?.permission && !workspace) {
    // A workspace page without a workspace (#/accounts): the last workspace's page.
    const fallback = lastWorkspace(workspaces);
    return fallback ? go(fallback.id, entry.name, route.query) : go(null, "workspaces");
  }
  if (!entry || (entry.permission && !can(workspace.role, entry.permission))) {
    return go(workspace.id, homeFor(workspace.role));
  }
  if (workspace) localStorage.setItem("siar.workspace", workspace.id);
  return show(route, entry, workspace, workspaces);
}

async function show(route, entry, workspace, workspaces) {
  const renderId = state.renderId;
  const role = workspace?.role ?? null;
  const nav = ROUTES.filter((r) => r.nav !== false && can(role, r.permission));
  const main = renderShell({
    signedIn: signedIn(),
    workspace,
    workspaces,
    nav,
    current: entry.name,
    onWorkspace: (id) => {
      const next = workspaces.find((w) => w.id === id);
      go(id, can(next?.role, entry.permission) && entry.permission ? entry.name : homeFor(next?.role));
    },
    onLanguage: (code) => {
      setLang(code);
      render();
    },
    navHref: (name) => routeHash(workspace?.id, name),
  });
  const root = h("section", { class: `page page-${entry.name}`, "aria-labelledby": "page-title" });
  mount(main, root);
  let module;
  try {
    module = await import(entry.module);
  } catch (err) {
    mount(root, h("h1", { id: "page-title" }, t("error.page-load")), h("p", {}, String(err)));
    return;
  }
  if (renderId !== state.renderId) return;
  if (module.strings) register(module.strings);
  const ctx = makeContext(route, workspace, workspaces);
  try {
    const cleanup = await module.render(root, ctx);
    if (renderId === state.renderId) state.cleanup = typeof cleanup === "function" ? cleanup : null;
    else if (typeof cleanup === "function") cleanup();
  } catch (err) {
    console.error(err);
    mount(root, h("h1", { id: "page-title" }, t("error.page")), h("p", { role: "alert" }, err.message));
  }
  const title = root.querySelector("h1");
  document.title = title ? `${title.textContent} · Siar` : "Siar";
  if (state.focusMain) focusFirst(title || main);
  state.focusMain = true;
}

/**
 * Whether the page of render `renderId` is still the one shown. A page's late answer (a
 * load begun before the user left) must not rewrite the next page's address: the render
 * has moved on, or the address already names another page whose hashchange is on its way.
 */
function isCurrent(renderId, workspace, route) {
  if (renderId !== state.renderId) return false;
  const now = parseRoute(location.hash);
  return now.ws === (workspace?.id ?? route.ws) && now.page === route.page;
}

function makeContext(route, workspace, workspaces) {
  const renderId = state.renderId;
  const role = workspace?.role ?? null;
  return {
    api,
    t,
    lang: lang(),
    locale: locale(),
    workspace,
    workspaces,
    config: state.config,
    role,
    can: (permission) => can(role, permission),
    query: route.query,
    navigate: (page, query) => go(workspace?.id ?? null, page, query),
    setQuery: (query) => {
      if (isCurrent(renderId, workspace, route)) history.replaceState(null, "", routeHash(workspace?.id, route.page, query));
    },
    wsPath: (rest = "") => `/v1/workspaces/${encodeURIComponent(workspace.id)}${rest}`,
    toast,
    refresh: () => render(),
    reloadWorkspaces: async () => loadWorkspaces(true),
    listen,
  };
}

async function boot() {
  configure({
    banner: setBanner,
    signedOut: () => {
      state.workspaces = null;
      render();
    },
  });
  const config = await fetch("/console/config.json").then((r) => r.json()).catch(() => ({}));
  state.permissions = config.permissions || {};
  state.config = { networks: config.networks || [], permissions: state.permissions };
  onSessionChange((session) => {
    if (!session) state.workspaces = null;
  });
  window.addEventListener("hashchange", () => render());
  state.focusMain = false;
  await render();
}

/** After sign-in: back to where the user was going, or their home page. */
export async function afterSignIn() {
  state.workspaces = null;
  const target = sessionStorage.getItem("siar.after-signin");
  sessionStorage.removeItem("siar.after-signin");
  if (target && !target.startsWith("#/signin")) location.hash = target;
  else location.hash = "#/";
  await render();
}

/** Forget the cached workspaces (after creating one or accepting an invitation). */
export function workspacesChanged() {
  state.workspaces = null;
}

boot();

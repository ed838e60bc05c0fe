// The console's pages: one line each. A page is `pages/<name>.js` exporting
// `render(root, ctx)` (and optionally `strings`); see the contract at the top of app.js.
// `permission` hides the page (and its nav link) from roles without it; `nav: false` pages
// are reached by links only. Keep one line per page so parallel edits merge cleanly.

export const ROUTES = [
  { name: "calendar", module: "./pages/calendar.js", label: "nav.calendar", permission: "posts.read" },
  { name: "composer", module: "./pages/composer.js", label: "nav.composer", permission: "posts.write" },
  { name: "approvals", module: "./pages/approvals.js", label: "nav.approvals", permission: "posts.read" },
  { name: "inbox", module: "./pages/inbox.js", label: "nav.inbox", permission: "inbox.read" },
  { name: "analytics", module: "./pages/analytics.js", label: "nav.analytics", permission: "reports.read" },
  { name: "accounts", module: "./pages/accounts.js", label: "nav.accounts", permission: "accounts.read" },
  { name: "team", module: "./pages/team.js", label: "nav.team", permission: "workspace.read" },
  { name: "audit", module: "./pages/audit.js", label: "nav.audit", permission: "audit.read" },
  { name: "settings", module: "./pages/settings.js", label: "nav.settings", permission: "workspace.read" },
  { name: "workspaces", module: "./pages/workspaces.js", label: "nav.workspaces", nav: false },
  { name: "profile", module: "./pages/profile.js", label: "nav.profile", nav: false },
];

// The page a workspace opens on: the first of these the role may see.
export const HOME_ORDER = ["calendar", "inbox", "analytics", "approvals", "accounts"];

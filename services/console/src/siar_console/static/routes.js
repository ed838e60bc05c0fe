// The console's pages: one line each. A page is `pages/<name>.js` exporting
// `render(root, ctx)` (and optionally `strings`); see the contract at the top of app.js.
// `permission` hides the page (and its nav link) from roles without it; `nav: false` pages
// are reached by links only. Keep one line per page so parallel edits merge cleanly.

export const ROUTES = [
  { name: "workspaces", module: "./pages/workspaces.js", label: "nav.workspaces", nav: false },
];

// The page a workspace opens on: the first of these the role may see.
export const HOME_ORDER = ["calendar", "inbox", "analytics", "approvals", "accounts"];

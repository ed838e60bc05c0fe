// The one way pages talk to the services (through the console's /v1 proxy). It attaches
// the bearer token and refreshes it, turns problem+json into an ApiError with per-field
// messages, and rides out a lost connection: a banner says "connection lost — retrying" and
// idempotent calls (GET, HEAD, PUT, DELETE) are retried until the services answer again.

import { accessToken } from "./session.js";

const IDEMPOTENT = new Set(["GET", "HEAD", "PUT", "DELETE"]);
const RETRY_DELAYS_MS = [500, 1000, 2000, 4000, 8000, 8000, 8000, 8000];
const UNREACHABLE = new Set([502, 503, 504]);
const hooks = { banner: () => {}, signedOut: () => {} };

/** Wire the shell's reactions: `banner(on)` and `signedOut()` (session refused). */
export function configure(options) {
  Object.assign(hooks, options);
}

/** A refused call: status, the problem's slug and text, and messages by form field. */
export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
    this.kind = String(problem.type || "").replace("urn:siar:problem:", "") || "http-error";
    this.fields = fieldErrors(problem);
  }
}

/** Field name → message, from FastAPI's `errors[].loc` (the first part names where). */
export function fieldErrors(problem) {
  const fields = {};
  for (const err of problem.errors || []) {
    const loc = (err.loc || []).filter((p) => !["body", "query", "path", "header"].includes(p));
    const name = loc.join(".") || "_";
    fields[name] ??= err.msg;
  }
  return fields;
}

function url(path, query) {
  const u = new URL(path, location.origin);
  for (const [k, v] of Object.entries(query || {})) {
    if (v === undefined || v === null || v === "") continue;
    for (const item of Array.isArray(v) ? v : [v]) u.searchParams.append(k, item);
  }
  return u.pathname + u.search;
}

async function send(method, path, init, attempt = 0, refreshed = false) {
  const headers = { accept: "application/json, application/problem+json", ...init.headers };
  const token = await accessToken().catch(() => null);
  if (token) headers.authorization = `Bearer ${token}`;
  let response;
  try {
    response = await fetch(path, { method, ...init, headers });
  } catch (err) {
    response = null; // the network itself failed: offline, console down
  }
  if (!response || UNREACHABLE.has(response.status)) {
    hooks.banner(true);
    if (IDEMPOTENT.has(method) && attempt < RETRY_DELAYS_MS.length) {
      await new Promise((resolve) => setTimeout(resolve, RETRY_DELAYS_MS[attempt]));
      return send(method, path, init, attempt + 1, refreshed);
    }
    if (!response) throw new ApiError(0, { type: "urn:siar:problem:network", title: "network" });
  } else {
    hooks.banner(false);
  }
  if (response.status === 401 && token && !refreshed) {
    // The token may have been revoked or have just expired: one refresh, one retry.
    const fresh = await accessToken({ force: true }).catch(() => null);
    if (fresh) return send(method, path, init, attempt, true);
    hooks.signedOut();
  }
  return response;
}

async function check(response) {
  if (response.ok) return response;
  const type = response.headers.get("content-type") || "";
  const problem = type.includes("json")
    ? await response.json().catch(() => ({}))
    : { title: await response.text().catch(() => "") };
  throw new ApiError(response.status, problem);
}

async function json(method, path, { body, query, headers } = {}) {
  const init = { headers: { ...headers } };
  if (body !== undefined) {
    init.headers["content-type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await check(await send(method, url(path, query), init));
  if (response.status === 204) return null;
  const type = response.headers.get("content-type") || "";
  return type.includes("json") ? response.json() : response.text();
}

/** The API client passed to every page as ctx.api. */
export const api = {
  get: (path, query) => json("GET", path, { query }),
  post: (path, body, opts = {}) => json("POST", path, { body, ...opts }),
  put: (path, body, opts = {}) => json("PUT", path, { body, ...opts }),
  patch: (path, body, opts = {}) => json("PATCH", path, { body, ...opts }),
  del: (path, opts = {}) => json("DELETE", path, opts),
  /** A multipart upload (FormData), e.g. media; not retried (not idempotent). */
  async upload(path, formData, method = "POST") {
    const response = await check(await send(method, url(path), { body: formData }));
    return response.status === 204 ? null : response.json();
  },
  /** The raw Response of an authorised GET (CSV, PDF, images) — checked for errors. */
  async raw(path, query) {
    return check(await send("GET", url(path, query), {}));
  },
  /** Download an authorised GET as a file named `filename`. */
  async download(path, query, filename) {
    const blob = await (await api.raw(path, query)).blob();
    const link = document.createElement("a");
    link.href = URL.createObjectURL(blob);
    link.download = filename;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
  },
  /** Build a path with a query string (for links and EventSource). */
  url,
};

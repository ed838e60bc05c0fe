// The signed-in session: the vault's access token (short-lived JWT) and refresh token
// (rotated on every use). Kept in sessionStorage: a reload keeps you signed in, closing the
// tab signs you out, and nothing survives in the browser's long-term storage.

const KEY = "siar.session";
let refreshing = null;
const listeners = new Set();

function read() {
  try {
    return JSON.parse(sessionStorage.getItem(KEY) || "null");
  } catch {
    return null;
  }
}

function write(value) {
  if (value) sessionStorage.setItem(KEY, JSON.stringify(value));
  else sessionStorage.removeItem(KEY);
  for (const listener of listeners) listener(value);
}

/** Call `listener(session|null)` whenever the session changes (sign-in, refresh, sign-out). */
export function onSessionChange(listener) {
  listeners.add(listener);
}

/** Whether someone is signed in (a refresh token is held). */
export function signedIn() {
  return Boolean(read()?.refresh);
}

/** The claims of the current access token (sub, ws, …), or null. */
export function claims() {
  const access = read()?.access;
  if (!access) return null;
  try {
    const payload = access.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(atob(payload));
  } catch {
    return null;
  }
}

async function tokenCall(form) {
  let response;
  try {
    response = await fetch("/v1/auth/token", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
      body: new URLSearchParams(form),
    });
  } catch (err) {
    throw Object.assign(new Error("network"), { network: true, cause: err });
  }
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw Object.assign(new Error(body.title || "sign-in failed"), { response, body });
  return body;
}

function store(answer, email) {
  write({
    access: answer.access_token,
    refresh: answer.refresh_token,
    // Refreshed 30 s early so a call never leaves with a token about to expire.
    expiresAt: Date.now() + (answer.expires_in - 30) * 1000,
    email: email ?? read()?.email,
  });
}

/** Sign in with email and password (and a two-factor code when the account has one). */
export async function signIn(email, password, totp) {
  const form = { grant_type: "password", username: email, password };
  if (totp) form.totp = totp;
  store(await tokenCall(form), email);
}

/** A valid access token, refreshing it first when it is about to expire; null if signed out. */
export async function accessToken({ force = false } = {}) {
  const session = read();
  if (!session?.refresh) return null;
  if (!force && session.access && Date.now() < session.expiresAt) return session.access;
  // One refresh at a time: refresh tokens rotate, so a second use of the old one would fail.
  refreshing ??= (async () => {
    try {
      store(await tokenCall({ grant_type: "refresh_token", refresh_token: session.refresh }));
      return read().access;
    } catch (err) {
      if (!err.network) write(null); // refused: the session is over
      throw err;
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}

/** Sign out: the refresh token is revoked at the vault and forgotten here. */
export async function signOut() {
  const session = read();
  write(null);
  if (session?.refresh) {
    await fetch("/v1/auth/revoke", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ token: session.refresh }),
    }).catch(() => {});
  }
}

/** The signed-in email, for the header. */
export function email() {
  return read()?.email ?? "";
}

"""A Mastodon instance's OAuth 2.0 server and account API, over real HTTP, for tests.

Built from Mastodon's documented requests and answers (docs.joinmastodon.org:
methods/oauth, methods/accounts#verify_credentials, methods/notifications), with
Doorkeeper's error shapes:

- ``GET /oauth/authorize`` checks ``response_type=code``, the app's ``client_id``, that
  ``redirect_uri`` is one the app registered, the scopes, and that a PKCE challenge
  comes with ``code_challenge_method=S256``; it then shows a consent page whose
  Authorize/Deny buttons ``POST /oauth/authorize`` and redirect to ``redirect_uri``
  with ``code`` and ``state`` (or ``error=access_denied``).
- ``POST /oauth/token`` (``grant_type=authorization_code``) authenticates the client
  (``client_secret_post`` or Basic), spends the code once, checks ``redirect_uri`` and
  the PKCE ``code_verifier`` against the challenge, and answers
  ``{access_token, token_type, scope, created_at}`` — Mastodon tokens never expire.
- ``POST /oauth/revoke`` (the client's id and secret, the ``token``) revokes a token,
  as a person does under Settings → Account → Authorized apps.
- ``GET /api/v1/accounts/verify_credentials``, ``GET /api/v1/notifications``,
  ``POST /api/v1/statuses`` (with ``Idempotency-Key``) and ``GET /api/v1/statuses/:id``
  want the token as ``Authorization: Bearer``; a revoked or unknown one gets 401
  ``{"error": "The access token is invalid"}``.

Every request is recorded (method, path, query, form, authorization) for assertions.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx

from siar.connectors.mastodon import SCOPES as MASTODON_SCOPES

# The scopes Siar's app registers with (``POST /api/v1/apps``), so the ones it may ask for.
SCOPES = frozenset(MASTODON_SCOPES)
INVALID_GRANT = (
    "The provided authorization grant is invalid, expired, revoked, does not match the "
    "redirection URI used in the authorization request, or was issued to another client."
)
INVALID_CLIENT = (
    "Client authentication failed due to unknown client, no client authentication "
    "included, or unsupported authentication method."
)


@dataclass
class Seen:
    """One request the instance received."""

    method: str
    path: str
    query: dict[str, str]
    form: dict[str, str]
    authorization: str | None


@dataclass
class Grant:
    """An authorization code waiting to be exchanged."""

    client_id: str
    redirect_uri: str
    scope: str
    challenge: str | None
    spent: bool = False


@dataclass
class FakeMastodon:
    """The instance's state: one registered app, one account, codes and tokens."""

    client_id: str = field(default_factory=lambda: secrets.token_urlsafe(16))
    client_secret: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    redirect_uris: set[str] = field(default_factory=set)
    account: dict[str, Any] = field(
        default_factory=lambda: {
            "id": "109876543210",
            "username": "siarbrand",
            "acct": "siarbrand",
            "display_name": "Siar Brand",
            "locked": False,
            "bot": False,
            "created_at": "2024-01-02T03:04:05.000Z",
            "note": "",
            "followers_count": 42,
            "following_count": 7,
            "statuses_count": 3,
        }
    )
    codes: dict[str, Grant] = field(default_factory=dict)
    tokens: set[str] = field(default_factory=set)
    statuses: dict[str, dict[str, Any]] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None

    @property
    def base(self) -> str:
        """``http://127.0.0.1:<port>``, the instance URL the vault is given."""
        assert self.server is not None
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def revoke_form(self, token: str) -> dict[str, str]:
        """The ``POST /oauth/revoke`` form that takes ``token`` back (the app's own call)."""
        return {"client_id": self.client_id, "client_secret": self.client_secret, "token": token}

    def allow_redirect(self, uri: str) -> None:
        """Add a redirect URI to the app (as ``redirect_uris`` at registration)."""
        self.redirect_uris.add(uri)

    def requests(self, path: str) -> list[Seen]:
        """The requests received for ``path`` so far."""
        with self.lock:
            return [s for s in self.seen if s.path == path]

    async def decide(
        self, http: httpx.AsyncClient, authorize_url: str, decision: str = "approve"
    ) -> str:
        """What a person's browser does on the consent page: where it is sent back to."""
        page = await http.get(authorize_url)
        assert page.status_code == 200, page.text
        assert "Authorization required" in page.text
        form = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', page.text))
        answer = await http.post(
            f"{self.base}/oauth/authorize", data={**form, "decision": decision}
        )
        assert answer.status_code == 302, answer.text
        return answer.headers["location"]

    def start(self) -> FakeMastodon:
        """Listen on a free local port in a daemon thread."""
        instance = self

        class Handler(_Handler):
            fake = instance

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        """Stop listening."""
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    # -- the OAuth server --------------------------------------------------------------
    def authorize_problem(self, query: dict[str, str]) -> str | None:
        """Why an authorize request is refused before any redirect (Doorkeeper's page)."""
        if query.get("client_id") != self.client_id:
            return "Client authentication failed due to unknown client."
        if query.get("redirect_uri") not in self.redirect_uris:
            return "The redirect uri included is not valid."
        if query.get("response_type") != "code":
            return "The authorization server does not support this response type."
        if "code_challenge" in query and query.get("code_challenge_method") != "S256":
            return "The code challenge method must be S256."
        return None

    def grant(self, query: dict[str, str]) -> str:
        """A fresh authorization code for an approved request."""
        code = secrets.token_urlsafe(32)
        with self.lock:
            self.codes[code] = Grant(
                client_id=query["client_id"],
                redirect_uri=query["redirect_uri"],
                scope=query.get("scope") or "read",
                challenge=query.get("code_challenge"),
            )
        return code

    def token(self, form: dict[str, str], basic: tuple[str, str] | None) -> tuple[int, Any]:
        """The token endpoint's status and JSON answer."""
        client_id, secret = basic or (form.get("client_id"), form.get("client_secret"))
        if client_id != self.client_id or secret != self.client_secret:
            return 401, {"error": "invalid_client", "error_description": INVALID_CLIENT}
        if form.get("grant_type") != "authorization_code":
            return 400, {"error": "unsupported_grant_type"}
        with self.lock:
            grant = self.codes.get(form.get("code", ""))
            usable = grant is not None and not grant.spent and grant.client_id == client_id
            if grant is not None:
                grant.spent = True
        if not usable or grant is None or form.get("redirect_uri") != grant.redirect_uri:
            return 400, {"error": "invalid_grant", "error_description": INVALID_GRANT}
        if grant.challenge is not None and s256(form.get("code_verifier", "")) != grant.challenge:
            return 400, {"error": "invalid_grant", "error_description": INVALID_GRANT}
        access = secrets.token_urlsafe(32)
        with self.lock:
            self.tokens.add(access)
        body = {
            "access_token": access,
            "token_type": "Bearer",
            "scope": grant.scope,
            "created_at": int(time.time()),
        }
        return 200, body

    def revoke(self, form: dict[str, str], basic: tuple[str, str] | None) -> tuple[int, Any]:
        """The revoke endpoint: the app's own client, then the token forgotten."""
        client_id, secret = basic or (form.get("client_id"), form.get("client_secret"))
        if client_id != self.client_id or secret != self.client_secret:
            return 403, {"error": "unauthorized_client", "error_description": INVALID_CLIENT}
        with self.lock:
            self.tokens.discard(form.get("token", ""))
        return 200, {}

    def post_status(self, body: dict[str, Any], key: str | None) -> dict[str, Any]:
        """Create a status (or, for an Idempotency-Key seen before, return that one)."""
        with self.lock:
            for status in self.statuses.values():
                if key and status["_key"] == key:
                    return status
            status_id = str(110_000_000_000_000 + len(self.statuses))
            status = {
                "id": status_id,
                "_key": key,
                "created_at": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
                "in_reply_to_id": body.get("in_reply_to_id"),
                "visibility": body.get("visibility", "public"),
                "content": f"<p>{html.escape(str(body.get('status', '')))}</p>",
                "url": f"{self.base}/@{self.account['username']}/{status_id}",
                "favourites_count": 0,
                "reblogs_count": 0,
                "replies_count": 0,
                "account": self.account,
            }
            self.statuses[status_id] = status
            return status

    def scopes_ok(self, scope: str) -> bool:
        """Whether every requested scope is one the app registered."""
        return set(scope.split()) <= SCOPES


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


CONSENT_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Authorization required</title></head>
<body><main>
<h1>Authorization required</h1>
<p><strong>Siar</strong> would like permission to access your account
<strong>@{acct}</strong>. It is a third-party application.</p>
<p>Scopes: {scope}</p>
<form method="post" action="/oauth/authorize">{fields}
<button type="submit" name="decision" value="approve">Authorize</button>
<button type="submit" name="decision" value="deny">Deny</button>
</form></main></body></html>"""


class _Handler(BaseHTTPRequestHandler):
    fake: FakeMastodon

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the test records requests itself."""

    def _record(self, form: dict[str, str]) -> tuple[str, dict[str, str]]:
        url = urlsplit(self.path)
        query = dict(parse_qsl(url.query))
        seen = Seen(self.command, url.path, query, form, self.headers.get("authorization"))
        with self.fake.lock:
            self.fake.seen.append(seen)
        return url.path, query

    def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        raw = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        self.send_response(status)
        kind = "text/html" if isinstance(body, str) else "application/json"
        self.send_header("content-type", f"{kind}; charset=utf-8")
        self.send_header("content-length", str(len(raw)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(raw)

    def _redirect(self, uri: str, params: dict[str, str]) -> None:
        separator = "&" if "?" in uri else "?"
        self._send(302, "", {"location": uri + separator + urlencode(params)})

    def do_GET(self) -> None:
        path, query = self._record({})
        if path == "/oauth/authorize":
            self._authorize_page(query)
        elif path.startswith("/api/"):
            self._api(path)
        else:
            self._send(404, {"error": "Record not found"})

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length).decode()
        is_json = (self.headers.get("content-type") or "").startswith("application/json")
        form = {} if is_json else dict(parse_qsl(raw))
        path, _ = self._record(form)
        basic = _basic(self.headers.get("authorization"))
        if path == "/oauth/authorize":
            self._decide(form)
        elif path == "/oauth/token":
            status, body = self.fake.token(form, basic)
            self._send(status, body, {"cache-control": "no-store"})
        elif path == "/oauth/revoke":
            self._send(*self.fake.revoke(form, basic))
        elif path.startswith("/api/"):
            self._api(path, json.loads(raw) if is_json and raw else {})
        else:
            self._send(404, {"error": "Record not found"})

    def _authorize_page(self, query: dict[str, str]) -> None:
        problem = self.fake.authorize_problem(query)
        if problem:
            self._send(400, f"<!doctype html><title>Error</title><p>{html.escape(problem)}</p>")
            return
        if not self.fake.scopes_ok(query.get("scope", "read")):
            self._redirect(query["redirect_uri"], _error("invalid_scope", query))
            return
        fields = "".join(
            f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
            for k, v in query.items()
        )
        page = CONSENT_PAGE.format(
            acct=html.escape(self.fake.account["acct"]),
            scope=html.escape(query.get("scope", "read")),
            fields=fields,
        )
        self._send(200, page)

    def _decide(self, form: dict[str, str]) -> None:
        query = {k: v for k, v in form.items() if k != "decision"}
        problem = self.fake.authorize_problem(query)
        if problem:
            self._send(400, f"<!doctype html><title>Error</title><p>{html.escape(problem)}</p>")
        elif form.get("decision") != "approve":
            self._redirect(query["redirect_uri"], _error("access_denied", query))
        else:
            params = {"code": self.fake.grant(query)}
            if "state" in query:
                params["state"] = query["state"]
            self._redirect(query["redirect_uri"], params)

    def _api(self, path: str, body: dict[str, Any] | None = None) -> None:
        header = self.headers.get("authorization") or ""
        token = header.removeprefix("Bearer ")
        status_id = path.removeprefix("/api/v1/statuses/")
        if not header.startswith("Bearer ") or token not in self.fake.tokens:
            self._send(401, {"error": "The access token is invalid"})
        elif path == "/api/v1/accounts/verify_credentials":
            account = {**self.fake.account, "url": f"{self.fake.base}/@siarbrand"}
            self._send(200, account)
        elif path == "/api/v1/notifications":
            self._send(200, [])
        elif path == "/api/v1/statuses" and body is not None:
            status = self.fake.post_status(body, self.headers.get("idempotency-key"))
            self._send(200, {k: v for k, v in status.items() if k != "_key"})
        elif status_id in self.fake.statuses:
            status = self.fake.statuses[status_id]
            self._send(200, {k: v for k, v in status.items() if k != "_key"})
        else:
            self._send(404, {"error": "Record not found"})


def _error(code: str, query: dict[str, str]) -> dict[str, str]:
    descriptions = {
        "access_denied": "The resource owner or authorization server denied the request.",
        "invalid_scope": "The requested scope is invalid, unknown, or malformed.",
    }
    params = {"error": code, "error_description": descriptions[code]}
    if "state" in query:
        params["state"] = query["state"]
    return params


def _basic(header: str | None) -> tuple[str, str] | None:
    if not header or not header.startswith("Basic "):
        return None
    user, _, password = base64.b64decode(header.removeprefix("Basic ")).decode().partition(":")
    return user, password

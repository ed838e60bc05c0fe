"""What Facebook Pages, Instagram and Threads share: Meta's Graph API conventions.

Graph errors come as ``{"error": {"message", "type", "code", "error_subcode",
"is_transient", "error_user_msg", "fbtrace_id"}}``, usually with HTTP 400 whatever
the cause, so the class of a failure is read from the codes (Graph API "Handling
errors" guide): 190/102 mean the token is expired or revoked, 4/17/32/341/613 and
80001-80009 are throttling, 1/2 and ``is_transient`` are temporary. Throttled calls
carry no Retry-After; ``X-Business-Use-Case-Usage`` tells the minutes to wait.
Webhooks are signed with ``X-Hub-Signature-256`` (HMAC-SHA256 of the raw body with
the app secret); a subscription is confirmed by echoing ``hub.challenge``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
from pydantic import SecretStr

from siar.connectors.errors import (
    AuthExpiredError,
    ConnectorError,
    PermanentError,
    RateLimitedError,
    RetryableError,
)
from siar.connectors.http import OAuthClient, retry_after_s
from siar.connectors.models import FetchedMessage, Page, PublishedPost, TokenGrant
from siar.connectors.rules import OAuthConfig

GRAPH_HOST = "https://graph.facebook.com"
GRAPH_VERSION = "v24.0"
MB = 1024 * 1024

AUTH_CODES = frozenset({102, 190})
RATE_CODES = frozenset({4, 17, 32, 341, 613, *range(80001, 80010)})
TRANSIENT_CODES = frozenset({-2, -1, 1, 2})
# Instagram subcodes whose documented remedy is "try again" (with a new container).
RETRY_SUBCODES = frozenset({2207001, 2207003, 2207008, 2207020, 2207027, 2207032, 2207053})
# 2207042: the account reached its daily content publishing limit.
RATE_SUBCODES = frozenset({2207042})
USAGE_HEADERS = ("x-business-use-case-usage", "x-page-usage", "x-ad-account-usage")


@dataclass(frozen=True)
class GraphError:
    """The ``error`` object of a Graph API answer."""

    code: int | None
    subcode: int | None
    message: str
    user_message: str | None = None
    transient: bool = False

    @classmethod
    def of(cls, body: Any) -> GraphError | None:
        """The error in ``body``, if it carries one."""
        error = body.get("error") if isinstance(body, dict) else None
        if not isinstance(error, dict):
            return None
        user = error.get("error_user_msg")
        return cls(
            code=_int(error.get("code")),
            subcode=_int(error.get("error_subcode")),
            message=str(error.get("message") or "unknown error"),
            user_message=user if isinstance(user, str) and user else None,
            transient=error.get("is_transient") is True,
        )

    def describe(self) -> str:
        """The network's message (and its message for people) with the codes."""
        text = self.message
        if self.user_message and self.user_message not in text:
            text = f"{text} ({self.user_message})"
        codes = "/".join(str(c) for c in (self.code, self.subcode) if c is not None)
        return f"{text} [code {codes}]" if codes else text


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def usage_retry_after_s(response: httpx.Response | None) -> float | None:
    """Seconds to wait from Retry-After or the usage headers' estimated_time_to_regain_access."""
    if response is None:
        return None
    explicit = retry_after_s(response)
    if explicit is not None:
        return explicit
    minutes: list[float] = []
    for header in USAGE_HEADERS:
        raw = response.headers.get(header)
        if not raw:
            continue
        try:
            parsed = json.loads(raw)
        except json.JSONDecodeError:
            continue
        if not isinstance(parsed, dict):
            continue
        entries = [e for v in parsed.values() for e in (v if isinstance(v, list) else [v])]
        for entry in [parsed, *entries]:
            value = (
                entry.get("estimated_time_to_regain_access") if isinstance(entry, dict) else None
            )
            if isinstance(value, int | float) and value > 0:
                minutes.append(float(value))
    return max(minutes) * 60 if minutes else None


def classify_graph_error(
    where: str, status: int, body: Any, response: httpx.Response | None
) -> ConnectorError | None:
    """The error a Graph error body means, or None when the body carries none."""
    error = GraphError.of(body)
    if error is None:
        return None
    reason = error.describe()
    if error.code in AUTH_CODES:
        return AuthExpiredError(f"{where} rejected the account's token: {reason}")
    if error.code in RATE_CODES or error.subcode in RATE_SUBCODES or status == 429:
        return RateLimitedError(
            f"{where} rate limit reached: {reason}", retry_after_s=usage_retry_after_s(response)
        )
    if (
        error.transient
        or error.code in TRANSIENT_CODES
        or error.subcode in RETRY_SUBCODES
        or status >= 500
    ):
        return RetryableError(f"{where} had a temporary error: {reason}")
    if status == 401:
        return AuthExpiredError(f"{where} rejected the account's token: {reason}")
    return PermanentError(f"{where} refused the request ({status}): {reason}")


def appsecret_proof(access_token: str, app_secret: str) -> str:
    """HMAC-SHA256 of the access token keyed with the app secret, hex-encoded."""
    return hmac.new(app_secret.encode(), access_token.encode(), hashlib.sha256).hexdigest()


def verify_signature(headers: Mapping[str, str], body: bytes, app_secret: str) -> bool:
    """Whether ``X-Hub-Signature-256`` is ``sha256=`` + HMAC-SHA256(body, app secret)."""
    lowered = {k.lower(): v for k, v in headers.items()}
    signature = lowered.get("x-hub-signature-256", "")
    if not signature.startswith("sha256=") or not app_secret:
        return False
    expected = hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    given = signature.removeprefix("sha256=").lower().encode()
    return hmac.compare_digest(given, expected.encode())


def subscription_challenge(query: Mapping[str, str], verify_token: str) -> str | None:
    """The ``hub.challenge`` to echo when Meta verifies a webhook subscription, else None."""
    if query.get("hub.mode") != "subscribe" or not verify_token:
        return None
    if not hmac.compare_digest(query.get("hub.verify_token", "").encode(), verify_token.encode()):
        return None
    return query.get("hub.challenge")


def facebook_login(scopes: tuple[str, ...], version: str = GRAPH_VERSION) -> OAuthConfig:
    """Facebook Login: no refresh tokens (long-lived tokens last ~60 days; Page tokens don't
    expire), scopes joined with commas; the code exchange uses the app secret, not PKCE."""
    return OAuthConfig(
        authorize_url=f"https://www.facebook.com/{version}/dialog/oauth",
        token_url=f"{GRAPH_HOST}/{version}/oauth/access_token",
        scopes=scopes,
        pkce=False,
        refreshable=False,
        scope_separator=",",
    )


def token_grant(body: Any, where: str, *, keep_as_refresh: bool = False) -> TokenGrant:
    """A TokenGrant from a Meta token answer (``keep_as_refresh``: the token refreshes itself)."""
    if not isinstance(body, dict) or not isinstance(body.get("access_token"), str):
        raise PermanentError(f"{where} gave no access token")
    token = SecretStr(body["access_token"])
    expires = body.get("expires_in")
    return TokenGrant(
        access_token=token,
        refresh_token=token if keep_as_refresh else None,
        expires_in_s=int(expires) if isinstance(expires, int | float) else None,
    )


class FacebookLoginClient(OAuthClient):
    """Facebook Login's code exchange (GET), followed by the trade for a long-lived token."""

    async def _get(self, params: dict[str, str]) -> TokenGrant:
        body = await self.connector.call(
            "GET",
            self.config.token_url,
            params={**params, "client_id": self.client_id, "client_secret": self.client_secret},
        )
        return token_grant(body, self.connector.display_name)

    async def exchange_code(
        self, *, code: str, redirect_uri: str, code_verifier: str | None
    ) -> TokenGrant:
        """A long-lived user token for an authorization code."""
        params = {"code": code, "redirect_uri": redirect_uri}
        if code_verifier:
            params["code_verifier"] = code_verifier
        short = await self._get(params)
        return await self.long_lived(short.access_token.get_secret_value())

    async def long_lived(self, short_lived_token: str) -> TokenGrant:
        """Trade a short-lived user token for a long-lived one (about 60 days)."""
        return await self._get(
            {"grant_type": "fb_exchange_token", "fb_exchange_token": short_lived_token}
        )

    async def refresh(self, refresh_token: str) -> TokenGrant:
        """Facebook Login has no refresh grant: the account must be connected again."""
        raise PermanentError(
            f"{self.connector.display_name} tokens cannot be refreshed; reconnect the account"
        )


def parse_time(value: Any) -> datetime | None:
    """A Graph timestamp (``2024-05-01T10:00:00+0000``) as an aware UTC datetime."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def same_text(found: Any, wanted: str) -> bool:
    """Whether a post's text is the text we sent (Meta may trim or normalise line ends)."""
    if not isinstance(found, str):
        return not wanted.strip()
    return found.replace("\r\n", "\n").strip() == wanted.replace("\r\n", "\n").strip()


def encode_cursor(at: datetime, message_id: str) -> str:
    """A fetch cursor: the time and id of the newest message seen."""
    return f"{int(at.timestamp())}|{message_id}"


def after_cursor(cursor: str | None, at: datetime, message_id: str) -> bool:
    """Whether a message at ``at`` with ``message_id`` is newer than ``cursor``."""
    if not cursor:
        return True
    stamp, _, last_id = cursor.partition("|")
    try:
        seen = int(stamp)
    except ValueError:
        return True
    now = int(at.timestamp())
    # Graph ids are decimal strings: compare them as numbers would compare.
    return now > seen or (now == seen and (len(message_id), message_id) > (len(last_id), last_id))


def insight_values(body: dict[str, Any]) -> dict[str, float]:
    """Metric name → value from an insights answer (``total_value`` or the last ``values``)."""
    found: dict[str, float] = {}
    for row in body.get("data") or []:
        if not isinstance(row, dict) or not isinstance(row.get("name"), str):
            continue
        total = row.get("total_value")
        values = row.get("values")
        value: Any = None
        if isinstance(total, dict):
            value = total.get("value")
        elif isinstance(values, list) and values and isinstance(values[-1], dict):
            value = values[-1].get("value")
        if isinstance(value, dict):  # breakdowns by type: their sum is the metric
            value = sum(v for v in value.values() if isinstance(v, int | float))
        if isinstance(value, int | float) and not isinstance(value, bool):
            found[row["name"]] = float(value)
    return found


def receipt_of(post_id: str, link: Any, at: datetime) -> PublishedPost:
    """A receipt from Graph fields (a permalink only when Meta gave one as text)."""
    return PublishedPost(
        network_post_id=post_id,
        permalink=link if isinstance(link, str) else None,
        published_at=at,
    )


def nodes(body: Any, edge: str | None = None) -> list[dict[str, Any]]:
    """The objects (those with an id) of a Graph list, or of ``edge`` expanded on an object."""
    if edge is not None:
        body = body.get(edge) if isinstance(body, dict) else None
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, list):
        return []
    return [n for n in data if isinstance(n, dict) and isinstance(n.get("id"), str | int)]


def message_page(found: list[FetchedMessage], cursor: str | None) -> Page:
    """Fetched messages oldest first, with the cursor moved to the newest of them."""
    found.sort(key=lambda m: (m.sent_at, len(m.network_message_id), m.network_message_id))
    if not found:
        return Page(messages=[], cursor=cursor)
    newest = found[-1]
    return Page(messages=found, cursor=encode_cursor(newest.sent_at, newest.network_message_id))


def quota(body: dict[str, Any], usage_key: str, config_key: str, default: int) -> tuple[int, int]:
    """(used, allowed) from a publishing-limit answer (``data[0]`` with usage and config)."""
    rows = body.get("data")
    row = rows[0] if isinstance(rows, list) and rows and isinstance(rows[0], dict) else {}
    config = row.get(config_key)
    usage = row.get(usage_key)
    total = config.get("quota_total") if isinstance(config, dict) else None
    return (
        usage if isinstance(usage, int) else 0,
        total if isinstance(total, int) and total > 0 else default,
    )

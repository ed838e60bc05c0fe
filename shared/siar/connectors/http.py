"""HTTP plumbing every real connector shares: deadlines and error classification.

A network can fail in many ways; each becomes one :class:`ConnectorError`:
timeouts, connection errors, 5xx and garbage (HTML, truncated JSON) are retryable;
429 is rate-limited with its Retry-After; 401 means the token expired or was
revoked; other 4xx are permanent, with the network's own message as the reason;
a 2xx whose body carries an error is classified by the connector's ``body_error``.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import urlencode

import httpx
from pydantic import SecretStr

from siar.connectors.base import Connector
from siar.connectors.errors import (
    AuthExpiredError,
    ConnectorError,
    OutcomeUnknownError,
    PermanentError,
    RateLimitedError,
    RetryableError,
)
from siar.connectors.models import AppCredentials, Credential, TokenGrant

DEFAULT_TIMEOUT = httpx.Timeout(connect=5.0, read=30.0, write=60.0, pool=5.0)
MAX_ERROR_TEXT = 300


def retry_after_s(response: httpx.Response) -> float | None:
    """Seconds to wait from Retry-After (seconds or HTTP date) or common reset headers."""
    value = response.headers.get("retry-after")
    if value:
        try:
            return max(0.0, float(value))
        except ValueError:
            parsed = email.utils.parsedate_to_datetime(value)
            if parsed is not None:
                return max(0.0, (parsed - datetime.now(UTC)).total_seconds())
    for header in ("x-rate-limit-reset", "x-ratelimit-reset", "ratelimit-reset"):
        reset = response.headers.get(header)
        if reset and reset.replace(".", "", 1).isdigit():
            number = float(reset)
            # Epoch seconds (X, Mastodon-style) or seconds from now (IETF draft).
            wait = number - datetime.now(UTC).timestamp() if number > 1e9 else number
            return max(0.0, wait)
    return None


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_ERROR_TEXT else text[: MAX_ERROR_TEXT - 1] + "…"


class HttpConnector(Connector):
    """Base of connectors that talk to a network's HTTP API with httpx."""

    api_base: str = ""
    oauth_client_type: ClassVar[type[OAuthClient]]
    """The token-endpoint client; a network whose endpoint deviates sets its own."""
    call_deadline_s: float = 60.0
    upload_deadline_s: float = 600.0

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    # -- hooks a network overrides -------------------------------------------------
    def error_reason(self, status: int, body: Any) -> str | None:
        """The network's own error message in an error response, if it has one."""
        if isinstance(body, dict):
            for key in ("error_description", "message", "detail", "error", "title"):
                value = body.get(key)
                if isinstance(value, str) and value:
                    return value
                if isinstance(value, dict) and isinstance(value.get("message"), str):
                    return str(value["message"])
        return None

    def body_error(self, body: Any) -> ConnectorError | None:
        """An error carried by a 2xx body (some APIs answer 200 with an error)."""
        return None

    def classify(self, status: int, body: Any, response: httpx.Response) -> ConnectorError:
        """The error an HTTP error status means on this network."""
        reason = self.error_reason(status, body) or f"HTTP {status}"
        where = self.display_name
        if status == 429:
            return RateLimitedError(
                f"{where} rate limit reached: {_short(reason)}",
                retry_after_s=retry_after_s(response),
            )
        if status == 401:
            return AuthExpiredError(f"{where} rejected the account's token: {_short(reason)}")
        if status >= 500 or status in (408, 425):
            return RetryableError(
                f"{where} had a server error ({status}): {_short(reason)}",
                retry_after_s=retry_after_s(response),
            )
        return PermanentError(f"{where} refused the request ({status}): {_short(reason)}")

    def oauth_client(self, app: AppCredentials) -> OAuthClient:
        """This network's token-endpoint client for Siar's app."""
        client_type = getattr(type(self), "oauth_client_type", OAuthClient)
        return client_type(self, app.client_id, app.client_secret.get_secret_value())

    def authorize_url(
        self, app: AppCredentials, *, redirect_uri: str, state: str, code_challenge: str | None
    ) -> str:
        """Where to send a person to grant Siar access (authorization-code flow)."""
        if self.oauth is None:
            raise PermanentError(f"{self.display_name} does not connect with OAuth")
        params = {
            "response_type": "code",
            self.oauth.client_id_param: app.client_id,
            "redirect_uri": redirect_uri,
            "scope": self.oauth.scope_separator.join(self.oauth.scopes),
            "state": state,
            **self.oauth.extra_authorize_params,
        }
        if self.oauth.pkce and code_challenge:
            params["code_challenge"] = code_challenge
            params["code_challenge_method"] = "S256"
        separator = "&" if "?" in self.oauth.authorize_url else "?"
        return self.oauth.authorize_url + separator + urlencode(params)

    async def refresh_credential(
        self, credential: Credential, app: AppCredentials | None
    ) -> Credential:
        """OAuth refresh at the network's token endpoint, keeping what the grant omits."""
        refresh = credential.refresh_token
        if self.oauth is None or not self.oauth.refreshable or refresh is None or app is None:
            return await super().refresh_credential(credential, app)
        grant = await self.oauth_client(app).refresh(refresh.get_secret_value())
        expires = (
            datetime.now(UTC) + timedelta(seconds=grant.expires_in_s)
            if grant.expires_in_s
            else None
        )
        return Credential(
            access_token=grant.access_token,
            refresh_token=grant.refresh_token or refresh,
            expires_at=expires,
            extra=credential.extra,
        )

    # -- the call --------------------------------------------------------------------
    def auth_headers(self, credential: Credential | None) -> dict[str, str]:
        """Headers that authenticate a call (Bearer by default)."""
        if credential is None:
            return {}
        return {"authorization": f"Bearer {credential.access_token.get_secret_value()}"}

    async def call(
        self,
        method: str,
        url: str,
        *,
        credential: Credential | None = None,
        expect_json: bool = True,
        deadline_s: float | None = None,
        headers: dict[str, str] | None = None,
        creates: bool = False,
        **kwargs: Any,
    ) -> Any:
        """Make one request and return its JSON (or raw response); raise classified errors.

        ``deadline_s`` bounds the whole exchange, so a server that trickles bytes
        (slow loris) cannot hold a delivery longer than that. With ``creates`` (the call
        that makes the post), a failure after the request may have reached the network
        is an :class:`OutcomeUnknownError`, so the publisher looks before retrying.
        """
        full = url if url.startswith("http") else self.api_base + url
        merged = {**self.auth_headers(credential), **(headers or {})}
        unknown = OutcomeUnknownError if creates else RetryableError
        try:
            async with asyncio.timeout(deadline_s or self.call_deadline_s):
                response = await self.http.request(
                    method, full, headers=merged, timeout=DEFAULT_TIMEOUT, **kwargs
                )
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as err:
            # Never sent: retrying cannot duplicate anything.
            raise RetryableError(
                f"could not reach {self.display_name}: {type(err).__name__}"
            ) from err
        except (TimeoutError, httpx.TimeoutException) as err:
            raise unknown(f"{self.display_name} did not answer in time") from err
        except httpx.TransportError as err:
            raise unknown(
                f"the connection to {self.display_name} failed: {type(err).__name__}"
            ) from err
        body = self._decode(response)
        if response.status_code >= 400:
            refused = self.classify(response.status_code, body, response)
            if creates and response.status_code >= 500:
                raise OutcomeUnknownError(refused.reason, retry_after_s=refused.retry_after_s)
            raise refused
        if not expect_json:
            return response
        if body is None and response.status_code != 204:
            raise RetryableError(
                f"{self.display_name} answered with something that is not JSON "
                f"(HTTP {response.status_code}, {response.headers.get('content-type', '?')})"
            )
        error = self.body_error(body)
        if error is not None:
            raise error
        return body

    @staticmethod
    def _decode(response: httpx.Response) -> Any:
        if not response.content:
            return None
        try:
            return json.loads(response.content)
        except (json.JSONDecodeError, UnicodeDecodeError):
            return None


def _seconds(value: Any) -> int | None:
    """``expires_in`` as whole seconds; some networks send it as a string."""
    try:
        return int(float(value))
    except (TypeError, ValueError):
        return None


class OAuthClient:
    """RFC 6749 code exchange and refresh against a connector's token endpoint."""

    def __init__(self, connector: HttpConnector, client_id: str, client_secret: str) -> None:
        if connector.oauth is None:
            raise ValueError(f"{connector.display_name} does not connect with OAuth")
        self.connector = connector
        self.config = connector.oauth
        self.client_id = client_id
        self.client_secret = client_secret

    async def _token(self, form: dict[str, str]) -> TokenGrant:
        body = await self.connector.call(
            "POST",
            self.config.token_url,
            data={**form, "client_id": self.client_id, "client_secret": self.client_secret},
            headers={"accept": "application/json"},
        )
        if not isinstance(body, dict) or not isinstance(body.get("access_token"), str):
            raise PermanentError(f"{self.connector.display_name} gave no access token")
        expires = body.get("expires_in")
        return TokenGrant(
            access_token=SecretStr(body["access_token"]),
            refresh_token=SecretStr(body["refresh_token"])
            if isinstance(body.get("refresh_token"), str)
            else None,
            expires_in_s=int(expires)
            if isinstance(expires, int | float | str) and str(expires).isdigit()
            else None,
            scope=body.get("scope") if isinstance(body.get("scope"), str) else None,
        )

    async def exchange_code(
        self, *, code: str, redirect_uri: str, code_verifier: str | None
    ) -> TokenGrant:
        """Trade an authorization code (and its PKCE verifier) for tokens."""
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
        if code_verifier:
            form["code_verifier"] = code_verifier
        return await self._token(form)

    async def refresh(self, refresh_token: str) -> TokenGrant:
        """A new access token from a refresh token."""
        return await self._token({"grant_type": "refresh_token", "refresh_token": refresh_token})

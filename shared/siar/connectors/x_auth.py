"""X OAuth 2.0 token exchange and webhook (Account Activity) signatures.

X's token endpoint wants confidential clients to authenticate with HTTP Basic
(``client_id:client_secret``), not with the secret in the form. Webhooks are proven
by a CRC challenge and signed with ``x-twitter-webhooks-signature``: ``sha256=`` and
the base64 HMAC-SHA256 of the raw body under the app's consumer secret.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from urllib.parse import quote_plus

from pydantic import SecretStr

from siar.connectors.errors import PermanentError
from siar.connectors.http import OAuthClient
from siar.connectors.models import TokenGrant

SIGNATURE_HEADER = "x-twitter-webhooks-signature"


def _sign(secret: str, message: bytes) -> str:
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return "sha256=" + base64.b64encode(digest).decode()


def crc_response(crc_token: str, consumer_secret: str) -> dict[str, str]:
    """The JSON body that answers X's webhook CRC challenge (``GET ?crc_token=``)."""
    return {"response_token": _sign(consumer_secret, crc_token.encode())}


def signature_valid(headers: Mapping[str, str], body: bytes, consumer_secret: str) -> bool:
    """Whether the webhook call carries X's signature of ``body``."""
    lowered = {key.lower(): value for key, value in headers.items()}
    given = lowered.get(SIGNATURE_HEADER, "")
    expected = _sign(consumer_secret, body)
    return bool(given) and hmac.compare_digest(given.encode(), expected.encode())


class XOAuthClient(OAuthClient):
    """OAuth 2.0 with PKCE for X; the client authenticates with HTTP Basic."""

    async def _token(self, form: dict[str, str]) -> TokenGrant:
        pair = f"{quote_plus(self.client_id)}:{quote_plus(self.client_secret)}"
        body = await self.connector.call(
            "POST",
            self.config.token_url,
            data={**form, "client_id": self.client_id},
            headers={
                "accept": "application/json",
                "authorization": "Basic " + base64.b64encode(pair.encode()).decode(),
            },
        )
        token = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str):
            raise PermanentError("X gave no access token")
        refresh = body.get("refresh_token")
        expires = body.get("expires_in")
        scope = body.get("scope")
        return TokenGrant(
            access_token=SecretStr(token),
            refresh_token=SecretStr(refresh) if isinstance(refresh, str) else None,
            expires_in_s=int(expires) if isinstance(expires, int) else None,
            scope=scope if isinstance(scope, str) else None,
        )

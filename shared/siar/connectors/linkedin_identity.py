"""Who a LinkedIn token belongs to: OpenID Connect ``GET /v2/userinfo``.

With the ``openid`` and ``profile`` scopes LinkedIn answers ``{"sub", "name",
"given_name", "family_name", "picture", "locale"}``; ``sub`` is the member id, so the
author URN every other call needs is ``urn:li:person:<sub>``. The endpoint is not part
of the versioned ``/rest`` API and takes no ``LinkedIn-Version`` header. LinkedIn gives
members no public handle here, so the handle is the member's name.
"""

from __future__ import annotations

from siar.connectors.errors import RetryableError
from siar.connectors.http import HttpConnector
from siar.connectors.models import Credential, Identity

PERSON_URN = "urn:li:person:"


async def identify(connector: HttpConnector, credential: Credential) -> Identity:
    """The member ``credential`` signs in as, as a ``urn:li:person`` author."""
    body = await connector.call("GET", "/v2/userinfo", credential=credential)
    sub = body.get("sub") if isinstance(body, dict) else None
    if not isinstance(sub, str) or not sub:
        raise RetryableError("LinkedIn did not say which member the token belongs to")
    name = body.get("name")
    if not isinstance(name, str) or not name.strip():
        given, family = body.get("given_name"), body.get("family_name")
        name = " ".join(part for part in (given, family) if isinstance(part, str) and part)
    return Identity(
        network_account_id=sub if sub.startswith(PERSON_URN) else PERSON_URN + sub,
        handle=name.strip() or sub,
        display_name=name.strip() or None,
    )

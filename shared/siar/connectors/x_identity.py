"""Who an X token belongs to: ``GET /2/users/me`` (scope ``users.read``).

The answer is ``{"data": {"id", "name", "username"}}``; the id is the account's
``network_account_id`` and the username (without ``@``) its handle.
"""

from __future__ import annotations

from siar.connectors.errors import RetryableError
from siar.connectors.http import HttpConnector
from siar.connectors.models import Credential, Identity


async def identify(connector: HttpConnector, credential: Credential) -> Identity:
    """The X user ``credential`` signs in as."""
    body = await connector.call("GET", "/2/users/me", credential=credential)
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, dict) or not isinstance(data.get("id"), str) or not data["id"]:
        raise RetryableError("X did not say who the account is")
    user_id, username, name = str(data["id"]), data.get("username"), data.get("name")
    return Identity(
        network_account_id=user_id,
        handle=username.lstrip("@") if isinstance(username, str) and username else user_id,
        display_name=name if isinstance(name, str) and name else None,
    )

"""Which Facebook Page a freshly granted token connects (``GET /me/accounts``).

Kept apart from ``facebook`` to keep that module small. The Page connector works on
one Page: the first one the user manages is the account, and every managed Page is
listed in ``extra["pages"]`` (``id:name;id:name``) so another can be chosen later.
"""

from __future__ import annotations

from typing import Any

from pydantic import SecretStr

from siar.connectors.errors import PermanentError
from siar.connectors.meta_graph import nodes
from siar.connectors.models import Identity

# The Page's own token is what publishing to the Page needs; the user token is not.
PAGE_FIELDS = "id,name,username,access_token"


def _listed(name: str) -> str:
    # ";" separates Pages in the listing; a Page name may hold one.
    return name.replace(";", ",").strip()


def page_identity(body: dict[str, Any]) -> Identity:
    """The first managed Page of a ``/me/accounts`` answer, with all of them in ``extra``."""
    pages = nodes(body)
    if not pages:
        raise PermanentError(
            "the Facebook account manages no Page this app was granted: reconnect and select a Page"
        )
    first = pages[0]
    page_id = str(first["id"])
    name = first.get("name")
    listing = ";".join(f"{p['id']}:{_listed(str(p.get('name') or ''))}" for p in pages)
    return Identity(
        network_account_id=page_id,
        handle=str(first.get("username") or page_id),
        display_name=name if isinstance(name, str) and name else None,
        extra={"pages": listing},
        access_token=SecretStr(str(first["access_token"])) if first.get("access_token") else None,
    )

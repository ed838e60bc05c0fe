"""Media URLs for networks that pull media themselves (Instagram images, Threads media)."""

from __future__ import annotations

from siar.connectors.errors import PermanentError
from siar.connectors.models import MediaItem


class ItemUrlHost:
    """Serves each item from the signed public URL the media library gave it."""

    async def public_url(self, item: MediaItem) -> str:
        """The item's public URL, or a permanent error saying how to get one."""
        if item.url:
            return item.url
        raise PermanentError(
            f"{item.filename} needs a public URL for this network to fetch it: "
            "set SIAR_SCHEDULER_PUBLIC_BASE_URL so the media library can sign one"
        )

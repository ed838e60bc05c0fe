"""A workspace's scheduler settings: approvals, the failure webhook, the calendar feed token.

They live in the scheduler's own database (``workspace_settings``), one document per
workspace, so a post failure can be announced without asking the vault. The webhook
secret is needed to sign calls, so it is kept sealed (AES-256-GCM, the workspace as
associated data) under a key derived from the scheduler's service secret, and never
shown again; the feed token is stored only as its SHA-256, so a database reader can
neither sign calls nor rebuild the feed URL.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

from siar.runtime import sealing
from siar_scheduler.workflow_store import WorkflowStore

FEED_TOKEN_PREFIX = "ics_"  # noqa: S105 - a marker, not a secret


def sealing_key(service_secret: str) -> bytes:
    """The key that seals webhook secrets, derived from the scheduler's service secret."""
    return sealing.sealing_key(service_secret, "siar-scheduler:webhook")


def feed_token_hash(token: str) -> str:
    """The stored form of a calendar feed token."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class WorkspaceSettings:
    """What a workspace chose for its scheduling workflow."""

    approvals_required: bool = False
    failure_webhook_url: str | None = None
    failure_webhook_secret: str | None = None
    calendar_feed: bool = False
    calendar_feed_rotated_at: float | None = None

    @property
    def webhook(self) -> tuple[str, str] | None:
        """URL and secret of the failure webhook, if one is set."""
        if self.failure_webhook_url and self.failure_webhook_secret:
            return self.failure_webhook_url, self.failure_webhook_secret
        return None


class SettingsService:
    """Reads and changes workspace settings."""

    def __init__(self, store: WorkflowStore, key: bytes) -> None:
        self.store = store
        self.key = key

    async def get(self, workspace_id: str) -> WorkspaceSettings:
        """The workspace's settings, defaults where never set."""
        doc = await self.store.get_settings(workspace_id)
        hook = doc.get("failure_webhook") or {}
        return WorkspaceSettings(
            approvals_required=bool(doc.get("approvals_required", False)),
            failure_webhook_url=hook.get("url"),
            failure_webhook_secret=sealing.unseal(
                self.key, workspace_id, hook["secret"], what="failure webhook secret"
            )
            if hook
            else None,
            calendar_feed=bool(doc.get("calendar_token_sha256")),
            calendar_feed_rotated_at=doc.get("calendar_feed_rotated_at"),
        )

    async def update(
        self,
        workspace_id: str,
        *,
        approvals_required: bool | None = None,
        webhook: tuple[str, str] | None = None,
        clear_webhook: bool = False,
    ) -> WorkspaceSettings:
        """Change what was given; leave the rest."""
        changes: dict[str, object] = {"updated": time.time()}
        if approvals_required is not None:
            changes["approvals_required"] = approvals_required
        if clear_webhook:
            changes["failure_webhook"] = None
        elif webhook is not None:
            sealed = sealing.seal(self.key, workspace_id, webhook[1])
            changes["failure_webhook"] = {"url": webhook[0], "secret": sealed}
        await self.store.update_settings(workspace_id, changes)
        return await self.get(workspace_id)

    async def rotate_feed_token(self, workspace_id: str) -> str:
        """A new calendar feed token; the old one stops working at once."""
        token = FEED_TOKEN_PREFIX + secrets.token_urlsafe(32)
        await self.store.update_settings(
            workspace_id,
            {
                "calendar_token_sha256": feed_token_hash(token),
                "calendar_feed_rotated_at": time.time(),
            },
        )
        return token

    async def revoke_feed_token(self, workspace_id: str) -> None:
        """Turn the calendar feed off."""
        await self.store.update_settings(
            workspace_id, {"calendar_token_sha256": None, "calendar_feed_rotated_at": time.time()}
        )

    async def feed_token_valid(self, workspace_id: str, token: str) -> bool:
        """Whether ``token`` opens the workspace's calendar feed."""
        if not token.startswith(FEED_TOKEN_PREFIX) or len(token) > 100:
            return False
        doc = await self.store.get_settings(workspace_id)
        stored = doc.get("calendar_token_sha256")
        return bool(stored) and hmac.compare_digest(str(stored), feed_token_hash(token))

"""A workspace's outbound webhook: its URL, and its secret kept encrypted."""

from __future__ import annotations

from typing import Protocol

from siar_vault import crypto
from siar_vault.store import VaultStore


class HasKeyring(Protocol):
    """What reading and writing the webhook needs (the vault service, or its account half)."""

    store: VaultStore
    keyring: crypto.Keyring


def _aad(workspace_id: str) -> bytes:
    return f"siar-webhook:{workspace_id}".encode()


async def set_webhook(
    service: HasKeyring, workspace_id: str, url: str | None, secret: str | None
) -> None:
    """Where the workspace is told about problems (Slack-compatible, HMAC-signed)."""
    if url is None or secret is None:
        await service.store.set_webhook(workspace_id, None)
        return
    envelope = crypto.encrypt(service.keyring, secret.encode(), _aad(workspace_id))
    await service.store.set_webhook(workspace_id, {"url": url, "envelope": envelope})


async def webhook_target(service: HasKeyring, workspace_id: str) -> tuple[str, str] | None:
    """The workspace's webhook URL and secret, if one is set."""
    doc = await service.store.workspaces.find_one({"_id": workspace_id})
    hook = (doc or {}).get("webhook")
    if not hook:
        return None
    secret = crypto.decrypt(service.keyring, hook["envelope"], _aad(workspace_id))
    return str(hook["url"]), secret.decode()

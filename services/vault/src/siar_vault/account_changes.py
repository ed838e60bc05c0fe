"""Changing and removing connected accounts (settings kept encrypted, removal announced)."""

from __future__ import annotations

from pymongo.asynchronous.client_session import AsyncClientSession

from siar.contracts import AccountDisconnected
from siar_vault.domain import Account
from siar_vault.service import VaultService


async def update_settings(
    service: VaultService,
    *,
    workspace_id: str,
    account_id: str,
    settings: dict[str, str],
    actor: str,
) -> Account:
    """Change an account's per-network settings (e.g. a Pinterest board), kept encrypted."""
    account, current = await service.stored_credential(workspace_id, account_id)
    updated = current.model_copy(update={"extra": {**current.extra, **settings}})
    await service.store.replace_credential(
        workspace_id,
        account_id,
        service.seal_credential(workspace_id, account_id, updated),
        updated.expires_at,
    )
    keys = ",".join(sorted(settings))
    await service.audit(workspace_id, actor, "account.updated", account_id, {"keys": keys})
    return account


async def disconnect(
    service: VaultService, *, workspace_id: str, account_id: str, actor: str
) -> None:
    """Forget an account's credential and announce it, so polling and collection stop."""
    account = await service.account(workspace_id, account_id)
    event = AccountDisconnected.new(
        workspace_id=workspace_id,
        account_id=account_id,
        network=account.network,
        reason="disconnected by a person",
    )

    async def work(session: AsyncClientSession) -> None:
        await service.store.remove_account(workspace_id, account_id, session)
        await service.uow.outbox.add(event, session=session)

    await service.uow.run(work)
    await service.audit(workspace_id, actor, "account.disconnected", account_id)

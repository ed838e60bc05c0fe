"""Account lifecycle events emitted by the vault."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from siar.contracts.envelope import Event


class AccountConnected(Event):
    """An account was connected: start polling and collecting for it."""

    topic: ClassVar[str] = "account.connected"
    event_type: Literal["account.connected"] = "account.connected"
    schema_version: Literal[1] = 1
    account_id: str
    network: str
    handle: str
    display_name: str | None = None
    timezone: str = Field(default="UTC", description="IANA zone for the account's schedule.")
    network_account_id: str | None = Field(
        default=None, description="The account's id on the network (webhook calls name it)."
    )


class AccountDisconnected(Event):
    """An account was disconnected: stop polling and collecting for it."""

    topic: ClassVar[str] = "account.disconnected"
    event_type: Literal["account.disconnected"] = "account.disconnected"
    schema_version: Literal[1] = 1
    account_id: str
    network: str
    reason: str | None = None
    needs_reconnect: bool = Field(
        default=False,
        description="Still connected, but its token was refused and cannot be refreshed: "
        "nothing can be read until a person reconnects it (then account.connected again).",
    )

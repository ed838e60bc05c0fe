"""Dependencies of the vault's routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from siar_vault.members import MemberChanges
from siar_vault.service import VaultService


def get_service(request: Request) -> VaultService:
    """The vault service wired at start-up."""
    service: VaultService = request.app.state.service
    return service


Service = Annotated[VaultService, Depends(get_service)]


def get_members(request: Request) -> MemberChanges:
    """Membership changes under the owner rules, over the service's store."""
    return MemberChanges(get_service(request).store)


Members = Annotated[MemberChanges, Depends(get_members)]

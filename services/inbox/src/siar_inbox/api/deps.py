"""Dependencies of the inbox's routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from siar_inbox.service import InboxService


def get_service(request: Request) -> InboxService:
    """The inbox service wired at start-up."""
    service: InboxService = request.app.state.service
    return service


Service = Annotated[InboxService, Depends(get_service)]

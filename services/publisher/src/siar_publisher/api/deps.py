"""Dependencies of the publisher's routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from siar_publisher.service import PublisherService


def get_service(request: Request) -> PublisherService:
    """The publisher service wired at start-up."""
    service: PublisherService = request.app.state.service
    return service


Service = Annotated[PublisherService, Depends(get_service)]

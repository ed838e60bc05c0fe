"""Dependencies of the scheduler's routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from siar_scheduler.service import SchedulerService


def get_service(request: Request) -> SchedulerService:
    """The scheduler service wired at start-up."""
    service: SchedulerService = request.app.state.service
    return service


Service = Annotated[SchedulerService, Depends(get_service)]

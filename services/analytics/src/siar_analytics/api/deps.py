"""Dependencies of the analytics routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from siar_analytics.service import AnalyticsService


def get_service(request: Request) -> AnalyticsService:
    """The analytics service wired at start-up."""
    service: AnalyticsService = request.app.state.service
    return service


Service = Annotated[AnalyticsService, Depends(get_service)]

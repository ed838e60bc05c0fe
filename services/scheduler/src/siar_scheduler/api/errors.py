"""Scheduler domain errors as problem+json."""

from __future__ import annotations

from fastapi import FastAPI

from siar.runtime.problems import ErrorMap, install_domain_errors
from siar_scheduler import errors

ERRORS: ErrorMap = {
    errors.PostNotFound: (404, "not-found", "Post not found"),
    errors.UnknownAccount: (422, "unknown-account", "Unknown account"),
    errors.InvalidSchedule: (422, "invalid-schedule", "Invalid schedule"),
    errors.PostLocked: (409, "post-locked", "Post can no longer change"),
}


def install_error_handlers(app: FastAPI) -> None:
    """Map every scheduler error to its problem."""
    install_domain_errors(app, errors.SchedulerError, ERRORS)

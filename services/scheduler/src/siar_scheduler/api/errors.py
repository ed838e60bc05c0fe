"""Scheduler domain errors as problem+json."""

from __future__ import annotations

from siar.runtime.problems import ErrorMap
from siar_scheduler import errors

ERRORS: ErrorMap = {
    errors.PostNotFound: (404, "not-found", "Post not found"),
    errors.UnknownAccount: (422, "unknown-account", "Unknown account"),
    errors.InvalidSchedule: (422, "invalid-schedule", "Invalid schedule"),
    errors.PostLocked: (409, "post-locked", "Post can no longer change"),
    errors.BreaksNetworkRules: (422, "network-rules", "The post breaks a network's rules"),
}

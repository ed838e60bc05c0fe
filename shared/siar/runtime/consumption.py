"""What became of the Kafka message being handled: lets idempotency checks report a duplicate.

The dead-letter middleware opens a :class:`Consumption` for every message; code deep in a
handler (``UnitOfWork.run_once``, a natural-key insert) calls :func:`mark_duplicate`
without knowing which topic it serves, and the middleware counts the outcome.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass


@dataclass
class Consumption:
    """The state of one message's handling."""

    duplicate: bool = False


_CURRENT: ContextVar[Consumption | None] = ContextVar("siar_consumption", default=None)


def begin() -> Consumption:
    """Start tracking a message in the current context (the middleware calls this)."""
    state = Consumption()
    _CURRENT.set(state)
    return state


def mark_duplicate() -> None:
    """Say the message being handled was already processed (no-op outside a handler)."""
    state = _CURRENT.get()
    if state is not None:
        state.duplicate = True

"""Inbox errors."""

from __future__ import annotations


class InboxError(Exception):
    """Base of every inbox error."""


class ConversationNotFound(InboxError):
    """No such conversation in this workspace."""


class NothingToReplyTo(InboxError):
    """The conversation has no message from the network to answer."""


class SavedReplyNotFound(InboxError):
    """No such saved reply in this workspace."""

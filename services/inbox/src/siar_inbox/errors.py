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


class SnoozeNotAhead(InboxError):
    """A snooze must end in the future."""


class ActionNotSupported(InboxError):
    """The conversation's network does not offer this action."""


class NothingToActOn(InboxError):
    """The message or post to act on is unknown to the network (or to us)."""

"""Vault domain: users, workspaces, memberships, accounts and audit entries (no I/O)."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from siar.runtime.roles import Role
from siar_vault.errors import InvalidInput, OwnerOnly, WeakPassword

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 256
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def check_password_rules(password: str, *, email: str) -> None:
    """Raise :class:`WeakPassword` naming the first rule the password breaks."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPassword(f"password must be at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise WeakPassword(f"password must be at most {MAX_PASSWORD_LENGTH} characters")
    if len(set(password)) < 4:
        raise WeakPassword("password must use at least 4 different characters")
    local = email.split("@")[0].lower() if email else ""
    if len(local) >= 3 and local in password.lower():
        raise WeakPassword("password must not contain the e-mail name")


def normalise_email(email: str) -> str:
    """Lower-cased, trimmed e-mail; raises :class:`InvalidInput` when it is not one."""
    email = email.strip().lower()
    if not EMAIL_RE.match(email) or len(email) > 254:
        raise InvalidInput("not a valid e-mail address")
    return email


def check_owner_rule(actor: Role | None, current: Role | None, new: Role | None) -> None:
    """Raise :class:`OwnerOnly` unless an owner makes a change that grants or revokes ownership.

    ``current`` is None for someone not yet a member, ``new`` None for a removal. Any
    other role change stays with whoever holds ``members.manage``.
    """
    touches_owner = current != new and Role.OWNER in (current, new)
    if touches_owner and actor is not Role.OWNER:
        raise OwnerOnly("only an owner can grant or revoke the owner role")


class User(BaseModel):
    """A person who signs in."""

    id: str
    email: str
    name: str
    created_at: datetime


class Workspace(BaseModel):
    """One brand or client."""

    id: str
    name: str
    created_at: datetime
    created_by: str


class Membership(BaseModel):
    """A user's role in a workspace."""

    workspace_id: str
    user_id: str
    role: Role


class Account(BaseModel):
    """A connected social account; its credential is stored apart, encrypted."""

    id: str
    workspace_id: str
    network: str
    handle: str
    display_name: str | None = None
    network_account_id: str
    status: str = "healthy"
    token_expires_at: datetime | None = None
    connected_at: datetime
    connected_by: str


class AuditEntry(BaseModel):
    """One link of a workspace's hash-chained, append-only audit log."""

    workspace_id: str
    seq: int = Field(ge=1)
    at: datetime
    actor: str
    action: str
    target: str
    details: dict[str, Any] = Field(default_factory=dict)
    prev_hash: str
    hash: str = ""

    def compute_hash(self) -> str:
        """SHA-256 over the entry's canonical JSON (without its own hash)."""
        body = self.model_dump(mode="json", exclude={"hash"})
        canonical = json.dumps(body, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()


GENESIS_HASH = "0" * 64

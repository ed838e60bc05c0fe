"""Roles and the permission matrix every service enforces (docs/permissions.md)."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """A member's role in one workspace."""

    OWNER = "owner"
    ADMIN = "admin"
    EDITOR = "editor"
    CONTRIBUTOR = "contributor"
    APPROVER = "approver"
    VIEWER = "viewer"


class Permission(StrEnum):
    """Something a caller may do in a workspace."""

    WORKSPACE_READ = "workspace.read"
    WORKSPACE_MANAGE = "workspace.manage"
    MEMBERS_MANAGE = "members.manage"
    ACCOUNTS_READ = "accounts.read"
    ACCOUNTS_MANAGE = "accounts.manage"
    POSTS_READ = "posts.read"
    POSTS_WRITE = "posts.write"
    POSTS_PUBLISH = "posts.publish"
    POSTS_APPROVE = "posts.approve"
    INBOX_READ = "inbox.read"
    INBOX_REPLY = "inbox.reply"
    REPORTS_READ = "reports.read"
    AUDIT_READ = "audit.read"


_ALL = frozenset(Permission)
_READ = frozenset(
    {
        Permission.WORKSPACE_READ,
        Permission.ACCOUNTS_READ,
        Permission.POSTS_READ,
        Permission.REPORTS_READ,
    }
)

PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.OWNER: _ALL,
    Role.ADMIN: _ALL - {Permission.AUDIT_READ},
    Role.EDITOR: _READ
    | {
        Permission.POSTS_WRITE,
        Permission.POSTS_PUBLISH,
        Permission.INBOX_READ,
        Permission.INBOX_REPLY,
    },
    # Contributors draft; their posts need an approver before they are scheduled.
    Role.CONTRIBUTOR: _READ | {Permission.POSTS_WRITE, Permission.INBOX_READ},
    Role.APPROVER: _READ | {Permission.POSTS_APPROVE},
    Role.VIEWER: _READ | {Permission.INBOX_READ},
}
"""Role to the permissions it grants: the one matrix every service checks."""


def allows(role: Role, permission: Permission) -> bool:
    """Whether ``role`` grants ``permission``."""
    return permission in PERMISSIONS[role]

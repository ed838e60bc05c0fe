"""Vault errors; mapped to problem+json only at the HTTP edge."""

from __future__ import annotations


class VaultError(Exception):
    """Base of every vault error."""


class Conflict(VaultError):
    """The thing already exists (e.g. a duplicate e-mail)."""


class NotFound(VaultError):
    """No such user, workspace or account (or not visible to the caller)."""


class InvalidCredentials(VaultError):
    """Wrong e-mail/password or client secret; never says which."""


class WeakPassword(VaultError):
    """The password breaks a rule; the message names it."""


class UnsupportedNetwork(VaultError):
    """No connector for that network, or it cannot be connected this way."""


class DecryptionFailed(VaultError):
    """A ciphertext did not authenticate: wrong key, wrong account or tampered."""


class NetworkRefused(VaultError):
    """The network refused to connect the account; the message says why."""


class InvalidInput(VaultError):
    """A value is malformed (e.g. not an e-mail address)."""


class TooManyAttempts(VaultError):
    """Sign-in is throttled for this account or address; ``retry_after_s`` says for how long."""

    def __init__(self, message: str, *, retry_after_s: float) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s
        self.problem_headers = {"Retry-After": str(int(retry_after_s) + 1)}


class TotpRequired(VaultError):
    """The password was right, but the account needs its two-factor code too."""


class InvitationInvalid(VaultError):
    """The invitation cannot be used (expired, used, withdrawn, or for someone else)."""


class OAuthRefused(VaultError):
    """An OAuth callback cannot complete (bad, replayed or expired state; refusal)."""


class OwnerOnly(VaultError):
    """Only an owner may grant or revoke the owner role (the message names the rule)."""


class LastOwner(VaultError):
    """The change would leave the workspace without an owner."""


class RoleChanged(VaultError):
    """A member's role kept changing under a request; trying again is safe."""

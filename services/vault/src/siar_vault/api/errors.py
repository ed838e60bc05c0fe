"""Vault domain errors as problem+json."""

from __future__ import annotations

from siar.runtime.problems import ErrorMap
from siar_vault import errors

ERRORS: ErrorMap = {
    errors.Conflict: (409, "conflict", "Already exists"),
    errors.NotFound: (404, "not-found", "Not found"),
    errors.InvalidCredentials: (401, "invalid-credentials", "Invalid credentials"),
    errors.WeakPassword: (422, "weak-password", "Password too weak"),
    errors.UnsupportedNetwork: (422, "unsupported-network", "Network not supported"),
    errors.DecryptionFailed: (500, "decryption-failed", "Credential cannot be decrypted"),
    errors.NetworkRefused: (422, "network-refused", "The network refused the account"),
    errors.InvalidInput: (422, "validation", "Invalid value"),
    errors.OAuthRefused: (400, "oauth-refused", "The account could not be connected"),
    errors.InvitationInvalid: (410, "invitation-invalid", "Invitation cannot be used"),
    errors.TotpRequired: (401, "totp-required", "Two-factor code required"),
    errors.TooManyAttempts: (429, "too-many-attempts", "Too many failed sign-ins"),
    errors.OwnerOnly: (403, "forbidden", "Not allowed"),
    errors.LastOwner: (409, "last-owner", "A workspace keeps at least one owner"),
    errors.RoleChanged: (409, "conflict", "Changed meanwhile"),
}

"""Vault domain errors as problem+json."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from siar.runtime.problems import Problem, problem_response
from siar_vault import errors

_MAP: dict[type[errors.VaultError], tuple[int, str, str]] = {
    errors.Conflict: (409, "conflict", "Already exists"),
    errors.NotFound: (404, "not-found", "Not found"),
    errors.InvalidCredentials: (401, "invalid-credentials", "Invalid credentials"),
    errors.WeakPassword: (422, "weak-password", "Password too weak"),
    errors.UnsupportedNetwork: (422, "unsupported-network", "Network not supported"),
    errors.DecryptionFailed: (500, "decryption-failed", "Credential cannot be decrypted"),
    errors.NetworkRefused: (422, "network-refused", "The network refused the account"),
    errors.InvalidInput: (422, "validation", "Invalid value"),
}


def install_error_handlers(app: FastAPI) -> None:
    """Map every vault error to its problem."""

    async def on_vault_error(request: Request, exc: Exception) -> JSONResponse:
        for kind, (status, slug, title) in _MAP.items():
            if isinstance(exc, kind):
                return problem_response(Problem(status, slug, title, str(exc)), request)
        return problem_response(Problem(500, "internal", "Internal error"), request)

    app.add_exception_handler(errors.VaultError, on_vault_error)

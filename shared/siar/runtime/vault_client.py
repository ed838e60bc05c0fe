"""What services ask the vault over HTTP, with their service token."""

from __future__ import annotations

import hashlib
import time
from typing import Any

import httpx

from siar.connectors import AccountRef, Credential
from siar.runtime.auth import ServiceTokenClient
from siar.runtime.errors import DependencyUnavailable


class VaultUnavailable(DependencyUnavailable):
    """The vault did not answer usefully; try again later."""


def token_sha256(credential: Credential) -> str:
    """The fingerprint of a credential's access token that ``:refresh`` compares.

    A service sends it for the token a network refused; the vault compares it with the
    token it holds, so the token itself does not travel again.
    """
    return hashlib.sha256(credential.access_token.get_secret_value().encode()).hexdigest()


class VaultClient:
    """Account look-ups and credential leases, authenticated as a service."""

    def __init__(
        self,
        vault_url: str,
        tokens: ServiceTokenClient,
        *,
        lease_cache_s: float = 0.0,
    ):
        self.base = vault_url.rstrip("/") + "/v1/internal/workspaces"
        self.tokens = tokens
        # Reusing a lease briefly spares the vault (and its audit log) a read per post
        # when one account publishes in bursts; 0 turns it off.
        self.lease_cache_s = lease_cache_s
        self._leases: dict[tuple[str, str], tuple[float, tuple[AccountRef, Credential]]] = {}

    async def _call(
        self, method: str, url: str, *, refusal_ok: bool = False, **kwargs: Any
    ) -> httpx.Response | None:
        """Call the vault; None for 404 (and for a 4xx refusal when ``refusal_ok``)."""
        try:
            response = await self.tokens.send(method, url, **kwargs)
        except httpx.HTTPError as err:
            raise VaultUnavailable(f"vault unreachable: {type(err).__name__}") from err
        if response.status_code == 401:
            raise VaultUnavailable("vault rejected this service's token")
        if response.status_code == 404 or (refusal_ok and 400 <= response.status_code < 500):
            return None
        if response.status_code >= 400:
            raise VaultUnavailable(f"vault answered {response.status_code}")
        return response

    async def account(self, workspace_id: str, account_id: str) -> dict[str, str] | None:
        """An account of a workspace (network, handle), or None if unknown."""
        response = await self._call("GET", f"{self.base}/{workspace_id}/accounts/{account_id}")
        if response is None:
            return None
        body = response.json()
        return {"network": str(body["network"]), "handle": str(body["handle"])}

    async def lease(
        self, workspace_id: str, account_id: str, purpose: str
    ) -> tuple[AccountRef, Credential] | None:
        """Lease an account's credential (audited by the vault), or None if unknown."""
        cached = self._leases.get((workspace_id, account_id))
        if cached and time.monotonic() - cached[0] < self.lease_cache_s:
            return cached[1]
        response = await self._call(
            "POST",
            f"{self.base}/{workspace_id}/accounts/{account_id}:lease",
            json={"purpose": purpose},
        )
        if response is None:
            self._leases.pop((workspace_id, account_id), None)
            return None
        return self._remember(workspace_id, account_id, _leased(workspace_id, account_id, response))

    def forget_lease(self, workspace_id: str, account_id: str) -> None:
        """Drop a cached lease (its token was refused), so the next lease asks the vault."""
        self._leases.pop((workspace_id, account_id), None)

    def _remember(
        self, workspace_id: str, account_id: str, lease: tuple[AccountRef, Credential]
    ) -> tuple[AccountRef, Credential]:
        if self.lease_cache_s > 0:
            self._leases[(workspace_id, account_id)] = (time.monotonic(), lease)
        return lease

    async def refresh(
        self, workspace_id: str, account_id: str, refused: Credential | None = None
    ) -> tuple[AccountRef, Credential] | None:
        """Have the vault refresh an expired credential; None if it cannot be refreshed.

        ``refused`` is the credential the network turned down: if the vault holds
        another one by now (refreshed or reconnected meanwhile), it hands that over
        instead of refreshing, and nothing is marked.
        """
        self._leases.pop((workspace_id, account_id), None)
        body = {"refused_sha256": token_sha256(refused)} if refused is not None else {}
        response = await self._call(
            "POST",
            f"{self.base}/{workspace_id}/accounts/{account_id}:refresh",
            refusal_ok=True,
            json=body,
        )
        if response is None:
            return None
        return self._remember(workspace_id, account_id, _leased(workspace_id, account_id, response))


def _leased(
    workspace_id: str, account_id: str, response: httpx.Response
) -> tuple[AccountRef, Credential]:
    body = response.json()
    ref = AccountRef(
        workspace_id=workspace_id,
        account_id=account_id,
        network=body["network"],
        handle=body["handle"],
        network_account_id=body.get("network_account_id"),
    )
    credential = Credential(
        access_token=body["access_token"],
        expires_at=body["expires_at"],
        extra=body.get("extra") or {},
    )
    return ref, credential

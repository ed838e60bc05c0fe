"""Connecting accounts with OAuth 2.0: authorization code with ``state`` and PKCE.

``start`` returns the network's authorize URL and remembers the flow under a hash of
its ``state`` (single use, ten minutes). The network sends the person back to the
callback with ``code`` and ``state``; ``finish`` spends the state, trades the code
(with the PKCE verifier) for tokens, asks the network who the account is, and stores
it like any other. A replayed, unknown or expired state is refused before any call.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta

from pymongo import ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection

from siar.connectors import ConnectedAccount, ConnectorError, Credential
from siar.connectors.http import HttpConnector
from siar.contracts import utcnow
from siar.runtime.mongo import Document, IndexSpec
from siar_vault import crypto
from siar_vault.domain import Account
from siar_vault.errors import NetworkRefused, OAuthRefused, UnsupportedNetwork
from siar_vault.service import VaultService

STATES = "oauth_states"
INDEXES = (IndexSpec(STATES, [("expires_ts", 1)]),)
FLOW_TTL_S = 600


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


@dataclass(frozen=True)
class Started:
    """Where to send the person, and until when the flow can finish."""

    authorize_url: str
    state: str
    expires_ts: float


class OAuthFlows:
    """Starts and finishes account-connecting OAuth flows."""

    def __init__(self, service: VaultService, states: AsyncCollection[Document]) -> None:
        self.service = service
        self.states = states

    def _connector(self, network: str) -> HttpConnector:
        connector = self.service.connectors.get(network)
        if not isinstance(connector, HttpConnector) or connector.oauth is None:
            raise UnsupportedNetwork(f"network {network!r} does not connect with OAuth")
        if network not in self.service.apps:
            raise UnsupportedNetwork(
                f"Siar has no app registered for {connector.display_name}; "
                "an administrator sets it in SIAR_VAULT_APPS"
            )
        return connector

    async def start(
        self, *, workspace_id: str, user_id: str, network: str, redirect_uri: str
    ) -> Started:
        """Begin a flow; the returned URL goes to the person's browser."""
        connector = self._connector(network)
        state = secrets.token_urlsafe(32)
        verifier = secrets.token_urlsafe(64)
        aad = f"siar-oauth:{_digest(state)}".encode()
        expires_ts = time.time() + FLOW_TTL_S
        await self.states.insert_one(
            {
                "_id": _digest(state),
                "workspace_id": workspace_id,
                "user_id": user_id,
                "network": network,
                "redirect_uri": redirect_uri,
                "verifier": crypto.encrypt(self.service.keyring, verifier.encode(), aad),
                "expires_ts": expires_ts,
                "used": False,
            }
        )
        url = connector.authorize_url(
            self.service.apps[network],
            redirect_uri=redirect_uri,
            state=state,
            code_challenge=_challenge(verifier),
        )
        return Started(authorize_url=url, state=state, expires_ts=expires_ts)

    async def finish(
        self,
        *,
        network: str,
        state: str,
        code: str | None,
        error: str | None,
        error_description: str | None,
    ) -> Account:
        """Complete a flow from the network's redirect; the state works once."""
        flow = await self.states.find_one_and_update(
            {"_id": _digest(state), "used": False},
            {"$set": {"used": True}},
            return_document=ReturnDocument.BEFORE,
        )
        if flow is None:
            raise OAuthRefused("unknown or already used state: start connecting again")
        if flow["network"] != network:
            raise OAuthRefused("this state belongs to another network")
        if float(flow["expires_ts"]) < time.time():
            raise OAuthRefused("the connection attempt took too long: start again")
        if error:
            raise OAuthRefused(f"the network said no: {error_description or error}")
        if not code:
            raise OAuthRefused("the network sent no authorization code")
        connector = self._connector(network)
        aad = f"siar-oauth:{flow['_id']}".encode()
        verifier = crypto.decrypt(self.service.keyring, flow["verifier"], aad).decode()
        try:
            grant = await connector.oauth_client(self.service.apps[network]).exchange_code(
                code=code,
                redirect_uri=str(flow["redirect_uri"]),
                code_verifier=verifier if connector.oauth and connector.oauth.pkce else None,
            )
            credential = Credential(
                access_token=grant.access_token,
                refresh_token=grant.refresh_token,
                expires_at=utcnow() + timedelta(seconds=grant.expires_in_s)
                if grant.expires_in_s
                else None,
            )
            who = await connector.identify(credential)
        except ConnectorError as err:
            raise NetworkRefused(err.reason) from err
        connected = ConnectedAccount(
            handle=who.handle,
            display_name=who.display_name,
            network_account_id=who.network_account_id,
            credential=credential.model_copy(
                update={
                    "extra": who.extra,
                    # A network may hand back a narrower token to keep (a Page's own, which
                    # does not expire when granted from a long-lived user token).
                    **(
                        {"access_token": who.access_token, "expires_at": None}
                        if who.access_token
                        else {}
                    ),
                }
            ),
        )
        return await self.service.connect_account(
            workspace_id=str(flow["workspace_id"]),
            network=network,
            handle=who.handle,
            actor=str(flow["user_id"]),
            manual=connected,
        )

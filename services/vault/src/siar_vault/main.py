"""Vault entry point: ``create_app`` wires everything; ``run`` serves it."""

from __future__ import annotations

from fastapi import FastAPI

from siar.connectors.mastodon import MastodonConnector
from siar.runtime.app import Runtime, create_service_app, serve
from siar.runtime.leases import Leases
from siar.runtime.settings import SettingError
from siar_vault import crypto
from siar_vault.api.errors import ERRORS
from siar_vault.api.invitation_routes import router as invitation_router
from siar_vault.api.me_routes import router as me_router
from siar_vault.api.member_routes import router as member_router
from siar_vault.api.oauth_routes import router as oauth_router
from siar_vault.api.routes import router as api_router
from siar_vault.api.webhook_routes import router as webhook_router
from siar_vault.apikeys import INDEXES as API_KEY_INDEXES
from siar_vault.errors import VaultError
from siar_vault.handlers import register_handlers
from siar_vault.invitations import INDEXES as INVITATION_INDEXES
from siar_vault.invitations import Invitations
from siar_vault.kek import FileKeks, StaticKeks
from siar_vault.metrics import AuditChainWatch, install_credential_read_metrics, start_at_zero
from siar_vault.oauth_flow import INDEXES as OAUTH_INDEXES
from siar_vault.oauth_flow import OAuthFlows
from siar_vault.refresher import REFRESH_LEASE_S, REFRESH_LEASES, TokenRefresher
from siar_vault.service import VaultService
from siar_vault.sessions import INDEXES as SESSION_INDEXES
from siar_vault.sessions import LoginThrottle, RefreshTokens
from siar_vault.settings import Settings
from siar_vault.store import INDEXES, VaultStore
from siar_vault.tokens import SigningKeyReloader, TokenIssuer

DESCRIPTION = "Users, workspaces, roles, and encrypted account credentials."


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the vault app; clients connect and keys load in the lifespan."""
    settings = settings or Settings()
    keyring = keyring_for(settings)
    issuer = TokenIssuer(
        keyring,
        issuer=settings.platform.jwt_issuer,
        audience=settings.platform.jwt_audience,
    )

    async def on_startup(runtime: Runtime) -> None:
        store = VaultStore(runtime.db)
        app.state.invitations = Invitations(runtime.db["invitations"])
        await issuer.load(store.signing_keys)
        app.state.token_verifier.jwks.set_keys(issuer.jwks())
        connectors = runtime.connectors()
        if settings.mastodon_instance:
            # Siar's Mastodon app is registered on one instance; its consent screen is there.
            connectors["mastodon"] = MastodonConnector(
                runtime.http, instance=settings.mastodon_instance
            )
        app.state.service = VaultService(
            store=store,
            uow=runtime.uow,
            keyring=keyring,
            issuer=issuer,
            connectors=connectors,
            service_clients=dict(settings.service_clients),
            apps=dict(settings.apps),
            refresh_tokens=RefreshTokens(runtime.db, ttl_s=settings.refresh_token_ttl_s),
            throttle=LoginThrottle(
                runtime.db,
                per_account=settings.login_failures_per_account,
                per_address=settings.login_failures_per_address,
                window_s=settings.login_window_s,
            ),
            access_ttl_s=settings.access_token_ttl_s,
            service_ttl_s=settings.service_token_ttl_s,
            http=runtime.http,
        )
        app.state.oauth_flows = OAuthFlows(app.state.service, runtime.db["oauth_states"])

    async def after_broker_start(runtime: Runtime) -> None:
        reloader = SigningKeyReloader(
            issuer, VaultStore(runtime.db).signing_keys, app.state.token_verifier.jwks
        )
        runtime.spawn("signing-keys", reloader.run, reloader.stop)
        refresher = TokenRefresher(
            app.state.service,
            ahead_s=settings.token_refresh_ahead_s,
            every_s=settings.token_refresh_every_s,
            leases=Leases(runtime.db[REFRESH_LEASES], lease_s=REFRESH_LEASE_S),
        )
        app.state.refresher = refresher
        runtime.spawn("token-refresher", refresher.run, refresher.stop)
        start_at_zero(runtime.connectors())
        watch = AuditChainWatch(runtime.db, every_s=settings.audit_verify_every_s)
        runtime.spawn("audit-chain-watch", watch.run, watch.stop)

    app, _ = create_service_app(
        name="vault",
        settings=settings,
        description=DESCRIPTION,
        indexes=(
            *INDEXES,
            *SESSION_INDEXES,
            *API_KEY_INDEXES,
            *INVITATION_INDEXES,
            *OAUTH_INDEXES,
        ),
        on_startup=on_startup,
        after_broker_start=after_broker_start,
        subscribe=lambda broker, _service: register_handlers(broker),
        routers=[
            api_router,
            member_router,
            me_router,
            invitation_router,
            webhook_router,
            oauth_router,
        ],
        domain_errors=(VaultError, ERRORS),
    )
    install_credential_read_metrics(app)
    return app


def keyring_for(settings: Settings) -> crypto.Keyring:
    """The KEKs from the key file when one is set, else from settings.

    Keys that cannot serve (no active key, unreadable file) refuse the start with a
    :class:`SettingError` naming the variable to fix.
    """
    if settings.kek_file is not None:
        try:
            return crypto.Keyring(FileKeks(settings.kek_file))
        except (OSError, ValueError, KeyError) as err:
            problem = f"the key file cannot be used ({type(err).__name__}: {err})"
            raise SettingError("SIAR_VAULT_KEK_FILE", problem) from None
    keys = {v: k.get_secret_value() for v, k in settings.kek_keys.items()}
    try:
        return crypto.Keyring(StaticKeks.from_base64(keys, settings.kek_active))
    except ValueError as err:
        raise SettingError("SIAR_VAULT_KEK_KEYS", f"{err} (or set SIAR_VAULT_KEK_FILE)") from None


def run() -> None:
    """Serve the vault (``siar-vault`` / ``python -m siar_vault``)."""
    serve("vault", Settings, create_app)

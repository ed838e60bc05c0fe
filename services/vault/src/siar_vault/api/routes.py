"""The vault's HTTP routes: thin, mapping domain errors to problems."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from siar.connectors import ConnectedAccount, Credential
from siar.runtime.auth import CurrentPrincipal, Principal, require, require_scope
from siar.runtime.problems import Problem
from siar.runtime.roles import Permission, Role
from siar_vault import account_changes
from siar_vault.accounts import Lease
from siar_vault.api.deps import Service
from siar_vault.api.schemas import (
    AccountConnect,
    AccountPublic,
    AuditEntryPublic,
    Items,
    LeaseRequest,
    LeaseResponse,
    MemberPublic,
    RefreshRequest,
    TokenResponse,
    UserCreate,
    UserPublic,
    WorkspaceCreate,
    WorkspacePublic,
)
from siar_vault.domain import Account

router = APIRouter()


@router.get("/.well-known/jwks.json", tags=["auth"], summary="Public keys of Siar tokens")
async def jwks(service: Service) -> dict[str, object]:
    return service.issuer.jwks()


@router.post("/v1/users", status_code=201, tags=["users"], summary="Sign up")
async def create_user(body: UserCreate, service: Service) -> UserPublic:
    user = await service.register_user(email=body.email, password=body.password, name=body.name)
    return UserPublic(id=user.id, email=user.email, name=user.name)


@router.post("/v1/auth/token", tags=["auth"], summary="OAuth 2.0 token endpoint")
async def token(
    request: Request,
    service: Service,
    grant_type: Annotated[str, Form()],
    username: Annotated[str | None, Form(max_length=254)] = None,
    password: Annotated[str | None, Form(max_length=256)] = None,
    client_id: Annotated[str | None, Form(max_length=100)] = None,
    client_secret: Annotated[str | None, Form(max_length=512)] = None,
    refresh_token: Annotated[str | None, Form(max_length=200)] = None,
    totp: Annotated[str | None, Form(max_length=10)] = None,
    api_key: Annotated[str | None, Form(max_length=200)] = None,
) -> TokenResponse:
    if grant_type == "password" and username is not None and password is not None:
        address = request.client.host if request.client else "unknown"
        issued = await service.login(
            email=username, password=password, address=address, totp_code=totp
        )
    elif grant_type == "api_key" and api_key:
        issued = await service.api_key_token(api_key)
    elif grant_type == "refresh_token" and refresh_token:
        issued = await service.refresh_session(refresh_token)
    elif grant_type == "client_credentials" and client_id and client_secret is not None:
        issued = service.service_token(client_id=client_id, client_secret=client_secret)
    else:
        raise Problem(
            400,
            "unsupported-grant",
            "Unsupported grant",
            "use grant_type=password with username and password, "
            "grant_type=refresh_token with refresh_token, grant_type=api_key with api_key, "
            "or grant_type=client_credentials with client_id and client_secret",
        )
    return TokenResponse(
        access_token=issued.access_token,
        expires_in=issued.expires_in,
        refresh_token=issued.refresh_token,
    )


@router.post("/v1/auth/revoke", tags=["auth"], summary="Sign out: revoke a refresh token")
async def revoke(
    service: Service, token: Annotated[str, Form(min_length=1, max_length=200)]
) -> Response:
    # RFC 7009: the answer is the same whether or not the token was known.
    await service.refresh_tokens.revoke(token)
    return Response(status_code=200)


@router.get("/v1/me", tags=["users"], summary="The signed-in user")
async def me(principal: CurrentPrincipal, service: Service) -> UserPublic:
    user = await service.store.user_by_id(principal.subject)
    if user is None:
        raise Problem(401, "unauthorized", "Authentication required", "user no longer exists")
    return UserPublic(id=user.id, email=user.email, name=user.name)


@router.post("/v1/workspaces", status_code=201, tags=["workspaces"], summary="Create")
async def create_workspace(
    body: WorkspaceCreate, principal: CurrentPrincipal, service: Service
) -> WorkspacePublic:
    if principal.kind != "user":
        raise Problem(403, "forbidden", "Not allowed", "only users create workspaces")
    ws = await service.create_workspace(name=body.name, owner_id=principal.subject)
    return WorkspacePublic(id=ws.id, name=ws.name, role=Role.OWNER, created_at=ws.created_at)


@router.get("/v1/workspaces", tags=["workspaces"], summary="The caller's workspaces")
async def list_workspaces(principal: CurrentPrincipal, service: Service) -> Items[WorkspacePublic]:
    found = await service.workspaces_of(principal.roles)
    return Items(
        items=[
            WorkspacePublic(id=w.id, name=w.name, role=role, created_at=w.created_at)
            for w, role in found
        ]
    )


@router.get("/v1/workspaces/{ws}/members", tags=["workspaces"], summary="Members")
async def list_members(
    ws: str, service: Service, _: Annotated[Principal, require(Permission.WORKSPACE_READ)]
) -> Items[MemberPublic]:
    members = await service.members(ws)
    users = await service.store.users_by_ids([m.user_id for m in members])
    return Items(
        items=[
            MemberPublic(
                user_id=m.user_id,
                role=m.role,
                email=users[m.user_id].email if m.user_id in users else None,
                name=users[m.user_id].name if m.user_id in users else None,
            )
            for m in members
        ]
    )


def account_public(account: Account) -> AccountPublic:
    """An account as people see it: never a secret."""
    return AccountPublic(
        id=account.id,
        network=account.network,
        handle=account.handle,
        display_name=account.display_name,
        status=account.status,
        token_expires_at=account.token_expires_at,
        connected_at=account.connected_at,
    )


@router.post("/v1/workspaces/{ws}/accounts", status_code=201, tags=["accounts"])
async def connect_account(
    ws: str,
    body: AccountConnect,
    service: Service,
    principal: Annotated[Principal, require(Permission.ACCOUNTS_MANAGE)],
) -> AccountPublic:
    manual = None
    if body.manual_token is not None:
        token = body.manual_token
        manual = ConnectedAccount(
            handle=body.handle,
            display_name=token.display_name,
            network_account_id=token.network_account_id,
            credential=Credential(
                access_token=token.access_token,
                refresh_token=token.refresh_token,
                expires_at=token.expires_at,
                extra=token.extra,
            ),
        )
    account = await service.connect_account(
        workspace_id=ws,
        network=body.network,
        handle=body.handle,
        actor=principal.subject,
        app_password=body.app_password.get_secret_value() if body.app_password else None,
        manual=manual,
    )
    return account_public(account)


@router.get("/v1/workspaces/{ws}/accounts", tags=["accounts"], summary="Connected accounts")
async def list_accounts(
    ws: str, service: Service, _: Annotated[Principal, require(Permission.ACCOUNTS_READ)]
) -> Items[AccountPublic]:
    return Items(items=[account_public(a) for a in await service.accounts(ws)])


@router.get("/v1/workspaces/{ws}/accounts/{account_id}", tags=["accounts"])
async def get_account(
    ws: str,
    account_id: str,
    service: Service,
    _: Annotated[Principal, require(Permission.ACCOUNTS_READ)],
) -> AccountPublic:
    return account_public(await service.account(ws, account_id))


class AccountSettings(BaseModel):
    """Per-network settings of an account (e.g. {"board_id": "..."} on Pinterest)."""

    model_config = ConfigDict(extra="forbid")
    settings: dict[str, str] = Field(max_length=20)


@router.patch("/v1/workspaces/{ws}/accounts/{account_id}", tags=["accounts"])
async def update_account(
    ws: str,
    account_id: str,
    body: AccountSettings,
    service: Service,
    principal: Annotated[Principal, require(Permission.ACCOUNTS_MANAGE)],
) -> AccountPublic:
    account = await account_changes.update_settings(
        service,
        workspace_id=ws,
        account_id=account_id,
        settings=body.settings,
        actor=principal.subject,
    )
    return account_public(account)


@router.delete("/v1/workspaces/{ws}/accounts/{account_id}", status_code=204, tags=["accounts"])
async def disconnect_account(
    ws: str,
    account_id: str,
    service: Service,
    principal: Annotated[Principal, require(Permission.ACCOUNTS_MANAGE)],
) -> Response:
    await account_changes.disconnect(
        service, workspace_id=ws, account_id=account_id, actor=principal.subject
    )
    return Response(status_code=204)


@router.get(
    "/v1/internal/workspaces/{ws}/accounts/{account_id}",
    tags=["internal"],
    summary="An account, for services",
)
async def service_get_account(
    ws: str,
    account_id: str,
    service: Service,
    _: Annotated[Principal, require_scope("accounts:read")],
) -> AccountPublic:
    return account_public(await service.account(ws, account_id))


@router.post(
    "/v1/internal/workspaces/{ws}/accounts/{account_id}:lease",
    tags=["internal"],
    summary="Lease an account's credential (services only; audited)",
)
async def lease_credential(
    ws: str,
    account_id: str,
    body: LeaseRequest,
    service: Service,
    principal: Annotated[Principal, require_scope("credentials:lease")],
) -> LeaseResponse:
    lease = await service.lease(
        workspace_id=ws, account_id=account_id, service=principal.subject, purpose=body.purpose
    )
    return _lease_response(lease)


@router.post(
    "/v1/internal/workspaces/{ws}/accounts/{account_id}:refresh",
    tags=["internal"],
    summary="Refresh an expired credential at its network and lease the new one (audited)",
)
async def refresh_credential(
    ws: str,
    account_id: str,
    service: Service,
    principal: Annotated[Principal, require_scope("credentials:lease")],
    body: RefreshRequest | None = None,
) -> LeaseResponse:
    lease = await service.refresh(
        workspace_id=ws,
        account_id=account_id,
        service=principal.subject,
        refused_sha256=body.refused_sha256 if body else None,
    )
    return _lease_response(lease)


def _lease_response(lease: Lease) -> LeaseResponse:
    # The refresh token never leaves the vault: only the vault refreshes.
    return LeaseResponse(
        account_id=lease.account.id,
        network=lease.account.network,
        handle=lease.account.handle,
        network_account_id=lease.account.network_account_id,
        access_token=lease.credential.access_token.get_secret_value(),
        expires_at=lease.credential.expires_at,
        extra=lease.credential.extra,
    )


AuditFilters = dict[str, Any]


def _audit_filters(
    action: Annotated[str | None, Query(max_length=100)] = None,
    actor: Annotated[str | None, Query(max_length=200)] = None,
    target: Annotated[str | None, Query(max_length=200)] = None,
    since: Annotated[AwareDatetime | None, Query(alias="from")] = None,
    until: Annotated[AwareDatetime | None, Query(alias="to")] = None,
) -> AuditFilters:
    return {"action": action, "actor": actor, "target": target, "since": since, "until": until}


@router.get("/v1/workspaces/{ws}/audit", tags=["audit"], summary="The audit log (owners)")
async def audit_log(
    ws: str,
    service: Service,
    _: Annotated[Principal, require(Permission.AUDIT_READ)],
    filters: Annotated[AuditFilters, Depends(_audit_filters)],
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    after_seq: Annotated[int, Query(ge=0)] = 0,
) -> Items[AuditEntryPublic]:
    entries = await service.audit_trail.page(ws, limit=limit, after_seq=after_seq, **filters)
    return Items(
        items=[
            AuditEntryPublic(
                seq=e.seq,
                at=e.at,
                actor=e.actor,
                action=e.action,
                target=e.target,
                details={k: str(v) for k, v in e.details.items()},
                prev_hash=e.prev_hash,
                hash=e.hash,
            )
            for e in entries
        ]
    )


@router.get("/v1/workspaces/{ws}/audit.csv", tags=["audit"], summary="Export the audit log")
async def audit_export(
    ws: str,
    service: Service,
    _: Annotated[Principal, require(Permission.AUDIT_READ)],
    filters: Annotated[AuditFilters, Depends(_audit_filters)],
) -> StreamingResponse:
    return StreamingResponse(
        service.audit_trail.csv_rows(ws, **filters),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="siar-audit-{ws}.csv"'},
    )

"""The vault's MongoDB store."""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from siar.runtime.mongo import Document, IndexSpec, TenantCollection
from siar_vault.domain import GENESIS_HASH, Account, AuditEntry, Membership, User, Workspace
from siar_vault.errors import Conflict

INDEXES = (
    IndexSpec("users", [("email", ASCENDING)], unique=True),
    IndexSpec("members", [("workspace_id", ASCENDING), ("user_id", ASCENDING)], unique=True),
    IndexSpec("members", [("user_id", ASCENDING)]),
    IndexSpec("accounts", [("workspace_id", ASCENDING), ("network", ASCENDING)]),
    IndexSpec(
        "accounts",
        [("workspace_id", ASCENDING), ("network", ASCENDING), ("network_account_id", ASCENDING)],
        unique=True,
    ),
    IndexSpec("audit", [("workspace_id", ASCENDING), ("seq", ASCENDING)], unique=True),
)


class VaultStore:
    """Users, workspaces, members, accounts, encrypted credentials, audit, signing keys."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        # Users and signing keys are global: a person spans workspaces.
        self.users = db["users"]
        self.signing_keys = db["signing_keys"]
        self.api_keys = db["api_keys"]
        self.workspaces = db["workspaces"]
        self.members = TenantCollection(db["members"])
        self.accounts = TenantCollection(db["accounts"])
        self.credentials = TenantCollection(db["credentials"])
        self.audit = TenantCollection(db["audit"])
        self.audit_heads = TenantCollection(db["audit_heads"])
        # Per workspace, a count of owners never above the real one (members.py).
        self.owner_counts = TenantCollection(db["owner_counts"])

    async def insert_user(self, user: User, password_hash: str) -> None:
        """Store a new user; :class:`Conflict` if the e-mail is taken."""
        try:
            await self.users.insert_one(
                {**user.model_dump(), "_id": user.id, "password_hash": password_hash}
            )
        except DuplicateKeyError as err:
            raise Conflict("a user with that e-mail already exists") from err

    async def user_by_email(self, email: str) -> Document | None:
        """The raw user document (with its password hash)."""
        return await self.users.find_one({"email": email})

    async def user_by_id(self, user_id: str) -> User | None:
        """A user by id."""
        doc = await self.users.find_one({"_id": user_id})
        return User.model_validate(doc) if doc else None

    async def insert_workspace(
        self, workspace: Workspace, owner: Membership, session: AsyncClientSession
    ) -> None:
        """Store a workspace and its owner's membership in one transaction."""
        await self.workspaces.insert_one(
            {**workspace.model_dump(), "_id": workspace.id, "workspace_id": workspace.id},
            session=session,
        )
        await self.members.insert(workspace.id, owner.model_dump(), session=session)
        await self.owner_counts.insert(workspace.id, {"_id": workspace.id, "n": 1}, session=session)

    async def workspaces_by_ids(self, ids: list[str]) -> list[Workspace]:
        """Workspaces with these ids, by name."""
        docs = await self.workspaces.find({"_id": {"$in": ids}}, sort=[("name", 1)]).to_list()
        return [Workspace.model_validate(d) for d in docs]

    async def workspace(self, workspace_id: str) -> Workspace | None:
        """One workspace."""
        doc = await self.workspaces.find_one({"_id": workspace_id})
        return Workspace.model_validate(doc) if doc else None

    async def memberships_of(self, user_id: str) -> list[Membership]:
        """Every membership of a user, across workspaces (for their token)."""
        docs = await self.members.raw.find({"user_id": user_id}).to_list()
        return [Membership.model_validate(d) for d in docs]

    async def users_by_ids(self, user_ids: list[str]) -> dict[str, User]:
        """Users by id, in one query (unknown ids are left out)."""
        docs = await self.users.find({"_id": {"$in": user_ids}}).to_list()
        return {str(d["_id"]): User.model_validate(d) for d in docs}

    async def members_of(self, workspace_id: str) -> list[Membership]:
        """Members of one workspace."""
        return [Membership.model_validate(d) for d in await self.members.find(workspace_id)]

    async def insert_account(
        self, account: Account, envelope: dict[str, Any], session: AsyncClientSession
    ) -> None:
        """Store an account and its encrypted credential in one transaction."""
        await self.accounts.insert(
            account.workspace_id, {**account.model_dump(), "_id": account.id}, session=session
        )
        await self.credentials.insert(
            account.workspace_id,
            {"_id": account.id, "account_id": account.id, "envelope": envelope},
            session=session,
        )

    async def account_by_network_id(
        self, workspace_id: str, network: str, network_account_id: str
    ) -> Account | None:
        """The account already connected for this network identity, if any."""
        doc = await self.accounts.find_one(
            workspace_id, {"network": network, "network_account_id": network_account_id}
        )
        return Account.model_validate(doc) if doc else None

    async def replace_credential(
        self,
        workspace_id: str,
        account_id: str,
        envelope: dict[str, Any],
        expires: Any,
        session: AsyncClientSession | None = None,
    ) -> None:
        """Swap an account's encrypted credential (reconnect or refresh)."""
        await self.credentials.update_one(
            workspace_id, {"_id": account_id}, {"$set": {"envelope": envelope}}, session=session
        )
        doc = await self.accounts.find_one(workspace_id, {"_id": account_id}, session=session)
        if doc is not None:
            # Whole-document replace keeps the datetime a datetime on nx-27017 too.
            doc.update(token_expires_at=expires, status="healthy")
            await self.accounts.replace_one(workspace_id, {"_id": account_id}, doc, session=session)

    async def remove_account(
        self, workspace_id: str, account_id: str, session: AsyncClientSession
    ) -> None:
        """Delete an account and its encrypted credential together."""
        await self.credentials.delete_one(workspace_id, {"_id": account_id}, session=session)
        await self.accounts.delete_one(workspace_id, {"_id": account_id}, session=session)

    async def mark_needs_reconnect(
        self, workspace_id: str, account_id: str, session: AsyncClientSession
    ) -> bool:
        """Mark a healthy account ``needs_reconnect``; False if it was not healthy."""
        matched = await self.accounts.update_one(
            workspace_id,
            {"_id": account_id, "status": "healthy"},
            {"$set": {"status": "needs_reconnect"}},
            session=session,
        )
        return matched == 1

    async def accounts_expiring(self, before: Any) -> list[Account]:
        """Healthy accounts across all workspaces whose token expires before ``before``.

        Deliberately unscoped: refreshing tokens is a system task that spans tenants.
        """
        docs = await self.accounts.raw.find(
            {"status": "healthy", "token_expires_at": {"$ne": None, "$lt": before}}
        ).to_list()
        return [Account.model_validate(d) for d in docs]

    async def set_webhook(self, workspace_id: str, webhook: dict[str, Any] | None) -> None:
        """Set or clear the workspace's webhook (URL and encrypted secret)."""
        await self.workspaces.update_one({"_id": workspace_id}, {"$set": {"webhook": webhook}})

    async def list_accounts(self, workspace_id: str) -> list[Account]:
        """Accounts of a workspace, by network then handle."""
        docs = await self.accounts.find(workspace_id, sort=[("network", 1), ("handle", 1)])
        return [Account.model_validate(d) for d in docs]

    async def account(self, workspace_id: str, account_id: str) -> Account | None:
        """One account of a workspace."""
        doc = await self.accounts.find_one(workspace_id, {"_id": account_id})
        return Account.model_validate(doc) if doc else None

    async def credential_envelope(self, workspace_id: str, account_id: str) -> Document | None:
        """The encrypted credential of an account."""
        doc = await self.credentials.find_one(workspace_id, {"_id": account_id})
        return doc["envelope"] if doc else None

    async def last_audit(self, workspace_id: str) -> AuditEntry | None:
        """The head of a workspace's audit chain."""
        docs = await self.audit.find(workspace_id, sort=[("seq", DESCENDING)], limit=1)
        return AuditEntry.model_validate(docs[0]) if docs else None

    async def append_audit(self, entry: AuditEntry) -> bool:
        """Append one link; False if another writer took that sequence number first.

        The chain's head is also kept apart, so cutting entries off the end is detected.
        """
        try:
            await self.audit.insert(entry.workspace_id, entry.model_dump())
        except DuplicateKeyError:
            return False
        await self.audit_heads.update_one(
            entry.workspace_id,
            {"_id": entry.workspace_id},
            {"$max": {"seq": entry.seq}},
            upsert=True,
        )
        await self.audit_heads.update_one(
            entry.workspace_id,
            {"_id": entry.workspace_id, "seq": entry.seq},
            {"$set": {"hash": entry.hash}},
        )
        return True

    async def audit_query(
        self, workspace_id: str, query: dict[str, Any], *, limit: int
    ) -> list[AuditEntry]:
        """Audit entries matching ``query``, in sequence order."""
        docs = await self.audit.find(workspace_id, query, sort=[("seq", ASCENDING)], limit=limit)
        return [AuditEntry.model_validate(d) for d in docs]


__all__ = ["GENESIS_HASH", "INDEXES", "VaultStore"]

"""The append-only, hash-chained audit log of each workspace: writing, reading, export."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from siar.contracts import utcnow
from siar.runtime.mongo import Document
from siar_vault.domain import GENESIS_HASH, AuditEntry
from siar_vault.store import VaultStore

CSV_COLUMNS = ("seq", "at", "actor", "action", "target", "details", "prev_hash", "hash")


class AuditTrail:
    """Appends links to a workspace's chain and reads them back, filtered."""

    def __init__(self, store: VaultStore) -> None:
        self.store = store

    async def append(
        self,
        workspace_id: str,
        actor: str,
        action: str,
        target: str,
        details: dict[str, Any] | None = None,
    ) -> AuditEntry:
        """Append one entry (retrying if another writer took the same sequence number)."""
        while True:
            head = await self.store.last_audit(workspace_id)
            now = utcnow()
            entry = AuditEntry(
                workspace_id=workspace_id,
                seq=(head.seq + 1) if head else 1,
                # Millisecond precision: what MongoDB stores, so the hash re-verifies.
                at=now.replace(microsecond=now.microsecond // 1000 * 1000),
                actor=actor,
                action=action,
                target=target,
                details=details or {},
                prev_hash=head.hash if head else GENESIS_HASH,
            )
            entry = entry.model_copy(update={"hash": entry.compute_hash()})
            if await self.store.append_audit(entry):
                return entry

    async def page(
        self,
        workspace_id: str,
        *,
        limit: int,
        after_seq: int = 0,
        action: str | None = None,
        actor: str | None = None,
        target: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[AuditEntry]:
        """Entries in order, filtered; page on with ``after_seq`` = the last seq seen."""
        query: dict[str, Any] = {"seq": {"$gt": after_seq}}
        for field, value in (("action", action), ("actor", actor), ("target", target)):
            if value:
                query[field] = value
        window: dict[str, datetime] = {}
        if since:
            window["$gte"] = since
        if until:
            window["$lt"] = until
        if window:
            query["at"] = window
        return await self.store.audit_query(workspace_id, query, limit=limit)

    async def csv_rows(self, workspace_id: str, **filters: Any) -> AsyncIterator[str]:
        """The filtered log as CSV text, streamed page by page."""
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(CSV_COLUMNS)
        yield out.getvalue()
        after = 0
        while entries := await self.page(workspace_id, limit=500, after_seq=after, **filters):
            out.seek(0)
            out.truncate()
            for e in entries:
                details = ";".join(f"{k}={v}" for k, v in sorted(e.details.items()))
                row = (e.seq, e.at.isoformat(), e.actor, e.action, e.target, details)
                writer.writerow((*row, e.prev_hash, e.hash))
            yield out.getvalue()
            after = entries[-1].seq


async def chain_problems(db: AsyncDatabase[Document]) -> list[str]:
    """Every break in every workspace's audit chain (empty when intact).

    Walks each chain in order: a missing sequence number, a link that does not follow
    the one before it, an altered entry, or a log shorter than its head says.
    """
    problems: list[str] = []
    heads = {str(h["_id"]): h async for h in db["audit_heads"].find({})}
    last: dict[str, AuditEntry] = {}
    async for doc in db["audit"].find({}, sort=[("workspace_id", 1), ("seq", 1)]):
        entry = AuditEntry.model_validate(doc)
        ws = entry.workspace_id
        prev = last.get(ws)
        expected_seq = prev.seq + 1 if prev else 1
        expected_prev = prev.hash if prev else GENESIS_HASH
        if entry.seq != expected_seq:
            problems.append(f"{ws}: entries {expected_seq}..{entry.seq - 1} are missing")
        if entry.prev_hash != expected_prev:
            problems.append(f"{ws}: entry {entry.seq} does not follow the one before it")
        if entry.compute_hash() != entry.hash:
            problems.append(f"{ws}: entry {entry.seq} was altered")
        last[ws] = entry
    for ws, head in heads.items():
        tail = last.get(ws)
        if tail is None or tail.seq != int(head["seq"]) or tail.hash != head.get("hash"):
            problems.append(
                f"{ws}: the log ends at {tail.seq if tail else 0} "
                f"but its head says {head['seq']} (entries were cut off the end)"
            )
    return problems

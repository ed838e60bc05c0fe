"""``siar vault …``: operator commands that work on the vault's database directly.

- ``siar vault rotate-kek``: add a key-encryption key version (with ``kek_file``) or
  use the newly configured active one, then re-wrap every data key with it. The
  ciphertexts are untouched and a running vault keeps working throughout: it reads
  the key file again when it meets a version it does not know.
- ``siar vault rotate-signing-key``: publish a new JWT signing key now, sign with it
  after a grace period, and retire keys no live token can still need.
- ``siar vault verify-audit``: walk every workspace's hash chain and report any
  edited, deleted or truncated entry; exits 1 if the log was tampered with.
- ``siar vault check-owners [--fix]``: report workspaces whose owner count (which
  guards the last owner, docs/permissions.md) differs from their owners, and with
  ``--fix`` set it right; exits 1 if any differed.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import sys
import time
from typing import Any

from siar.runtime.mongo import Document, create_mongo_client
from siar_vault import crypto
from siar_vault.accounts import credential_aad
from siar_vault.audit import chain_problems
from siar_vault.kek import FileKeks
from siar_vault.main import keyring_for
from siar_vault.members import check_owner_counts
from siar_vault.settings import Settings
from siar_vault.store import VaultStore
from siar_vault.tokens import SIGNING_AAD, TokenIssuer


async def rotate_kek(settings: Settings) -> dict[str, int]:
    """Re-wrap every data key with the active KEK (adding a version to the key file)."""
    if settings.kek_file is not None:
        version = FileKeks(settings.kek_file).add_version()
        print(f"added KEK version {version} to {settings.kek_file}")
    keyring = keyring_for(settings)
    mongo = create_mongo_client(settings.platform.mongodb_url, app_name="siar-vault-cli")
    db = mongo[settings.database]
    counts = {"credentials": 0, "signing_keys": 0, "other_secrets": 0, "already_current": 0}
    try:
        async for doc in db["credentials"].find({}):
            aad = credential_aad(str(doc["workspace_id"]), str(doc["account_id"]))
            done = await _rewrap(db, "credentials", doc, aad, keyring)
            counts["credentials" if done else "already_current"] += 1
        async for doc in db["signing_keys"].find({}):
            done = await _rewrap(db, "signing_keys", doc, SIGNING_AAD, keyring)
            counts["signing_keys" if done else "already_current"] += 1
        # Two-factor secrets and webhook secrets are envelopes too.
        async for doc in db["users"].find({"totp": {"$exists": True}}):
            aad = f"siar-totp:{doc['_id']}".encode()
            done = await _rewrap(db, "users", doc, aad, keyring, field="totp.envelope")
            counts["other_secrets" if done else "already_current"] += 1
        async for doc in db["workspaces"].find({}):
            if not doc.get("webhook"):
                continue
            aad = f"siar-webhook:{doc['_id']}".encode()
            done = await _rewrap(db, "workspaces", doc, aad, keyring, field="webhook.envelope")
            counts["other_secrets" if done else "already_current"] += 1
    finally:
        await mongo.close()
    return counts


async def _rewrap(
    db: Any,
    collection: str,
    doc: Document,
    aad: bytes,
    keyring: crypto.Keyring,
    *,
    field: str = "envelope",
) -> bool:
    envelope: Any = doc
    for part in field.split("."):
        envelope = envelope[part]
    if int(envelope["kek_version"]) == keyring.active:
        return False
    rewrapped = crypto.rewrap(keyring, envelope, aad)
    # Conditional on the old envelope, so a concurrent reconnect is never overwritten.
    result = await db[collection].update_one(
        {"_id": doc["_id"], f"{field}.kek_version": envelope["kek_version"]},
        {"$set": {field: rewrapped}},
    )
    return bool(result.modified_count)


async def rotate_signing_key(settings: Settings, *, activate_after_s: float) -> tuple[str, int]:
    """Add a signing key (used after ``activate_after_s``); retire long-superseded ones.

    A key is retired once its successor has been active longer than any token lives,
    so no valid token is ever left without its public key.
    """
    issuer = TokenIssuer(
        keyring_for(settings),
        issuer=settings.platform.jwt_issuer,
        audience=settings.platform.jwt_audience,
    )
    mongo = create_mongo_client(settings.platform.mongodb_url, app_name="siar-vault-cli")
    keys = mongo[settings.database]["signing_keys"]
    try:
        kid = await issuer.add_key(keys, activate_after_s=activate_after_s)
        longest = max(settings.access_token_ttl_s, settings.service_token_ttl_s)
        docs = sorted(
            await keys.find({"retired": False}).to_list(),
            key=lambda d: float(d.get("activate_ts", 0.0)),
        )
        now = time.time()
        retired = 0
        for older, newer in itertools.pairwise(docs):
            if float(newer.get("activate_ts", 0.0)) + longest < now:
                await keys.update_one({"_id": older["_id"]}, {"$set": {"retired": True}})
                retired += 1
    finally:
        await mongo.close()
    return kid, retired


async def check_owners(settings: Settings, *, fix: bool) -> list[str]:
    """Workspaces whose owner count differs from their owners (set right with ``fix``)."""
    mongo = create_mongo_client(settings.platform.mongodb_url, app_name="siar-vault-cli")
    try:
        return await check_owner_counts(VaultStore(mongo[settings.database]), fix=fix)
    finally:
        await mongo.close()


async def verify_audit(settings: Settings) -> list[str]:
    """Every break in every workspace's audit chain (empty when intact)."""
    mongo = create_mongo_client(settings.platform.mongodb_url, app_name="siar-vault-cli")
    try:
        return await chain_problems(mongo[settings.database])
    finally:
        await mongo.close()


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``siar``."""
    parser = argparse.ArgumentParser(prog="siar", description=__doc__.splitlines()[0])
    area = parser.add_subparsers(dest="area", required=True)
    vault = area.add_parser("vault", help="vault operations").add_subparsers(
        dest="command", required=True
    )
    vault.add_parser("rotate-kek", help="add a KEK version and re-wrap every data key")
    vault.add_parser("verify-audit", help="check every workspace's audit hash chain")
    owners = vault.add_parser("check-owners", help="compare owner counts with owners")
    owners.add_argument("--fix", action="store_true", help="set differing counts right")
    signing = vault.add_parser("rotate-signing-key", help="add a JWT signing key")
    signing.add_argument(
        "--activate-after-s",
        type=float,
        default=120.0,
        help="publish now, sign with it after this many seconds (default 120)",
    )
    args = parser.parse_args(argv)
    settings = Settings()
    if args.command == "rotate-kek":
        counts = asyncio.run(rotate_kek(settings))
        print(
            f"re-wrapped {counts['credentials']} credentials, {counts['signing_keys']} "
            f"signing keys and {counts['other_secrets']} two-factor and webhook secrets "
            f"({counts['already_current']} were already current)"
        )
        return 0
    if args.command == "rotate-signing-key":
        kid, retired = asyncio.run(
            rotate_signing_key(settings, activate_after_s=args.activate_after_s)
        )
        print(f"added signing key {kid}; retired {retired} superseded key(s)")
        return 0
    if args.command == "check-owners":
        problems = asyncio.run(check_owners(settings, fix=args.fix))
        intact = "every owner count matches"
    else:
        problems = asyncio.run(verify_audit(settings))
        intact = "audit log intact"
    for problem in problems:
        print(problem)
    print(intact if not problems else f"{len(problems)} problem(s) found")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark: token verifications and credential leases per second, against bare AES-GCM.

In one run, single-threaded unless noted:

* bare AES-256-GCM decrypt (cryptography's ``AESGCM``, a 200-byte secret with associated
  data, the key object built once) — the baseline every ratio is taken against,
* envelope decrypt (``siar_vault.crypto.decrypt``: unwrap the data key, then decrypt),
* token verification in this process with a warm, cached JWKS (``TokenVerifier`` over a
  ``JwksCache`` of the vault started here; the first call, which fetches, is excluded),
* credential leases over HTTP to the vault (each with its audit write), sequentially and
  from C concurrent clients (default 8), then a check that the audit log grew by one
  ``credential.leased`` entry per lease.

Starts the embedded stack (Tansu + nx-27017) with only the vault. Prints figures only,
never asserts timings. Run from the repo root:

    uv run python tests/bench/bench_vault.py [--seconds 2] [--lease-seconds 5] [--clients 8]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from siar.devstack import DevSecrets
from siar.runtime.auth import JwksCache, TokenVerifier
from siar.runtime.settings import PlatformSettings
from siar_vault import crypto

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.bench.benchkit import run_bounded, running  # noqa: E402  (repo root on sys.path)
from tests.e2e.flows import new_tenant  # noqa: E402

NAMES = ("vault",)
LOG_DIR = ROOT / "test-artifacts" / "bench" / "vault"
SECRET = os.urandom(200)
AAD = b"ws_bench/acc_bench"
BATCH = 256  # operations between clock reads in the tight loops


def sync_rate(op: Callable[[], object], seconds: float) -> tuple[int, float]:
    """Run ``op`` in batches for about ``seconds``: (operations, elapsed s)."""
    n, t0 = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - t0) < seconds:
        for _ in range(BATCH):
            op()
        n += BATCH
    return n, elapsed


async def async_rate(op: Callable[[], Awaitable[object]], seconds: float) -> tuple[int, float]:
    """Await ``op`` in batches for about ``seconds``: (operations, elapsed s)."""
    n, t0 = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - t0) < seconds:
        for _ in range(BATCH):
            await op()
        n += BATCH
    return n, elapsed


def bare_aesgcm(seconds: float) -> tuple[int, float]:
    """Decrypt one 200-byte AES-256-GCM ciphertext with associated data, repeatedly."""
    aead, nonce = AESGCM(AESGCM.generate_key(bit_length=256)), os.urandom(12)
    sealed = aead.encrypt(nonce, SECRET, AAD)
    assert aead.decrypt(nonce, sealed, AAD) == SECRET  # correctness, not a timing
    return sync_rate(lambda: aead.decrypt(nonce, sealed, AAD), seconds)


def envelope(seconds: float) -> tuple[int, float]:
    """Unwrap a data key with the KEK and decrypt the same secret, repeatedly."""
    keyring = crypto.Keyring({1: os.urandom(32)}, 1)
    env = crypto.encrypt(keyring, SECRET, AAD)
    assert crypto.decrypt(keyring, env, AAD) == SECRET
    return sync_rate(lambda: crypto.decrypt(keyring, env, AAD), seconds)


async def verify_tokens(vault: str, token: str, seconds: float) -> tuple[int, float]:
    """Verify one access token in process, the JWKS fetched once beforehand."""
    fields = PlatformSettings.model_fields
    async with httpx.AsyncClient(trust_env=False) as http:
        verifier = TokenVerifier(
            JwksCache(f"{vault}/.well-known/jwks.json", http),
            issuer=str(fields["jwt_issuer"].default),
            audience=str(fields["jwt_audience"].default),
        )
        principal = await verifier.verify(token)  # fetches the JWKS: not timed
        assert principal.kind == "user", principal
        return await async_rate(lambda: verifier.verify(token), seconds)


async def lease_loop(url: str, auth: dict[str, str], until: float, errors: list[str]) -> int:
    """Lease over one HTTP connection until ``until`` (perf_counter); successful leases."""
    done = 0
    async with httpx.AsyncClient(timeout=15.0, trust_env=False, headers=auth) as http:
        while time.perf_counter() < until:
            r = await http.post(url, json={"purpose": "bench"})
            if r.status_code == 200:
                done += 1
            else:
                errors.append(f"{r.status_code} {r.text[:200]}")
    return done


async def leases(url: str, auth: dict[str, str], clients: int, seconds: float) -> dict[str, Any]:
    """``clients`` concurrent lease loops for ``seconds``: successes, errors, elapsed."""
    errors: list[str] = []
    t0 = time.perf_counter()
    counts = await asyncio.gather(
        *(lease_loop(url, auth, t0 + seconds, errors) for _ in range(clients))
    )
    return {"n": sum(counts), "s": time.perf_counter() - t0, "errors": errors}


async def audit_leases(http: httpx.AsyncClient, vault: str, ws: str, auth: dict[str, str]) -> int:
    """``credential.leased`` entries in the workspace's audit log, paging by ``after_seq``."""
    count, after = 0, 0
    while True:
        r = await http.get(
            f"{vault}/v1/workspaces/{ws}/audit",
            params={"limit": 500, "after_seq": after},
            headers=auth,
        )
        r.raise_for_status()
        items = r.json()["items"]
        if not items:
            return count
        count += sum(e["action"] == "credential.leased" for e in items)
        after = max(int(e["seq"]) for e in items)


async def measure(vault: str, publisher_secret: str, args: argparse.Namespace) -> None:
    """Baselines first, then the tenant, verification and leases; print the figures."""
    rows: dict[str, tuple[int, float]] = {
        "bare_aesgcm_decrypt": bare_aesgcm(args.seconds),
        "envelope_decrypt": envelope(args.seconds),
    }
    async with httpx.AsyncClient(timeout=15.0, trust_env=False) as http:
        tenant = await new_tenant(http, vault)
        rows["token_verify_cached_jwks"] = await verify_tokens(vault, tenant.token, args.seconds)
        r = await http.post(
            f"{vault}/v1/auth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": "publisher",
                "client_secret": publisher_secret,
            },
        )
        assert r.status_code == 200, r.text  # setup, not a timing
        service = {"authorization": f"Bearer {r.json()['access_token']}"}
        ws, account = tenant.workspace_id, tenant.account_id
        url = f"{vault}/v1/internal/workspaces/{ws}/accounts/{account}:lease"
        before = await audit_leases(http, vault, ws, tenant.auth)
        warm = await leases(url, service, 1, 0.5)  # connection + caches; not reported
        seq = await leases(url, service, 1, args.lease_seconds)
        par = await leases(url, service, args.clients, args.lease_seconds)
        after = await audit_leases(http, vault, ws, tenant.auth)
    rows["lease_http_sequential"] = (seq["n"], seq["s"])
    rows[f"lease_http_{args.clients}_clients"] = (par["n"], par["s"])

    base = rows["bare_aesgcm_decrypt"][0] / rows["bare_aesgcm_decrypt"][1]
    print(f"\n{'operation':30} {'n':>9} {'s':>6} {'ops/s':>12} {'/ bare AES-GCM':>15}")
    figures: dict[str, dict[str, float]] = {}
    for name, (n, s) in rows.items():
        rate = n / s
        figures[name] = {"ops_per_s": float(f"{rate:.4g}"), "ratio": float(f"{rate / base:.4g}")}
        print(f"{name:30} {n:>9} {s:>6.2f} {rate:>12,.1f} {rate / base:>15.3g}")
    total = warm["n"] + seq["n"] + par["n"]
    grew = after - before
    errors = warm["errors"] + seq["errors"] + par["errors"]
    print(f"\naudit: credential.leased entries grew by {grew} for {total} leases (incl. warm-up)")
    if errors:
        print(f"{len(errors)} failed lease calls; the first: {errors[0]}")
    summary = {
        "bench": "vault",
        **figures,
        "leases_total": total,
        "audit_leased_growth": grew,
        "audit_matches": grew == total,
        "lease_errors": len(errors),
        "log_level": args.log_level,
    }
    print(json.dumps(summary, separators=(",", ":")))


def main() -> int:
    """Start infra and the vault, measure, always stop everything."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="per in-process figure")
    parser.add_argument("--lease-seconds", type=float, default=5.0, help="per lease figure")
    parser.add_argument("--clients", type=int, default=8, help="concurrent lease clients")
    parser.add_argument("--timeout", type=float, default=300.0, help="overall bound, seconds")
    parser.add_argument("--log-level", default=os.environ.get("SIAR_LOG_LEVEL", "INFO"))
    args = parser.parse_args()
    if args.seconds <= 0 or args.lease_seconds <= 0 or args.clients < 1:
        parser.error("--seconds and --lease-seconds must be positive, --clients at least 1")

    run = uuid.uuid4().hex[:8]
    extra = {
        "SIAR_VAULT_DATABASE": f"siar_bench_{run}_vault",
        "SIAR_LOG_LEVEL": args.log_level,
    }
    secrets = DevSecrets.generate()
    with running(LOG_DIR, extra, services=NAMES, secrets=secrets, ready="vault") as (_, platform):
        job = measure(platform.urls["vault"], secrets.service_secrets["publisher"], args)
        return run_bounded(job, args.timeout)


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark: connecting an account through OAuth, phase by phase, over real HTTP.

Starts the embedded stack (Tansu + nx-27017) with only the vault, pointed at a local
Mastodon instance (tests/e2e/fake_mastodon.py) with SIAR_VAULT_MASTODON_INSTANCE. Each
round is one person connecting one account, in three timed phases:

* start: ``POST /v1/workspaces/{ws}/accounts:authorize`` (state + PKCE stored, the
  verifier encrypted),
* consent: the instance's authorize page and the Authorize button (the fake instance
  only; shown so the other two can be read against it),
* callback: ``GET /v1/oauth/callback/mastodon`` (the state spent, the code exchanged at
  the instance's token endpoint, ``verify_credentials``, the credential sealed, the
  account and its ``account.connected`` outbox row written, the audit entry).

New accounts first (each round a new Mastodon account id), then reconnects of accounts
already connected (the credential replaced). Sequential, so each figure is one flow's
latency. Prints figures only, never asserts timings. Run from the repo root:

    uv run python tests/bench/bench_oauth_connect.py [--rounds 30]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import uuid
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.bench.benchkit import run_bounded, running, stats  # noqa: E402  (repo root on sys.path)
from tests.e2e.fake_mastodon import FakeMastodon  # noqa: E402
from tests.e2e.flows import Tenant, new_tenant  # noqa: E402

LOG_DIR = ROOT / "test-artifacts" / "bench" / "oauth"
REDIRECT = "https://console.siar.example/oauth/callback/mastodon"
PHASES = ("start", "consent", "callback")


async def one_flow(
    http: httpx.AsyncClient, vault: str, tenant: Tenant, mastodon: FakeMastodon
) -> dict[str, float]:
    """One connection, each phase's wall time in ms."""
    took: dict[str, float] = {}
    t0 = time.perf_counter()
    r = await http.post(
        f"{vault}/v1/workspaces/{tenant.workspace_id}/accounts:authorize",
        json={"network": "mastodon", "redirect_uri": REDIRECT},
        headers=tenant.auth,
    )
    r.raise_for_status()
    t1 = time.perf_counter()
    location = await mastodon.decide(http, r.json()["authorize_url"])
    t2 = time.perf_counter()
    back = httpx.URL(location).params
    r = await http.get(f"{vault}/v1/oauth/callback/mastodon", params=back)
    if r.status_code != 201:
        raise RuntimeError(f"callback answered {r.status_code}: {r.text}")
    t3 = time.perf_counter()
    took["start"], took["consent"], took["callback"] = (
        (t1 - t0) * 1000,
        (t2 - t1) * 1000,
        (t3 - t2) * 1000,
    )
    return took


async def measure(vault: str, mastodon: FakeMastodon, rounds: int) -> None:
    """Run the rounds and print the figures."""
    async with httpx.AsyncClient(timeout=60.0) as http:
        tenant = await new_tenant(http, vault)
        await one_flow(http, vault, tenant, mastodon)  # warm-up (first-use costs)
        for label, fresh in (("new account", True), ("reconnect", False)):
            times: dict[str, list[float]] = {p: [] for p in PHASES}
            t0 = time.perf_counter()
            for i in range(rounds):
                mastodon.account["id"] = f"{uuid.uuid4().int % 10**15}" if fresh else f"r{i}"
                for phase, ms in (await one_flow(http, vault, tenant, mastodon)).items():
                    times[phase].append(ms)
            elapsed = time.perf_counter() - t0
            print(f"{label}: {rounds} flows in {elapsed:.1f} s ({rounds / elapsed:.1f} flows/s)")
            for phase in PHASES:
                print(f"  {phase:9} ms {stats(times[phase])}")
            if not fresh:
                continue
            # Connect the accounts the reconnect rounds will connect again.
            for i in range(rounds):
                mastodon.account["id"] = f"r{i}"
                await one_flow(http, vault, tenant, mastodon)


def main() -> int:
    """Start infra, the vault and the instance, measure, always stop everything."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30, help="flows per kind")
    parser.add_argument("--timeout", type=float, default=600.0, help="overall bound, seconds")
    parser.add_argument("--log-level", default=os.environ.get("SIAR_LOG_LEVEL", "INFO"))
    args = parser.parse_args()
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    mastodon = FakeMastodon().start()
    mastodon.allow_redirect(REDIRECT)
    extra = {
        "SIAR_VAULT_DATABASE": f"siar_bench_{uuid.uuid4().hex[:8]}_vault",
        "SIAR_LOG_LEVEL": args.log_level,
        "SIAR_VAULT_MASTODON_INSTANCE": mastodon.base,
        "SIAR_VAULT_APPS": json.dumps(
            {"mastodon": {"client_id": mastodon.client_id, "client_secret": mastodon.client_secret}}
        ),
    }
    try:
        with running(LOG_DIR, extra, services=("vault",), ready="vault") as (_, platform):
            return run_bounded(measure(platform.urls["vault"], mastodon, args.rounds), args.timeout)
    finally:
        mastodon.stop()


if __name__ == "__main__":
    sys.exit(main())

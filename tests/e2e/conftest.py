"""The whole platform as separate processes on the embedded (or external) stack."""

from __future__ import annotations

import contextlib
import json
import os
import uuid
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from siar.devstack import DevSecrets, Platform, free_port, start_infra
from siar.devstack.infra import Infra
from tests.e2e.fake_mastodon import FakeMastodon

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
E2E_META_APP_SECRET = "e2e-meta-app-secret"


@dataclass
class Stack:
    """A running platform and where to reach it."""

    infra: Infra
    platform: Platform
    urls: dict[str, str]
    mastodon: FakeMastodon
    """A Mastodon instance (OAuth server and account API) where Siar's app is registered."""


@contextlib.contextmanager
def launch_stack(
    root: Path, log_dir: Path, overrides: Mapping[str, str] | None = None
) -> Iterator[Stack]:
    """Start infra and all five services (settings ``overrides`` on top); stop on exit."""
    log_dir.mkdir(parents=True, exist_ok=True)
    infra = start_infra(root / "data", log_dir=log_dir)
    run = uuid.uuid4().hex[:8]
    mastodon = FakeMastodon().start()
    names = ("vault", "scheduler", "publisher", "inbox", "analytics")
    ports = {n: free_port() for n in names}
    extra = {
        "SIAR_SCHEDULER_PUBLIC_BASE_URL": f"http://127.0.0.1:{ports['scheduler']}",
        "SIAR_SCHEDULER_MEDIA_URL_SECRET": uuid.uuid4().hex,
        # Separate databases per run, so an external MongoDB is never shared with dev data.
        **{f"SIAR_{n.upper()}_DATABASE": f"siar_e2e_{run}_{n}" for n in names},
        "SIAR_INBOX_POLL_INTERVAL_S": "0.5",
        # Network webhooks reach the inbox signed with these (tests/e2e/test_inbox_webhooks.py).
        "SIAR_INBOX_WEBHOOK_SECRETS__FACEBOOK": E2E_META_APP_SECRET,
        "SIAR_INBOX_META_VERIFY_TOKEN": "e2e-verify-token",
        "SIAR_SANDBOX_COMMENT_DELAY_S": "0.5",
        "SIAR_SCHEDULER_SCAN_INTERVAL_S": "2",
        "SIAR_PUBLISHER_BACKOFF_BASE_S": "0.1",
        # A post's metrics are collected a second after it is published.
        "SIAR_ANALYTICS_COLLECT_AFTER_PUBLISH_S": "1",
        # Research polls each tracked item every few seconds (tests/e2e/test_analytics_reports.py).
        "SIAR_ANALYTICS_RESEARCH_POLL_S": "5",
        "SIAR_ANALYTICS_RESEARCH_TICK_S": "1",
        "SIAR_ANALYTICS_MONTHLY_TICK_S": "1",
        "SIAR_LOG_LEVEL": os.environ.get("SIAR_LOG_LEVEL", "INFO"),
        # Siar's app on a local Mastodon instance: accounts connect through its consent
        # screen (tests/e2e/test_oauth_connect.py, tests/browser/test_accounts_oauth.py).
        "SIAR_VAULT_MASTODON_INSTANCE": mastodon.base,
        "SIAR_VAULT_APPS": json.dumps(
            {"mastodon": {"client_id": mastodon.client_id, "client_secret": mastodon.client_secret}}
        ),
        **(overrides or {}),
    }
    try:
        platform = Platform(
            infra,
            DevSecrets.generate(),
            log_dir,
            ports=ports,
            extra_env=extra,
        )
        try:
            platform.start()
            platform.wait_ready(timeout=90)
            started = {name: platform.urls[name] for name in platform.services}
            yield Stack(infra=infra, platform=platform, urls=started, mastodon=mastodon)
        finally:
            platform.stop()
    finally:
        infra.stop()
        mastodon.stop()


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Kafka + MongoDB (external, testcontainers or embedded) and all five services."""
    with launch_stack(tmp_path_factory.mktemp("siar"), ARTIFACTS / "logs") as started:
        yield started


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client for talking to the services."""
    async with httpx.AsyncClient(timeout=15.0) as client:
        yield client

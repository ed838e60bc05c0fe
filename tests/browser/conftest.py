"""The whole platform plus the console as processes, and headless Chromium to drive it.

Chromium is Debian's (``/usr/bin/chromium``, or ``SIAR_CHROMIUM``), driven by Playwright
through its executable path; ``playwright install`` is never used. Screenshots go to
``test-artifacts/browser/``.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import (
    Browser,
    Page,
    Playwright,
    ViewportSize,
    expect,
    sync_playwright,
)

from siar.devstack import CONSOLE, DevSecrets, Platform, free_port
from tests.browser.tenants import Person, new_person
from tests.e2e.conftest import ARTIFACTS, Stack, launch_stack

CHROMIUM = os.environ.get("SIAR_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# The machine is shared and slow at times: generous waits that can still fail.
expect.set_options(timeout=20_000)
SHOTS = ARTIFACTS / "browser"
DESKTOP = ViewportSize(width=1280, height=800)
PHONE = ViewportSize(width=390, height=844)


@dataclass
class Console:
    """The running platform and the console in front of it."""

    stack: Stack
    url: str

    @property
    def vault(self) -> str:
        """The vault's own URL (for setting up data without the browser)."""
        return self.stack.urls["vault"]


# The platform the browser tests share, stopped as soon as the last browser test is done
# (see pytest_runtest_teardown) rather than at the end of the whole run, so a full
# `make test` never has it running beside the e2e tests' own platform.
_RUNNING = contextlib.ExitStack()
HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="session")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    """Kafka, MongoDB, the five services and the console, each its own process."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"no Chromium at {CHROMIUM}: apt-get install chromium (or set SIAR_CHROMIUM)")
    log_dir = ARTIFACTS / "logs"
    with _RUNNING:
        stack = _RUNNING.enter_context(launch_stack(tmp_path_factory.mktemp("siar"), log_dir))
        ports = {**stack.platform.ports, CONSOLE: free_port()}
        front = Platform(
            stack.infra, DevSecrets.generate(), log_dir, ports=ports, services=(CONSOLE,)
        )
        _RUNNING.callback(front.stop)
        front.start()
        front.wait_ready(timeout=60)
        yield Console(stack=stack, url=front.urls[CONSOLE])


def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    """After the last browser test of a run, stop the platform (the fixture stays cached)."""
    if nextitem is None or HERE not in nextitem.path.parents:
        _RUNNING.close()


# Per module, not per session: while Playwright's sync driver runs it holds an event loop
# in the main thread, and pytest-asyncio's tests that run after the browser tests (e2e,
# integration) could not start theirs.
@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    """Playwright's driver (sync API), for one test module."""
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    """Debian's headless Chromium."""
    launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield launched
    launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser context (no storage) at desktop size; English UI."""
    context = browser.new_context(viewport=DESKTOP, locale="en-GB")
    context.set_default_timeout(20_000)
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda err: errors.append(str(err)))
    yield opened
    context.close()
    assert not errors, f"uncaught errors in the page: {errors}"


@pytest.fixture
def person(console: Console) -> Person:
    """A new user with two workspaces (an agency with two clients) and a sandbox account."""
    return new_person(console.vault, workspaces=("Kopi Senja", "Batik Nusantara"))


def sign_in(page: Page, console: Console, person: Person, path: str = "/") -> None:
    """Sign in through the form and wait for the signed-in shell."""
    page.goto(console.url + path)
    page.get_by_label("Email").fill(person.email)
    page.get_by_label("Password").fill(person.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_label("Workspace", exact=True)).to_be_visible()


@pytest.fixture
def signed_in(page: Page, console: Console, person: Person) -> Page:
    """A page signed in as ``person``, on their first workspace."""
    sign_in(page, console, person)
    expect(page).to_have_url(re.compile(r"#/w/"))
    return page


def shot(page: Page, name: str) -> Path:
    """Save a full-page screenshot as ``test-artifacts/browser/<name>.png``."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path

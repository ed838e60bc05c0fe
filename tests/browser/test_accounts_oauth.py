"""Connecting a Mastodon account from the Accounts page, through the consent screen.

Accounts → "Continue to Mastodon" → the vault starts the flow → the instance's own
authorize page (tests/e2e/fake_mastodon.py, a local Mastodon OAuth server over real
HTTP) → "Authorize" → back to the console's /oauth/callback/mastodon with code and
state → the vault exchanges the code (PKCE) and stores the account → the Accounts page
shows it healthy, with a token that does not expire (Mastodon's never do). The callback
works once, and the token is in no answer the browser gets and in no log.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import httpx
from playwright.sync_api import Page, Route, expect

from tests.browser.conftest import Console, shot
from tests.browser.tenants import Person
from tests.browser.tenants import token as tenant_token
from tests.e2e.fake_mastodon import s256


def wait_until(done: Callable[[], bool], *, within_s: float) -> None:
    """Poll ``done`` until it is true, or fail after ``within_s`` seconds."""
    deadline = time.monotonic() + within_s
    while not done():
        assert time.monotonic() < deadline, f"not done within {within_s} s"
        time.sleep(0.5)


def connect_in_browser(page: Page, console: Console, shots: str | None = None) -> str:
    """Accounts → Mastodon → consent → back: the account's handle, once it is listed."""
    mastodon = console.stack.mastodon
    mastodon.allow_redirect(f"{console.url}/oauth/callback/mastodon")
    page.get_by_role("link", name="Accounts").click()
    form = page.get_by_role("region", name="Connect an account")
    form.get_by_label("Network").select_option("mastodon")
    expect(form.get_by_text("You will be sent to Mastodon")).to_be_visible()
    form.get_by_role("button", name="Continue to Mastodon").click()
    # The instance's consent screen, on the instance's own host.
    expect(page.get_by_role("heading", name="Authorization required")).to_be_visible()
    assert page.url.startswith(f"{mastodon.base}/oauth/authorize?")
    if shots:
        shot(page, f"{shots}-consent")
    page.get_by_role("button", name="Authorize").click()
    handle = f"siarbrand@{urlsplit(mastodon.base).netloc}"
    expect(page.get_by_role("status").filter(has_text=f"{handle} connected")).to_be_visible()
    expect(page.get_by_role("heading", name="Accounts", exact=True)).to_be_visible()
    return handle


def test_a_mastodon_account_connects_through_its_consent_screen(
    signed_in: Page, console: Console
) -> None:
    page, mastodon = signed_in, console.stack.mastodon
    before = set(mastodon.tokens)
    # Every answer about accounts or the OAuth flow that reaches the browser, in full.
    seen: list[str] = []

    def keep(route: Route) -> None:
        answer = route.fetch()
        seen.append(answer.text())
        route.fulfill(response=answer)

    page.route(re.compile(r"/v1/(oauth/|workspaces/[^/]+/accounts)"), keep)

    with page.expect_request(re.compile(r"/oauth/callback/mastodon\?")) as back:
        handle = connect_in_browser(page, console, shots="accounts-oauth")
    callback_url = back.value.url
    assert callback_url.startswith(f"{console.url}/oauth/callback/mastodon?code=")
    row = page.get_by_role("row").filter(has_text=handle)
    expect(row.get_by_role("cell", name="Mastodon", exact=True)).to_be_visible()
    expect(row.get_by_text("Siar Brand")).to_be_visible()
    expect(row.get_by_role("cell", name="Healthy")).to_be_visible()
    expect(row.get_by_role("cell", name="Does not expire")).to_be_visible()
    shot(page, "accounts-oauth-connected")

    # The instance checked the PKCE verifier against the challenge it was shown.
    [exchange] = mastodon.requests("/oauth/token")[-1:]
    [asked] = [s for s in mastodon.requests("/oauth/authorize") if s.method == "GET"][-1:]
    assert s256(exchange.form["code_verifier"]) == asked.query["code_challenge"]
    [token] = set(mastodon.tokens) - before

    # The same return a second time (a reload, a replay): the state is spent.
    page.goto(callback_url)
    expect(page.get_by_role("heading", name="The account could not be connected")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("start connecting again")
    shot(page, "accounts-oauth-replayed")
    page.get_by_role("link", name="Back to accounts").click()
    expect(page.get_by_role("row").filter(has_text=handle)).to_have_count(1)

    assert len(seen) >= 3
    assert not [body for body in seen if token in body]
    assert token not in page.content()
    for log in sorted(console.stack.platform.log_dir.glob("*.log")):
        assert token not in log.read_text(encoding="utf-8", errors="replace"), log.name


def test_a_revoked_account_asks_for_a_reconnect_until_connected_again(
    signed_in: Page, console: Console, person: Person
) -> None:
    page, mastodon = signed_in, console.stack.mastodon
    before = set(mastodon.tokens)
    handle = connect_in_browser(page, console)
    [token] = set(mastodon.tokens) - before
    found = re.search(r"#/w/([^/]+)/accounts", page.url)
    assert found
    ws = found.group(1)
    with httpx.Client(timeout=30.0) as http:
        # The person takes Siar's access back on the instance; the next post meets 401.
        r = http.post(f"{mastodon.base}/oauth/revoke", data=mastodon.revoke_form(token))
        assert r.status_code == 200
        auth = {"authorization": f"Bearer {tenant_token(http, console.vault, person.email)}"}
        accounts = http.get(f"{console.vault}/v1/workspaces/{ws}/accounts", headers=auth)
        [account] = [a for a in accounts.json()["items"] if a["handle"] == handle]
        r = http.post(
            f"{console.stack.urls['scheduler']}/v1/workspaces/{ws}/posts",
            json={
                "text": "Tidak sampai",
                "account_ids": [account["id"]],
                "scheduled_at": (datetime.now(UTC) + timedelta(seconds=2)).isoformat(),
            },
            headers=auth,
        )
        assert r.status_code == 201, r.text
        post = f"{console.stack.urls['scheduler']}/v1/workspaces/{ws}/posts/{r.json()['id']}"

        def failed() -> bool:
            return bool(http.get(post, headers=auth).json()["status"] == "failed")

        wait_until(failed, within_s=90)

    page.reload()
    row = page.get_by_role("row").filter(has_text=handle)
    expect(row.get_by_role("cell", name="Reconnect needed")).to_be_visible()
    shot(page, "accounts-oauth-reconnect-needed")
    connect_in_browser(page, console)
    row = page.get_by_role("row").filter(has_text=handle)
    expect(row).to_have_count(1)
    expect(row.get_by_role("cell", name="Healthy")).to_be_visible()

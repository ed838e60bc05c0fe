"""The console's shell in a real browser: sign in, switch workspace, sign out."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.conftest import Console, shot
from tests.browser.tenants import Person


def test_sign_in_and_switch_workspace(signed_in: Page, console: Console, person: Person) -> None:
    page = signed_in
    switcher = page.get_by_label("Workspace", exact=True)
    first = switcher.input_value()
    assert first in person.workspaces.values()
    (second,) = set(person.workspaces.values()) - {first}
    expect(page).to_have_url(re.compile(f"#/w/{first}/"))
    shot(page, "shell-signed-in")
    switcher.select_option(second)
    expect(page).to_have_url(re.compile(f"#/w/{second}/"))
    expect(page.get_by_label("Workspace", exact=True)).to_have_value(second)
    # The choice is remembered: a fresh visit to the console opens the last workspace.
    page.goto(console.url + "/")
    expect(page).to_have_url(re.compile(f"#/w/{second}/"))
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in to Siar")).to_be_visible()


def test_wrong_password_is_shown_and_typing_kept(
    page: Page, console: Console, person: Person
) -> None:
    page.goto(console.url + "/")
    page.get_by_label("Email").fill(person.email)
    page.get_by_label("Password").fill("not the password at all")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("Email or password is wrong")
    expect(page.get_by_label("Email")).to_have_value(person.email)


def test_indonesian_everywhere_and_remembered(signed_in: Page, console: Console) -> None:
    page = signed_in
    page.get_by_label("Language").select_option("id")
    expect(page.locator("html")).to_have_attribute("lang", "id")
    expect(page.get_by_role("link", name="Akun")).to_be_visible()
    page.get_by_role("link", name="Pengaturan").click()
    expect(page.get_by_role("heading", name="Pengaturan ruang kerja")).to_be_visible()
    shot(page, "settings-indonesian")
    page.reload()
    expect(page.get_by_role("heading", name="Pengaturan ruang kerja")).to_be_visible()
    page.get_by_role("button", name="Keluar").click()
    expect(page.get_by_role("heading", name="Masuk ke Siar")).to_be_visible()
    page.get_by_label("Bahasa").select_option("en")
    expect(page.get_by_role("heading", name="Sign in to Siar")).to_be_visible()


def test_a_refused_session_asks_to_sign_in_again_and_keeps_the_draft(
    signed_in: Page, console: Console, person: Person
) -> None:
    page = signed_in
    page.get_by_role("link", name="Team").click()
    add = page.get_by_role("region", name="Add a member")
    add.get_by_label("Email").fill("draft.kept@example.com")
    # The session ends behind the page's back (revoked elsewhere, expired): both tokens fail.
    page.evaluate(
        """() => {
          const s = JSON.parse(sessionStorage.getItem('siar.session'));
          s.access = 'not-a-token'; s.refresh = 'revoked-refresh-token';
          sessionStorage.setItem('siar.session', JSON.stringify(s));
        }"""
    )
    page.get_by_role("link", name="Accounts").click()
    expect(page.get_by_role("heading", name="Sign in to Siar")).to_be_visible()
    page.get_by_label("Email").fill(person.email)
    page.get_by_label("Password").fill(person.password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Accounts", exact=True)).to_be_visible()
    page.get_by_role("link", name="Team").click()
    add = page.get_by_role("region", name="Add a member")
    expect(add.get_by_label("Email")).to_have_value("draft.kept@example.com")

"""Every page: inputs have accessible names, the keyboard reaches the main actions, the
layout works at 1280 px and on a phone, and a lost connection is announced and ridden out."""

from __future__ import annotations

import re

from playwright.sync_api import Page, Route, expect

from tests.browser.conftest import PHONE, Console, shot
from tests.browser.tenants import Person

# Controls without a name, as "tag#id" (visible ones only): labels, aria-label(ledby),
# a button's text or a title all count, as they do for a screen reader.
UNNAMED = """() => [...document.querySelectorAll('input, select, textarea, button, a[href]')]
  .filter((el) => el.offsetParent !== null && el.type !== 'hidden')
  .filter((el) => {
    const byIds = (el.getAttribute('aria-labelledby') || '').split(/\\s+/).filter(Boolean)
      .map((id) => document.getElementById(id)?.textContent || '').join('');
    const labels = [...(el.labels || [])].map((l) => l.textContent).join('');
    const own = ['BUTTON', 'A'].includes(el.tagName) ? el.textContent : '';
    const name = (el.getAttribute('aria-label') || byIds || labels || own || el.title || '').trim();
    return !name;
  })
  .map((el) => `${el.tagName.toLowerCase()}#${el.id || el.name || ''}`)"""


def nav_pages(page: Page) -> list[str]:
    """The pages the navigation offers this user (href fragments)."""
    links = page.get_by_role("navigation", name="Main").get_by_role("link")
    return [str(href) for href in links.evaluate_all("els => els.map(e => e.getAttribute('href'))")]


def test_every_page_names_its_controls_and_fits_both_screens(
    signed_in: Page, console: Console
) -> None:
    page = signed_in
    hrefs = [*nav_pages(page), "#/profile", "#/workspaces"]
    assert len(hrefs) >= 6
    for href in hrefs:
        name = re.sub(r".*/", "", href) or "home"
        page.set_viewport_size({"width": 1280, "height": 800})
        page.goto(f"{console.url}/{href}")
        expect(page.locator("h1#page-title")).to_be_visible()
        page.wait_for_load_state("networkidle")
        assert page.evaluate(UNNAMED) == [], f"unnamed controls on {href}"
        shot(page, f"a11y-{name}-1280")
        page.set_viewport_size(PHONE)
        expect(page.locator("h1#page-title")).to_be_visible()
        # Nothing wider than the phone's screen except scrolling tables.
        overflow = page.evaluate("() => document.documentElement.scrollWidth")
        assert overflow <= PHONE["width"] + 1, f"{href} is {overflow}px wide on a phone"
        shot(page, f"a11y-{name}-390")


def test_keyboard_reaches_the_main_actions(signed_in: Page, console: Console) -> None:
    page = signed_in
    found = re.search(r"#/w/([^/]+)/", page.url)
    assert found
    page.goto(f"{console.url}/#/w/{found.group(1)}/accounts")
    expect(page.get_by_role("heading", name="Accounts", exact=True)).to_be_visible()
    # A fresh load leaves focus at the document's start (navigation inside the app moves
    # it to the page's heading instead).
    page.reload()
    expect(page.get_by_role("heading", name="Accounts", exact=True)).to_be_visible()
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    seen: list[str] = []
    for _ in range(60):
        page.keyboard.press("Tab")
        seen.append(
            page.evaluate(
                "() => { const e = document.activeElement;"
                " return (e.getAttribute('aria-label') || e.labels?.[0]?.textContent"
                " || e.textContent || '').trim() }"
            )
        )
    for wanted in ("Workspace", "Language", "Sign out", "Accounts", "Settings", "Connect"):
        assert any(wanted in label for label in seen), f"Tab never reached {wanted}: {seen}"
    # Focus order follows the page: header, then navigation, then the page's content.
    assert seen.index("Workspace") < seen.index("Accounts") < seen.index("Network")


def test_lost_connection_banner_retries_and_keeps_what_was_typed(
    signed_in: Page, person: Person
) -> None:
    page = signed_in

    def cut(route: Route) -> None:
        route.abort("connectionrefused")

    page.route("**/v1/**", cut)
    page.get_by_role("link", name="Team").click()
    banner = page.get_by_role("status").filter(has_text="Connection lost — retrying")
    expect(banner).to_be_visible()
    page.unroute("**/v1/**", cut)
    expect(page.get_by_role("heading", name="Members")).to_be_visible(timeout=30_000)
    expect(banner).to_be_hidden()

    # A form sent while the link is down: said plainly, and every field keeps its text.
    add = page.get_by_role("region", name="Add a member")
    add.get_by_label("Email").fill("someone@example.com")
    add.get_by_label("Role").select_option("approver")
    page.route("**/v1/**", cut)
    add.get_by_role("button", name="Add").click()
    expect(add.get_by_role("alert")).to_contain_text("Nothing was lost")
    page.unroute("**/v1/**", cut)
    page.reload()
    expect(page.get_by_role("heading", name="Members")).to_be_visible()
    add = page.get_by_role("region", name="Add a member")
    expect(add.get_by_label("Email")).to_have_value("someone@example.com")
    expect(add.get_by_label("Role")).to_have_value("approver")
    shot(page, "connection-kept-draft")

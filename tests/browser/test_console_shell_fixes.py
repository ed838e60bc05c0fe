"""The shell's toasts and address keeping, and the profile's 2FA QR code, in a real browser."""

from __future__ import annotations

import re

from playwright.sync_api import Page, Request, expect

from tests.browser.conftest import shot
from tests.browser.posting import workspace_of

QR_NAME = "QR code for your authenticator app: scan it to add Siar"


def test_enabling_two_factor_shows_a_qr_code(signed_in: Page) -> None:
    page = signed_in
    asked: list[Request] = []
    page.on("request", lambda r: asked.append(r) if "/console/qr" in r.url else None)
    page.get_by_role("link", name=re.compile("@example.com")).click()
    page.get_by_role("button", name="Set up two-factor sign-in").click()
    qr = page.get_by_role("img", name=QR_NAME)
    expect(qr).to_be_visible()
    # Drawn (an SVG the browser could decode), beside the key it encodes.
    assert qr.evaluate("img => img.complete && img.naturalWidth") > 100
    box = qr.bounding_box()
    assert box is not None
    assert round(box["width"]) == round(box["height"]) == 200
    expect(qr).to_have_attribute("src", re.compile(r"^blob:"))
    secret = page.get_by_test_id("totp-secret").inner_text()
    expect(page.locator(".totp-setup")).to_contain_text(secret)
    # The secret went in a POST body, never in an address a log would keep.
    assert [r.method for r in asked] == ["POST"]
    assert secret not in asked[0].url
    assert secret in (asked[0].post_data or "")
    shot(page, "profile-totp-qr")


def test_toasts_are_capped_collapsed_and_dismissable(signed_in: Page) -> None:
    page = signed_in
    region = page.locator("#toasts")
    expect(region).to_have_attribute("aria-live", "polite")
    page.evaluate(
        """async () => {
          const { toast } = await import("/static/widgets.js");
          const texts = ["Saved.", "Saved.", "Saved.", "One", "Two", "Three", "Four"];
          for (const text of texts) toast(text);
        }"""
    )
    toasts = region.locator(".toast")
    expect(toasts).to_have_count(3)  # the oldest ("Saved.", "One") gave way
    expect(region.locator(".toast-text")).to_have_text(["Two", "Three", "Four"])
    page.evaluate(
        """async () => {
          const { toast } = await import("/static/widgets.js");
          toast("Four"); toast("Four");
        }"""
    )
    expect(toasts).to_have_count(3)
    expect(toasts.last).to_contain_text("Four \u00d73")  # a multiplication sign
    toasts.filter(has_text="Three").get_by_role("button", name="Dismiss").click()
    expect(toasts).to_have_count(2)
    expect(region).not_to_contain_text("Three")
    # Unattended toasts go on their own after a few seconds.
    expect(toasts).to_have_count(0, timeout=30_000)


def test_a_page_left_does_not_rewrite_the_next_pages_address(signed_in: Page) -> None:
    page = signed_in
    ws = workspace_of(page)
    page.get_by_role("link", name="Calendar").click()
    expect(page.get_by_role("heading", name="Calendar", exact=True)).to_be_visible()
    # The heading is drawn before the view switcher: wait for the button the script clicks.
    expect(page.locator('[data-view="week"]')).to_be_visible()
    # The race the shell closes: the address already names the inbox (its hashchange not yet
    # handled) when the calendar, still on screen, rewrites its own query.
    page.evaluate(
        """(ws) => {
          location.hash = `#/w/${ws}/inbox`;
          document.querySelector('[data-view="week"]').click();
        }""",
        ws,
    )
    expect(page.get_by_role("heading", name="Inbox", exact=True)).to_be_visible()
    # The inbox may write its own filters (e.g. ?status=open); never the calendar's view.
    expect(page).to_have_url(re.compile(rf"#/w/{ws}/inbox(\?(?![^#]*\bview=)[^#]*)?$"))

"""The calendar's week view in a real browser: hour rows in the viewer's time zone.

The browser runs in Asia/Jakarta (UTC+7, no daylight saving) while the machine and the
services are in UTC, so a post must land in its *Jakarta* hour; dragging it to another
hour cell and Alt+arrow keys reschedule it through the scheduler's API (checked there).
At phone width the days scroll sideways inside the grid and the page does not overflow.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import Console, shot, sign_in
from tests.browser.posting import DESKTOP, PHONE, get_post, schedule_post, workspace_of
from tests.browser.tenants import Person

JAKARTA = timezone(timedelta(hours=7))


@pytest.fixture
def jakarta(browser: Browser, console: Console, person: Person) -> Iterator[Page]:
    """A signed-in page whose browser is in Asia/Jakarta."""
    context = browser.new_context(viewport=DESKTOP, locale="en-GB", timezone_id="Asia/Jakarta")
    context.set_default_timeout(20_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    sign_in(page, console, person)
    yield page
    context.close()
    assert not errors, f"uncaught errors in the page: {errors}"


def _next_monday(hour: int, minute: int) -> datetime:
    """Next week's Monday at hour:minute Jakarta time (always in the future)."""
    today = datetime.now(JAKARTA)
    monday = today + timedelta(days=7 - today.weekday())
    return monday.replace(hour=hour, minute=minute, second=0, microsecond=0)


def _scheduled_at(console: Console, person: Person, ws: str, post_id: str) -> datetime:
    return datetime.fromisoformat(get_post(console, person, ws, post_id)["scheduled_at"])


def _slot(day: datetime, hour: int) -> str:
    return f'td.slot[data-day="{day:%Y-%m-%d}"][data-hour="{hour}"]'


def test_drag_to_another_hour_and_move_by_keyboard(
    jakarta: Page, console: Console, person: Person
) -> None:
    page = jakarta
    ws = workspace_of(page)
    at = _next_monday(10, 17)
    post_id = schedule_post(console, person, ws, "Kopi tasting at the roastery", at)
    page.goto(page.url.split("#")[0] + f"#/w/{ws}/calendar?view=week&date={at:%Y-%m-%d}")
    chip = page.locator(f'[data-post-id="{post_id}"]')
    # 10:17 in Jakarta is 03:17 UTC: the post sits in the 10:00 row, not the 03:00 one.
    expect(page.locator(_slot(at, 10)).locator(chip)).to_be_visible()
    expect(page.get_by_text("Times in Asia/Jakarta.")).to_be_visible()
    # It opens at about 08:00: that row is on screen, midnight is scrolled away above.
    expect(page.locator('tbody tr[data-hour="8"] th')).to_be_in_viewport()
    expect(page.locator('tbody tr[data-hour="0"] th')).not_to_be_in_viewport()
    expect(page.locator("#calendar-move-hint")).to_contain_text("an hour up or down")

    tuesday = at + timedelta(days=1)
    # The whole grid on screen first: Chromium loses a synthetic drag that has to scroll
    # the page while the button is down (a person's drag autoscrolls instead).
    page.locator(".week-scroll").scroll_into_view_if_needed()
    chip.drag_to(page.locator(_slot(tuesday, 15)))
    expect(page.get_by_role("status").filter(has_text="Moved to")).to_be_visible()
    expect(page.locator(_slot(tuesday, 15)).locator(chip)).to_be_visible()
    # That day and hour, the minutes kept.
    assert _scheduled_at(console, person, ws, post_id) == tuesday.replace(hour=15)
    shot(page, "calendar-week-hours-dragged")

    # Alt+↑ an hour earlier, Alt+← a day earlier; focus stays on the post each time.
    chip.focus()
    page.keyboard.press("Alt+ArrowUp")
    expect(page.locator(_slot(tuesday, 14)).locator(chip)).to_be_focused()
    assert _scheduled_at(console, person, ws, post_id) == tuesday.replace(hour=14)
    page.keyboard.press("Alt+ArrowLeft")
    expect(page.locator(_slot(at, 14)).locator(chip)).to_be_focused()
    expect(page.locator("#toasts")).to_contain_text("Monday")
    assert _scheduled_at(console, person, ws, post_id) == at.replace(hour=14)


def test_a_keyboard_move_past_sunday_night_follows_the_post(
    jakarta: Page, console: Console, person: Person
) -> None:
    page = jakarta
    ws = workspace_of(page)
    sunday = _next_monday(23, 40) + timedelta(days=6)
    post_id = schedule_post(console, person, ws, "Late-night batik live", sunday)
    page.goto(page.url.split("#")[0] + f"#/w/{ws}/calendar?view=week&date={sunday:%Y-%m-%d}")
    chip = page.locator(f'[data-post-id="{post_id}"]')
    expect(page.locator(_slot(sunday, 23)).locator(chip)).to_be_visible()
    chip.focus()
    page.keyboard.press("Alt+ArrowDown")
    # Monday 00:40 is in the next week: the calendar opens it, focus still on the post.
    monday = sunday + timedelta(hours=1)
    expect(page.locator(_slot(monday, 0)).locator(chip)).to_be_focused()
    expect(page).to_have_url(re.compile(rf"date={monday:%Y-%m-%d}"))
    assert _scheduled_at(console, person, ws, post_id) == monday


def test_today_has_the_current_time_line(jakarta: Page) -> None:
    page = jakarta
    page.get_by_role("link", name="Calendar").click()
    page.get_by_role("button", name="Week").click()
    line = page.locator("td.slot.today .now-line")
    expect(line).to_have_count(1)
    hour = int(line.locator("xpath=..").get_attribute("data-hour") or "-1")
    now = page.evaluate("new Date().getHours()")
    assert hour in (now, (now - 1) % 24)  # the hour may turn between the two reads
    # Opened where the line shows (08:00, unless that would hide it).
    page.locator(".week-scroll").scroll_into_view_if_needed()
    expect(line).to_be_in_viewport()
    assert page.evaluate("Intl.DateTimeFormat().resolvedOptions().timeZone") == "Asia/Jakarta"
    expect(page).to_have_url(re.compile(r"view=week"))
    shot(page, "calendar-week-today")


def test_the_week_fits_a_phone(jakarta: Page, console: Console, person: Person) -> None:
    page = jakarta
    ws = workspace_of(page)
    at = _next_monday(9, 30)
    post_id = schedule_post(console, person, ws, "Batik class, morning session", at)
    page.set_viewport_size(PHONE)
    page.goto(page.url.split("#")[0] + f"#/w/{ws}/calendar?view=week&date={at:%Y-%m-%d}")
    expect(page.locator(_slot(at, 9)).locator(f'[data-post-id="{post_id}"]')).to_be_visible()
    # The page does not overflow sideways; the grid scrolls inside its own box.
    sizes = page.evaluate(
        """() => {
          const grid = document.querySelector(".week-scroll");
          return {page: document.documentElement.scrollWidth, view: window.innerWidth,
                  inner: grid.scrollWidth, box: grid.clientWidth};
        }"""
    )
    assert sizes["page"] <= sizes["view"], sizes
    assert sizes["inner"] > sizes["box"], sizes
    # The hour column stays in view while the days scroll.
    page.locator(".week-scroll").scroll_into_view_if_needed()
    page.locator(".week-scroll").evaluate("el => { el.scrollLeft = el.scrollWidth; }")
    expect(page.locator('tbody tr[data-hour="9"] th')).to_be_in_viewport()
    shot(page, "calendar-week-phone")

"""Calendar and composer in a real browser, against the whole platform.

A post is composed and scheduled, goes out on the sandbox network and shows as published
on the calendar; a post is dragged (and keyboard-moved) to another day; problems land
beside their field with the typing kept; own text per network with an uploaded image;
a thread of three parts on Mastodon; the queue; campaigns; Indonesian. Screenshots at
desktop and phone width.
"""

from __future__ import annotations

import html
import re
import uuid
from datetime import UTC, datetime, timedelta

from playwright.sync_api import FilePayload, Page, expect
from pymongo import MongoClient

from siar.connectors.sandbox import SANDBOX_DATABASE
from siar.connectors.x_text import weighted_length
from tests.browser.conftest import Console, shot
from tests.browser.posting import (
    DESKTOP,
    LOCAL_DAY,
    LOCAL_IN,
    PHONE,
    api,
    get_post,
    png,
    schedule_post,
    workspace_of,
)
from tests.browser.tenants import Person
from tests.browser.test_accounts_oauth import connect_in_browser


def test_compose_schedule_and_see_it_published(signed_in: Page, person: Person) -> None:
    page = signed_in
    page.get_by_role("link", name="Compose").click()
    expect(page.get_by_role("heading", name="New post")).to_be_visible()
    page.get_by_role("checkbox", name=re.compile(r"· sandbox")).check()
    text = "Kopi Senja opens at 7 tonight #kopi"
    page.get_by_label("Text", exact=True).fill(text)
    # Live count from the sandbox's rules (5,000 characters) and a preview for the network.
    expect(page.locator('[data-counter="main"]')).to_contain_text(f"Sandbox: {len(text)} / 5,000")
    expect(page.get_by_role("article", name="Preview on Sandbox")).to_contain_text(text)
    page.get_by_label("When").fill(page.evaluate(LOCAL_IN, 30))
    shot(page, "composer-desktop")
    page.get_by_role("button", name="Schedule", exact=True).click()
    expect(page).to_have_url(re.compile(r"/calendar\?"))
    chip = page.locator(".post-chip", has_text=text)
    expect(chip).to_be_visible()
    expect(chip).to_contain_text("Scheduled")
    # The sandbox publishes it; the calendar picks that up without a reload.
    expect(chip).to_contain_text("Published", timeout=120_000)
    shot(page, "calendar-month-desktop")
    page.get_by_role("button", name="List").click()
    expect(page.get_by_role("cell", name=text)).to_be_visible()
    page.set_viewport_size(PHONE)
    page.get_by_role("button", name="Month").click()
    expect(page.locator(".post-chip", has_text=text)).to_be_visible()
    shot(page, "calendar-month-phone")
    page.get_by_role("link", name="Compose").click()
    expect(page.get_by_label("Text", exact=True)).to_be_visible()
    shot(page, "composer-phone")
    page.set_viewport_size(DESKTOP)


def test_drag_a_post_to_another_day_and_move_it_by_keyboard(
    signed_in: Page, console: Console, person: Person
) -> None:
    page = signed_in
    ws = workspace_of(page)
    # Next week's Monday at 10:00 in the browser's zone: Tuesday and Wednesday are in the
    # same row of the month grid. (Moving by hour in the week view: test_calendar_week.py.)
    monday = page.evaluate("""() => {
      const d = new Date(); d.setHours(10, 0, 0, 0);
      d.setDate(d.getDate() + 7 - ((d.getDay() + 6) % 7));
      return d.toISOString();
    }""")
    at = datetime.fromisoformat(monday.replace("Z", "+00:00"))
    post_id = schedule_post(console, person, ws, "Batik workshop this weekend", at)
    day = page.evaluate(LOCAL_DAY, monday)
    page.goto(page.url.split("#")[0] + f"#/w/{ws}/calendar?view=month&date={day}")
    chip = page.locator(f'[data-post-id="{post_id}"]')
    expect(chip).to_be_visible()
    days = page.evaluate(
        "(iso) => [1, 2].map((n) => { const d = new Date(iso); d.setDate(d.getDate() + n);"
        " return d; }).map((d) => d.toLocaleDateString('sv'))",
        monday,
    )
    tuesday = page.locator(f'.day[data-day="{days[0]}"]')
    chip.drag_to(tuesday)
    expect(page.get_by_role("status").filter(has_text="Moved to")).to_be_visible()
    expect(tuesday.locator(f'[data-post-id="{post_id}"]')).to_be_visible()
    moved = datetime.fromisoformat(get_post(console, person, ws, post_id)["scheduled_at"])
    assert moved == at + timedelta(days=1)
    shot(page, "calendar-month-dragged")
    # The keyboard way: Alt+→ moves it one more day, focus stays on the post.
    page.locator(f'[data-post-id="{post_id}"]').focus()
    page.keyboard.press("Alt+ArrowRight")
    wednesday = page.locator(f'.day[data-day="{days[1]}"]')
    expect(wednesday.locator(f'[data-post-id="{post_id}"]')).to_be_focused()
    moved = datetime.fromisoformat(get_post(console, person, ws, post_id)["scheduled_at"])
    assert moved == at + timedelta(days=2)
    assert moved.astimezone(UTC).time() == at.astimezone(UTC).time()


def test_problems_are_shown_beside_their_field_and_typing_is_kept(signed_in: Page) -> None:
    page = signed_in
    page.get_by_role("link", name="Compose").click()
    page.get_by_role("checkbox", name=re.compile(r"· sandbox")).check()
    # Over the sandbox's limit: the count turns red and the rule is named beside the text.
    page.get_by_label("Text", exact=True).fill("x" * 5001)
    text_box = page.locator(".text-block")
    expect(text_box.locator(".rule-problems")).to_contain_text("Sandbox allows 5000 characters")
    page.get_by_role("button", name="Schedule", exact=True).click()
    expect(page.get_by_label("Text", exact=True)).to_have_attribute("aria-invalid", "true")
    # A time the scheduler refuses (in the past): its problem appears beside "When".
    typed = "Promo starts now — nothing typed is lost"
    page.get_by_label("Text", exact=True).fill(typed)
    page.get_by_label("When").fill(page.evaluate(LOCAL_IN, -3600))
    page.get_by_role("button", name="Schedule", exact=True).click()
    when = page.locator('[data-field="scheduled_at"]')
    expect(when.locator(".field-error")).to_contain_text("That time cannot be used")
    expect(page.get_by_label("When")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("When")).to_be_focused()
    shot(page, "composer-problem-beside-field")
    # Reloading keeps what was typed (the draft is in sessionStorage).
    page.reload()
    expect(page.get_by_label("Text", exact=True)).to_have_value(typed)
    expect(page.get_by_role("checkbox", name=re.compile(r"· sandbox"))).to_be_checked()


def test_own_text_per_network_and_an_uploaded_image_posted_now(
    signed_in: Page, console: Console, person: Person
) -> None:
    page = signed_in
    ws = workspace_of(page)
    page.get_by_role("link", name="Compose").click()
    page.get_by_role("checkbox", name=re.compile(r"· sandbox")).check()
    main = "Main wording for every network"
    page.get_by_label("Text", exact=True).fill(main)
    # The sandbox gets its own wording and a first comment (one post, a variant for it):
    # its counter and preview follow that text.
    page.get_by_label("Own text for Sandbox").check()
    own = "Sandbox-only wording with a photo"
    page.get_by_role("textbox", name="Text for Sandbox").fill(own)
    page.get_by_role("textbox", name="First comment on Sandbox").fill("Menu at kopi.test")
    expect(page.locator('[data-counter="sandbox"]')).to_contain_text(f"{len(own)} / 5,000")
    expect(page.get_by_role("article", name="Preview on Sandbox")).to_contain_text(own)
    expect(page.get_by_role("article", name="Preview on Sandbox")).to_contain_text(
        "First comment: Menu at kopi.test"
    )
    # Upload to the media library: the item is ticked and shown in the preview.
    page.get_by_label("Upload a file").set_input_files(
        files=[FilePayload(name="kopi.png", mimeType="image/png", buffer=png())]
    )
    page.get_by_label("Alt text").fill("A cup of kopi")
    page.get_by_role("button", name="Upload", exact=True).click()
    expect(page.get_by_role("checkbox", name=re.compile("kopi.png"))).to_be_checked()
    preview = page.get_by_role("article", name="Preview on Sandbox")
    expect(preview.locator("figcaption")).to_have_text("A cup of kopi")
    expect(preview.locator("img")).to_have_attribute("src", re.compile(r"^blob:"))
    shot(page, "composer-variant-media")
    page.get_by_role("button", name="Post now").click()
    expect(page).to_have_url(re.compile(r"/calendar"))
    chip = page.locator(".post-chip", has_text=main)
    expect(chip).to_contain_text("Published", timeout=120_000)
    post_id = chip.get_attribute("data-post-id")
    assert post_id
    post = get_post(console, person, ws, post_id)
    assert post["text"] == main
    assert post["variants"]["sandbox"]["text"] == own
    assert post["variants"]["sandbox"]["first_comment"] == "Menu at kopi.test"
    assert len(post["media_ids"]) == 1
    # On the network: the variant's caption, and the first comment as a reply to it.
    network_post_id = post["targets"][0]["network_post_id"]
    with MongoClient(console.stack.infra.mongodb_url) as network:
        sandbox = network[SANDBOX_DATABASE]
        on_network = sandbox.posts.find_one({"_id": network_post_id})
        replies = list(sandbox.replies.find({"in_reply_to": network_post_id}))
    assert on_network is not None
    assert on_network["text"] == own
    assert [r["text"] for r in replies] == ["Menu at kopi.test"]


def test_composer_counts_x_like_the_scheduler(signed_in: Page) -> None:
    samples = [
        "plain text",
        "see https://example.com/a/very/long/path?with=query and more",
        "bare link siar.dev/docs, then words.",
        "日本語のテキスト",
        "family 👨‍👩‍👧‍👦 flag 🇮🇩 keycap 1️⃣ skin 👍🏽",
        "Café déjà vu — “quotes” …",
    ]
    counted = signed_in.evaluate(
        """async (samples) => {
          const rules = await import("/static/pages/composer-rules.js");
          return samples.map((s) => rules.measure(s, {counting: "twitter_text", url_length: 23}));
        }""",
        samples,
    )
    assert counted == [weighted_length(s) for s in samples]


def test_a_campaign_colours_its_posts_and_filters_the_calendar(signed_in: Page) -> None:
    page = signed_in
    page.get_by_role("link", name="Calendar").click()
    page.get_by_text("Manage campaigns").click()
    page.get_by_label("Campaign name").fill("Ramadan sale")
    page.get_by_label("Colour").fill("#8a3b00")
    page.get_by_role("button", name="Add campaign").click()
    expect(page.get_by_role("group", name="Campaign colours")).to_contain_text("Ramadan sale")
    page.get_by_role("link", name="Compose").click()
    page.get_by_role("checkbox", name=re.compile(r"· sandbox")).check()
    page.get_by_label("Text", exact=True).fill("Ramadan sale starts Monday")
    page.get_by_role("checkbox", name="Ramadan sale").check()
    page.get_by_label("When").fill(page.evaluate(LOCAL_IN, 2 * 3600))
    page.get_by_role("button", name="Save draft").click()
    chip = page.locator(".post-chip", has_text="Ramadan sale starts Monday")
    expect(chip).to_contain_text("Draft")
    colour = chip.evaluate("el => getComputedStyle(el).borderLeftColor")
    assert colour == "rgb(138, 59, 0)"
    # Filtering by another status hides it; by its campaign shows it.
    page.get_by_label("Status").select_option("published")
    expect(chip).to_have_count(0)
    page.get_by_label("Status").select_option("")
    page.get_by_label("Campaign", exact=True).select_option(label="Ramadan sale")
    expect(chip).to_be_visible()
    assert "label=" in page.url


def test_calendar_and_composer_speak_indonesian(signed_in: Page) -> None:
    page = signed_in
    page.get_by_label("Language").select_option("id")
    page.get_by_role("link", name="Kalender").click()
    expect(page.get_by_role("heading", name="Kalender", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Hari ini")).to_be_visible()
    page.get_by_role("link", name="Postingan baru").click()
    expect(page.get_by_role("heading", name="Postingan baru")).to_be_visible()
    expect(page.get_by_role("button", name="Jadwalkan", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Ajukan persetujuan")).to_be_visible()
    shot(page, "composer-indonesian")


def test_add_to_queue_takes_the_next_free_slot(
    signed_in: Page, console: Console, person: Person
) -> None:
    page = signed_in
    ws = workspace_of(page)
    with api(console, person) as (http, auth):
        account = http.get(f"{console.vault}/v1/workspaces/{ws}/accounts", headers=auth).json()
        account_id = account["items"][0]["id"]
        base = f"{console.stack.urls['scheduler']}/v1/workspaces/{ws}/accounts/{account_id}"
        r = http.put(
            f"{base}/queue",
            json={"timezone": "Asia/Jakarta", "slots": [{"day": "wed", "time": "09:30"}]},
            headers=auth,
        )
        assert r.status_code == 200, r.text
        slots = http.get(f"{base}/queue/slots", headers=auth).json()["items"]
    page.get_by_role("link", name="Compose").click()
    page.get_by_role("checkbox", name=re.compile(r"· sandbox")).check()
    page.get_by_label("Text", exact=True).fill("Queued: weekly kopi tips")
    page.get_by_role("button", name="Add to queue").click()
    expect(page).to_have_url(re.compile(r"/calendar"))
    chip = page.locator(".post-chip", has_text="Queued: weekly kopi tips")
    expect(chip).to_contain_text("Scheduled")
    post_id = chip.get_attribute("data-post-id")
    assert post_id
    at = datetime.fromisoformat(get_post(console, person, ws, post_id)["scheduled_at"])
    assert at == datetime.fromisoformat(slots[0])


def test_a_thread_of_three_parts_goes_out_on_mastodon_as_a_reply_chain(
    signed_in: Page, console: Console, person: Person
) -> None:
    page = signed_in
    ws = workspace_of(page)
    connect_in_browser(page, console)
    page.get_by_role("link", name="Compose").click()
    page.get_by_role("checkbox", name=re.compile(r"· mastodon")).check()
    head = f"1/ Kopi Senja's spring menu {uuid.uuid4().hex[:6]}"
    page.get_by_label("Text", exact=True).fill(head)
    page.get_by_label("Own text for Mastodon").check()
    thread = page.get_by_role("group", name="Thread on Mastodon")
    expect(thread).to_be_hidden()  # parts belong to the thread format only
    page.get_by_label("Format on Mastodon").select_option("thread")
    add = thread.get_by_role("button", name="Add a part on Mastodon")
    # Each added part is a labelled textarea, focused, with its own count.
    for number, text in ((2, "2/ Pandan latte, all spring"), (3, "x" * 501), (4, "to remove")):
        add.click()
        box = thread.get_by_role("textbox", name=f"Part {number} on Mastodon")
        expect(box).to_be_focused()
        box.fill(text)
    expect(page.locator('[data-counter="thread:mastodon:1"]')).to_contain_text("501 / 500")
    problems = thread.locator(".rule-problems")
    expect(problems).to_contain_text("Part 3: Mastodon allows 500 characters")
    thread.get_by_role("textbox", name="Part 3 on Mastodon").fill("3/ Open from 7")
    expect(problems).to_be_hidden()
    thread.get_by_role("button", name="Remove part 4 on Mastodon").click()
    expect(thread.get_by_role("textbox")).to_have_count(2)
    # A reload keeps the parts typed (the draft in sessionStorage), in their places.
    page.reload()
    expect(thread.get_by_role("textbox", name="Part 3 on Mastodon")).to_have_value("3/ Open from 7")
    expect(thread.get_by_role("textbox")).to_have_count(2)
    preview = page.get_by_role("article", name="Preview on Mastodon")
    expect(preview.locator(".preview-thread li")).to_have_text(
        ["2/ Pandan latte, all spring", "3/ Open from 7"]
    )
    shot(page, "composer-thread")
    page.get_by_role("button", name="Post now").click()
    expect(page).to_have_url(re.compile(r"/calendar"))
    chip = page.locator(".post-chip", has_text=head)
    expect(chip).to_contain_text("Published", timeout=120_000)
    post_id = chip.get_attribute("data-post-id")
    assert post_id
    variant = get_post(console, person, ws, post_id)["variants"]["mastodon"]
    assert (variant["format"], variant["thread"]) == (
        "thread",
        ["2/ Pandan latte, all spring", "3/ Open from 7"],
    )
    # On the instance: the head, then each part replying to the one before it.
    statuses = console.stack.mastodon.statuses
    [first] = [s for s in statuses.values() if s["content"] == f"<p>{html.escape(head)}</p>"]
    second = [s for s in statuses.values() if s["in_reply_to_id"] == first["id"]]
    third = [s for s in statuses.values() if second and s["in_reply_to_id"] == second[0]["id"]]
    assert [s["content"] for s in second + third] == [
        "<p>2/ Pandan latte, all spring</p>",
        "<p>3/ Open from 7</p>",
    ]


def test_editing_a_draft_shows_its_thread_parts_and_saves_the_changed_ones(
    signed_in: Page, console: Console, person: Person
) -> None:
    page = signed_in
    ws = workspace_of(page)
    connect_in_browser(page, console)
    scheduler = f"{console.stack.urls['scheduler']}/v1/workspaces/{ws}"
    with api(console, person) as (http, auth):
        accounts = http.get(f"{console.vault}/v1/workspaces/{ws}/accounts", headers=auth)
        [mastodon] = [a["id"] for a in accounts.json()["items"] if a["network"] == "mastodon"]
        r = http.post(
            f"{scheduler}/posts",
            json={
                "text": "1/ Batik class",
                "account_ids": [mastodon],
                "draft": True,
                "scheduled_at": (datetime.now(UTC) + timedelta(days=5)).isoformat(),
                "variants": {"mastodon": {"format": "thread", "thread": ["2/ Wax", "3/ Dye"]}},
            },
            headers=auth,
        )
    assert r.status_code == 201, r.text
    post_id = r.json()["id"]
    page.goto(f"{console.url}/#/w/{ws}/composer?post={post_id}")
    thread = page.get_by_role("group", name="Thread on Mastodon")
    expect(thread.get_by_role("textbox", name="Part 2 on Mastodon")).to_have_value("2/ Wax")
    expect(thread.get_by_role("textbox", name="Part 3 on Mastodon")).to_have_value("3/ Dye")
    # Removing part 2 moves "3/ Dye" up into its place; a new part is added after it.
    thread.get_by_role("button", name="Remove part 2 on Mastodon").click()
    expect(thread.get_by_role("textbox", name="Part 2 on Mastodon")).to_have_value("3/ Dye")
    thread.get_by_role("button", name="Add a part on Mastodon").click()
    thread.get_by_role("textbox", name="Part 3 on Mastodon").fill("4/ Dry")
    page.get_by_role("button", name="Save changes").click()
    expect(page).to_have_url(re.compile(r"/calendar"))
    saved = get_post(console, person, ws, post_id)["variants"]["mastodon"]
    assert saved["thread"] == ["3/ Dye", "4/ Dry"]
    # The scheduler's thread rules land beside the parts, like its other rule problems.
    placed = page.evaluate(
        """async () => {
          const rules = await import("/static/pages/composer-rules.js");
          return ["thread.length", "thread.parts", "thread.format", "text.length"]
            .map((rule) => rules.fieldForRule(rule, "x", new Set()));
        }"""
    )
    assert placed == ["thread.x", "thread.x", "thread.x", "text"]

"""Approvals in a real browser: the approver's queue, requests for changes, resubmission,
approval at a new time once the old one has passed, and what a contributor may do."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import Console, shot, sign_in
from tests.browser.posting import DESKTOP, LOCAL_IN, PHONE, api, get_post, member, workspace_of
from tests.browser.tenants import Person


def test_approver_requests_changes_then_approves(
    signed_in: Page, browser: Browser, console: Console, person: Person
) -> None:
    author = signed_in
    ws = workspace_of(author)
    approver = member(console, person, ws, "approver")
    author.get_by_role("link", name="Compose").click()
    author.get_by_role("checkbox", name=re.compile(r"· sandbox")).check()
    author.get_by_label("Text", exact=True).fill("Client preview: new menu launch")
    author.get_by_label("When").fill(author.evaluate(LOCAL_IN, 3 * 86400))
    author.get_by_label("Note for the approver").fill("Please check the wording")
    author.get_by_role("button", name="Submit for approval").click()
    expect(author).to_have_url(re.compile(r"/approvals"))
    expect(author.get_by_role("article").filter(has_text="new menu launch")).to_contain_text(
        "submitted it for approval"
    )

    context = browser.new_context(viewport=DESKTOP, locale="en-GB")
    client = context.new_page()
    try:
        sign_in(client, console, approver)
        client.get_by_role("link", name="Approvals").click()
        card = client.get_by_role("article").filter(has_text="new menu launch")
        expect(card).to_contain_text("Please check the wording")
        # Requesting changes needs a comment: the API's problem lands beside it.
        card.get_by_role("button", name="Request changes").click()
        expect(card.locator('[data-field="comment"] .field-error')).to_be_visible()
        shot(client, "approvals-approver")
        client.set_viewport_size(PHONE)
        shot(client, "approvals-approver-phone")
        client.set_viewport_size(DESKTOP)
        card.get_by_label("Comment").fill("Say 'menu baru' too")
        card.get_by_role("button", name="Request changes").click()
        expect(client.get_by_role("status").filter(has_text="Changes requested.")).to_be_visible()
        expect(client.get_by_text("Nothing awaits approval.")).to_be_visible()

        author.reload()
        sent_back = author.get_by_role("article").filter(has_text="new menu launch")
        expect(sent_back).to_contain_text("Say 'menu baru' too")
        sent_back.get_by_role("link", name="Edit in the composer").click()
        expect(author.get_by_role("heading", name="Edit post")).to_be_visible()
        author.get_by_label("Text", exact=True).fill("Client preview: new menu launch — menu baru!")
        author.get_by_role("button", name="Submit for approval").click()
        expect(author).to_have_url(re.compile(r"/approvals"))

        client.reload()
        card = client.get_by_role("article").filter(has_text="menu baru!")
        card.get_by_role("button", name="Approve").click()
        expect(client.get_by_role("status").filter(has_text="Approved")).to_be_visible()
        post_id = (
            author.get_by_role("article")
            .filter(has_text="menu baru!")
            .get_attribute("data-post-id")
        )
        assert post_id
        assert get_post(console, person, ws, post_id)["status"] == "scheduled"
    finally:
        context.close()


def test_a_contributor_can_only_draft_or_ask_for_approval(
    signed_in: Page, console: Console, person: Person
) -> None:
    ws = workspace_of(signed_in)
    contributor = member(console, person, ws, "contributor")
    signed_in.get_by_role("button", name="Sign out").click()
    sign_in(signed_in, console, contributor)
    page = signed_in
    page.goto(f"{console.url}/#/w/{ws}/composer")
    expect(page.get_by_role("button", name="Submit for approval")).to_be_visible()
    expect(page.get_by_role("button", name="Save draft")).to_be_visible()
    for hidden in ("Schedule", "Add to queue", "Post now"):
        expect(page.get_by_role("button", name=hidden, exact=True)).to_have_count(0)


def test_approving_after_the_time_passed_asks_for_a_new_time(
    signed_in: Page, console: Console, person: Person
) -> None:
    page = signed_in
    ws = workspace_of(page)
    with api(console, person) as (http, auth):
        accounts = http.get(f"{console.vault}/v1/workspaces/{ws}/accounts", headers=auth).json()
        scheduler = f"{console.stack.urls['scheduler']}/v1/workspaces/{ws}"
        at = datetime.now(UTC) + timedelta(seconds=4)
        r = http.post(
            f"{scheduler}/posts",
            json={
                "text": "Late review: weekend promo",
                "account_ids": [accounts["items"][0]["id"]],
                "scheduled_at": at.isoformat(),
                "draft": True,
            },
            headers=auth,
        )
        assert r.status_code == 201, r.text
        r = http.post(f"{scheduler}/posts/{r.json()['id']}:submit", json={}, headers=auth)
        assert r.status_code == 200, r.text
    page.wait_for_timeout(5_000)  # the post's time passes while it waits for approval
    page.get_by_role("link", name="Approvals").click()
    card = page.get_by_role("article").filter(has_text="Late review: weekend promo")
    new_time = card.get_by_label("New time (optional)")
    expect(new_time).not_to_have_value("")  # a new time is suggested
    new_time.fill("")
    card.get_by_role("button", name="Approve").click()
    expect(card.locator('[data-field="scheduled_at"] .field-error')).to_contain_text(
        "The scheduled time has passed"
    )
    new_time.fill(page.evaluate(LOCAL_IN, 2 * 3600))
    card.get_by_role("button", name="Approve").click()
    expect(page.get_by_role("status").filter(has_text="Approved")).to_be_visible()

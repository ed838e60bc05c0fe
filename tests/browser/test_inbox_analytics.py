"""The inbox and analytics pages in a real browser.

A sandbox post is published (scheduled through the API), the sandbox's fan comments on it
and the comment arrives in the open inbox page over server-sent events, without a reload;
it is answered with a saved reply (a refused DM first: the problem is shown, the text
kept). The analytics report then counts that message, and its CSV and PDF exports download.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from playwright.sync_api import Locator, Page, expect

from tests.browser.conftest import PHONE, Console, shot, sign_in
from tests.browser.tenants import Person, new_person, token

LIVE = "Live: new messages appear as they arrive."


def current_workspace(page: Page, person: Person) -> tuple[str, str]:
    """The workspace the page is on, and its sandbox account."""
    ws = page.get_by_label("Workspace", exact=True).input_value()
    name = next(n for n, w in person.workspaces.items() if w == ws)
    return ws, person.accounts[name]


def publish_soon(console: Console, person: Person, ws: str, account: str, text: str) -> None:
    """Schedule ``text`` on the sandbox account two seconds from now (as the composer would)."""
    with httpx.Client(timeout=30.0) as http:
        auth = {"authorization": f"Bearer {token(http, console.vault, person.email)}"}
        r = http.post(
            f"{console.stack.urls['scheduler']}/v1/workspaces/{ws}/posts",
            json={
                "text": text,
                "account_ids": [account],
                "scheduled_at": (datetime.now(UTC) + timedelta(seconds=2)).isoformat(),
            },
            headers=auth,
        )
        assert r.status_code == 201, r.text


def add_saved_reply(page: Page, name: str, text: str) -> None:
    page.get_by_text("Saved replies", exact=True).click()
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("Text", exact=True).fill(text)
    page.get_by_role("button", name="Save reply").click()
    expect(page.locator(".saved-list")).to_contain_text(name)


def test_inbox_answers_a_comment_that_arrives_live(
    signed_in: Page, console: Console, person: Person
) -> None:
    page = signed_in
    ws, account = current_workspace(page, person)
    page.get_by_role("link", name="Inbox").click()
    expect(page.get_by_role("heading", name="Inbox", level=1)).to_be_visible()
    expect(page.locator(".live")).to_have_text(LIVE)
    expect(page.locator(".conv-list")).to_contain_text("No conversation matches these filters.")
    add_saved_reply(page, "Thanks", "Terima kasih {{first_name}}, see you soon!")

    page.evaluate("window.__sameDocument = true")
    publish_soon(console, person, ws, account, "Kopi baru hari ini")
    conv = page.locator("button.conv")
    expect(conv).to_have_count(1, timeout=90_000)
    # It came over the live stream: the document was never reloaded.
    assert page.evaluate("window.__sameDocument") is True
    expect(page.get_by_label("Status", exact=True)).to_contain_text("Open (1)")
    shot(page, "inbox-live-1280")

    conv.click()
    thread = page.locator(".inbox-thread")
    expect(thread.locator(".message")).to_have_count(1)
    answer = thread.get_by_label("Your answer")
    # The sandbox has no DMs: the API's problem is shown and what was typed stays.
    thread.get_by_label("Answer as").select_option("dm")
    answer.fill("Hello from the team")
    thread.get_by_role("button", name="Send").click()
    expect(thread.get_by_role("alert").first).to_contain_text("does not support")
    expect(answer).to_have_value("Hello from the team")

    thread.get_by_label("Answer as").select_option("reply")
    thread.get_by_label("Saved reply").select_option(label="Thanks")
    filled = answer.input_value()
    assert filled.startswith("Terima kasih "), filled
    assert "{{" not in filled, filled
    thread.get_by_role("button", name="Send").click()
    ours = thread.locator(".message.ours")
    expect(ours).to_contain_text("Terima kasih")
    expect(ours.locator(".badge")).to_have_text("Sent", timeout=60_000)
    expect(answer).to_have_value("")
    # Like and hide the fan's comment: each outcome comes back from the publisher.
    fan = thread.locator(".message:not(.ours)")
    fan.get_by_role("button", name="Like").click()
    expect(fan.locator(".acted")).to_contain_text("Like: done", timeout=60_000)
    fan.get_by_role("button", name="Hide").click()
    expect(fan.locator(".acted")).to_contain_text("Hide: done", timeout=60_000)
    expect(fan.locator(".message-head")).to_contain_text("Hidden")

    # Assign to me, a snooze time in the past (refused beside its form), an internal note.
    thread.get_by_label("Assign to").select_option(label="Me")
    thread.get_by_role("button", name="Assign", exact=True).click()
    expect(page.get_by_label("Assigned to", exact=True)).to_contain_text("Me (1)")
    thread.get_by_label("Snooze until").fill("2020-01-01T10:00")
    thread.get_by_role("button", name="Snooze", exact=True).click()
    expect(thread.locator(".thread-controls")).to_contain_text("Choose a time in the future")
    thread.get_by_label("Note", exact=True).fill("Called them back about the promo.")
    thread.get_by_role("button", name="Add note").click()
    expect(thread.locator(".notes")).to_contain_text("Called them back about the promo.")
    shot(page, "inbox-thread-1280")

    # Tags: saved on the thread, then offered as one-click filters with their counts.
    thread.get_by_label("Tags", exact=True).fill("vip, kopi")
    thread.get_by_role("button", name="Save tags").click()
    chip = page.get_by_role("button", name="#vip (1)")
    chip.click()
    expect(chip).to_have_attribute("aria-pressed", "true")
    expect(conv).to_have_count(1)
    assert "tag=vip" in page.url

    thread.get_by_role("button", name="Close", exact=True).click()
    # Closed, it leaves the list of open conversations (the default filter).
    expect(conv).to_have_count(0)
    page.get_by_label("Status", exact=True).select_option("closed")
    expect(conv).to_have_count(1)
    assert "status=closed" in page.url
    # Many at once: tick it and reopen it with the bulk bar.
    page.get_by_role("checkbox", name=re.compile(r"^Tick: ")).check()
    expect(page.locator(".bulk-count")).to_have_text("1 ticked")
    page.get_by_label("Change", exact=True).select_option("reopen")
    page.get_by_role("button", name="Apply to ticked").click()
    expect(page.locator(".toasts")).to_contain_text("Conversations changed: 1.")
    expect(conv).to_have_count(0)
    page.get_by_label("Status", exact=True).select_option("open")
    expect(conv).to_have_count(1)

    # In Indonesian every string of the page has its translation (no key shows through).
    page.get_by_label("Language").select_option("id")
    expect(page.get_by_role("heading", name="Kotak masuk", level=1)).to_be_visible()
    expect(page.locator(".inbox-thread .message")).to_have_count(2)
    assert not re.search(r"\binbox\.[a-z-]+", page.locator("main").inner_text())
    shot(page, "inbox-thread-1280-id")
    page.get_by_label("Bahasa").select_option("en")

    # On a phone one column shows at a time: the open thread, then back to the list.
    page.set_viewport_size({"width": PHONE["width"], "height": PHONE["height"]})
    back = page.get_by_role("button", name="Back to the list")
    expect(back).to_be_visible()
    expect(page.locator(".inbox-list")).to_be_hidden()
    shot(page, "inbox-thread-phone")
    back.click()
    expect(conv).to_be_focused()
    expect(page.locator(".inbox-thread")).to_be_hidden()
    shot(page, "inbox-list-phone")
    conv.click()
    expect(page.locator(".inbox-thread h2")).to_be_focused()


def show_report(page: Page) -> None:
    page.get_by_role("button", name="Show report").click()
    expect(page.locator(".report")).not_to_have_attribute("aria-busy", "true")


def kpi(page: Page, name: str) -> Locator:
    return page.locator(f'[data-kpi="{name}"] .kpi-value')


def test_analytics_report_compares_and_exports(
    signed_in: Page, console: Console, person: Person, tmp_path: Path
) -> None:
    page = signed_in
    ws, account = current_workspace(page, person)
    publish_soon(console, person, ws, account, "Promo akhir pekan")
    page.get_by_role("link", name="Analytics").click()
    expect(page.get_by_role("heading", name="Analytics", level=1)).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="compared with")).to_be_visible()
    expect(page.locator(".kpi")).to_have_count(9)

    # The fan's comment reaches analytics through Kafka, the audience comes with the account
    # metrics the collector fetches: ask again until both are in.
    age = page.get_by_role("region", name="Audience").get_by_role("img", name="Age")

    def arrived() -> bool:
        return kpi(page, "inbox_received").inner_text() == "1" and age.count() == 1

    deadline = time.monotonic() + 120
    while not arrived() and time.monotonic() < deadline:
        page.wait_for_timeout(2000)
        show_report(page)
    expect(kpi(page, "inbox_received")).to_have_text("1")
    expect(page.locator('[data-kpi="inbox_received"] .kpi-change')).to_have_text("new this period")
    expect(page.locator("figure.chart svg[role=img]").first).to_be_visible()
    expect(page.locator("svg.heatmap rect")).to_have_count(7 * 24)
    team = page.get_by_role("region", name="Response times by teammate")
    expect(team).to_contain_text("still without an answer: 1")
    # The sandbox reports its audience: shares per age group, gender, country and city.
    audience = page.get_by_role("region", name="Audience")
    expect(age).to_be_visible()
    expect(audience.get_by_role("img", name="Gender").locator("rect.bar")).to_have_count(3)
    # Two client workspaces: the agency view lists both for the same period, with totals.
    agency = page.get_by_role("region", name="All your client workspaces")
    for name in person.workspaces:
        expect(agency.get_by_role("link", name=name)).to_be_visible()
    expect(agency.locator("tr.totals")).to_contain_text("Total")
    shot(page, "analytics-1280")
    page.get_by_label("Language").select_option("id")
    expect(page.get_by_role("heading", name="Analitik", level=1)).to_be_visible()
    expect(page.locator(".kpi")).to_have_count(9)
    assert not re.search(r"\banalytics\.[a-z-]+", page.locator("main").inner_text())
    page.get_by_label("Bahasa").select_option("en")
    expect(page.locator(".kpi")).to_have_count(9)

    with page.expect_download() as csv_download:
        page.get_by_label("CSV section").select_option("summary")
        page.get_by_role("button", name="Download CSV").click()
    csv = tmp_path / "summary.csv"
    csv_download.value.save_as(csv)
    assert csv_download.value.suggested_filename.endswith(".csv")
    assert "inbox_received" in csv.read_text(encoding="utf-8")

    page.get_by_label("Commentary").fill("A quiet first week.")
    with page.expect_download() as pdf_download:
        page.get_by_role("button", name="Download PDF").click()
    pdf = tmp_path / "report.pdf"
    pdf_download.value.save_as(pdf)
    assert pdf.read_bytes().startswith(b"%PDF")

    # A range ending before it starts: the API's problem shows and the dates typed stay.
    page.get_by_label("From", exact=True).fill("2026-05-10")
    page.get_by_label("To", exact=True).fill("2026-05-01")
    page.get_by_role("button", name="Show report").click()
    expect(page.locator(".range .form-error")).to_contain_text("Check the dates")
    expect(page.get_by_label("From", exact=True)).to_have_value("2026-05-10")
    assert re.search(r"from=\d{4}-\d\d-\d\d", page.url)

    page.set_viewport_size({"width": PHONE["width"], "height": PHONE["height"]})
    page.reload()
    expect(page.locator(".kpi")).to_have_count(9)
    shot(page, "analytics-phone")


HELPERS = """async () => {
  const inbox = await import('/static/pages/inbox.js');
  const thread = await import('/static/pages/inbox-thread.js');
  const an = await import('/static/pages/analytics.js');
  const charts = await import('/static/pages/analytics-charts.js');
  const sections = await import('/static/pages/analytics-sections.js');
  const conv = {status: 'open', kind: 'comment', network: 'x', sentiment: 'negative',
                priority: 'high', tags: ['vip', 'promo'], assignee: 'usr_1'};
  const t = (key, vars = {}) => `${key}${JSON.stringify(vars)}`;
  const f = sections.formats('en-GB');
  return {
    prevMonth: an.previousPeriod('2026-03-01', '2026-03-31'),
    prevDay: an.previousPeriod('2026-11-23', '2026-11-23'),
    account: an.reportQuery({from: 'a', to: 'b', scope: 'account:acc_1', tz: 'Asia/Jakarta'}),
    network: an.reportQuery({from: 'a', to: 'b', scope: 'network:x', tz: ''}),
    nice: [0, 7, 1234, 2100].map(charts.niceMax),
    filled: thread.fillSaved('Hi {{first_name}} from {{ account }} {{unknown}}',
                             {first_name: 'Ayu', account: 'kopi'}),
    defaults: inbox.filtersOf(new URLSearchParams('')).status,
    every: inbox.filtersOf(new URLSearchParams('status=')).status,
    matches: [
      {}, {status: 'open', tag: 'vip'}, {status: 'closed'}, {tag: 'other'},
      {assignee: 'me'}, {assignee: 'none'}, {sentiment: 'positive'},
      {network: 'x', priority: 'high'},
    ].map((filters) => inbox.matches(conv, filters, 'usr_1')),
    days: sections.everyDay('2026-03-28', '2026-03-31', [{day: '2026-03-30', received: 2}])
      .map((d) => d.received),
    weekdays: [charts.weekdays('en-GB')[0], charts.weekdays('id-ID')[0]],
    changes: [
      {current: 5, previous: 5, change: 0, change_pct: 0},
      {current: 5, previous: 0, change: 5, change_pct: null},
      {current: 1, previous: 2, change: -1, change_pct: -50},
    ].map((d) => sections.changeText(d, t, f)),
  };
}"""


def test_page_helpers_in_the_browser(page: Page, console: Console) -> None:
    """The pages' pure parts, run by the browser's own module loader."""
    page.goto(console.url + "/")
    got = page.evaluate(HELPERS)
    assert got["prevMonth"] == {"from": "2026-01-29", "to": "2026-02-28"}
    assert got["prevDay"] == {"from": "2026-11-22", "to": "2026-11-22"}
    assert got["account"] == {"from": "a", "to": "b", "tz": "Asia/Jakarta", "account_id": "acc_1"}
    assert got["network"] == {"from": "a", "to": "b", "tz": "UTC", "network": "x"}
    assert got["nice"] == [1, 10, 2000, 2500]
    assert got["filled"] == "Hi Ayu from kopi {{unknown}}"
    assert (got["defaults"], got["every"]) == ("open", "")
    assert got["matches"] == [True, True, False, False, True, False, False, True]
    assert got["days"] == [0, 0, 2, 0]
    assert got["weekdays"] == ["Mon", "Sen"]
    assert [c["text"] for c in got["changes"]] == [
        "analytics.flat{}",
        "analytics.new{}",
        'analytics.down{"pct":"50 %"}',
    ]
    assert [c["tone"] for c in got["changes"]] == ["", "", "down"]


def test_research_tracks_a_hashtag(signed_in: Page, console: Console, person: Person) -> None:
    page = signed_in
    page.get_by_role("link", name="Analytics").click()
    page.get_by_role("button", name="Research").click()
    expect(page.get_by_role("button", name="Research")).to_have_attribute("aria-pressed", "true")
    assert "view=research" in page.url
    expect(page.get_by_text("Nothing tracked yet.")).to_be_visible()

    value = page.get_by_label("Term or handle")
    value.fill("#kopi senja")  # a hashtag cannot hold a space: refused, text kept
    page.get_by_role("button", name="Track", exact=True).click()
    expect(page.get_by_role("alert").first).to_contain_text("Check the term or handle")
    expect(value).to_have_value("#kopi senja")

    value.fill("#KopiSenja")
    page.get_by_role("button", name="Track", exact=True).click()
    tracked = page.get_by_role("region", name="Tracked")
    expect(tracked).to_contain_text("#kopisenja")
    # The research collector searches the sandbox within a tick or two.
    deadline = time.monotonic() + 120
    trend = page.get_by_role("region", name="#kopisenja")
    while "—" in tracked.locator("tbody td").nth(3).inner_text() and time.monotonic() < deadline:
        page.wait_for_timeout(3000)
        page.get_by_role("button", name="Show report").click()
        expect(tracked).to_contain_text("#kopisenja")
    expect(tracked.locator("tbody td").nth(3)).not_to_have_text("—")
    expect(trend.get_by_role("img", name="Mentions per day")).to_be_visible()
    shot(page, "analytics-research-1280")

    page.get_by_role("button", name="Stop tracking #kopisenja").click()
    expect(tracked).to_contain_text("Nothing tracked yet.")


def test_inbox_stream_says_when_it_is_lost_and_comes_back(signed_in: Page) -> None:
    page = signed_in
    stream = re.compile(r".*/conversations:stream$")
    # The inbox answers the stream with 503 (as a proxy would with the inbox down)...
    page.route(stream, lambda route: route.fulfill(status=503, body="down"))
    page.get_by_role("link", name="Inbox").click()
    live = page.locator(".live")
    expect(live).to_have_text("Live updates lost — reconnecting…")
    shot(page, "inbox-stream-lost")
    # ...and is back: the client reconnects by itself and says so.
    page.unroute(stream)
    expect(live).to_have_text(LIVE, timeout=30_000)


def test_a_viewer_reads_the_inbox_without_answering(
    page: Page, console: Console, person: Person
) -> None:
    ws, account = next(iter(person.workspaces.values())), next(iter(person.accounts.values()))
    viewer = new_person(console.vault, workspaces=())
    with httpx.Client(timeout=30.0) as http:
        auth = {"authorization": f"Bearer {token(http, console.vault, person.email)}"}
        r = http.post(
            f"{console.vault}/v1/workspaces/{ws}/members",
            json={"email": viewer.email, "role": "viewer"},
            headers=auth,
        )
        assert r.status_code == 201, r.text
    publish_soon(console, person, ws, account, "Untuk dibaca saja")
    sign_in(page, console, viewer)
    page.get_by_role("link", name="Inbox").click()
    conv = page.locator("button.conv")
    expect(conv).to_have_count(1, timeout=90_000)
    # No way to change anything: no ticks, no answer box, no status or assignment controls.
    expect(page.locator("input.conv-pick")).to_have_count(0)
    conv.click()
    thread = page.locator(".inbox-thread")
    expect(thread).to_contain_text("Your role can read the inbox but not answer.")
    expect(thread.get_by_role("button")).to_have_count(0)  # not even like or hide
    expect(thread.locator("form")).to_have_count(0)
    shot(page, "inbox-viewer-1280")

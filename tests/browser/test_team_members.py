"""Team page: removing a member, leaving a workspace and the owner rules, in a real browser.

The API calls that check the outcome go through the console's proxy, the same way as the
page's own DELETE, so they also show that member removal passes through it.
"""

from __future__ import annotations

import re

import httpx
from playwright.sync_api import Page, Route, expect

from tests.browser.conftest import Console, shot, sign_in
from tests.browser.tenants import Person, new_person, token


def _add_member(http: httpx.Client, console: Console, owner: Person, ws: str, role: str) -> Person:
    """A new user (no workspace of their own) made a member of ``ws`` by its owner."""
    member = new_person(console.vault, workspaces=())
    auth = {"authorization": f"Bearer {token(http, console.url, owner.email)}"}
    r = http.post(
        f"{console.url}/v1/workspaces/{ws}/members",
        json={"email": member.email, "role": role},
        headers=auth,
    )
    assert r.status_code == 201, r.text
    return member


def _member_emails(http: httpx.Client, console: Console, person: Person, ws: str) -> set[str]:
    auth = {"authorization": f"Bearer {token(http, console.url, person.email)}"}
    r = http.get(f"{console.url}/v1/workspaces/{ws}/members", headers=auth)
    assert r.status_code == 200, r.text
    return {m["email"] for m in r.json()["items"]}


def test_remove_a_member_after_confirming_and_escape_cancels(
    signed_in: Page, console: Console, person: Person
) -> None:
    page = signed_in
    ws = page.get_by_label("Workspace", exact=True).input_value()
    with httpx.Client(timeout=30.0) as http:
        editor = _add_member(http, console, person, ws, "editor")
        stale = {"authorization": f"Bearer {token(http, console.url, editor.email)}"}
        members_url = f"{console.url}/v1/workspaces/{ws}/members"
        assert http.get(members_url, headers=stale).status_code == 200

        page.goto(f"{console.url}/#/w/{ws}/team")
        row = page.get_by_role("row").filter(has_text=editor.email)
        remove = row.get_by_role("button", name=re.compile(r"^Remove"))
        # Escape cancels: nothing sent, the row stays and focus is back on its button.
        remove.click()
        dialog = page.get_by_role("alertdialog", name="Remove Web Tester?")
        expect(dialog).to_contain_text("will no longer be a member of")
        expect(dialog.get_by_role("button", name="Cancel")).to_be_focused()
        shot(page, "team-remove-confirm")
        page.keyboard.press("Escape")
        expect(dialog).to_have_count(0)
        expect(remove).to_be_focused()
        assert editor.email in _member_emails(http, console, person, ws)

        # Confirmed while the connection is cut: the banner shows, the row stays, and the
        # DELETE is retried (as the shell retries idempotent calls) once it is back.
        def cut(route: Route) -> None:
            if route.request.method == "DELETE":
                route.abort("connectionrefused")
            else:
                route.continue_()

        page.route("**/v1/workspaces/*/members/*", cut)
        remove.click()
        dialog.get_by_role("button", name="Remove", exact=True).click()
        banner = page.get_by_role("status").filter(has_text="Connection lost — retrying")
        expect(banner).to_be_visible()
        expect(row).to_be_visible()
        expect(remove).to_be_disabled()
        page.unroute("**/v1/workspaces/*/members/*", cut)
        expect(row).to_have_count(0, timeout=30_000)
        expect(banner).to_be_hidden()
        expect(page.get_by_role("status").filter(has_text="was removed")).to_be_visible()
        assert editor.email not in _member_emails(http, console, person, ws)
        # Their next token no longer carries the workspace: reading it is refused.
        fresh = {"authorization": f"Bearer {token(http, console.url, editor.email)}"}
        r = http.get(members_url, headers=fresh)
        assert r.status_code == 404, r.text
        assert r.json()["type"] == "urn:siar:problem:not-found"
        listed = http.get(f"{console.url}/v1/workspaces", headers=fresh).json()["items"]
        assert ws not in {w["id"] for w in listed}

    # The only owner cannot leave: the vault's 409 is said beside their own row.
    mine = page.get_by_role("row").filter(has_text=person.email)
    mine.get_by_role("button", name="Leave workspace").click()
    page.get_by_role("alertdialog").get_by_role("button", name="Leave workspace").click()
    expect(mine.get_by_role("alert")).to_contain_text("You are the only owner")
    expect(mine.get_by_role("button", name="Leave workspace")).to_be_focused()
    shot(page, "team-last-owner")

    # In Indonesian the confirmation speaks Indonesian, and Escape still cancels.
    page.get_by_label("Language").select_option("id")
    mine = page.get_by_role("row").filter(has_text=person.email)
    mine.get_by_role("button", name="Keluar dari ruang kerja").click()
    dialog = page.get_by_role("alertdialog", name=re.compile(r"^Keluar dari .+\?$"))
    expect(dialog.get_by_role("button", name="Batal")).to_be_focused()
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)
    page.get_by_label("Bahasa").select_option("en")


def test_an_admin_sees_owners_read_only_and_leaves(
    page: Page, console: Console, person: Person
) -> None:
    ws = person.workspaces["Kopi Senja"]
    with httpx.Client(timeout=30.0) as http:
        admin = _add_member(http, console, person, ws, "admin")
    sign_in(page, console, admin, f"/#/w/{ws}/team")
    expect(page.get_by_role("heading", name="Team", exact=True)).to_be_visible()
    # Only an owner changes or removes an owner, and only an owner grants ownership.
    owner_row = page.get_by_role("row").filter(has_text=person.email)
    expect(owner_row).to_contain_text("Only an owner can change or remove an owner.")
    expect(owner_row.get_by_role("button")).to_have_count(0)
    expect(owner_row.get_by_role("combobox")).to_have_count(0)
    add = page.get_by_role("region", name="Add a member")
    expect(add.get_by_label("Role").locator('option[value="owner"]')).to_have_count(0)
    shot(page, "team-admin-view")

    # Leaving: afterwards the console opens the workspaces page, without this workspace.
    mine = page.get_by_role("row").filter(has_text=admin.email)
    mine.get_by_role("button", name="Leave workspace").click()
    page.get_by_role("alertdialog").get_by_role("button", name="Leave workspace").click()
    expect(page.get_by_role("heading", name="Workspaces", exact=True)).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="You left Kopi Senja")).to_be_visible()
    expect(page.get_by_text("You are not a member of any workspace yet")).to_be_visible()
    expect(page.get_by_label("Workspace", exact=True)).to_have_count(0)
    with httpx.Client(timeout=30.0) as http:
        assert admin.email not in _member_emails(http, console, person, ws)


WORDING = """async () => {
  const m = await import('/static/pages/team-members.js');
  const { ApiError } = await import('/static/api.js');
  const ctx = { t: (key, vars) => key + JSON.stringify(vars ?? {}), role: 'admin' };
  const owner = { user_id: 'u1', role: 'owner', name: 'Ayu' };
  const editor = { user_id: 'u2', role: 'editor', email: 'budi@example.com' };
  const refusal = (status, kind, member, self = false) =>
    m.removalProblem(ctx, new ApiError(status, { type: `urn:siar:problem:${kind}` }), member, self);
  return {
    lastOwner: [refusal(409, 'last-owner', owner), refusal(409, 'last-owner', owner, true)],
    forbidden: [refusal(403, 'forbidden', owner), refusal(403, 'forbidden', editor)],
    conflict: refusal(409, 'conflict', editor),
    network: refusal(0, 'network', editor),
    admin: m.roleOptions(ctx).map(([value]) => value),
    owner: m.roleOptions({ ...ctx, role: 'owner' }).map(([value]) => value),
  };
}"""


def test_removal_wording_and_offered_roles(page: Page, console: Console) -> None:
    """Each refusal's own words, and the roles each manager is offered (module loader)."""
    page.goto(console.url + "/")
    got = page.evaluate(WORDING)
    assert got["lastOwner"] == ['team.last-owner{"name":"Ayu"}', "team.last-owner-self{}"]
    assert got["forbidden"] == ["team.owner-only{}", "team.remove-forbidden{}"]
    assert got["conflict"] == 'team.remove-conflict{"name":"budi@example.com"}'
    assert got["network"].startswith("The services cannot be reached")
    assert got["admin"] == ["admin", "editor", "contributor", "approver", "viewer"]
    assert got["owner"] == ["owner", *got["admin"]]

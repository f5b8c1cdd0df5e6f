"""The workbench in Chromium: each response stays bound to the request that asked for it.

The three sequences a tryout found broken (issue 12) are replayed: picking another endpoint after a
POST, reopening a history row, and a slow answer arriving while another tab is shown. Then Cancel,
Ctrl+Enter from the body, and the path-variable table. Screenshots land in test-artifacts/.
"""

from __future__ import annotations

import re
import time

import pytest
from support.demo_page import WAIT_MS, browser_context, demo_url, shot  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _open(page: object, method: str, path: str) -> None:
    """Open an endpoint from the sidebar (filtered to it, so its row is the only one)."""
    from playwright.sync_api import expect

    box = page.locator("#endpoint-filter input, #endpoint-filter textarea").first  # type: ignore[attr-defined]
    box.fill(f"{method} {path}")
    expect(page.locator("#endpoints")).not_to_contain_text("/api/echo")  # type: ignore[attr-defined]
    page.locator(f'#endpoints .ep-path:visible:text-is("{path}")').first.click()  # type: ignore[attr-defined]
    expect(url_box(page)).to_have_value(re.compile(re.escape(path.split("{")[0])))


def url_box(page: object) -> object:
    return page.locator("#url textarea, #url input").first  # type: ignore[attr-defined]


def badge(page: object) -> object:
    return page.locator("#status .badge")  # type: ignore[attr-defined]


def tab(page: object, label: str) -> object:
    return page.locator("#tabstrip label").filter(has_text=label).first  # type: ignore[attr-defined]


@pytest.fixture
def page(demo_url: str, browser_context: object) -> object:  # noqa: F811
    from playwright.sync_api import expect

    page = browser_context.new_page()  # type: ignore[attr-defined]
    page.goto(demo_url + "?__theme=light")
    expect(page.locator("#endpoints")).to_contain_text("/api/hello", timeout=WAIT_MS)
    expect(page.locator("#tabstrip label")).to_have_count(1, timeout=WAIT_MS)
    yield page
    page.close()


def test_another_endpoint_does_not_inherit_the_previous_response(page: object) -> None:
    from playwright.sync_api import expect

    _open(page, "POST", "/api/items")
    page.locator("#send").click()  # type: ignore[attr-defined]
    expect(badge(page)).to_have_text("201", timeout=WAIT_MS)
    expect(page.locator("#status .answers")).to_contain_text("POST")  # type: ignore[attr-defined]
    _open(page, "GET", "/api/hello")
    # A new tab for the GET: no 201 under it, the pane says nothing was sent yet.
    expect(page.locator("#tabstrip label")).to_have_count(2)  # type: ignore[attr-defined]
    expect(badge(page)).to_have_count(0)
    expect(page.locator("#status")).to_contain_text("Send a request")  # type: ignore[attr-defined]
    shot(page, "tabs-1-new-endpoint")
    # Back to the POST tab: its request and its 201 together.
    tab(page, "POST /api/items").click()
    expect(badge(page)).to_have_text("201", timeout=WAIT_MS)
    expect(url_box(page)).to_have_value(re.compile(r"/api/items$"))
    expect(page.locator("#http-method input")).to_have_value("POST")  # type: ignore[attr-defined]


def test_a_history_row_opens_its_request_and_response(page: object) -> None:
    from playwright.sync_api import expect

    _open(page, "GET", "/api/hello")
    page.locator("#send").click()  # type: ignore[attr-defined]
    expect(badge(page)).to_have_text("200", timeout=WAIT_MS)
    _open(page, "POST", "/api/items")
    page.locator("#send").click()  # type: ignore[attr-defined]
    expect(badge(page)).to_have_text("201", timeout=WAIT_MS)
    page.get_by_role("tab", name="History").click()  # type: ignore[attr-defined]
    expect(page.locator("#history-table")).to_contain_text("201", timeout=WAIT_MS)  # type: ignore[attr-defined]
    page.locator("#history-table").get_by_role("gridcell", name="200", exact=True).first.click()  # type: ignore[attr-defined]
    expect(badge(page)).to_have_text("200", timeout=WAIT_MS)
    expect(url_box(page)).to_have_value(re.compile(r"/api/hello$"))
    expect(page.locator("#http-method input")).to_have_value("GET")  # type: ignore[attr-defined]
    shot(page, "tabs-2-history-row")


def test_a_slow_answer_lands_in_the_tab_that_sent_it(page: object) -> None:
    from playwright.sync_api import expect

    _open(page, "GET", "/api/slow")
    page.locator("#reqtabs").get_by_role("tab", name="Params").click()  # type: ignore[attr-defined]
    params = page.locator("#reqtabs textarea").first  # type: ignore[attr-defined]
    params.fill("ms=2500")
    page.locator("#send").click()  # type: ignore[attr-defined]
    expect(page.locator("#main .sending-text:visible")).to_contain_text("Sending", timeout=WAIT_MS)  # type: ignore[attr-defined]
    expect(page.locator("#cancel")).to_be_visible()  # type: ignore[attr-defined]
    _open(page, "GET", "/api/hello")  # meanwhile: another endpoint, in another tab
    page.locator("#send").click()  # type: ignore[attr-defined]
    expect(badge(page)).to_have_text("200", timeout=WAIT_MS)
    time.sleep(3.0)  # the slow answer arrives while /api/hello is shown
    expect(page.locator("#pretty")).to_contain_text("Hello")  # type: ignore[attr-defined]
    expect(page.locator("#pretty")).not_to_contain_text("slept_ms")  # type: ignore[attr-defined]
    tab(page, "/api/slow").click()
    expect(page.locator("#pretty")).to_contain_text("slept_ms", timeout=WAIT_MS)  # type: ignore[attr-defined]
    expect(page.locator("#status .answers")).to_contain_text("/api/slow")  # type: ignore[attr-defined]
    shot(page, "tabs-3-slow-answer")


def test_cancel_and_escape_stop_a_send(page: object) -> None:
    from playwright.sync_api import expect

    _open(page, "GET", "/api/slow")
    page.locator("#reqtabs").get_by_role("tab", name="Params").click()  # type: ignore[attr-defined]
    page.locator("#reqtabs textarea").first.fill("ms=8000")  # type: ignore[attr-defined]
    page.locator("#send").click()  # type: ignore[attr-defined]
    expect(page.locator("#main .sending-text:visible")).to_contain_text(
        re.compile(r"Sending… \d"), timeout=WAIT_MS
    )  # type: ignore[attr-defined]
    shot(page, "send-1-sending")
    page.locator("#cancel").click()  # type: ignore[attr-defined]
    expect(badge(page)).to_have_text("Cancelled", timeout=WAIT_MS)
    expect(page.locator("#send")).to_be_visible()  # type: ignore[attr-defined]
    # Esc cancels too.
    page.locator("#send").click()  # type: ignore[attr-defined]
    expect(page.locator("#cancel")).to_be_visible(timeout=WAIT_MS)  # type: ignore[attr-defined]
    page.keyboard.press("Escape")  # type: ignore[attr-defined]
    expect(badge(page)).to_have_text("Cancelled", timeout=WAIT_MS)
    shot(page, "send-2-cancelled")


def test_ctrl_enter_sends_from_the_body_and_tab_leaves_it(page: object) -> None:
    from playwright.sync_api import expect

    _open(page, "POST", "/api/items")
    editor = page.locator("#body .cm-content")  # type: ignore[attr-defined]
    editor.click()
    page.keyboard.press("Tab")  # type: ignore[attr-defined]
    focused = page.evaluate("document.activeElement.closest('#body') === null")  # type: ignore[attr-defined]
    assert focused, "Tab must leave the body editor"
    editor.click()
    page.keyboard.press("Control+Enter")  # type: ignore[attr-defined]
    expect(badge(page)).to_have_text("201", timeout=WAIT_MS)
    shot(page, "keys-1-ctrl-enter-from-body")


def test_path_variables_have_their_own_table(page: object) -> None:
    from playwright.sync_api import expect

    _open(page, "GET", "/api/items/{item_id}")
    table = page.locator("#path-table")  # type: ignore[attr-defined]
    expect(table).to_be_visible(timeout=WAIT_MS)
    expect(table).to_contain_text("item_id")
    expect(table).to_contain_text("integer")
    page.locator("#send").click()  # type: ignore[attr-defined]
    expect(page.locator("#status")).to_contain_text("Fill in the path parameter", timeout=WAIT_MS)  # type: ignore[attr-defined]
    shot(page, "path-1-table")
    # The empty parameter has the focus: typing fills it in.
    expect(table.locator(":focus")).to_have_count(1, timeout=WAIT_MS)
    page.keyboard.type("1")  # type: ignore[attr-defined]
    page.keyboard.press("Enter")  # type: ignore[attr-defined]
    time.sleep(0.8)
    page.locator("#send").click()  # type: ignore[attr-defined]
    expect(badge(page)).to_have_text(re.compile(r"200|404"), timeout=WAIT_MS)
    expect(page.locator("#status .answers")).to_contain_text("/api/items/1")  # type: ignore[attr-defined]
    shot(page, "path-2-filled-and-sent")


def test_a_failed_connect_keeps_the_working_connection(page: object) -> None:
    from playwright.sync_api import expect

    page.get_by_text("Credentials", exact=True).click()  # type: ignore[attr-defined]
    secret = page.locator("#field-client_secret input")  # type: ignore[attr-defined]
    working = secret.input_value()  # the demo's own secret, preset in the box
    secret.fill("not-the-secret")
    page.locator("#connect").click()  # type: ignore[attr-defined]
    card = page.locator("#connection")  # type: ignore[attr-defined]
    expect(card.locator(".attempt-failed")).to_be_visible(timeout=WAIT_MS)
    expect(card.locator(".conn.ok")).to_contain_text("demo-sp")  # still connected as before
    # The wrong field is marked next to itself, with the reason; the others are not.
    marked = page.locator("#field-client_secret")  # type: ignore[attr-defined]
    expect(marked).to_have_class(re.compile(r"\bfield-invalid\b"), timeout=WAIT_MS)
    expect(secret).to_have_attribute("aria-invalid", "true")
    expect(marked.locator(".field-error")).to_contain_text("not valid")
    expect(page.locator(".field-invalid")).to_have_count(1)  # type: ignore[attr-defined]
    shot(page, "connect-1-failed-attempt")
    # A scope the workspace refuses: now the Scopes box is the one marked, the secret no longer.
    secret.fill(working)
    page.locator("#field-scopes input").fill("all-apis sql~files")  # type: ignore[attr-defined]
    page.locator("#connect").click()  # type: ignore[attr-defined]
    expect(page.locator("#field-scopes")).to_have_class(re.compile(r"\bfield-invalid\b"), timeout=WAIT_MS)  # type: ignore[attr-defined]
    expect(page.locator("#field-scopes .field-error")).to_contain_text("scope")  # type: ignore[attr-defined]
    expect(secret).not_to_have_attribute("aria-invalid", "true")
    shot(page, "connect-2-scopes-marked")
    # A successful connect clears every mark.
    page.locator("#field-scopes input").fill("")  # type: ignore[attr-defined]
    page.locator("#connect").click()  # type: ignore[attr-defined]
    expect(card.locator(".attempt-failed")).to_have_count(0, timeout=WAIT_MS)
    expect(page.locator(".field-invalid")).to_have_count(0, timeout=WAIT_MS)  # type: ignore[attr-defined]
    expect(page.locator(".field-error")).to_have_count(0)  # type: ignore[attr-defined]
    _open(page, "GET", "/api/hello")
    page.locator("#send").click()  # type: ignore[attr-defined]
    expect(badge(page)).to_have_text("200", timeout=WAIT_MS)


def test_a_collection_runs_with_live_rows_and_a_row_opens_its_exchange(page: object) -> None:
    from playwright.sync_api import expect

    page.get_by_role("tab", name="Collections").click()  # type: ignore[attr-defined]
    page.locator("#coll-open").click()  # type: ignore[attr-defined]  (the demo's collection is preset)
    tree = page.locator("#coll-tree")  # type: ignore[attr-defined]
    expect(tree).to_contain_text("Create an item", timeout=WAIT_MS)
    # A request opens in a tab, with its notes beside it.
    tree.get_by_role("gridcell", name="Greeting").first.click()
    expect(page.locator("#tabstrip label").filter(has_text="Greeting")).to_have_count(1, timeout=WAIT_MS)  # type: ignore[attr-defined]
    expect(page.locator("#notes")).to_be_visible()  # type: ignore[attr-defined]
    page.locator("#send").click()  # type: ignore[attr-defined]
    expect(badge(page)).to_have_text("200", timeout=WAIT_MS)  # {{hello_url}} resolved from the picked app
    # Run: rows appear while later requests are still running (the slow call takes a while).
    page.locator("#coll-run").click()  # type: ignore[attr-defined]
    rows = page.locator("#run-table").get_by_role("row")  # type: ignore[attr-defined]
    expect(page.locator("#run-summary")).to_contain_text("Running", timeout=WAIT_MS)  # type: ignore[attr-defined]
    expect(page.locator("#run-table")).to_contain_text("Greeting", timeout=WAIT_MS)  # type: ignore[attr-defined]
    shot(page, "collection-1-running")
    expect(page.locator("#run-summary")).to_contain_text("Done", timeout=60_000)  # type: ignore[attr-defined]
    assert rows.count() > 10
    expect(page.locator("#run-table")).to_contain_text("APP_NOT_RUNNING")  # type: ignore[attr-defined]
    shot(page, "collection-2-done")
    page.locator("#run-table").get_by_role("gridcell", name=re.compile("Table view")).first.click()  # type: ignore[attr-defined]
    expect(page.locator("#status .answers")).to_contain_text("/api/table", timeout=WAIT_MS)  # type: ignore[attr-defined]
    shot(page, "collection-3-row-opened")


def test_a_fix_button_adds_the_scopes_and_reconnects(page: object) -> None:
    from playwright.sync_api import expect

    page.get_by_role("tab", name="Collections").click()  # type: ignore[attr-defined]
    page.locator("#coll-open").click()  # type: ignore[attr-defined]
    tree = page.locator("#coll-tree")  # type: ignore[attr-defined]
    expect(tree).to_contain_text("Scoped app without its scopes", timeout=WAIT_MS)
    tree.get_by_role("gridcell", name="Scoped app without its scopes").first.click()
    page.locator("#send").click()  # type: ignore[attr-defined]
    expect(badge(page)).to_have_text("403", timeout=WAIT_MS)
    button = page.locator("#banner button.fix-action")  # type: ignore[attr-defined]
    if button.count() == 0:
        pytest.skip("SCOPE_MISSING carries no structured fix (Finding.action) in this engine yet")
    expect(page.locator("#banner")).not_to_contain_text("`")  # type: ignore[attr-defined]
    shot(page, "fix-1-banner")
    button.first.click()
    expect(page.locator("#connection")).to_contain_text("files.files", timeout=WAIT_MS)  # type: ignore[attr-defined]
    shot(page, "fix-2-reconnected")
    page.get_by_text("Credentials", exact=True).click()  # type: ignore[attr-defined]
    expect(page.locator("#field-scopes input")).to_have_value(re.compile(r"sql files\.files"))  # type: ignore[attr-defined]


def test_enter_in_the_filter_opens_the_first_match_and_the_method_can_be_typed(page: object) -> None:
    from playwright.sync_api import expect

    box = page.locator("#endpoint-filter input, #endpoint-filter textarea").first  # type: ignore[attr-defined]
    box.fill("delete items")
    box.press("Enter")
    expect(page.locator("#http-method input")).to_have_value("DELETE", timeout=WAIT_MS)  # type: ignore[attr-defined]
    expect(url_box(page)).to_have_value(re.compile(r"/api/items/\{item_id\}$"))
    method = page.locator("#http-method input")  # type: ignore[attr-defined]
    method.click()
    page.keyboard.type("PUT")  # type: ignore[attr-defined]
    page.keyboard.press("Enter")  # type: ignore[attr-defined]
    expect(method).to_have_value("PUT", timeout=WAIT_MS)  # replaced, never "DELETEPUT"
    shot(page, "keys-2-filter-enter-method-typed")


def test_delete_asks_first_then_removes_a_request_and_a_folder(page: object, tmp_path: object) -> None:
    import shutil
    from pathlib import Path

    from playwright.sync_api import expect

    copy = Path(str(tmp_path)) / "demo-copy"
    shutil.copytree(Path(__file__).resolve().parents[1] / "examples" / "sandbox-demo", copy)
    page.get_by_role("tab", name="Collections").click()  # type: ignore[attr-defined]
    page.locator("#coll-location input, #coll-location textarea").first.fill(str(copy))  # type: ignore[attr-defined]
    page.locator("#coll-open").click()  # type: ignore[attr-defined]
    tree = page.locator("#coll-tree")  # type: ignore[attr-defined]
    expect(tree).to_contain_text("Read it by id", timeout=WAIT_MS)
    tree.get_by_role("gridcell", name="Read it by id").first.click()
    expect(page.locator("#tabstrip label").filter(has_text="Read it by id")).to_have_count(1, timeout=WAIT_MS)  # type: ignore[attr-defined]
    page.locator("#coll-delete").click()  # type: ignore[attr-defined]
    question = page.locator("#delete-question")  # type: ignore[attr-defined]
    expect(question).to_contain_text("Delete the request Read it by id?", timeout=WAIT_MS)
    shot(page, "delete-1-asks-first")
    # "Keep it" deletes nothing.
    page.locator("#delete-no").click()  # type: ignore[attr-defined]
    expect(page.locator("#delete-yes")).to_be_hidden(timeout=WAIT_MS)  # type: ignore[attr-defined]
    assert (copy / "items" / "02-read.posting.yaml").exists()
    page.locator("#coll-delete").click()  # type: ignore[attr-defined]
    page.locator("#delete-yes").click()  # type: ignore[attr-defined]
    expect(page.locator("#save-notice")).to_contain_text(
        "Deleted items/02-read.posting.yaml", timeout=WAIT_MS
    )  # type: ignore[attr-defined]
    expect(tree).not_to_contain_text("Read it by id")
    assert not (copy / "items" / "02-read.posting.yaml").exists()
    # A folder: the question says how many requests go with it.
    tree.get_by_role("gridcell", name=re.compile("failures")).first.click()
    page.locator("#coll-delete").click()  # type: ignore[attr-defined]
    expect(question).to_contain_text(
        re.compile(r"Delete the folder .+ and its 4 requests\?"), timeout=WAIT_MS
    )
    page.locator("#delete-yes").click()  # type: ignore[attr-defined]
    expect(tree).not_to_contain_text("Scoped app without its scopes", timeout=WAIT_MS)
    assert not (copy / "failures").exists() and (copy / "collection.yaml").exists()
    expect(page.locator("#coll-title")).to_contain_text("10 requests")  # type: ignore[attr-defined]
    expect(page.locator("#coll-title")).not_to_contain_text("⚠")  # type: ignore[attr-defined]  (loads cleanly)
    shot(page, "delete-2-folder-gone")


VISIBLE_ENDPOINT_ROWS = """() => {
  const view = document.querySelector('#endpoints .virtual-table-viewport').getBoundingClientRect();
  const top = Math.max(0, view.top), bottom = Math.min(window.innerHeight, view.bottom);
  return [...document.querySelectorAll('#endpoints .virtual-row')].filter((r) => {
    const box = r.getBoundingClientRect();
    return r.querySelector('.ep-path') && box.height > 0 && box.top >= top - 1 && box.bottom <= bottom + 1;
  }).length;
}"""


def test_the_endpoint_list_shows_a_dozen_rows_and_its_groups_collapse(page: object) -> None:
    from playwright.sync_api import expect

    endpoints = page.locator("#endpoints")  # type: ignore[attr-defined]
    header = endpoints.locator(".ep-group").filter(has_text=re.compile(r"^\W*echo", re.I)).first
    expect(header).to_contain_text("(expanded)")
    assert page.viewport_size == {"width": 1366, "height": 768}  # type: ignore[attr-defined]
    visible = page.evaluate(VISIBLE_ENDPOINT_ROWS)  # type: ignore[attr-defined]
    assert visible >= 12, f"only {visible} endpoint rows in view at 1366×768"
    shot(page, "endpoints-1-compact")
    # A click on a group's header collapses it: its endpoints go, the header says so.
    header.click()
    expect(header).to_contain_text("(collapsed)", timeout=WAIT_MS)
    expect(endpoints.locator(".virtual-row .ep-path").filter(has_text="/api/echo")).to_have_count(0)
    expect(endpoints).to_contain_text("/api/hello")
    shot(page, "endpoints-2-echo-collapsed")
    # The filter opens groups with matches; clearing it brings the collapsed group back collapsed.
    box = page.locator("#endpoint-filter input, #endpoint-filter textarea").first  # type: ignore[attr-defined]
    box.fill("echo")
    expect(endpoints.locator(".virtual-row .ep-path").filter(has_text="/api/echo")).to_have_count(
        5, timeout=WAIT_MS
    )
    box.fill("")
    expect(endpoints).to_contain_text("/api/hello", timeout=WAIT_MS)
    expect(endpoints.locator(".virtual-row .ep-path").filter(has_text="/api/echo")).to_have_count(
        0, timeout=WAIT_MS
    )
    # The keyboard: Tab from the filter into the list, Enter on the header expands the group again.
    box.focus()
    page.keyboard.press("Tab")  # type: ignore[attr-defined]
    focused = page.evaluate("document.activeElement.closest('#endpoints') !== null")  # type: ignore[attr-defined]
    assert focused, "Tab from the filter must reach the endpoint list"
    page.keyboard.press("Enter")  # type: ignore[attr-defined]
    expect(endpoints.locator(".virtual-row .ep-path").filter(has_text="/api/echo")).to_have_count(
        5, timeout=WAIT_MS
    )
    expect(header).to_contain_text("(expanded)")
    shot(page, "endpoints-3-expanded-by-keyboard")


PLACEHOLDERS_CLIPPED = """() => {
  const ctx = document.createElement('canvas').getContext('2d');
  return [...document.querySelectorAll('input[placeholder], textarea[placeholder]')]
    .filter((box) => box.offsetParent !== null && box.placeholder)
    .map((box) => {
      const style = getComputedStyle(box);
      ctx.font = style.font;
      const room = box.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
      return [box.closest('[id]') ? box.closest('[id]').id : '?', box.placeholder, ctx.measureText(box.placeholder).width, room];
    })
    .filter(([, , width, room]) => width > room);
}"""


def test_every_placeholder_fits_its_box_for_every_auth_method(page: object) -> None:
    from playwright.sync_api import expect

    page.get_by_text("Credentials", exact=True).click()  # type: ignore[attr-defined]
    for label in ("Profile", "Service principal", "Browser sign-in", "Bearer token", "Token federation"):
        page.locator("#auth-method input").click()  # type: ignore[attr-defined]
        page.get_by_role("option", name=re.compile(label)).click()  # type: ignore[attr-defined]
        expect(page.locator("#auth-method input")).to_have_value(re.compile(label), timeout=WAIT_MS)  # type: ignore[attr-defined]
        time.sleep(0.5)  # the boxes are relabelled by the select_method event
        clipped = page.evaluate(PLACEHOLDERS_CLIPPED)  # type: ignore[attr-defined]
        assert clipped == [], f"{label}: placeholders clipped at 1366×768: {clipped}"
    shot(page, "forms-1-placeholders-fit")

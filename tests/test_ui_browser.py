"""The real page in Debian's Chromium, against `python -m explorer --demo` (one command, offline).

A stakeholder demo: the page opens connected, picks the sample app and an endpoint, sends and sees
200 with pretty JSON; Bob signs in through the browser, gets 403 and the Diagnosis says NO_CAN_USE;
the history downloads as HAR without the token. Screenshots land in test-artifacts/.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from support.demo_page import WAIT_MS, browser_context, demo_url, shot  # noqa: F401  (fixtures)
from support.ports import free_port

from explorer.ui.config import PRESET_SECRET

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def endpoint(page: object, path: str) -> object:
    """An endpoint's row in the sidebar list (the grid's accessible cells: the visible copy)."""
    cell = page.locator("#endpoints").get_by_role("gridcell", name=path)  # type: ignore[attr-defined]
    return cell.first


def test_demo_story(demo_url: str, browser_context: object) -> None:  # noqa: F811
    from playwright.sync_api import expect

    page = browser_context.new_page()  # type: ignore[attr-defined]
    page.goto(demo_url + "?__theme=light")
    endpoints = page.locator("#endpoints")
    expect(endpoints).to_contain_text("/api/hello", timeout=WAIT_MS)  # demo: connected, app picked
    expect(page.locator("#connection .conn.ok")).to_be_visible()
    expect(page.locator("#connection")).to_contain_text("demo-sp")  # named, not just an id
    expect(page.locator("#url textarea, #url input").first).to_have_value("/api/hello")  # Send works at once
    shot(page, "1-demo-loaded")

    # Connect (again, deliberately) with the preselected service principal.
    page.get_by_text("Credentials", exact=True).click()
    secret_box = page.locator("#field-client_secret input")
    expect(secret_box).to_have_attribute("type", "password")
    expect(secret_box).to_have_value(PRESET_SECRET)  # the demo's real secret never reaches the page
    page.locator("#connect").click()
    expect(page.locator("#connection .conn.ok")).to_contain_text("m2m", timeout=WAIT_MS)

    # Pick the app and an endpoint; send; 200 and pretty JSON.
    page.locator("#app-picker input").click()
    page.get_by_role("option", name=re.compile(r"^hello")).click()
    endpoint(page, "/api/hello").click()
    expect(page.locator("#url textarea, #url input").first).to_have_value(re.compile(r"/api/hello$"))
    page.locator("#send").click()
    expect(page.locator("#status .badge")).to_have_text("200", timeout=WAIT_MS)
    expect(page.locator("#pretty")).to_contain_text('"message"')
    shot(page, "2-hello-200")
    page.get_by_role("tab", name="Token").click()
    expect(page.locator("#token")).to_contain_text("Databricks OAuth token")
    shot(page, "3-token")

    # Bob signs in with the browser (PKCE), has no CAN_USE: 403, and the Diagnosis says why.
    _sign_in_with_browser(page, browser_context, "bob@example.com")
    endpoint(page, "/api/hello").click()
    page.locator("#send").click()
    expect(page.locator("#status .badge")).to_have_text("403", timeout=WAIT_MS)
    # The failure does not hide the body: its top findings are a banner above it.
    expect(page.locator("#banner")).to_contain_text("NO_CAN_USE")
    expect(page.locator("#pretty")).to_be_visible()
    page.get_by_role("tab", name=re.compile(r"^Diagnosis")).click()
    expect(page.locator("#diagnosis")).to_contain_text("NO_CAN_USE")
    shot(page, "4-diagnosis-403")

    # The token is shown only on request; the HAR export never contains it.
    page.locator("#reveal").click()
    token = page.locator("#revealed input, #revealed textarea").first
    expect(token).to_have_value(re.compile(r"^eyJ[\w-]+\.[\w-]+\.[\w-]+$"))
    revealed = token.input_value()
    page.locator("#hide").click()
    page.get_by_role("tab", name="History").click()
    expect(page.locator("#history-table")).to_contain_text("403")
    page.locator("#export").click()  # step one builds the file; step two downloads it
    expect(page.locator("#export-note")).to_contain_text("exchanges", timeout=WAIT_MS)
    with page.expect_download(timeout=WAIT_MS) as download:
        page.locator("#download").click()
    text = Path(download.value.path()).read_text(encoding="utf-8")
    statuses = [e["response"]["status"] for e in json.loads(text)["log"]["entries"]]
    assert 200 in statuses and 403 in statuses
    assert revealed not in text
    shot(page, "5-history")

    # Clicking an earlier exchange shows it again.
    page.locator("#history-table").get_by_role("gridcell", name="200", exact=True).first.click()
    expect(page.locator("#status .badge")).to_have_text("200", timeout=WAIT_MS)


def _sign_in_with_browser(page: object, context: object, email: str) -> None:
    from playwright.sync_api import expect

    page.get_by_text("Credentials", exact=True).click()  # type: ignore[attr-defined]
    page.locator("#auth-method input").click()  # type: ignore[attr-defined]
    page.get_by_role("option", name=re.compile(r"^Browser sign-in")).click()  # type: ignore[attr-defined]
    page.locator("#field-login_hint input").fill(email)  # type: ignore[attr-defined]
    page.locator("#field-port input").fill(str(free_port()))  # type: ignore[attr-defined]
    page.locator("#begin-browser").click()  # type: ignore[attr-defined]
    link = page.locator("#authorize a")  # type: ignore[attr-defined]
    expect(link).to_be_visible(timeout=WAIT_MS)
    expect(page.locator("#waiting")).to_contain_text("Waiting for sign-in", timeout=WAIT_MS)  # type: ignore[attr-defined]
    signin = context.new_page()  # type: ignore[attr-defined]
    signin.goto(link.get_attribute("href"))  # the sandbox approves at once for login_hint users
    expect(signin.locator("body")).to_contain_text("Signed in", timeout=WAIT_MS)
    signin.close()
    expect(page.locator("#connection")).to_contain_text(email, timeout=WAIT_MS)  # type: ignore[attr-defined]


def test_dark_theme_is_readable(demo_url: str, browser_context: object) -> None:  # noqa: F811
    from playwright.sync_api import expect

    page = browser_context.new_page()  # type: ignore[attr-defined]
    page.emulate_media(color_scheme="dark")
    page.goto(demo_url + "?__theme=dark")
    expect(page.locator("#endpoints")).to_contain_text("/api/hello", timeout=WAIT_MS)
    page.locator("#endpoint-filter input, #endpoint-filter textarea").first.fill("table")
    expect(page.locator("#endpoints")).not_to_contain_text("/api/hello")  # the list is filtered
    endpoint(page, "/api/table").click()
    expect(page.locator("#url textarea, #url input").first).to_have_value(re.compile(r"/api/table$"))
    page.locator("#send").click()
    expect(page.locator("#status .badge")).to_have_text("200", timeout=WAIT_MS)
    page.get_by_role("tab", name="Table").click()
    expect(page.locator("#table")).to_contain_text("Amsterdam")
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background != "rgb(255, 255, 255)"
    shot(page, "6-dark-table")
    page.close()

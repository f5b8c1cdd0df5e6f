"""A real browser signs in to an app through the sandbox gateway (Debian's Chromium via Playwright)."""

from __future__ import annotations

import shutil

import pytest

pytestmark = pytest.mark.browser
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None:
        pytest.skip("Chromium is not installed (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield instance
        instance.close()


def test_browser_signs_in_through_the_sign_in_page_and_keeps_a_session(browser, sandbox_info):
    page = browser.new_page()
    app_url = sandbox_info["apps"]["hello"]["url"]

    page.goto(app_url + "/")
    assert page.url.startswith(sandbox_info["host"] + "/oidc/v1/authorize")
    page.get_by_role("button", name="Alice Analyst").click()
    page.wait_for_url(app_url + "/")

    assert page.inner_text("h1") == "Sandbox sample app: hello"
    assert page.request.get(app_url + "/api/whoami").json()["email"] == "alice@example.com"
    echoed = page.evaluate(
        """() => new Promise((resolve, reject) => {
            const ws = new WebSocket(location.origin.replace("http", "ws") + "/api/ws");
            ws.onopen = () => ws.send("hi");
            ws.onmessage = (event) => { resolve(event.data); ws.close(); };
            ws.onerror = () => reject("websocket error");
        })"""
    )
    assert echoed == "echo: hi"
    page.close()

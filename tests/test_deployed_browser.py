"""The deployed explorer in Debian's Chromium, through the sandbox's Apps gateway: a user signs in on
the workspace's sign-in page, calls apps as the explorer's service principal (`app`) and as
themselves (`user`, the token the platform forwards), and two users' sessions stay apart.
Screenshots land in test-artifacts/."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from support.browser import ARTIFACTS, CHROMIUM_ARGS, chromium_or_skip, save_shot
from support.deployed import EXPLORER_SCOPES, USERS, Deployed, deployed_explorer

pytestmark = [pytest.mark.browser, pytest.mark.slow]

VIEWPORT = {"width": 1366, "height": 820}
WAIT_MS = 60_000  # a loaded 2-core CI machine runs two browsers, the sandbox and the UIs at once
ALICE, BOB = USERS
NAMES = {ALICE: "Alice Analyst", BOB: "Bob Builder"}


@pytest.fixture(scope="module")
def deployed() -> Iterator[Deployed]:
    with deployed_explorer() as d:
        yield d


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Chromium (launch() gives it a fresh temporary profile); each user gets a context of its own."""
    executable = chromium_or_skip()
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield instance
        finally:
            instance.close()


def signed_in_page(browser: Any, deployed: Deployed, user: str) -> Any:
    """A new browser (context) opening the explorer: the gateway sends it to the sign-in page."""
    from playwright.sync_api import expect

    page = browser.new_context(viewport=VIEWPORT).new_page()
    page.goto(deployed.url + "/?__theme=light")
    assert page.url.startswith(deployed.info["host"] + "/oidc/v1/authorize")
    page.get_by_role("button", name=NAMES[user]).click()
    page.wait_for_url(re.compile(re.escape(deployed.url) + r"/"), timeout=WAIT_MS)
    # Deployed, the page connects as the explorer's own service principal when it loads.
    expect(page.locator("#connection")).to_contain_text(deployed.explorer_sp, timeout=WAIT_MS)
    expect(page.locator("#connection .chip").first).to_have_text("app")
    return page


def open_credentials(page: Any) -> Any:
    """Unfold the Credentials form (folded once connected); returns the auth method picker."""
    picker = page.locator("#auth-method input")
    if not picker.is_visible():
        page.get_by_text("Credentials", exact=True).click()
    return picker


def connect_as_user(page: Any, user: str) -> None:
    from playwright.sync_api import expect

    open_credentials(page).click()
    page.get_by_role("option", name=re.compile(r"^Signed-in user")).click()
    page.locator("#connect").click()
    expect(page.locator("#connection")).to_contain_text(user, timeout=WAIT_MS)
    expect(page.locator("#connection .chip").first).to_have_text("user")


def send(page: Any, url: str, shows: str, status: str = "200") -> None:
    """Send `url`; waits until the body shows `shows` (what only this response has), then checks the status."""
    from playwright.sync_api import expect

    page.locator("#resptabs").get_by_role("tab", name="Body").first.click()
    page.locator("#url textarea, #url input").first.fill(url)
    page.locator("#send").click()
    expect(page.locator("#pretty")).to_contain_text(shows, timeout=WAIT_MS)
    expect(page.locator("#status .badge")).to_have_text(status)


def open_history(page: Any) -> Any:
    from playwright.sync_api import expect

    history = page.locator("#history-table")
    if not history.is_visible():
        page.get_by_role("tab", name="History").click()
    expect(history).to_be_visible()
    return history


def shot(page: Any, name: str) -> None:
    save_shot(page, f"deployed-{name}", full_page=True)


def test_a_user_calls_apps_as_the_explorer_and_as_themselves(browser: Any, deployed: Deployed) -> None:
    from playwright.sync_api import expect

    page = signed_in_page(browser, deployed, ALICE)
    auth_methods = open_credentials(page)
    auth_methods.click()
    expect(page.get_by_role("option", name=re.compile(r"^Signed-in user"))).to_be_visible()
    auth_methods.press("Escape")
    shot(page, "1-signed-in-as-app")

    # `app`: the sample app sees the explorer's service principal.
    send(page, deployed.app_url("hello") + "/api/whoami", shows=f'"email": "{deployed.explorer_sp}"')

    # `user`: the scoped app sees Alice, with the token the platform forwarded to the explorer.
    connect_as_user(page, ALICE)
    for scope in EXPLORER_SCOPES:
        expect(page.locator("#connection")).to_contain_text(scope)
    send(page, deployed.app_url("scoped") + "/api/whoami", shows=f'"email": "{ALICE}"')
    page.get_by_role("tab", name="Token").click()
    token_pane = page.locator("#token")
    expect(token_pane).to_contain_text(ALICE)
    for scope in [*EXPLORER_SCOPES, "iam.current-user:read"]:
        expect(token_pane).to_contain_text(scope)
    shot(page, "2-user-token")

    history = open_history(page)  # one row per exchange: its app, path, auth method and identity
    expect(history).to_contain_text("/api/whoami")
    expect(history).to_contain_text("hello")
    expect(history).to_contain_text("scoped")
    expect(history).to_contain_text(deployed.explorer_sp)
    expect(history).to_contain_text(ALICE)
    shot(page, "3-history")
    page.context.close()


def test_two_users_sessions_see_only_their_own_identity_and_history(browser: Any, deployed: Deployed) -> None:
    from playwright.sync_api import expect

    alice = signed_in_page(browser, deployed, ALICE)
    bob = signed_in_page(browser, deployed, BOB)
    connect_as_user(alice, ALICE)
    connect_as_user(bob, BOB)
    send(alice, deployed.app_url("hello") + "/api/hello?name=from-alice", shows="Hello, from-alice!")
    send(bob, deployed.app_url("hello") + "/api/status/418", shows="I'm a Teapot", status="418")
    send(alice, deployed.app_url("scoped") + "/api/whoami", shows=f'"email": "{ALICE}"')

    expect(alice.locator("#connection")).not_to_contain_text(BOB)
    expect(bob.locator("#connection")).not_to_contain_text(ALICE)
    alice_history, bob_history = open_history(alice), open_history(bob)
    expect(alice_history).to_contain_text("from-alice")
    expect(alice_history).to_contain_text("scoped")
    expect(alice_history).not_to_contain_text(BOB)
    expect(alice_history).not_to_contain_text("418")
    expect(bob_history).to_contain_text("418")
    expect(bob_history).not_to_contain_text(ALICE)
    expect(bob_history).not_to_contain_text("from-alice")
    shot(alice, "4-alice-session")
    shot(bob, "5-bob-session")

    # Each page reveals its own user's token, never the other's.
    tokens = {}
    for user, page in ((ALICE, alice), (BOB, bob)):
        page.locator("#reveal").click()
        box = page.locator("#revealed input, #revealed textarea").first
        expect(box).to_have_value(re.compile(r"^eyJ[\w-]+\.[\w-]+\.[\w-]+$"), timeout=WAIT_MS)
        tokens[user] = box.input_value()
    assert tokens[ALICE] != tokens[BOB]
    for user, page in ((ALICE, alice), (BOB, bob)):
        other = tokens[BOB if user == ALICE else ALICE]
        assert other not in page.content()
    alice.context.close()
    bob.context.close()

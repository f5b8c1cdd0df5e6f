"""Streams in the page (Chromium), through the sandbox's gateway: events appear while the stream still
runs, Cancel on the endless heartbeat closes it in the app and keeps what arrived, the agent's answer
is assembled (streamed and in background mode), and a WebSocket frame goes out and comes back.

The UI is the demo's (connected as demo-sp, app `hello`), served in-process beside the session's
sandbox, so the test can ask the app's own counters. Screenshots land in test-artifacts/.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from support.demo_page import WAIT_MS, browser_context, shot  # noqa: F401  (fixtures)
from support.sandbox_helpers import m2m_token
from support.ui_server import running_ui

from explorer.launch import demo_config

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore:.*(no_silent_downcasting|copy keyword):DeprecationWarning"),
]

# Each event row's first appearance in the page, on the machine's clock (the sandbox stamps its
# heartbeats with time.time() on the same clock): window.__arrivals[n] = epoch seconds.
ARRIVALS_JS = """
window.__arrivals = {};
new MutationObserver(() => {
  const now = (performance.timeOrigin + performance.now()) / 1000;
  document.querySelectorAll("#stream-live .ev[data-n], #stream .ev[data-n]").forEach((row) => {
    const n = row.dataset.n;
    if (!(n in window.__arrivals)) {
      window.__arrivals[n] = now;
      const data = row.querySelector(".ev-data");
      window.__data = window.__data || {};
      window.__data[n] = data ? data.textContent : "";
    }
  });
}).observe(document.body, { childList: true, subtree: true });
"""


@pytest.fixture(scope="module")
def app(sandbox_info: dict[str, Any]) -> dict[str, Any]:
    return sandbox_info["apps"]["hello"]


@pytest.fixture(scope="module")
def ui_url(sandbox_info: dict[str, Any]) -> Iterator[str]:
    with running_ui(demo_config(sandbox_info)) as url:
        yield url


@pytest.fixture
def page(ui_url: str, browser_context: object) -> Iterator[Any]:  # noqa: F811
    from playwright.sync_api import expect

    page = browser_context.new_page()  # type: ignore[attr-defined]
    page.goto(ui_url + "?__theme=light")
    expect(page.locator("#connection .conn.ok")).to_be_visible(timeout=WAIT_MS)
    expect(page.locator("#tabstrip label")).to_have_count(1, timeout=WAIT_MS)
    page.evaluate(ARRIVALS_JS)
    yield page
    page.close()


def request(page: Any, url: str, method: str = "GET", body: str | None = None) -> None:
    """Fill the request bar (and the body) and press Send."""
    from playwright.sync_api import expect

    box = page.locator("#url textarea, #url input").first
    box.fill(url)
    expect(box).to_have_value(url)
    verb = page.locator("#http-method input")
    if verb.input_value() != method:
        verb.click()
        page.keyboard.press("Control+A")
        page.keyboard.type(method)
        page.keyboard.press("Enter")
        expect(verb).to_have_value(method)
    if body is not None:
        page.locator("#reqtabs").get_by_role("tab", name="Body").click()
        page.locator("#body .cm-content").click()
        page.keyboard.press("Control+A")
        page.keyboard.insert_text(body)
        expect(page.locator("#body .cm-content")).to_contain_text(body.split("\n")[0][:20])
        time.sleep(0.3)  # the editor's change reaches the page's value before Send reads it
    page.locator("#send").click()


def heartbeat_stats(info: dict[str, Any], app: dict[str, Any]) -> dict[str, int]:
    headers = {"Authorization": f"Bearer {m2m_token(info)}"}
    return requests.get(app["url"] + "/api/stats", headers=headers, timeout=10).json()["heartbeat"]


def test_events_appear_before_the_stream_ends_and_cancel_keeps_them(
    page: Any, app: dict[str, Any], sandbox_info: dict[str, Any]
) -> None:
    from playwright.sync_api import expect

    before = heartbeat_stats(sandbox_info, app)["disconnected"]
    request(page, app["url"] + "/api/heartbeat?interval_ms=200")
    live = page.locator("#stream-live .stream-view.live")
    expect(live.locator('.ev[data-n="6"]')).to_be_visible(timeout=WAIT_MS)  # still live: the stream runs on
    expect(live.locator(".stream-metrics")).to_contain_text("events/s")
    expect(live.locator('.ev[data-n="1"]')).to_contain_text("heartbeat")
    expect(page.locator("#main")).to_have_class(re.compile(r"\bis-sending\b"))  # the rest is dimmed meanwhile
    shot(page, "stream-1-live-heartbeat")

    # The stream belongs to its tab: another tab shows none of it; back on its tab, it runs on.
    page.locator("#new-tab").click()
    expect(page.locator("#tabstrip label")).to_have_count(2, timeout=WAIT_MS)
    expect(page.locator("#stream-live .ev, #stream .ev")).to_have_count(0, timeout=WAIT_MS)
    expect(page.locator("#send")).to_be_visible()
    page.locator("#tabstrip label").filter(has_text="heartbeat").first.click()
    expect(page.locator('#stream-live .stream-view.live .ev[data-n="12"]')).to_be_visible(timeout=WAIT_MS)
    arrivals = page.evaluate("window.__arrivals")
    sent = {n: json.loads(text)["at"] for n, text in page.evaluate("window.__data").items()}
    # The first event was on the page before the app had even written the 12th (2.2 s later).
    assert arrivals["1"] < sent["12"], (arrivals["1"], sent["12"])
    page.locator("#cancel").click()
    ended = page.locator("#stream .stream-view.cancelled")
    expect(ended).to_be_visible(timeout=WAIT_MS)
    expect(ended.locator('.ev[data-n="6"]')).to_be_visible()  # what arrived is kept
    expect(ended.locator(".stream-metrics")).to_contain_text("Server-Sent Events")
    expect(page.locator("#stream-live .ev")).to_have_count(0)  # the live part gave way to the answer
    expect(page.locator("#status")).to_contain_text("Cancelled: the connection was closed")
    expect(page.locator("#status .badge").first).to_have_text("200")
    expect(page.locator("#send")).to_be_visible()
    expect(page.locator("#main")).not_to_have_class(re.compile(r"\bis-sending\b"))
    shot(page, "stream-2-cancelled")
    deadline = time.monotonic() + 20
    while heartbeat_stats(sandbox_info, app)["disconnected"] == before and time.monotonic() < deadline:
        time.sleep(0.2)
    assert heartbeat_stats(sandbox_info, app)["disconnected"] > before  # the app saw the client go


def test_ndjson_rows_grow_while_it_streams_then_it_ends(page: Any, app: dict[str, Any]) -> None:
    from playwright.sync_api import expect

    request(page, app["url"] + "/api/ndjson?count=12&interval_ms=250")
    expect(page.locator('#stream-live .stream-view.live .ev[data-n="2"]')).to_be_visible(timeout=WAIT_MS)
    done = page.locator("#stream .stream-view.done")
    expect(done.locator('.ev[data-n="12"]')).to_be_visible(timeout=WAIT_MS)
    expect(done.locator(".stream-metrics")).to_contain_text("12")
    expect(done.locator('.ev[data-n="3"] .ev-data')).to_contain_text('"square": 4')  # pretty JSON
    arrivals = page.evaluate("window.__arrivals")
    assert arrivals["2"] < arrivals["12"]  # row 2 was on the page before the last line (2.5 s later)


def test_the_agent_answer_is_assembled_streamed_and_in_background(page: Any, app: dict[str, Any]) -> None:
    from playwright.sync_api import expect

    body = json.dumps({"input": "How many items are there?", "stream": True})
    request(page, app["url"] + "/api/invocations", "POST", body)
    transcript = page.locator("#stream .stream-view.done .transcript")
    expect(transcript).to_contain_text("This answer is scripted by the sandbox", timeout=WAIT_MS)
    expect(transcript).to_contain_text("lookup_items")
    expect(transcript).to_contain_text(re.compile(r"first token \d+ ms"))
    expect(transcript).to_contain_text(re.compile(r"[\d.]+ tokens/s"))
    expect(page.locator("#stream .ev").first).to_be_visible()
    shot(page, "stream-3-agent-transcript")

    body = json.dumps({"input": "Follow me in the background", "background": True})
    request(page, app["url"] + "/api/invocations", "POST", body)
    polls = page.locator("#stream .stream-view.done .polls")
    expect(polls).to_contain_text("completed", timeout=WAIT_MS)
    expect(polls.locator(".poll").first).to_contain_text("200")
    expect(page.locator("#stream .transcript")).to_contain_text("You asked about Follow me in the background")
    shot(page, "stream-4-agent-background")


def test_a_websocket_frame_goes_out_and_comes_back_through_the_gateway(
    page: Any, app: dict[str, Any]
) -> None:
    from playwright.sync_api import expect

    request(page, app["url"].replace("http://", "ws://") + "/api/ws", body="hello from the page")
    view = page.locator("#stream .stream-view.done")
    expect(view.locator(".ev-sent")).to_contain_text("hello from the page", timeout=WAIT_MS)
    expect(view.locator(".ev-received")).to_contain_text("echo: hello from the page")
    expect(view.locator(".stream-metrics")).to_contain_text("WebSocket")
    expect(page.locator("#status .badge").first).to_have_text("101")
    shot(page, "stream-5-websocket")

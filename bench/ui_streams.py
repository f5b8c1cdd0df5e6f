"""Streams in the UI: the latency the page adds to each event, from the app writing it to the page
showing it.

A local SSE server writes events 20 ms apart (a token stream's pace), each stamped with the time it
was written. The explorer UI (a child process, `python -m explorer`) is opened in Debian's Chromium;
a MutationObserver notes, on the machine's clock (`performance.timeOrigin + performance.now()`), when
each event's row first appears in the page. The baseline is a bare `requests` reader of the same
stream (`iter_lines`) in this process, alternating with the page round by round. The first events
(overlapping the send's start) are skipped.
"""

from __future__ import annotations

import json
import time
from typing import Any

import requests

from bench.browser import CHROMIUM_ARGS, chromium
from bench.common import Row, median, spread, ui_process
from bench.streams import sse_server

EVENTS = 100
INTERVAL = 0.02
SKIP = 5
GOAL_MS = 100.0
OBSERVER_JS = """
window.__seen = {};  // the app's send time of an event -> when its row first appeared
new MutationObserver(() => {
  const now = (performance.timeOrigin + performance.now()) / 1000;
  document.querySelectorAll("#stream-live .ev[data-n] .ev-data, #stream .ev[data-n] .ev-data").forEach((data) => {
    let sent = null;
    try { sent = JSON.parse(data.textContent).sent; } catch (e) { return; }
    if (!(sent in window.__seen)) window.__seen[sent] = [Number(data.parentElement.dataset.n), now];
  });
}).observe(document.body, { childList: true, subtree: true });
"""


def bare_latencies(url: str) -> list[float]:
    """ms from the server writing each event to a bare requests reader having its data line."""
    out = []
    with requests.get(url, stream=True, timeout=30) as r:
        for line in r.iter_lines(chunk_size=1):
            if line.startswith(b"data: "):
                out.append((time.time() - json.loads(line[6:])["sent"]) * 1000)
    return out[SKIP:]


def page_latencies(page: Any, url: str) -> list[float]:
    """ms from the server writing each event to its row appearing in the explorer's page."""
    if not page.evaluate("'__seen' in window"):
        page.evaluate(OBSERVER_JS)
    box = page.locator("#url textarea, #url input").first
    box.fill(url)
    page.wait_for_timeout(200)
    clicked = time.time()
    page.locator("#send").click()
    # this stream's last row is on the page (rows of the previous round carry older send times)
    page.wait_for_function(
        f"Object.keys(window.__seen).filter((s) => Number(s) > {clicked}).length >= {EVENTS}", timeout=60_000
    )
    page.locator("#send").wait_for(timeout=60_000)  # Send is back: the stream ended
    seen = page.evaluate("window.__seen")
    rows = [(n, shown, float(sent)) for sent, (n, shown) in seen.items() if float(sent) > clicked]
    return [(shown - sent) * 1000 for n, shown, sent in sorted(rows) if n > SKIP]


def ui_event_latency(rounds: int) -> Row:
    from playwright.sync_api import sync_playwright

    ui_medians: list[float] = []
    bare_medians: list[float] = []
    with ui_process() as ui_url, sse_server(EVENTS, INTERVAL) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium(), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1366, "height": 900})
            page.goto(ui_url)
            page.locator("#send").wait_for(timeout=60_000)
            page_latencies(page, url)  # warm-up: the first send loads the engine
            for i in range(rounds):
                sides = [("ui", ui_medians), ("bare", bare_medians)]
                for side, sink in sides[:: 1 if i % 2 == 0 else -1]:
                    values = page_latencies(page, url) if side == "ui" else bare_latencies(url)
                    if len(values) < EVENTS // 2:
                        raise RuntimeError(f"only {len(values)} events reached the {side} side")
                    sink.append(median(values))
        finally:
            browser.close()
    ours, theirs = median(ui_medians), median(bare_medians)
    return Row(
        f"Per-event latency, app → UI page (SSE, {EVENTS} events {INTERVAL * 1000:.0f} ms apart)",
        f"{ours:.1f} ms",
        f"{theirs:.2f} ms (bare requests iter_lines)",
        f"{ours - theirs:+.1f} ms",
        f"median ≤ {GOAL_MS:.0f} ms",
        ours <= GOAL_MS,
        f"{rounds} rounds each, alternating; medians {spread(ui_medians)} vs {spread(bare_medians)} ms; "
        "rows noted by a MutationObserver in Chromium",
    )

"""Deployed concurrency: 16 browser sessions on a 500 ms endpoint vs one, through the UI's queue.

The UI runs as its own process (`python -m explorer`). The sessions run in another child process
(`python -m bench.concurrency`), each a `PageSession`: a page's own traffic (one kept-alive
connection, the send event as a page sends it), connected with m2m. All
sessions wait at a barrier and send at once; the time until the last answer is compared with one
session doing the same, and the UI process's CPU time per send (read from /proc) is reported: that,
spent under the GIL one send after another, is what makes 16 sessions slower than one.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests

from bench.common import UI_PIDS, Row, cpu_seconds, m2m_token, median, run_json_child, spread
from bench.page_client import PageSession, connected_pages

SESSIONS = 16
DELAY_MS = 500


def _send(page: PageSession, url: str) -> dict[str, Any]:
    """One Send as a page makes it: the send event (the JS-only step after it costs the server nothing)."""
    form = {"method": "GET", "url": url, "Timeout (s)": 30, "language": "curl", "format": "JSON"}
    outputs = page.call("send", form)  # one event: the page shows "Sending…" on its own
    summary = json.loads(page.named("send", outputs)["summary"])
    if not summary.get("ok"):
        raise RuntimeError(f"a send through the UI failed: {summary.get('error') or summary.get('findings')}")
    return summary


def _wave(pages: list[PageSession], url: str) -> float:
    """Seconds from the moment all sessions start until the last one has its response."""
    barrier = threading.Barrier(len(pages) + 1)

    def one(page: PageSession) -> None:
        barrier.wait()
        _send(page, url)

    with ThreadPoolExecutor(len(pages)) as pool:
        futures = [pool.submit(one, p) for p in pages]
        barrier.wait()
        started = time.perf_counter()
        for future in futures:
            future.result()
        return time.perf_counter() - started


def _app_max_concurrent(info: dict[str, Any], reset: bool = False) -> int:
    """The sample app's count of overlapping /api/slow calls (read with a token of its own)."""
    app = info["apps"]["hello"]["url"]
    headers = {"Authorization": f"Bearer {m2m_token(info)}"}
    if reset:
        requests.post(app + "/api/stats/reset", headers=headers, timeout=10).raise_for_status()
    return int(requests.get(app + "/api/stats", headers=headers, timeout=10).json()["slow"]["max_concurrent"])


def measure(info: dict[str, Any], ui_url: str, ui_pid: int, repeats: int) -> dict[str, Any]:
    """The child's side: waves of 1 and of 16 sessions, alternating; the UI's CPU per send."""
    url = f"{info['apps']['hello']['url']}/api/slow?ms={DELAY_MS}"
    pages = connected_pages(ui_url, info, SESSIONS)
    try:
        _wave(pages, url)  # warm-up: every session's connection pool and facts cache
        _app_max_concurrent(info, reset=True)
        many, one, cpu = [], [], []
        for _ in range(repeats):
            one.append(_wave(pages[:1], url))
            before = cpu_seconds(ui_pid)
            many.append(_wave(pages, url))
            cpu.append((cpu_seconds(ui_pid) - before) / SESSIONS)
        return {"many": many, "one": one, "cpu": cpu, "overlap": _app_max_concurrent(info)}
    finally:
        for page in pages:
            page.close()


def concurrency(info: dict[str, Any], ui_url: str, repeats: int) -> list[Row]:
    info_json = json.dumps(info)
    result = run_json_child(
        ["-m", "bench.concurrency", ui_url, str(UI_PIDS[ui_url]), str(repeats)], env={"BENCH_INFO": info_json}
    )
    ratios = [m / o for m, o in zip(result["many"], result["one"], strict=True)]
    ratio = median(ratios)
    cpu_ms = median(result["cpu"]) * 1000
    return [
        Row(
            f"{SESSIONS} UI sessions vs 1 on a {DELAY_MS} ms endpoint (page protocol, clients in a child process)",
            f"{median(result['many']):.3f} s",
            f"{median(result['one']):.3f} s (one session)",
            f"{ratio:.2f}",
            "≤ 1.3×",
            ratio <= 1.3,
            f"{repeats} repeats, ratios {spread(ratios)}; the app saw up to {result['overlap']} calls at once",
        ),
        Row(
            "UI server CPU per send",
            f"{cpu_ms:.1f} ms",
            "—",
            "—",
            "≤ 10 ms",
            cpu_ms <= 10,
            f"the UI process's user+system CPU over each 16-session wave / 16; per wave {spread([c * 1000 for c in result['cpu']])} ms",
        ),
    ]


if (
    __name__ == "__main__"
):  # the child: python -m bench.concurrency UI_URL UI_PID REPEATS (info in BENCH_INFO)
    import os

    print(
        json.dumps(
            measure(json.loads(os.environ["BENCH_INFO"]), sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
        )
    )

"""Deployed concurrency: 16 browser sessions on a 500 ms endpoint vs one, through the UI's queue.

The UI runs as its own process (`python -m explorer`); every session is a `gradio_client.Client`
(a new client is a new browser session with its own state), connected with m2m. All sessions
wait at a barrier and then send at once; the time until the last answer is compared with one
session doing the same. The app's own statistics confirm how many calls overlapped.
"""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests
from gradio_client import Client

from bench.common import Row, demo_sp_fields, median, spread

SESSIONS = 16
DELAY_MS = 500


def _send(client: Client, url: str) -> dict[str, Any]:
    outputs = client.predict(
        method="GET",
        url=url,
        params="",
        header_lines="",
        body="",
        timeout=30,
        app_url="",
        snippet_language="curl",
        export_format="JSON",
        api_name="/send",
    )
    summary = json.loads(outputs[-4])  # the response pane's JSON twin, before snippet/history/export
    if not summary.get("ok"):
        raise RuntimeError(f"a send through the UI failed: {summary.get('error') or summary.get('findings')}")
    return summary


def _connected_clients(ui_url: str, info: dict[str, Any], count: int) -> list[Client]:
    def make(_: int) -> Client:
        # The harness must not be the bottleneck: gradio_client builds a new httpx client (loading
        # the CA bundle) for every call and downloads each file output; a browser on plain http
        # pays neither, so skip both (the UI is on loopback http anyway).
        client = Client(ui_url, verbose=False, ssl_verify=False, download_files=False)
        _card, connection = client.predict(method="m2m", **demo_sp_fields(info), api_name="/connect")
        if not json.loads(connection).get("ok"):
            raise RuntimeError("a UI session could not connect")
        return client

    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(make, range(count)))


def _wave(clients: list[Client], url: str) -> float:
    """Seconds from the moment all sessions start until the last one has its response."""
    barrier = threading.Barrier(len(clients) + 1)

    def one(client: Client) -> None:
        barrier.wait()
        _send(client, url)

    with ThreadPoolExecutor(len(clients)) as pool:
        futures = [pool.submit(one, c) for c in clients]
        barrier.wait()
        started = time.perf_counter()
        for future in futures:
            future.result()
        return time.perf_counter() - started


def _app_max_concurrent(info: dict[str, Any], reset: bool = False) -> int:
    """The sample app's count of overlapping /api/slow calls (read with a token of its own)."""
    sp = info["service_principals"]["demo-sp"]
    token = requests.post(
        info["host"] + "/oidc/v1/token",
        data={"grant_type": "client_credentials", "scope": "all-apis"},
        auth=(sp["client_id"], sp["client_secret"]),
        timeout=10,
    ).json()["access_token"]
    app = info["apps"]["hello"]["url"]
    headers = {"Authorization": f"Bearer {token}"}
    if reset:
        requests.post(app + "/api/stats/reset", headers=headers, timeout=10).raise_for_status()
    return int(requests.get(app + "/api/stats", headers=headers, timeout=10).json()["slow"]["max_concurrent"])


def concurrency(info: dict[str, Any], ui_url: str, repeats: int) -> Row:
    url = f"{info['apps']['hello']['url']}/api/slow?ms={DELAY_MS}"
    clients = _connected_clients(ui_url, info, SESSIONS)
    try:
        _wave(clients, url)  # warm-up: every session's connection pool and facts cache
        _app_max_concurrent(info, reset=True)
        ratios, many, one = [], [], []
        for _ in range(repeats):
            single = _wave(clients[:1], url)
            crowd = _wave(clients, url)
            many.append(crowd)
            one.append(single)
            ratios.append(crowd / single)
        overlap = _app_max_concurrent(info)
    finally:
        for client in clients:
            client.close()
    ratio = median(ratios)
    return Row(
        f"{SESSIONS} UI sessions vs 1 on a {DELAY_MS} ms endpoint (gradio_client)",
        f"{median(many):.3f} s",
        f"{median(one):.3f} s (one session)",
        f"{ratio:.2f}",
        "≤ 1.5×",
        ratio <= 1.5,
        f"{repeats} repeats, ratios {spread(ratios)}; the app saw up to {overlap} calls at once",
    )

"""Streams: the latency the explorer adds to each event, and its memory over a long stream.

- Per-event latency: a local SSE server stamps each event with the time it wrote it; the real CLI
  (`python -m explorer call URL --auth none`, a child process) prints each event as it arrives, and
  this process notes when each line comes out of the CLI's stdout. The baseline is a bare
  `requests` reader (`iter_lines`, printing each data line) run the same way, alternating with it.
- Memory: a child process sends one request whose answer is 100,000 events through
  `ExplorerSession.send` and reports its peak resident memory above what it had before the send.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from bench.common import Row, median, spread

EVENTS = 100
INTERVAL = 0.01
MEMORY_EVENTS = 100_000
BARE_READER = """
import sys, requests
with requests.get(sys.argv[1], stream=True, timeout=30) as r:
    for line in r.iter_lines(chunk_size=1):
        if line.startswith(b"data: "):
            print(line[6:].decode(), flush=True)
"""
MEMORY_CHILD = """
import resource, sys
from explorer.model import RequestSpec
from explorer.session import ExplorerSession
session = ExplorerSession(timeout=120)
idle = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
count = [0]
exchange = session.send(RequestSpec("GET", sys.argv[1], timeout=120), on_event=lambda e: count.__setitem__(0, count[0] + 1))
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(count[0], exchange.response.events_total, idle, peak)
"""


@contextmanager
def sse_server(count: int, interval: float) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"

        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            for i in range(count):
                self.wfile.write(f'data: {{"i": {i}, "sent": {time.time()!r}}}\n\n'.encode())
                self.wfile.flush()
                if interval:
                    time.sleep(interval)

        def log_message(self, *_: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/stream"
    finally:
        server.shutdown()
        server.server_close()


def _latencies(argv: list[str]) -> list[float]:
    """ms from the server writing each event to this process reading it from the child's stdout."""
    child = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    latencies = []
    assert child.stdout is not None
    for line in child.stdout:
        arrived = time.time()
        try:
            sent = json.loads(line)["sent"]
        except (ValueError, KeyError, TypeError):
            continue
        latencies.append((arrived - sent) * 1000)
    child.wait(60)
    return latencies


def event_latency(rounds: int) -> Row:
    explorer_medians, bare_medians = [], []
    with sse_server(EVENTS, INTERVAL) as url:
        explorer = [sys.executable, "-m", "explorer", "call", url, "--auth", "none", "--timeout", "60"]
        bare = [sys.executable, "-c", BARE_READER, url]
        for i in range(rounds):
            for argv, sink in ((explorer, explorer_medians), (bare, bare_medians))[
                :: 1 if i % 2 == 0 else -1
            ]:
                values = _latencies(argv)[5:]  # the first events overlap the child's start-up
                if len(values) < EVENTS // 2:
                    raise RuntimeError(f"only {len(values)} events came through {argv[1:3]}")
                sink.append(median(values))
    ours, theirs = median(explorer_medians), median(bare_medians)
    return Row(
        "Per-event latency, app → CLI stdout (SSE, 100 events)",
        f"{ours:.2f} ms",
        f"{theirs:.2f} ms (bare requests iter_lines)",
        f"{ours - theirs:+.2f} ms",
        "median ≤ 5 ms",
        ours <= 5.0,
        f"{rounds} rounds each, alternating; medians {spread(explorer_medians)} vs {spread(bare_medians)} ms",
    )


def stream_memory() -> Row:
    with sse_server(MEMORY_EVENTS, 0) as url:
        out = subprocess.run(
            [sys.executable, "-c", MEMORY_CHILD, url], capture_output=True, text=True, timeout=300, check=True
        ).stdout.split()
    seen, total, idle_kb, peak_kb = (int(v) for v in out)
    grown = (peak_kb - idle_kb) / 1024
    return Row(
        f"Resident memory over {MEMORY_EVENTS:,} events (one stream)",
        f"+{grown:.1f} MB",
        f"{idle_kb / 1024:.0f} MB before the send",
        "—",
        "≤ 50 MB above idle",
        grown <= 50 and seen == total == MEMORY_EVENTS,
        f"{seen:,} events delivered, {total:,} counted; the view keeps the latest 2,000",
    )

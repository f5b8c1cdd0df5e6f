"""One side of the large-body benchmark, alone in its own process (so peaks don't mix).

    python bench/large_body_child.py explorer|bare URL      (credentials from the environment)

Prints one JSON line: seconds, peak (bytes of resident memory above the level before the
transfer), size (bytes of body), shown (characters put on screen).

Peak memory is the kernel's high-water mark of resident memory (VmHWM), reset just before the
transfer (`/proc/self/clear_refs`), minus the resident size at that moment. It counts every
allocation — Python objects, C buffers, the JSON parser's — the same way for both sides, and
neither imports nor warm-up count, because both happen before the reset.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text(encoding="utf-8").splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def reset_peak() -> int:
    """Reset the high-water mark; returns resident bytes now."""
    try:
        Path("/proc/self/clear_refs").write_text("5", encoding="ascii")
    except OSError:  # no clear_refs: ru_maxrss below is then an upper bound
        pass
    return _status_kb("VmRSS") * 1024


def peak_bytes() -> int:
    try:
        return _status_kb("VmHWM") * 1024
    except (OSError, RuntimeError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def bare(url: str) -> tuple[int, int]:
    """What anyone would write: download the body, json.loads it."""
    import requests

    session = requests.Session()
    headers = {"Authorization": f"Bearer {os.environ['BENCH_TOKEN']}"}
    json.loads(session.get(url.split("?")[0] + "?rows=10", headers=headers, timeout=60).content)  # warm-up

    def run() -> tuple[int, int]:
        body = session.get(url, headers=headers, timeout=300).content
        data = json.loads(body)
        return len(body), len(data)  # records parsed

    return measure(run)


def explorer(url: str) -> tuple[int, int]:
    """The UI's send handler: build the spec, send, diagnose, format the response pane."""
    from explorer.ui.config import UIConfig
    from explorer.ui.forms import RequestForm
    from explorer.ui.handlers import Handlers

    handlers = Handlers(UIConfig())
    ui = handlers.session(None)
    connection = ui.explorer.connect(
        "m2m",
        {
            "host": os.environ["BENCH_HOST"],
            "client_id": os.environ["BENCH_CLIENT_ID"],
            "client_secret": os.environ["BENCH_CLIENT_SECRET"],
        },
    )
    if not connection.ok:
        raise SystemExit(f"cannot connect: {connection.findings}")

    def send(target: str) -> tuple[int, int]:
        form = RequestForm.from_values(["GET", target, "", "", "", 300, ""])
        updates = handlers.send(ui, form, "curl", "JSON")  # streams: "Sending…", then the answer
        *_, final = updates if not isinstance(updates, tuple) else [updates]
        outputs = final[3:] if not isinstance(updates, tuple) else final  # without state, Send, Cancel
        response = ui.last.response if ui.last else None
        if response is None or response.status != 200:
            raise SystemExit(f"send failed: {ui.last.error if ui.last else '?'}")
        shown = sum(len(o) for o in outputs if isinstance(o, str))
        pane = outputs[1]  # the pretty-JSON gr.Code update (after the status line)
        shown += len(getattr(pane, "value", "") or "")
        return response.size, shown

    send(url.split("?")[0] + "?rows=10")  # warm-up
    return measure(lambda: send(url))


def measure(run) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    before = reset_peak()
    started = time.perf_counter()
    size, shown = run()
    seconds = time.perf_counter() - started
    print(json.dumps({"seconds": seconds, "peak": peak_bytes() - before, "size": size, "shown": shown}))
    return size, shown


if __name__ == "__main__":
    side, target = sys.argv[1], sys.argv[2]
    {"bare": bare, "explorer": explorer}[side](target)

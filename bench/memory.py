"""Resident memory when deployed: 100 idle browser sessions, and 100 sessions with full histories.

- **Idle sessions**: the UI runs as its own process (`python -m explorer`); 100 `PageSession`s
  (a page's own traffic) each connect with m2m, as a page that was opened and left. The row is the
  UI process's resident memory (VmRSS from /proc) above what it held before the first session.
- **Full histories**: a child process holds 100 `ExplorerSession`s whose histories are full (1,000
  exchanges each, the engine's bound). The 1,000 exchanges are real: sent once to the sandbox's app
  through the engine (`/api/large`: JSON arrays of 1–100 records, 0.1–10 KB); each session then gets its own
  copies (one unpickled list each: nothing shared between sessions, what one session's exchanges
  share stays shared). The row is the child's resident
  memory above its level before the histories were filled.

The goals are the bench's own bars: 100 idle sessions within 200 MB, 100 full sessions within 1 GB.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from bench.common import UI_PIDS, Row, demo_sp_fields, run_json_child
from bench.page_client import connected_pages

SESSIONS = 100
ENTRIES = 1000


def rss_mb(pid: int | str = "self") -> float:
    for line in Path(f"/proc/{pid}/status").read_text(encoding="utf-8").splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc")


def idle_sessions(info: dict[str, Any], ui_url: str) -> Row:
    pid = UI_PIDS[ui_url]
    before = rss_mb(pid)
    pages = connected_pages(ui_url, info, SESSIONS)
    after = rss_mb(pid)
    for page in pages:
        page.close()
    grown = after - before
    return Row(
        f"UI resident memory with {SESSIONS} idle browser sessions (connected, m2m)",
        f"+{grown:.0f} MB",
        f"{before:.0f} MB before the first session",
        f"{grown / SESSIONS:.2f} MB a session",
        "≤ 200 MB",
        grown <= 200,
        "VmRSS of the UI process; idle sessions expire after EXPLORER_SESSION_IDLE_SECONDS (8 h)",
    )


def full_histories(info: dict[str, Any]) -> Row:
    result = run_json_child(["-m", "bench.memory"], env={"BENCH_INFO": json.dumps(info)}, timeout=600)
    grown = result["after_mb"] - result["before_mb"]
    return Row(
        f"Resident memory of {SESSIONS} sessions each holding a full history ({ENTRIES:,} exchanges)",
        f"+{grown:.0f} MB",
        f"{result['before_mb']:.0f} MB before",
        f"{grown / SESSIONS:.2f} MB a session",
        "≤ 1024 MB",
        grown <= 1024 and result["entries"] == SESSIONS * ENTRIES,
        f"{result['entries']:,} exchanges held; {result['body_mb']:.1f} MB of bodies (and their text) counted a session; "
        "per-session bounds: 1,000 exchanges, 64 MB of bodies",
    )


def _child(info: dict[str, Any]) -> dict[str, Any]:
    """Fill 100 engine sessions' histories with copies of 1,000 real exchanges; report memory."""
    import pickle

    from explorer.session import ExplorerSession

    sender = ExplorerSession()
    assert sender.connect("m2m", demo_sp_fields(info)).ok
    from explorer.model import RequestSpec

    app = info["apps"]["hello"]["url"]
    for i in range(ENTRIES):
        rows = 1 + i % 100  # JSON arrays of 1–100 records (~100 bytes each): 0.1–10 KB answers
        sender.send(RequestSpec(method="GET", url=f"{app}/api/large?rows={rows}&n={i}"))
    # One pickle of the whole history: what the exchanges share within a session (its connection's
    # AuthInfo, say) stays shared in each copy, as in a session that sent them itself.
    recorded = pickle.dumps(sender.history.exchanges())
    sender.close()
    sessions = [ExplorerSession() for _ in range(SESSIONS)]
    before = rss_mb()
    for session in sessions:
        for exchange in pickle.loads(recorded):
            session.history.add(exchange)
    after = rss_mb()
    entries = sum(len(s.history) for s in sessions)
    body_mb = sessions[0].history.size_bytes / 1024 / 1024
    for session in sessions:
        session.close()
    return {"before_mb": before, "after_mb": after, "entries": entries, "body_mb": body_mb}


if __name__ == "__main__":  # the child of full_histories(): python -m bench.memory (info in BENCH_INFO)
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    print(json.dumps(_child(json.loads(os.environ["BENCH_INFO"]))))

"""The identity matrix: 5 identities × 20 requests against the same 100 sends made one by one.

Both sides use the explorer's engine with one session per identity, connected once; the matrix
sends its cells in parallel (its default bound), the baseline in a plain loop. Each request waits
50 ms in the app (`/api/slow?ms=50`) so the comparison is about waiting, not CPU. Token requests
are counted at the sandbox for the matrix side: one per token-fetching identity.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import requests

from bench.common import Row, median, spread

REQUESTS = 20
SERVICE_PRINCIPALS = ("demo-sp",)


def _collection(root: Path, info: dict[str, Any]) -> list[str]:
    """A 20-request collection and 5 identity files (the SP thrice under different names, a token
    identity and no token); returns the identity names."""
    (root / "identities").mkdir(parents=True)
    order = [f"{i:02d}.posting.yaml" for i in range(REQUESTS)]
    (root / "collection.yaml").write_text(
        "name: matrix bench\nversion: 1\norder:\n" + "".join(f"- {name}\n" for name in order),
        encoding="utf-8",
    )
    url = info["apps"]["hello"]["url"] + "/api/slow?ms=50"
    for i, name in enumerate(order):
        (root / name).write_text(f"name: slow {i}\nmethod: GET\nurl: '{url}'\n", encoding="utf-8")
    sp = info["service_principals"]["demo-sp"]
    names = []
    for n in range(4):
        name = f"sp{n}"
        (root / "identities" / f"{name}.yaml").write_text(
            f"name: {name}\nauth:\n  method: m2m\n  host: '{info['host']}'\n  client_id: '{sp['client_id']}'\n",
            encoding="utf-8",
        )
        names.append(name)
    return [*names, "none"]


def _token_requests(info: dict[str, Any]) -> int:
    return int(requests.get(info["host"] + "/_sandbox/stats", timeout=10).json()["token_requests"])


def matrix_vs_sequential(info: dict[str, Any], repeats: int) -> list[Row]:
    import os

    from explorer.collection.matrix import run_matrix
    from explorer.collection.runner import RunPlan
    from explorer.collection.storage import FolderStorage
    from explorer.model import RequestSpec
    from explorer.session import ExplorerSession

    os.environ["DATABRICKS_CLIENT_SECRET"] = info["service_principals"]["demo-sp"]["client_secret"]
    matrix_times, loop_times, tokens = [], [], []
    with tempfile.TemporaryDirectory(prefix="bench-matrix-") as tmp:
        names = _collection(Path(tmp), info)
        plan = RunPlan.load(FolderStorage(tmp))
        url = info["apps"]["hello"]["url"] + "/api/slow?ms=50"
        sp = info["service_principals"]["demo-sp"]
        fields = {"host": info["host"], "client_id": sp["client_id"], "client_secret": sp["client_secret"]}
        for i in range(repeats):
            for side in ("matrix", "loop") if i % 2 == 0 else ("loop", "matrix"):
                if side == "matrix":
                    before = _token_requests(info)
                    started = time.perf_counter()
                    result = run_matrix(plan, names)
                    matrix_times.append(time.perf_counter() - started)
                    tokens.append(_token_requests(info) - before)
                    if sum(c.status == 200 for row in result.cells for c in row) != REQUESTS * 4:
                        raise RuntimeError("the matrix's service-principal cells did not all answer 200")
                else:
                    sessions = [ExplorerSession() for _ in names]
                    try:
                        for session, name in zip(sessions, names, strict=True):
                            if name != "none":
                                session.connect("m2m", fields)
                        started = time.perf_counter()
                        for _ in range(REQUESTS):
                            for session in sessions:
                                session.send(RequestSpec("GET", url))
                        loop_times.append(time.perf_counter() - started)
                    finally:
                        for session in sessions:
                            session.close()
    ratio = median(matrix_times) / median(loop_times)
    return [
        Row(
            "Identity matrix 5 × 20 vs the same 100 sends one by one",
            f"{median(matrix_times):.2f} s",
            f"{median(loop_times):.2f} s (one by one)",
            f"{ratio:.2f}",
            "≤ 0.5×",
            ratio <= 0.5,
            f"{repeats} rounds alternating; {spread(matrix_times)} vs {spread(loop_times)} s",
        ),
        Row(
            "Token requests for a 5-identity matrix (4 service-principal identities, 1 without token)",
            f"{median(tokens):.0f}",
            "4 (one per token-fetching identity)",
            "—",
            "one per identity",
            all(t == 4 for t in tokens),
            f"counted at the sandbox in each of {len(tokens)} runs: {tokens}",
        ),
    ]

"""A 50 MB JSON body: the UI's display path vs a bare download + `json.loads`.

Each measurement is a fresh process per side (bench/large_body_child.py), alternating sides, so
one side's peak memory never lingers into the other's. Time and peak come from the same run.
"""

from __future__ import annotations

from typing import Any

import requests

from bench.common import REPO, Row, demo_sp_fields, m2m_token, median, run_json_child, spread

TARGET_BYTES = 50_000_000
CHILD = str(REPO / "bench" / "large_body_child.py")


def _rows_for(info: dict[str, Any], token: str) -> int:
    """How many of the sample app's records make a body of about TARGET_BYTES."""
    url = info["apps"]["hello"]["url"] + "/api/large?rows=10000"
    sample = requests.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=30)
    sample.raise_for_status()
    return round(TARGET_BYTES / (len(sample.content) / 10000))


def large_body(info: dict[str, Any], repeats: int) -> list[Row]:
    token = m2m_token(info)
    url = f"{info['apps']['hello']['url']}/api/large?rows={_rows_for(info, token)}"
    fields = demo_sp_fields(info)
    env = {
        "BENCH_TOKEN": token,
        "BENCH_HOST": fields["host"],
        "BENCH_CLIENT_ID": fields["client_id"],
        "BENCH_CLIENT_SECRET": fields["client_secret"],
    }
    ours: list[dict[str, Any]] = []
    theirs: list[dict[str, Any]] = []
    for index in range(repeats):
        sides = [("explorer", ours), ("bare", theirs)]
        for side, results in sides if index % 2 == 0 else reversed(sides):
            results.append(run_json_child([CHILD, side, url], env))
    size = ours[0]["size"]
    time_ratios = [o["seconds"] / t["seconds"] for o, t in zip(ours, theirs, strict=True)]
    peaks = [o["peak"] for o in ours]
    time_ratio, peak = median(time_ratios), median(peaks)
    megabytes = size / 1e6
    base_peak = median([t["peak"] for t in theirs])
    return [
        Row(
            f"{megabytes:.0f} MB JSON displayed (truncated): time",
            f"{median([o['seconds'] for o in ours]):.2f} s",
            f"{median([t['seconds'] for t in theirs]):.2f} s (download + json.loads)",
            f"{time_ratio:.2f}",
            "≤ 2×",
            time_ratio <= 2,
            f"{repeats} runs per side, one process each; ratios {spread(time_ratios)}",
        ),
        Row(
            f"{megabytes:.0f} MB JSON displayed (truncated): peak memory",
            f"{peak / 1e6:.0f} MB ({peak / size:.2f}× body)",
            f"{base_peak / 1e6:.0f} MB ({base_peak / size:.2f}× body)",
            f"{peak / max(base_peak, 1):.2f}",
            "≤ 4× body size",
            peak <= 4 * size,
            "peak = resident high-water mark above the level before the transfer (VmHWM reset "
            "via /proc/self/clear_refs), one process per run",
        ),
    ]

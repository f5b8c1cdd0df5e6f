"""Engine overhead and token reuse: `ExplorerSession.send` vs a bare `requests.Session`.

Both sides call the same gateway endpoint with the same token over a kept-alive connection. They
alternate in small blocks (which side goes first alternates too), and each block pair gives one
ratio: machine noise hits both sides of a pair alike, and the median of many pairs ignores the
pairs a noisy neighbour spoiled.
"""

from __future__ import annotations

import time
from typing import Any

import requests
from databricks.sdk.config import Config

from bench.common import Row, demo_sp_fields, median, spread
from explorer.model import RequestSpec
from explorer.session import ExplorerSession

BLOCK = 10  # requests per side per block
TOKEN_SENDS = 1000


def engine_overhead(info: dict[str, Any], rounds: int) -> Row:
    url = info["apps"]["hello"]["url"] + "/api/hello"
    session = ExplorerSession()
    try:
        connection = session.connect("m2m", demo_sp_fields(info))
        if not connection.ok:
            raise RuntimeError(f"cannot connect: {connection.findings}")
        bare = requests.Session()
        headers = {"Authorization": f"Bearer {session.reveal_token()}"}

        def explorer_block() -> float:
            started = time.perf_counter()
            for _ in range(BLOCK):
                if not session.send(RequestSpec("GET", url)).ok:
                    raise RuntimeError("a send through the explorer failed")
            return time.perf_counter() - started

        def bare_block() -> float:
            started = time.perf_counter()
            for _ in range(BLOCK):
                bare.get(url, headers=headers, timeout=30).raise_for_status()
            return time.perf_counter() - started

        for _ in range(3):  # warm both connection pools and the facts cache
            explorer_block(), bare_block()
        ratios, ours, theirs = [], [], []
        for index in range(rounds):
            if index % 2:
                mine, base = explorer_block(), bare_block()
            else:
                base, mine = bare_block(), explorer_block()
            ratios.append(mine / base)
            ours.append(mine / BLOCK)
            theirs.append(base / BLOCK)
        bare.close()
    finally:
        session.close()
    ratio = median(ratios)
    return Row(
        "Engine overhead (GET /api/hello via the gateway)",
        f"{median(ours) * 1000:.2f} ms/req",
        f"{median(theirs) * 1000:.2f} ms/req (bare requests.Session)",
        f"{ratio:.3f}",
        "median ratio ≤ 1.05",
        ratio <= 1.05,
        f"{rounds} block pairs of {BLOCK} requests, ratios {spread(ratios)}",
    )


def token_requests(info: dict[str, Any], sends: int = TOKEN_SENDS) -> Row:
    """Token requests counted at the sandbox for `sends` m2m sends, vs the bare SDK doing the same."""
    url = info["apps"]["hello"]["url"] + "/api/hello"
    reset, stats = info["host"] + "/_sandbox/stats/reset", info["host"] + "/_sandbox/stats"

    requests.post(reset, timeout=10).raise_for_status()
    session = ExplorerSession()
    try:
        session.connect("m2m", demo_sp_fields(info))
        failed = sum(not session.send(RequestSpec("GET", url)).ok for _ in range(sends))
    finally:
        session.close()
    ours = requests.get(stats, timeout=10).json()["token_requests"]

    requests.post(reset, timeout=10).raise_for_status()
    fields = demo_sp_fields(info)
    config = Config(
        host=fields["host"],
        client_id=fields["client_id"],
        client_secret=fields["client_secret"],
        auth_type="oauth-m2m",
    )
    with requests.Session() as bare:
        for _ in range(sends):
            bare.get(url, headers=config.authenticate(), timeout=30)
    theirs = requests.get(stats, timeout=10).json()["token_requests"]
    return Row(
        f"Token requests per {sends} m2m sends (counted at the sandbox)",
        f"{ours}",
        f"{theirs} (bare SDK Config.authenticate() per request)",
        f"{ours / max(theirs, 1):.2f}",
        "exactly 1",
        ours == 1 and failed == 0,
        f"connect + {sends} sends, {failed} failed",
    )

"""Load runs: the explorer's generated locustfile vs a hand-written minimal Locust `HttpUser`.

Both sides are Locust, as child processes with the same settings (users, duration, no wait), on
the same endpoint (`GET /api/hello` through the gateway, kept-alive connections). The minimal
side sends a fixed bearer token it was handed; the explorer's side gets its Authorization header
from the engine on every request (one token per process, refreshed by the SDK), marks each
response through `explorer.check` and claims a budget ticket. Throughput is Locust's own count
(`--json`: requests / (last request - start)). The two sides alternate (which goes first
alternates too); each pair gives one ratio and the row shows the median.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from bench.common import PYTHON, REPO, Row, child_env, demo_sp_fields, median, spread
from explorer.load.locustfile import render
from explorer.load.plan import plan_for_request, split_identity
from explorer.model import RequestSpec
from explorer.session import ExplorerSession

USERS = 10
MINIMAL = '''"""A hand-written minimal Locust user: one GET with a fixed bearer token."""
import os

from locust import HttpUser, constant, task

HEADERS = {"Authorization": "Bearer " + os.environ["BENCH_TOKEN"]}


class Minimal(HttpUser):
    wait_time = constant(0)

    @task
    def hello(self):
        self.client.get("/api/hello", headers=HEADERS, name="GET /api/hello")
'''


MAX_FAILURE_SHARE = 0.005
FAILURES: dict[str, int] = {}  # failed requests seen per locustfile during this bench run


def _locust_rps(locustfile: Path, host: str, seconds: int, env: dict[str, str]) -> float:
    command = [PYTHON, "-m", "locust", "-f", str(locustfile), "--headless", "--host", host]
    command += ["-u", str(USERS), "-r", str(USERS), "-t", f"{seconds}s", "--only-summary", "--json"]
    command += ["--loglevel", "WARNING", "--reset-stats"]  # steady state: after every user started
    result = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=seconds + 60)
    start = result.stdout.find("[")
    if start < 0:
        raise RuntimeError(f"Locust printed no statistics: {result.stderr.strip()[-400:]}")
    entries = json.loads(result.stdout[start:])
    requests = sum(e["num_requests"] for e in entries)
    failures = sum(e["num_failures"] for e in entries)
    # A request cut off when Locust stops its users at the time limit counts as a failure: a stray
    # one is noted (FAILURES), more than 0.5 % of the requests means the run itself went wrong.
    if not requests or failures > MAX_FAILURE_SHARE * requests:
        raise RuntimeError(f"{locustfile.name}: {requests} requests, {failures} failures")
    FAILURES[locustfile.name] = FAILURES.get(locustfile.name, 0) + failures
    began = min(e["start_time"] for e in entries)
    ended = max(e["last_request_timestamp"] for e in entries)
    return requests / max(ended - began, 1e-6)


def load_throughput(info: dict[str, Any], repeats: int, seconds: int) -> Row:
    hello = info["apps"]["hello"]["url"]
    fields = demo_sp_fields(info)
    session = ExplorerSession()
    try:
        if not session.connect("m2m", fields).ok:
            raise RuntimeError("cannot connect as demo-sp")
        token = session.reveal_token() or ""
    finally:
        session.close()
    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        folder = Path(tmp)
        secrets: dict[str, str] = {}
        identity = split_identity(
            "m2m", {"host": fields["host"], "client_id": fields["client_id"]}, "default", secrets
        )
        plan = plan_for_request(RequestSpec("GET", hello + "/api/hello"), identity, secrets)
        generated = folder / "generated_locustfile.py"
        generated.write_text(render(plan), encoding="utf-8")
        minimal = folder / "minimal_locustfile.py"
        minimal.write_text(MINIMAL, encoding="utf-8")
        env = child_env(DATABRICKS_CLIENT_SECRET=fields["client_secret"], BENCH_TOKEN=token)
        _locust_rps(generated, hello, 3, env), _locust_rps(minimal, hello, 3, env)  # warm
        ours, theirs, ratios = [], [], []
        for index in range(repeats):
            sides = [generated, minimal] if index % 2 == 0 else [minimal, generated]
            measured = {side: _locust_rps(side, hello, seconds, env) for side in sides}
            ours.append(measured[generated])
            theirs.append(measured[minimal])
            ratios.append(measured[generated] / measured[minimal])
    ratio = median(ratios)
    return Row(
        target=f"Load run throughput ({USERS} Locust users, GET /api/hello)",
        measured=f"{median(ours):.0f} req/s (generated locustfile)",
        baseline=f"{median(theirs):.0f} req/s (minimal HttpUser)",
        ratio=f"{ratio:.2f}",
        goal="≥ 0.9×",
        passed=ratio >= 0.9,
        detail=f"{repeats} alternating pairs of {seconds} s runs, ratios {spread(ratios)}; failed requests "
        + (", ".join(f"{name}: {count}" for name, count in sorted(FAILURES.items())) or "none"),
    )

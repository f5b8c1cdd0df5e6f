"""Collection runs: a 1,000-request collection through `run` vs a bare `requests` loop.

Both sides send the same GET requests (`/api/hello?name=n<i>` through the gateway, one token,
kept-alive connections) and check the same things (status 200, the greeting in the JSON body).
The run side is the engine's runner (variables resolved, assertions evaluated, results kept);
loading the 1,000 files is timed on its own and shown in the notes. The sides alternate.
A second row checks that a real `python -m explorer run` does not import Gradio.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import requests

from bench.common import Row, demo_sp_fields, median, spread
from bench.startup import _imports_gradio
from explorer.collection.identities import Identities
from explorer.collection.runner import RunPlan, run
from explorer.collection.storage import FolderStorage
from explorer.model import RequestSpec
from explorer.session import ExplorerSession

REQUESTS = 1000


def write_collection(root: Path, count: int) -> None:
    (root / "collection.yaml").write_text(
        "name: bench\nvariables: {base: '{{$env.BENCH_HELLO}}'}\n", encoding="utf-8"
    )
    width = len(str(count))
    for index in range(count):
        (root / f"r{index:0{width}d}.posting.yaml").write_text(
            f"name: hello {index}\nurl: '{{{{base}}}}/api/hello'\nparams: [{{name: name, value: n{index}}}]\n"
            f"assertions:\n- status: 200\n- {{json: $.message, equals: 'Hello, n{index}!'}}\n",
            encoding="utf-8",
        )


def collection_run(info: dict[str, Any], repeats: int, count: int = REQUESTS) -> list[Row]:
    hello = info["apps"]["hello"]["url"]
    fields = demo_sp_fields(info)
    with tempfile.TemporaryDirectory(prefix="bench-collection-") as tmp:
        root = Path(tmp)
        write_collection(root, count)
        storage = FolderStorage(root)
        loads = []
        session = ExplorerSession()
        try:
            if not session.connect("m2m", fields).ok:
                raise RuntimeError("cannot connect as demo-sp")
            identities = Identities(session, lambda s, ref, scope, explicit: s.connection)
            bare = requests.Session()
            headers = {"Authorization": f"Bearer {session.reveal_token()}"}

            def run_side() -> float:
                started = time.perf_counter()
                plan = RunPlan.load(storage, environ={"BENCH_HELLO": hello})
                loaded = time.perf_counter()
                report = run(plan, identities)
                finished = time.perf_counter()
                if not report.passed or len(report.results) != count:
                    raise RuntimeError("the collection run did not pass")
                loads.append(loaded - started)
                session.history.clear()
                return finished - loaded

            def bare_side() -> float:
                started = time.perf_counter()
                for index in range(count):
                    response = bare.get(
                        hello + "/api/hello", params={"name": f"n{index}"}, headers=headers, timeout=30
                    )
                    if response.status_code != 200 or response.json().get("message") != f"Hello, n{index}!":
                        raise RuntimeError("a bare request failed")
                return time.perf_counter() - started

            def engine_side() -> float:
                started = time.perf_counter()
                for index in range(count):
                    spec = RequestSpec("GET", hello + "/api/hello", params=[("name", f"n{index}")])
                    if not session.send(spec).ok:
                        raise RuntimeError("a send failed")
                session.history.clear()
                return time.perf_counter() - started

            run_side(), bare_side(), engine_side()  # warm: connections, caches, the facts cache
            ours, theirs, engine, ratios, runner_ratios = [], [], [], [], []
            for index in range(repeats):
                sides = [run_side, bare_side, engine_side]
                if index % 2:
                    sides.reverse()
                times = {side: side() for side in sides}
                ours.append(times[run_side])
                theirs.append(times[bare_side])
                engine.append(times[engine_side])
                ratios.append(times[run_side] / times[bare_side])
                runner_ratios.append(times[run_side] / times[engine_side])
            bare.close()
        finally:
            session.close()
        ratio = median(ratios)
        rows = [
            Row(
                f"Collection run ({count} requests, 2 assertions each)",
                f"{median(ours):.2f} s",
                f"{median(theirs):.2f} s (bare requests loop)",
                f"{ratio:.3f}",
                "median ratio ≤ 1.1",
                ratio <= 1.1,
                f"{repeats} rounds, sides alternating; ratios {spread(ratios)}; the same sends as a plain "
                f"session.send loop take {median(engine):.2f} s (runner over engine {median(runner_ratios):.3f}); "
                f"loading the {count} files (YAML + schema validation) {median(loads):.2f} s, not in the ratio",
            )
        ]
        sp = info["service_principals"]["demo-sp"]
        env = {
            "DATABRICKS_CLIENT_ID": sp["client_id"],
            "DATABRICKS_CLIENT_SECRET": sp["client_secret"],
            "BENCH_HELLO": hello,
        }
        small = root / "small"
        small.mkdir()
        write_collection(small, 3)
        imported = _imports_gradio(
            ["-m", "explorer", "run", str(small), "--auth", "m2m", "--host", info["host"]], env
        )
        rows.append(
            Row(
                "`run` imports Gradio (python -X importtime)",
                "yes" if imported else "no",
                "—",
                "—",
                "no",
                not imported,
                "a real `python -m explorer run` of a 3-request collection against the sandbox",
            )
        )
        return rows

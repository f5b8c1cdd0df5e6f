"""Collection runs: a 1,000-request collection through the runner vs a bare `requests` loop.

Both sides send the same GET requests (`/api/hello?name=n<i>` through the gateway, one token,
kept-alive connections) and check the same things (status 200, the greeting in the JSON body).
The run side is the engine's runner (variables resolved, assertions evaluated, results kept).
The collection is ten folders of 100 requests; the two sides alternate folder by folder (which
side goes first alternates too), and each folder pair gives one ratio, so noise from other
processes hits both sides of a pair alike; the row shows the median. The same sends through a
plain `session.send` loop are measured as well, to tell the runner's cost from the engine's.
Loading the 1,000 files is timed on its own. A second row checks that a real
`python -m explorer run` does not import Gradio.
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

FOLDERS, PER_FOLDER = 10, 100


def write_collection(root: Path, folders: int, per_folder: int) -> None:
    root.mkdir(parents=True, exist_ok=True)
    (root / "collection.yaml").write_text(
        "name: bench\nvariables: {base: '{{$env.BENCH_HELLO}}'}\n", encoding="utf-8"
    )
    for folder in range(folders):
        directory = root / f"b{folder}"
        directory.mkdir(exist_ok=True)
        for index in range(folder * per_folder, (folder + 1) * per_folder):
            (directory / f"r{index:04d}.posting.yaml").write_text(
                f"name: hello {index}\nurl: '{{{{base}}}}/api/hello'\nparams: [{{name: name, value: n{index}}}]\n"
                f"assertions:\n- status: 200\n- {{json: $.message, equals: 'Hello, n{index}!'}}\n",
                encoding="utf-8",
            )


def collection_run(info: dict[str, Any], repeats: int) -> list[Row]:
    hello = info["apps"]["hello"]["url"]
    count = FOLDERS * PER_FOLDER
    with tempfile.TemporaryDirectory(prefix="bench-collection-") as tmp:
        root = Path(tmp) / "bench"
        write_collection(root, FOLDERS, PER_FOLDER)
        storage = FolderStorage(root)
        started = time.perf_counter()
        whole = RunPlan.load(storage, environ={"BENCH_HELLO": hello})
        load_seconds = time.perf_counter() - started
        if len(whole.requests()) != count or whole.collection.errors:
            raise RuntimeError("the bench collection did not load")
        plans = [
            RunPlan.load(storage, environ={"BENCH_HELLO": hello}, folder=f"b{f}") for f in range(FOLDERS)
        ]
        session = ExplorerSession()
        try:
            if not session.connect("m2m", demo_sp_fields(info)).ok:
                raise RuntimeError("cannot connect as demo-sp")
            identities = Identities(session, lambda s, ref, scope, explicit: s.connection)
            bare = requests.Session()
            headers = {"Authorization": f"Bearer {session.reveal_token()}"}

            def run_block(folder: int) -> float:
                begun = time.perf_counter()
                report = run(plans[folder], identities)
                elapsed = time.perf_counter() - begun
                if not report.passed or len(report.results) != PER_FOLDER:
                    raise RuntimeError("the collection run did not pass")
                return elapsed

            def names(folder: int) -> range:
                return range(folder * PER_FOLDER, (folder + 1) * PER_FOLDER)

            def bare_block(folder: int) -> float:
                begun = time.perf_counter()
                for index in names(folder):
                    response = bare.get(
                        hello + "/api/hello", params={"name": f"n{index}"}, headers=headers, timeout=30
                    )
                    if response.status_code != 200 or response.json().get("message") != f"Hello, n{index}!":
                        raise RuntimeError("a bare request failed")
                return time.perf_counter() - begun

            def engine_block(folder: int) -> float:
                begun = time.perf_counter()
                for index in names(folder):
                    if not session.send(
                        RequestSpec("GET", hello + "/api/hello", params=[("name", f"n{index}")])
                    ).ok:
                        raise RuntimeError("a send failed")
                return time.perf_counter() - begun

            for folder in range(2):  # warm: connections, caches, the facts cache
                run_block(folder), bare_block(folder), engine_block(folder)
            ours, theirs, engine, ratios, runner_ratios = [], [], [], [], []
            pair = 0
            for _ in range(repeats):
                run_total = bare_total = engine_total = 0.0
                for folder in range(FOLDERS):
                    sides = [run_block, bare_block, engine_block]
                    if pair % 2:
                        sides.reverse()
                    pair += 1
                    times = {side: side(folder) for side in sides}
                    session.history.clear()
                    run_total += times[run_block]
                    bare_total += times[bare_block]
                    engine_total += times[engine_block]
                    ratios.append(times[run_block] / times[bare_block])
                    runner_ratios.append(times[run_block] / times[engine_block])
                ours.append(run_total)
                theirs.append(bare_total)
                engine.append(engine_total)
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
                f"{repeats} × {FOLDERS} folder pairs of {PER_FOLDER} requests, ratios {spread(ratios)}; the same sends "
                f"in a plain session.send loop {median(engine):.2f} s (runner over engine {median(runner_ratios):.3f}); "
                f"loading the {count} files (YAML + schema validation) {load_seconds:.2f} s, not in the ratio",
            )
        ]
        env = {
            "DATABRICKS_CLIENT_ID": info["service_principals"]["demo-sp"]["client_id"],
            "DATABRICKS_CLIENT_SECRET": info["service_principals"]["demo-sp"]["client_secret"],
            "BENCH_HELLO": hello,
        }
        small = Path(tmp) / "small"
        write_collection(small, 1, 3)
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

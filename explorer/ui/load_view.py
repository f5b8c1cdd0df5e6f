"""The Load view: the current request (or a collection folder) as a load run on Locust.

    load_view(state, config)    # inside the page's Blocks; wires its own events (api_name load_*)

Users, duration or a request count, workers; Start / Stop; live line plots of p50/p95 latency
and requests/s (Locust's per-second rows), the results table, the error breakdown by status and
finding code, and the exports (JSON report, Locust's CSV and HTML). A run against anything but
this machine's loopback needs the confirmation box ticked: it affects other people and costs
money. Locust runs in child processes (explorer.load.job): never in this process, where gevent's
monkey-patching would reach Gradio. The engine's guard rails apply (caps, allowlist).
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Iterator
from typing import Any

import gradio as gr
import pandas as pd

from explorer.guard import Allowlist
from explorer.load.job import LoadJob, session_identity
from explorer.load.plan import (
    LoadPlan,
    PlanError,
    is_loopback,
    plan_for_request,
    refused_targets,
    restrict_children,
)
from explorer.load.runner import LoadOptions, Progress, parse_duration
from explorer.ui.config import UIConfig
from explorer.ui.forms import FormError, build_spec
from explorer.ui.handlers import friendly
from explorer.ui.state import UISession

POLL_SECONDS = 1.0
_JOBS: dict[str, LoadJob] = {}  # job id (in the page's own gr.State) -> its run; one per browser session
_LOCK = threading.Lock()
RESULT_COLUMNS = [
    "request",
    "requests",
    "failures",
    "req/s",
    "p50 ms",
    "p90 ms",
    "p95 ms",
    "p99 ms",
    "max ms",
]
ERROR_COLUMNS = ["finding", "status", "occurrences", "retry-after", "requests"]


def load_view(state: gr.State, config: UIConfig) -> None:
    """The Load accordion, wired to this session's state."""
    with gr.Accordion("Load run (Locust)", open=False, elem_id="load-view"):
        gr.Markdown(
            "Send the **current request** (or a collection folder) with many virtual users on "
            "[Locust](https://locust.io), in child processes, with this session's credentials. "
            "A load run against a deployed app affects other people and costs money."
        )
        with gr.Row():
            users = gr.Number(10, label="Users", precision=0, minimum=1)
            duration = gr.Textbox("20s", label="Duration", placeholder="30s, 2m")
            count = gr.Number(None, label="Or a request count", precision=0, minimum=0)
            rate = gr.Number(None, label="Target rate (iterations/s, optional)", minimum=0)
            workers = gr.Number(0, label="Workers (0: one process)", precision=0, minimum=0)
        with gr.Row():
            collection = gr.Textbox(
                "", label="Collection folder (optional, local only)", placeholder="examples/sandbox-demo"
            )
            environment = gr.Textbox("", label="Environment", placeholder="sandbox")
            folder = gr.Textbox("", label="Folder", placeholder="items")
        confirm = gr.Checkbox(False, label="I confirm a load run against a deployed app (not this machine)")
        with gr.Row():
            start = gr.Button("Start", variant="primary", elem_id="load-start")
            stop = gr.Button("Stop", variant="stop", interactive=False, elem_id="load-stop")
        status = gr.Markdown("", elem_id="load-status")
        with gr.Row():
            latency = gr.LinePlot(
                _series_frame([], "latency"), x="second", y="ms", color="series", label="Latency (p50, p95)"
            )
            throughput = gr.LinePlot(
                _series_frame([], "throughput"), x="second", y="req/s", color="series", label="Requests/s"
            )
        results = gr.Dataframe(pd.DataFrame(columns=RESULT_COLUMNS), label="Results", interactive=False)
        errors = gr.Dataframe(
            pd.DataFrame(columns=ERROR_COLUMNS), label="Errors by finding", interactive=False
        )
        exports = gr.File(label="Export (JSON report, Locust CSV, Locust HTML)", file_count="multiple")
        job_id = gr.State("")

    inputs = [state, job_id, users, duration, count, workers, collection, environment, folder, confirm, rate]
    outputs = [job_id, status, latency, throughput, results, errors, exports, start, stop]
    start.click(friendly(start_load), inputs, outputs, api_name="load_start", concurrency_limit=None)
    stop.click(friendly(stop_load), job_id, status, api_name="load_stop")


# --- handlers -------------------------------------------------------------------------------------


def build_load_plan(
    ui: UISession, collection: str, environment: str, folder: str, deployed: bool
) -> tuple[LoadPlan, dict[str, str]]:
    """The plan of the current request, or of a collection folder (local only)."""
    child_env: dict[str, str] = {}
    identity = session_identity(ui.explorer, child_env)
    if not collection.strip():
        spec = build_spec(ui.tab().form)
        return plan_for_request(spec, identity, child_env), child_env
    if deployed:
        raise FormError("Deployed, a load run takes the current request only (no folders of the server).")
    from pathlib import Path

    from explorer.collection.files import CollectionError
    from explorer.collection.runner import RunPlan
    from explorer.collection.storage import FolderStorage, StorageError
    from explorer.load.plan import plan_from_collection

    try:
        run_plan = RunPlan.load(
            FolderStorage(Path(collection.strip())),
            env=environment.strip() or None,
            folder=folder.strip() or None,
        )
        return plan_from_collection(
            run_plan, identity, child_env=child_env, redactor=ui.explorer.redactor
        ), child_env
    except (CollectionError, StorageError) as error:
        raise FormError(ui.explorer.redactor.scrub(str(error))) from None


def start_load(
    ui: UISession | None,
    job_id: str,
    users: float | None,
    duration: str,
    count: float | None,
    workers: float | None,
    collection: str,
    environment: str,
    folder: str,
    confirm: bool,
    rate: float | None = None,
) -> Iterator[tuple[Any, ...]]:
    """Start a run and stream its numbers once a second until it ends (or Stop)."""
    if ui is None:
        raise FormError("Nothing to load yet: open a request (and connect) first.")
    deployed = ui.explorer.trust.deployed
    try:
        requests = int(count) if count else None
        options = LoadOptions(
            users=int(users or 0),
            duration=None if requests else parse_duration(duration or "20s"),
            requests=requests,
            rate=float(rate) if rate else None,
            workers=int(workers or 0),
        )
        options.check()
        plan, _ = build_load_plan(ui, collection or "", environment or "", folder or "", deployed)
        allowlist = ui.explorer.allowlist or Allowlist.from_env()
        refused = refused_targets(plan, allowlist, deployed=deployed)
        restrict_children(plan, ui.explorer.allowlist)
        if refused:
            raise FormError(refused[0])
        remote = [r.url for r in plan.requests if deployed or not is_loopback(r.url)]
        if remote and not confirm:
            raise FormError(
                f"This run sends load to {plan.host}, not this machine: tick the confirmation and Start again."
            )
        _stop_job(job_id)
        job = LoadJob(plan, options, ui.explorer.redactor)
    except PlanError as error:
        raise FormError(str(error)) from None
    new_id = secrets.token_urlsafe(12)
    with _LOCK:
        _JOBS[new_id] = job
    job.start()
    started = time.monotonic()
    running = gr.Button(interactive=False), gr.Button(interactive=True)
    while job.running:
        series = job.series()
        line = _progress_text(series[-1] if series else None, time.monotonic() - started)
        yield (new_id, line, *_plots(series), gr.skip(), gr.skip(), None, *running)
        job.done.wait(POLL_SECONDS)
    series = job.series()
    document = job.document()
    idle = gr.Button(interactive=True), gr.Button(interactive=False)
    if document is None:
        message = (
            "**Stopped** before Locust sent anything: every Locust process of the run was ended."
            if job.run.stopped and not job.result_has_auth_failure
            else f"**Load run failed**: {job.error or 'no statistics'}"
        )
        yield (new_id, message, *_plots(series), _results(None), _errors(None), None, *idle)
        return
    yield (
        new_id,
        _summary(document),
        *_plots(series),
        _results(document),
        _errors(document),
        list(job.files().values()),
        *idle,
    )


def stop_load(job_id: str) -> str:
    """End every Locust process of this page's run (workers included)."""
    if not _stop_job(job_id):
        return "No load run is going on."
    return "Stopping: every Locust process of the run is ended; the numbers so far follow."


def _stop_job(job_id: str) -> bool:
    with _LOCK:
        job = _JOBS.get(job_id)
    if job is None or not job.running:
        return False
    job.stop()
    return True


# --- presenting (pure) ----------------------------------------------------------------------------


def _series_frame(series: list[Progress], kind: str) -> pd.DataFrame:
    if not series:
        columns = ["second", "ms", "series"] if kind == "latency" else ["second", "req/s", "series"]
        return pd.DataFrame(columns=columns)
    start = series[0].at
    rows: list[dict[str, Any]] = []
    for point in series:
        second = point.at - start
        if kind == "latency":
            for name, value in (("p50", point.p50_ms), ("p95", point.p95_ms)):
                if value is not None:
                    rows.append({"second": second, "ms": value, "series": name})
        else:
            rows.append({"second": second, "req/s": point.second_rps, "series": "requests/s (each second)"})
            rows.append({"second": second, "req/s": point.rps, "series": "requests/s (Locust's 10 s window)"})
    return pd.DataFrame(rows)


def _plots(series: list[Progress]) -> tuple[pd.DataFrame, pd.DataFrame]:
    return _series_frame(series, "latency"), _series_frame(series, "throughput")


def _progress_text(point: Progress | None, elapsed: float) -> str:
    if point is None or (not point.users and not point.requests):
        return f"Starting Locust… ({elapsed:.0f} s)"
    return (
        f"Running: {elapsed:.0f} s · {point.users} users · {point.rps:.0f} req/s · "
        f"{point.requests} requests · {point.failures} failures"
    )


def _summary(document: dict[str, Any]) -> str:
    total = document["total"]
    p = total["percentiles_ms"]
    stopped = " (stopped early)" if document.get("stopped") else ""
    lines = [
        f"**{document['name']}**{stopped}: {total['requests']} requests in {document['duration_s']:.1f} s · "
        f"{total['rps']:.1f} req/s · {total['failures']} failures ({document['error_rate']:.2f}%)",
        f"p50 {p['p50']} ms · p90 {p['p90']} ms · p95 {p['p95']} ms · p99 {p['p99']} ms · "
        f"max {total['max_ms']:.0f} ms",
    ]
    lines += [f"⚠ {line}" for line in document["errors"]["bursts"]]
    return "\n\n".join(lines)


def _results(document: dict[str, Any] | None) -> pd.DataFrame:
    rows = []
    for entry in (document or {}).get("requests", []):
        p = entry["percentiles_ms"]
        rows.append(
            [
                entry["name"],
                entry["requests"],
                entry["failures"],
                round(entry["rps"], 1),
                *(p["p50"], p["p90"], p["p95"], p["p99"]),
                round(entry["max_ms"]),
            ]
        )
    return pd.DataFrame(rows, columns=RESULT_COLUMNS)


def _errors(document: dict[str, Any] | None) -> pd.DataFrame:
    rows = [
        [
            r["code"],
            r["status"] or "no response",
            r["occurrences"],
            r["retry_after"] or "",
            ", ".join(r["requests"]),
        ]
        for r in ((document or {}).get("errors") or {}).get("rows", [])
    ]
    return pd.DataFrame(rows, columns=ERROR_COLUMNS)

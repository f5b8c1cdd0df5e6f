"""Locust as child processes: one local process, or a master and N workers, in one process group.

    run = LoadRun(locustfile, options, workdir, env=plan.child_env)
    run.start()                      # the processes, in a new process group of their own
    run.progress() -> Progress|None  # the latest per-second row of Locust's stats history
    run.wait(on_progress, poll=1.0)  # until Locust quits (or stop() was called); returns the exit code
    run.stop()                       # SIGTERM to the whole group (workers included), SIGKILL after a grace

Locust never runs in the caller's process: gevent's monkey-patching would reach its threads (and
Gradio's). Every process started here shares the master's process group, so `stop()` (Ctrl-C,
SIGTERM, the UI's Stop) ends them all; `pids` lists them so tests can check none is left.
"""

from __future__ import annotations

import csv
import itertools
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from explorer.load.plan import EVENT_PREFIX, PlanError

DEFAULT_USERS_CAP = 100
DEFAULT_DURATION_CAP = 300.0  # seconds
MAX_WORKERS = 16
STOP_GRACE = 8.0  # seconds between SIGTERM and SIGKILL


@dataclass
class LoadOptions:
    """How hard and how long. `duration` (seconds) or `requests` ends the run; the duration cap
    bounds a request-count run too."""

    users: int = 10
    spawn_rate: float | None = None  # users started per second; default: all within a second
    duration: float | None = None
    requests: int | None = None
    rate: float | None = None  # target iterations of the flow per second, all users together
    workers: int = 0  # 0: one local Locust process; N: a master and N workers on this machine
    remote_workers: int = 0  # workers started elsewhere (`locust -f - --worker --master-host …`)
    master_bind: str = "127.0.0.1"  # where the master listens for workers
    master_port: int = 0  # 0: a free port
    users_cap: int = DEFAULT_USERS_CAP
    duration_cap: float = DEFAULT_DURATION_CAP
    stop_timeout: float = 10.0  # seconds a virtual user may finish its request when the time is up
    html: str | None = None  # Locust's HTML report
    csv_prefix: str | None = None  # where Locust's CSV files go (default: the run's work folder)

    @property
    def spawn(self) -> float:
        return self.spawn_rate if self.spawn_rate else float(self.users)

    @property
    def run_time(self) -> float:
        return self.duration if self.duration is not None else self.duration_cap

    def check(self) -> None:
        """PlanError for values outside the guard rails (one line, what to change)."""
        if self.users < 1:
            raise PlanError("--users must be at least 1")
        if self.users > self.users_cap:
            raise PlanError(
                f"--users {self.users} is above the cap of {self.users_cap}: a load run affects other "
                f"people and costs money; raise it explicitly with --users-cap {self.users}"
            )
        if self.spawn_rate is not None and self.spawn_rate <= 0:
            raise PlanError("--spawn-rate must be above 0")
        if self.duration is not None and self.requests is not None:
            raise PlanError("give --duration or --requests, not both")
        if self.duration is not None and self.duration <= 0:
            raise PlanError("--duration must be above 0")
        if self.duration is not None and self.duration > self.duration_cap:
            raise PlanError(
                f"--duration {self.duration:g}s is above the cap of {self.duration_cap:g}s; "
                f"raise it explicitly with --duration-cap {self.duration:g}s"
            )
        if self.rate is not None and self.rate <= 0:
            raise PlanError("--rate must be above 0 (iterations per second)")
        if self.requests is not None and self.requests < 1:
            raise PlanError("--requests must be at least 1")
        if not 0 <= self.workers <= MAX_WORKERS:
            raise PlanError(f"--workers must be between 0 and {MAX_WORKERS}")
        if not 0 <= self.remote_workers <= 1000:
            raise PlanError("--remote-workers must be between 0 and 1000")

    @property
    def distributed(self) -> bool:
        return bool(self.workers or self.remote_workers)


def parse_duration(text: str) -> float:
    """`30s`, `2m`, `1h30m`, `90` (seconds) -> seconds; PlanError otherwise."""
    value = text.strip().lower()
    if not value:
        raise PlanError("empty duration: use e.g. 30s, 2m or 1h30m")
    try:
        return float(value)
    except ValueError:
        pass
    total, number = 0.0, ""
    units = {"h": 3600.0, "m": 60.0, "s": 1.0}
    for char in value:
        if char.isdigit() or char == ".":
            number += char
        elif char in units and number:
            total += float(number) * units[char]
            number = ""
        else:
            raise PlanError(f"duration {text[:20]!r}: use e.g. 30s, 2m or 1h30m")
    if number:
        raise PlanError(f"duration {text[:20]!r}: end it with a unit (s, m, h)")
    return total


@dataclass
class Progress:
    """One row of Locust's stats history (the whole run so far, and the current window)."""

    at: float
    users: int
    rps: float
    failures_per_s: float
    p50_ms: float | None
    p95_ms: float | None
    requests: int
    failures: int
    second_rps: float = 0.0  # requests answered since the previous row, per second (from Locust's totals)


@dataclass
class LoadRun:
    """The Locust processes of one run (see the module docstring)."""

    locustfile: Path
    options: LoadOptions
    workdir: Path
    host: str
    env: Mapping[str, str] = field(default_factory=dict, repr=False)
    python: str = sys.executable
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    started_at: float = 0.0
    stopped: bool = False
    port: int = 0  # the master's port, when distributed

    @property
    def csv_prefix(self) -> str:
        return self.options.csv_prefix or str(self.workdir / "locust")

    @property
    def summary_path(self) -> Path:
        return self.workdir / "summary.json"

    @property
    def log_paths(self) -> list[Path]:
        return [self.workdir / f"locust-{i}.log" for i in range(len(self.processes))]

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.processes]

    def commands(self, master_port: int | None = None) -> list[list[str]]:
        """The Locust command lines: [local] or [master, worker, …]."""
        o = self.options
        base = [self.python, "-m", "locust", "-f", str(self.locustfile)]
        run = [
            "--headless",
            "--host", self.host,
            "-u", str(o.users),
            "-r", f"{o.spawn:g}",
            "-t", f"{max(1, round(o.run_time))}s",
            "--stop-timeout", f"{o.stop_timeout:g}",
            "--csv", self.csv_prefix,
            "--only-summary",
            "--loglevel", "WARNING",
            "--explorer-summary", str(self.summary_path),
        ]  # fmt: skip
        if o.requests:
            run += ["--explorer-requests", str(o.requests)]
        if o.rate:
            run += ["--explorer-rate", f"{o.rate:g}"]
        if o.html:
            run += ["--html", o.html]
        if not o.distributed:
            return [base + run]
        port = master_port or o.master_port or free_port(o.master_bind if o.remote_workers else "127.0.0.1")
        self.port = port
        bind = o.master_bind if o.remote_workers else "127.0.0.1"
        wait = 300 if o.remote_workers else 60  # people start remote workers by hand
        master = [
            *base, *run,
            "--master", "--master-bind-host", bind, "--master-bind-port", str(port),
            "--expect-workers", str(o.workers + o.remote_workers), "--expect-workers-max-wait", str(wait),
        ]  # fmt: skip
        worker = [*base, "--worker", "--master-host", "127.0.0.1", "--master-port", str(port)]
        worker += ["--loglevel", "WARNING"]
        return [master] + [list(worker) for _ in range(o.workers)]

    def start(self) -> None:
        """Start Locust: the first process leads a new process group that the others join."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, **self.env, "PYTHONUNBUFFERED": "1"}
        env.pop("GRADIO_SERVER_NAME", None)
        self.started_at = time.time()
        for index, command in enumerate(self.commands()):
            log = (self.workdir / f"locust-{index}.log").open("wb")
            group = self.processes[0].pid if self.processes else 0
            try:
                process = subprocess.Popen(
                    command,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    **_group_kwargs(group),
                )
            except OSError as error:
                self.stop()
                raise PlanError(f"cannot start Locust: {error.strerror or error}") from None
            finally:
                log.close()
            self.processes.append(process)

    def running(self) -> bool:
        return any(p.poll() is None for p in self.processes)

    def wait(self, on_progress: Callable[[Progress], None] | None = None, poll: float = 1.0) -> int:
        """Until the master (or the local process) exits; then the group is ended. Its exit code."""
        if not self.processes:
            raise PlanError("the run was not started")
        lead = self.processes[0]
        waiting = 300 if self.options.remote_workers else 0
        deadline = self.started_at + self.options.run_time + self.options.stop_timeout + 90 + waiting
        try:
            while lead.poll() is None:
                if time.time() > deadline:
                    self.stop()
                    break
                time.sleep(poll)
                if self.auth_failed():  # a process could not connect: nothing will be sent
                    self.stop()
                    break
                if on_progress is not None:
                    latest = self.progress()
                    if latest is not None:
                        on_progress(latest)
        finally:
            self._end_group(grace=5.0)
        return lead.returncode if lead.returncode is not None else -1

    def progress(self) -> Progress | None:
        return read_progress(Path(self.csv_prefix + "_stats_history.csv"))

    def stop(self) -> None:
        """End every process of the run: SIGTERM to the group (Locust writes its results), then SIGKILL."""
        self.stopped = True
        self._end_group(grace=STOP_GRACE)

    def _end_group(self, grace: float) -> None:
        if not self.processes:
            return
        group = self.processes[0].pid
        _signal_group(group, signal.SIGTERM)
        deadline = time.monotonic() + grace
        for process in self.processes:
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
        if any(p.poll() is None for p in self.processes) or _group_alive(group):
            _signal_group(group, signal.SIGKILL)
            for process in self.processes:
                try:
                    process.wait(5)
                except subprocess.TimeoutExpired:
                    pass

    def auth_failed(self) -> bool:
        """Has a Locust process reported that an identity did not connect (explorer.load.hooks)?"""
        marker = (EVENT_PREFIX + '{"event": "auth_failed"').encode()
        for path in self.log_paths:
            try:
                if marker in path.read_bytes():
                    return True
            except OSError:
                continue
        return False

    def log_text(self) -> str:
        texts = []
        for path in self.log_paths:
            try:
                texts.append(path.read_text(encoding="utf-8", errors="replace"))
            except OSError:
                continue
        return "\n".join(texts)


def _group_kwargs(group: int) -> dict[str, object]:
    """Popen arguments that put the child in process group `group` (0: a new one it leads)."""
    if sys.version_info >= (3, 11):
        return {"process_group": group}
    return {"preexec_fn": lambda: os.setpgid(0, group)}  # pragma: no cover - Python 3.10


def _signal_group(group: int, sig: signal.Signals) -> None:
    try:
        os.killpg(group, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _group_alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def read_progress(path: Path) -> Progress | None:
    """The last Aggregated row of a `_stats_history.csv` (None before the first)."""
    rows = read_history(path)
    return rows[-1] if rows else None


def read_history(path: Path) -> list[Progress]:
    """Every Aggregated row of Locust's stats history, one per second."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return []
    rows: list[Progress] = []
    for row in csv.DictReader(text.splitlines()):
        if row.get("Name") != "Aggregated":
            continue
        try:
            rows.append(
                Progress(
                    at=float(row["Timestamp"]),
                    users=int(row["User Count"]),
                    rps=float(row["Requests/s"]),
                    failures_per_s=float(row["Failures/s"]),
                    p50_ms=_number(row.get("50%")),
                    p95_ms=_number(row.get("95%")),
                    requests=int(row["Total Request Count"]),
                    failures=int(row["Total Failure Count"]),
                )
            )
        except (KeyError, TypeError, ValueError):
            continue  # a row being written
    for previous, row in itertools.pairwise(rows):
        elapsed = row.at - previous.at
        if elapsed > 0:
            row.second_rps = max(0, row.requests - previous.requests) / elapsed
    return rows


def _number(text: str | None) -> float | None:
    try:
        return float(text) if text not in (None, "", "N/A") else None
    except ValueError:
        return None

"""A load run in the background, for a presenter that polls (the UI's Load view).

    job = LoadJob(plan, options, redactor)   # writes the locustfile (refused if it would hold a secret)
    job.start()                              # Locust's processes start; a thread waits for them
    job.series() -> list[Progress]           # Locust's per-second rows so far
    job.done / job.result / job.error        # when it ended: Locust's statistics, or why not
    job.stop()                               # ends every Locust process of the run (workers included)
    job.files() -> {"json": …, "csv": …, "html": …}   # the exports, once done
    job.close()                              # stops it and removes its files

    identity = session_identity(session, child_env)   # the session's current credentials for the children

No Locust and no Gradio here: Locust runs in child processes (explorer.load.runner).
"""

from __future__ import annotations

import json
import shutil
import tempfile
import threading
from pathlib import Path

from explorer.load import report
from explorer.load.locustfile import render
from explorer.load.plan import Identity, LoadPlan, PlanError, split_identity
from explorer.load.runner import LoadOptions, LoadRun, Progress, read_history
from explorer.load.stats import LoadResult, read_result
from explorer.redact import Redactor
from explorer.session import ExplorerSession


def write_locustfile(plan: LoadPlan, path: Path, options: LoadOptions, redactor: Redactor) -> str:
    """Write the locustfile; refuses (PlanError) if a secret the redactor knows would be in it."""
    duration = f"{options.duration:g}s" if options.duration else "30s"
    text = render(plan, users=options.users, spawn_rate=options.spawn, duration=duration)
    if redactor.scrub(text) != text or any(s and s in text for s in plan.secrets()):
        raise PlanError("the generated locustfile would hold a secret: nothing was written")
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as error:
        raise PlanError(f"{path}: cannot write it: {error.strerror or error}") from None
    return text


def session_identity(session: ExplorerSession, child_env: dict[str, str]) -> Identity | None:
    """The session's current credentials as an identity for Locust's processes (None: not connected).

    A presenter's session holds credentials, not the fields typed to get them, so the children get
    its current token (in `child_env`, never in a file) through the `token` method: one token for
    the run, valid for the capped duration of a load run.
    """
    credentials = session.credentials
    token = credentials.token if credentials is not None else None
    if not token:
        return None
    session.redactor.add(token)
    return split_identity("token", {"token": token}, "default", child_env)


class LoadJob:
    """One background load run (see the module docstring)."""

    def __init__(self, plan: LoadPlan, options: LoadOptions, redactor: Redactor) -> None:
        options.check()
        self.plan, self.options, self.redactor = plan, options, redactor
        self.workdir = Path(tempfile.mkdtemp(prefix="explorer-load-"))
        options.csv_prefix = str(self.workdir / "locust")
        options.html = str(self.workdir / "locust-report.html")
        write_locustfile(plan, self.workdir / "locustfile.py", options, redactor)
        self.run = LoadRun(
            self.workdir / "locustfile.py", options, self.workdir, plan.host, env=plan.child_env
        )
        self.done = threading.Event()
        self.result: LoadResult | None = None
        self.error: str | None = None
        self._thread = threading.Thread(target=self._main, name="explorer-load", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _main(self) -> None:
        try:
            self.run.start()
            self.run.wait()
            self.result = read_result(self.run)
            if self.result.auth_failures:
                findings = self.result.auth_failures[0].get("findings", [])
                first = findings[0] if findings else {}
                self.error = self.redactor.scrub(
                    f"could not authenticate: {first.get('code', '')} {first.get('message', '')}".strip()
                )
            elif self.result.total is None:
                self.error = "Locust wrote no statistics (it did not start or was stopped at once)"
        except PlanError as error:
            self.error = str(error)
        finally:
            self.done.set()

    def stop(self) -> None:
        self.run.stop()

    @property
    def result_has_auth_failure(self) -> bool:
        return bool(self.result and self.result.auth_failures)

    @property
    def running(self) -> bool:
        return not self.done.is_set()

    def series(self) -> list[Progress]:
        return read_history(Path(self.run.csv_prefix + "_stats_history.csv"))

    def document(self) -> dict[str, object] | None:
        if self.result is None or self.result.total is None:
            return None
        document = report.to_dict(self.result, self.plan, self.options, redactor=self.redactor)
        document["stopped"] = self.run.stopped
        return document

    def files(self) -> dict[str, str]:
        """The exports of a finished run: the JSON report, Locust's CSV stats and HTML report."""
        found: dict[str, str] = {}
        document = self.document()
        if document is not None:
            path = self.workdir / "load-report.json"
            path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
            found["json"] = str(path)
        for kind, path in (
            ("csv", Path(self.run.csv_prefix + "_stats.csv")),
            ("html", Path(self.options.html or "")),
        ):
            if path.is_file():
                found[kind] = str(path)
        return found

    def close(self) -> None:
        if self.running:
            self.stop()
            self.done.wait(15)
        shutil.rmtree(self.workdir, ignore_errors=True)

"""What a generated locustfile calls at run time, inside Locust's process (never the UI's).

    explorer = hooks.setup(IDENTITIES)          # registers the event hooks below; once per locustfile
    explorer.ticket()                           # one request of the --requests budget (StopUser when spent)
    explorer.headers("default", {...})          # the identity's Authorization header, from the engine
    explorer.check(response, name, ...)         # success, or a failure named by the explorer's finding code
    explorer.extract(user, response, [...])     # values a later request of the same virtual user uses
    explorer.text(user, "…{{item_id}}…")        # per-user variables and {{$uuid}}-style built-ins

Credentials: each identity connects once per Locust process through `ExplorerSession.connect`
(the auth registry, the Databricks SDK). Every virtual user of that process shares the
connection, so one token is fetched per identity and the SDK refreshes it; nothing secret is in
the locustfile (secret fields come from environment variables). Failures are diagnosed with the
engine's rules (`explorer.diagnose`, `explorer.failures`) once per kind of failure and reported
to Locust as `CODE · HTTP 503 Service Unavailable[ · Retry-After: 2]`, so Locust's own failure
statistics group them by finding code. Machine-readable events go to stderr as one line each,
prefixed `explorer-load: ` (the explorer's runner reads them; a person can too).
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import time
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import gevent
from gevent.lock import Semaphore
from locust import events
from locust.exception import StopUser
from locust.runners import MasterRunner, WorkerRunner

from explorer.collection.extract import as_text, find
from explorer.collection.variables import builtin
from explorer.diagnose import diagnose
from explorer.failures import finding_for_error
from explorer.guard import Allowlist
from explorer.load.plan import ALLOWLIST_ENV, EVENT_PREFIX, Identity
from explorer.model import Exchange, Finding, RequestSpec, Response
from explorer.session import ExplorerSession
from explorer.tokens import decode_token

__all__ = ["EVENT_PREFIX", "Explorer", "Identity", "setup"]
log = logging.getLogger("explorer.load")
_RUNTIME_VARIABLE = re.compile(r"\{\{\s*([^{}\s]+)\s*\}\}")
_BODY_FOR_DIAGNOSIS = 4096


def emit(event: str, **data: Any) -> None:
    """One machine-readable line on stderr for the explorer's runner."""
    print(EVENT_PREFIX + json.dumps({"event": event, **data}), file=sys.stderr, flush=True)


class Explorer:
    """The per-process state a locustfile's virtual users share (see the module docstring)."""

    def __init__(self, identities: Mapping[str, Identity]) -> None:
        self.identities = dict(identities)
        self._sessions: dict[str, ExplorerSession] = {}
        self._headers: dict[str, Any] = {}
        self._connecting = Semaphore()
        self._diagnosed: dict[tuple[Any, ...], str] = {}
        self.environment: Any = None
        self.budget: int | None = None  # requests this process may still start (None: no limit)
        self._started = self._finished = 0
        self._done = False
        self._workers_done: set[str] = set()

    # --- Locust's events -----------------------------------------------------------------------

    def on_init_parser(self, parser: Any, **_: Any) -> None:
        parser.add_argument(
            "--explorer-requests",
            type=int,
            default=0,
            help="stop after this many requests in all (0: no limit; split across workers)",
        )
        parser.add_argument(
            "--explorer-rate",
            type=float,
            default=0.0,
            help="target iterations of the flow per second, all users together (0: no pause)",
        )
        parser.add_argument(
            "--explorer-summary",
            default="",
            help="write the final statistics (Locust's own, as JSON) to this file when Locust quits",
        )

    def on_init(self, environment: Any, **_: Any) -> None:
        self.environment = environment
        runner = environment.runner
        if isinstance(runner, MasterRunner):
            runner.register_message("explorer_done", self._on_worker_done)
        elif runner is not None:  # connect before the run starts: its clock does not count this
            for name in self.identities:
                if not self._connect(name):
                    return

    def on_test_start(self, environment: Any, **_: Any) -> None:
        self.environment = environment
        if isinstance(environment.runner, MasterRunner):
            return
        self._started = self._finished = 0
        self._done = False
        self.budget = self._share(environment)
        if self.budget == 0:  # a worker whose share of a small budget is nothing: done at once
            self._done = True
            gevent.spawn_later(0.5, self._stop_everything)
        for name in self.identities:
            if not self._connect(name):
                return

    def on_quit(self, **_: Any) -> None:
        """The final statistics, from Locust's own objects, after its runner stopped (CSV files
        are written once a second and can miss the last one)."""
        environment = self.environment
        options = environment.parsed_options if environment else None
        path = getattr(options, "explorer_summary", "") if options else ""
        if not path or isinstance(environment.runner, WorkerRunner):
            return
        stats = environment.runner.stats
        document = {
            "total": _entry(stats.total),
            "entries": [_entry(e) for e in stats.entries.values() if e.num_requests or e.num_failures],
            "errors": [
                {"method": e.method, "name": e.name, "error": str(e.error), "occurrences": e.occurrences}
                for e in stats.errors.values()
            ],
            "start_time": stats.start_time,
            "last_request_timestamp": stats.total.last_request_timestamp,
            "user_count": environment.runner.user_count,
            "workers": getattr(environment.runner, "worker_count", 0),
        }
        with open(path, "w", encoding="utf-8") as handle:
            json.dump(document, handle)

    def _share(self, environment: Any) -> int | None:
        options = environment.parsed_options
        total = int(getattr(options, "explorer_requests", 0) or 0) if options else 0
        if total <= 0:
            return None
        runner = environment.runner
        if not isinstance(runner, WorkerRunner):
            return total
        workers = max(1, int(getattr(options, "expect_workers", 1) or 1))
        index = max(0, runner.worker_index)
        return total // workers + (1 if index < total % workers else 0)

    def _on_worker_done(self, environment: Any, msg: Any, **_: Any) -> None:
        self._workers_done.add(msg.node_id)
        runner = environment.runner
        if len(self._workers_done) >= max(1, runner.worker_count):
            gevent.spawn_later(0.2, runner.quit)

    # --- credentials --------------------------------------------------------------------------

    def _connect(self, name: str) -> bool:
        with self._connecting:
            if name in self._sessions:
                return self._sessions[name].credentials is not None
            identity = self.identities[name]
            fields = dict(identity.fields)
            for field_name, variable in identity.secret_env.items():
                if os.environ.get(variable):
                    fields[field_name] = os.environ[variable]
            patterns = os.environ.get(ALLOWLIST_ENV, "")
            session = ExplorerSession(allowlist=Allowlist(patterns.split(",")) if patterns else None)
            self._sessions[name] = session
            connection = session.connect(identity.method, fields)
            if not connection.ok or session.credentials is None:
                findings = [
                    {"code": f.code, "message": session.redactor.scrub(f.message), "fix": f.fix}
                    for f in connection.findings
                ]
                for finding in findings:
                    log.error(
                        "identity %s (%s): %s: %s", name, identity.method, finding["code"], finding["message"]
                    )
                emit("auth_failed", identity=name, method=identity.method, findings=findings)
                gevent.spawn_later(0.1, self._quit)  # not from inside Locust's event: it would wait on itself
                return False
            self._headers[name] = session.credentials.headers  # fresh on each call: SDK refreshes apply
            emit("connected", identity=name, method=identity.method, pid=os.getpid())
            return True

    def headers(self, identity: str | None, static: Mapping[str, str] | None = None) -> dict[str, str]:
        """The request's headers with the identity's Authorization header (None: no credentials)."""
        headers = dict(static or {})
        if identity is None:
            return headers
        factory = self._headers.get(identity)
        if factory is None:
            if not self._connect(identity):
                raise StopUser()
            factory = self._headers[identity]
        headers.update(factory())
        return headers

    # --- pacing --------------------------------------------------------------------------------

    def pacing(self) -> Any:
        """A Locust `wait_time`: no pause, or each user paced (like Locust's `constant_throughput`) so
        that all users together run `--explorer-rate` iterations per second."""
        explorer = self

        def wait_time(user: Any) -> float:
            options = explorer.environment.parsed_options if explorer.environment else None
            rate = float(getattr(options, "explorer_rate", 0.0) or 0.0) if options else 0.0
            if rate <= 0:
                return 0.0
            users = max(1, int(getattr(options, "num_users", 1) or 1))
            now = time.monotonic()
            state = user.__dict__
            last_run, last_wait = state.get("_explorer_last_run", now), state.get("_explorer_last_wait", 0.0)
            ran = now - last_run - last_wait
            state["_explorer_last_wait"] = wait = max(0.0, users / rate - ran)
            state["_explorer_last_run"] = now
            return wait

        return wait_time

    # --- the request budget -------------------------------------------------------------------

    def ticket(self) -> None:
        """Claim one request of the budget; StopUser for this virtual user once it is spent."""
        if self.budget is None:
            return
        if self._started >= self.budget:
            raise StopUser()
        self._started += 1

    def _finish_one(self) -> None:
        self._finished += 1
        if self.budget is not None and self._finished >= self.budget and not self._done:
            self._done = True
            gevent.spawn(self._stop_everything)

    def _quit(self) -> None:
        runner = self.environment.runner if self.environment else None
        if runner is not None and not isinstance(runner, WorkerRunner):
            runner.quit()

    def _stop_everything(self) -> None:
        runner = self.environment.runner if self.environment else None
        if runner is None:
            return
        if isinstance(runner, WorkerRunner):
            runner._send_stats()  # the last numbers reach the master before it quits
            runner.send_message("explorer_done", {"finished": self._finished})
        else:
            runner.quit()

    # --- checking and diagnosing ----------------------------------------------------------------

    def check(
        self,
        response: Any,
        name: str,
        *,
        expect: Sequence[str] = (),
        identity: str | None = None,
    ) -> None:
        """Mark `response` (a Locust `catch_response` context) as success or as a named failure."""
        status = int(response.status_code or 0)
        try:
            if status and _expected(status, expect):
                response.success()
            else:
                response.failure(self._failure_text(response, name, status, identity))
        finally:
            self._finish_one()

    def _failure_text(self, response: Any, name: str, status: int, identity: str | None) -> str:
        request = response.request
        url = str(getattr(request, "url", "") or response.url or "")
        if not status:
            error = response.error
            key: tuple[Any, ...] = (name, 0, type(error).__name__)
            code = self._diagnosed.get(key)
            if code is None:
                code = (
                    finding_for_error(error, url).code
                    if isinstance(error, BaseException)
                    else "NETWORK_CONNECT"
                )
                self._diagnosed[key] = code
            return f"{code} · no response ({type(error).__name__})"
        headers = response.headers
        retry_after = (headers.get("Retry-After") or "").strip()[:40]
        key = (
            name,
            status,
            (headers.get("Location") or "")[:80],
            headers.get("WWW-Authenticate") or "",
        )
        code = self._diagnosed.get(key)
        if code is None:
            code = self._diagnose(response, url, status, identity)
            self._diagnosed[key] = code
        text = f"{code} · HTTP {status} {response.reason or ''}".rstrip()
        return text + (f" · Retry-After: {retry_after}" if retry_after else "")

    def _diagnose(self, response: Any, url: str, status: int, identity: str | None) -> str:
        """The explorer's first finding code for this kind of failure (no workspace calls under load)."""
        session = self._sessions.get(identity or "")
        credentials = session.credentials if session else None
        token = decode_token(credentials.token) if credentials and credentials.token else None
        request = response.request
        spec = RequestSpec(
            method=str(getattr(request, "method", "GET")),
            url=url,
            headers=[("Authorization", "Bearer …")] if credentials else [],
        )
        body = bytes(response.content or b"")[:_BODY_FOR_DIAGNOSIS]
        answer = Response(
            status=status,
            reason=str(response.reason or ""),
            headers=list(response.headers.items()),
            body=body,
            size=len(body),
            elapsed_ms=0.0,
            ttfb_ms=0.0,
            content_type=response.headers.get("Content-Type", ""),
            location=response.headers.get("Location"),
        )
        exchange = Exchange(
            uuid.uuid4().hex[:12],
            time.time(),
            spec,
            answer,
            credentials.info if credentials else None,
            token,
        )
        findings = diagnose(exchange, None)
        return _first_code([f for f in findings if f.severity == "error"] or findings, status)

    # --- per-user variables ---------------------------------------------------------------------

    def text(self, user: Any, template: str) -> str:
        """`template` with this virtual user's extracted variables and the built-ins filled in."""
        values: Mapping[str, str] = getattr(user, "vars", {})

        def substitute(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("$"):  # the collection's own built-ins ($uuid, $timestamp, $randomInt, $env.X)
                found = builtin(name, os.environ)
                return "" if found is None and name.startswith("$env.") else (found or match.group(0))
            return values.get(name, match.group(0))

        return _RUNTIME_VARIABLE.sub(substitute, template)

    def extract(self, user: Any, response: Any, extractions: Sequence[Mapping[str, Any]]) -> None:
        """Keep values from `response` for this virtual user's later requests (like a collection run)."""
        store = user.__dict__.setdefault("vars", {})
        for spec in extractions:
            name = str(spec["var"])
            if spec.get("status"):
                store[name] = str(response.status_code)
            elif spec.get("header"):
                value = response.headers.get(str(spec["header"]))
                if value is not None:
                    store[name] = value
            elif spec.get("json"):
                try:
                    found, value = find(response.json(), str(spec["json"]))
                except ValueError:
                    continue
                if found:
                    store[name] = as_text(value)


PERCENTILES = (0.5, 0.9, 0.95, 0.99)


def _entry(entry: Any) -> dict[str, Any]:
    """One Locust StatsEntry as plain data, with Locust's own percentile calculation."""
    count = entry.num_requests
    return {
        "method": entry.method or "",
        "name": entry.name,
        "requests": count,
        "failures": entry.num_failures,
        "rps": entry.total_rps,
        "avg_ms": entry.avg_response_time,
        "min_ms": entry.min_response_time or 0.0,
        "max_ms": entry.max_response_time,
        "percentiles_ms": {
            f"p{round(p * 100)}": (entry.get_response_time_percentile(p) if count else None)
            for p in PERCENTILES
        },
    }


def _expected(status: int, expect: Sequence[str]) -> bool:
    if not expect:
        return 200 <= status < 300
    for wanted in expect:
        if wanted.endswith("xx") and wanted[:1].isdigit():
            if str(status)[0] == wanted[0]:
                return True
        elif wanted == str(status):
            return True
    return False


def _first_code(findings: list[Finding], status: int) -> str:
    if findings:
        return findings[0].code
    return "SERVER_ERROR" if status >= 500 else "REQUEST_REJECTED" if status >= 400 else "REDIRECT"


def setup(identities: Mapping[str, Identity]) -> Explorer:
    """The process's Explorer, with its Locust event hooks registered."""
    explorer = Explorer(identities)
    events.init_command_line_parser.add_listener(explorer.on_init_parser)
    events.init.add_listener(explorer.on_init)
    events.test_start.add_listener(explorer.on_test_start)
    events.quit.add_listener(explorer.on_quit)
    return explorer

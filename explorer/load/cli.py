"""`load`: a load run on Locust from the command line (no Gradio, no Locust in this process).

    python -m explorer load URL_OR_PATH [--users N] [--spawn-rate R] [--duration 30s | --requests K]
        [-X M] [-H 'K: V']… [-d BODY]  (a URL)   [--env E] [--var K=V]… [--folder F]  (a collection)
        [auth options] [--rate R] [--workers N] [--json F] [--csv PREFIX] [--html F] [--export-locustfile F]
        [--max-p95 MS] [--max-error-rate P] [--users-cap N] [--duration-cap D]

Exit status: 0 when the run finished and every declared threshold held, 1 when a threshold failed
(or the run was stopped early), 2 for usage errors and runs that could not start (auth, Locust).
"""

from __future__ import annotations

import argparse
import json
import signal
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType

from explorer import cli as base_cli
from explorer.guard import Allowlist
from explorer.load import report
from explorer.load.job import write_locustfile
from explorer.load.plan import (
    Identity,
    LoadPlan,
    PlanError,
    identity_fields,
    plan_for_request,
    plan_from_collection,
    refused_targets,
    restrict_children,
    split_identity,
)
from explorer.load.runner import LoadOptions, LoadRun, Progress, parse_duration
from explorer.load.stats import LoadResult, read_result
from explorer.parse import InputError
from explorer.session import ExplorerSession

Handler = Callable[[argparse.Namespace, ExplorerSession, "base_cli.Output"], int]
EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
DEFAULT_DURATION = 30.0


def add_commands(commands: argparse._SubParsersAction) -> dict[str, Handler]:  # type: ignore[type-arg]
    """Add `load` to the CLI's sub-parsers; returns its handler."""
    from explorer.commands import CLI_COMMANDS

    load = commands.add_parser("load", help=CLI_COMMANDS["load"])
    load.add_argument("target", metavar="URL_OR_PATH", help="a request URL, or a collection folder")
    load.add_argument("--users", type=int, default=10, metavar="N", help="virtual users (default 10)")
    load.add_argument(
        "--spawn-rate", type=float, metavar="R", help="users started per second (default: all at once)"
    )
    ends = load.add_mutually_exclusive_group()
    ends.add_argument("--duration", metavar="D", help="how long: 30s, 2m, 1h30m (default 30s)")
    ends.add_argument("--requests", type=int, metavar="K", help="stop after K requests in all")
    load.add_argument(
        "--rate",
        type=float,
        metavar="R",
        help="target iterations per second, all users together (default: no pause)",
    )
    load.add_argument(
        "--remote-workers",
        type=int,
        default=0,
        metavar="N",
        help="also wait for N workers started on other hosts (locust -f - --worker --master-host THIS_HOST)",
    )
    load.add_argument(
        "--master-bind",
        metavar="HOST[:PORT]",
        help="where the master listens for workers (default 127.0.0.1)",
    )
    load.add_argument(
        "--workers", type=int, default=0, metavar="N", help="run a Locust master and N workers here"
    )
    load.add_argument("--json", dest="json_file", metavar="F", help="write the report as JSON")
    load.add_argument(
        "--csv", dest="csv_prefix", metavar="PREFIX", help="keep Locust's CSV files (PREFIX_stats.csv …)"
    )
    load.add_argument("--html", metavar="F", help="write Locust's HTML report")
    load.add_argument(
        "--export-locustfile", metavar="F", help="write the generated locustfile and exit (no run)"
    )
    load.add_argument("--max-p95", type=float, metavar="MS", help="threshold: overall p95 latency in ms")
    load.add_argument("--max-error-rate", metavar="P", help="threshold: failures in percent of requests")
    load.add_argument("--users-cap", type=int, metavar="N", help="raise the cap on --users (default 100)")
    load.add_argument("--duration-cap", metavar="D", help="raise the cap on the duration (default 5m)")
    base_cli._add_request_options(load)
    load.add_argument("--env", metavar="NAME", help="a collection's environment")
    load.add_argument(
        "--var", action="append", default=[], metavar="K=V", help="a collection variable (repeat)"
    )
    load.add_argument("--folder", metavar="F", help="one folder of the collection only")
    base_cli._add_auth_options(load)
    return {"load": cmd_load}


def options_from(args: argparse.Namespace) -> LoadOptions:
    options = LoadOptions(
        users=args.users,
        spawn_rate=args.spawn_rate,
        requests=args.requests,
        rate=args.rate,
        workers=args.workers,
        remote_workers=args.remote_workers,
        html=args.html,
        csv_prefix=args.csv_prefix,
    )
    if args.master_bind:
        host, _, port = (
            args.master_bind.rpartition(":") if ":" in args.master_bind else (args.master_bind, "", "")
        )
        if port and not port.isdigit():
            raise PlanError(f"--master-bind {args.master_bind[:40]!r}: HOST or HOST:PORT")
        options.master_bind, options.master_port = host or "127.0.0.1", int(port or 0)
    if args.users_cap is not None:
        options.users_cap = args.users_cap
    if args.duration_cap is not None:
        options.duration_cap = parse_duration(args.duration_cap)
    if args.duration is not None:
        options.duration = parse_duration(args.duration)
    elif args.requests is None:
        options.duration = DEFAULT_DURATION
    options.check()
    return options


def _error_rate(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        value = float(text.strip().rstrip("%"))
    except ValueError:
        raise PlanError(f"--max-error-rate {text[:20]!r}: a percentage such as 1 or 0.5%") from None
    if not 0 <= value <= 100:
        raise PlanError("--max-error-rate must be between 0 and 100 (percent)")
    return value


def cli_identity(args: argparse.Namespace, child_env: dict[str, str]) -> Identity | None:
    """The command line's auth options as an Identity (None for `--auth none`)."""
    method = base_cli.choose_method(args, default="none")
    if method == "none":
        return None
    fields = base_cli.auth_fields(args, method)
    if args.auth_client_secret:
        fields["client_secret"] = args.auth_client_secret
    return split_identity(method, fields, "default", child_env)


def build_plan(args: argparse.Namespace, session: ExplorerSession, output: base_cli.Output) -> LoadPlan:
    target: str = args.target
    child_env: dict[str, str] = {}
    if target.lower().startswith(("http://", "https://")):
        if args.env or args.var or args.folder:
            raise PlanError("--env, --var and --folder belong to a collection, not a URL")
        spec = base_cli.build_spec(argparse.Namespace(**{**vars(args), "url": target}))
        return plan_for_request(spec, cli_identity(args, child_env), child_env)
    if args.method or args.headers or args.body:
        raise PlanError("-X, -H and -d belong to a URL; a collection's requests say their own")
    path = Path(target)
    if not (path / "collection.yaml").is_file():
        raise PlanError(f"{target}: neither an http(s) URL nor a collection folder (no collection.yaml)")
    from explorer.collection.cli import _learn_secrets
    from explorer.collection.files import CollectionError
    from explorer.collection.runner import RunPlan
    from explorer.collection.storage import FolderStorage, StorageError
    from explorer.collection.variables import parse_assignment

    try:
        cli_vars = dict(parse_assignment(v) for v in args.var)
        run_plan = RunPlan.load(FolderStorage(path), env=args.env, cli_vars=cli_vars, folder=args.folder)
    except (ValueError, CollectionError, StorageError) as error:
        raise PlanError(session.redactor.scrub(str(error))) from None
    _learn_secrets(session, run_plan)
    for error in run_plan.collection.errors:
        output.note(f"error: {error}")
    run_plan.auth_from_command_line = bool(args.auth)
    default: Identity | None
    if args.auth:
        default = cli_identity(args, child_env)
    else:
        ref = run_plan.default_auth()
        default = None
        if ref is not None and ref.method not in ("none", "inherit"):
            fields = identity_fields(ref, run_plan)
            for name, value in base_cli.auth_fields(args, ref.method).items():
                fields[name] = value
            default = split_identity(ref.method, fields, "default", child_env)
    for value in child_env.values():
        session.redactor.add(value)
    return plan_from_collection(run_plan, default, child_env=child_env, redactor=session.redactor)


class _Progress:
    """The progress line: rewritten in place on a terminal, one line every few seconds otherwise."""

    def __init__(self, output: base_cli.Output, started: float, target: float | None) -> None:
        self.output, self.started, self.target = output, started, target
        self.tty = hasattr(output.err, "isatty") and output.err.isatty()
        self.last = 0.0
        self.shown = False
        self.running_since: float | None = None

    def __call__(self, progress: Progress) -> None:
        now = time.monotonic()
        if not self.tty and now - self.last < 2.0:
            return
        self.last = now
        if progress.users and self.running_since is None:
            self.running_since = now  # the duration counts from the first users, after Locust started
        elapsed = now - (self.running_since if self.running_since is not None else self.started)
        line = report.progress_line(progress, elapsed, self.target)
        if self.tty:
            print("\r\x1b[2K" + line, end="", file=self.output.err, flush=True)
            self.shown = True
        else:
            self.output.note(line)

    def end(self) -> None:
        if self.shown:
            print(file=self.output.err, flush=True)


def cmd_load(args: argparse.Namespace, session: ExplorerSession, output: base_cli.Output) -> int:
    try:
        options = options_from(args)
        max_error_rate = _error_rate(args.max_error_rate)
        plan = build_plan(args, session, output)
        if args.export_locustfile:
            write_locustfile(plan, Path(args.export_locustfile), options, session.redactor)
            output.result(f"wrote {args.export_locustfile}: {len(plan.requests)} request(s), {plan.host}")
            return EXIT_OK
        allowlist = session.allowlist or Allowlist.from_env()
        problems = refused_targets(plan, allowlist, deployed=session.trust.deployed)
        restrict_children(plan, session.allowlist)
        if problems:
            for problem in problems:
                output.note(f"error: {problem}")
            return EXIT_USAGE
    except (PlanError, InputError) as error:
        output.note(f"error: {session.redactor.scrub(str(error))}")
        return EXIT_USAGE
    with tempfile.TemporaryDirectory(prefix="explorer-load-") as tmp:
        workdir = Path(tmp)
        try:
            write_locustfile(plan, workdir / "locustfile.py", options, session.redactor)
        except PlanError as error:
            output.note(f"error: {error}")
            return EXIT_USAGE
        return _run(plan, options, workdir, args, session, output, max_error_rate)


def _run(
    plan: LoadPlan,
    options: LoadOptions,
    workdir: Path,
    args: argparse.Namespace,
    session: ExplorerSession,
    output: base_cli.Output,
    max_error_rate: float | None,
) -> int:
    run = LoadRun(workdir / "locustfile.py", options, workdir, plan.host, env=plan.child_env)
    ends = f"{options.duration:g} s" if options.duration else f"{options.requests} requests"
    total_workers = options.workers + options.remote_workers
    workers = f" · master + {total_workers} workers" if total_workers else ""
    paced = f" · paced to {options.rate:g} iterations/s" if options.rate else ""
    output.note(
        f"load {plan.host}: {options.users} users (started at {options.spawn:g}/s), {ends}{workers}{paced} (Locust)"
    )
    previous = signal.getsignal(signal.SIGTERM)

    def on_term(_signum: int, _frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    interrupted = False
    progress = _Progress(output, time.monotonic(), options.duration)
    in_main_thread = _main_thread()
    if in_main_thread:
        signal.signal(signal.SIGTERM, on_term)
    try:
        run.start()
        if options.remote_workers:
            output.note(
                f"waiting for {options.remote_workers} remote worker(s): on each host (the explorer installed, "
                f"the identity's credentials in its environment) run\n  python -m locust -f - --worker "
                f"--master-host {_advertised(options.master_bind)} --master-port {run.port}"
            )
        run.wait(progress)
    except KeyboardInterrupt:
        interrupted = True
        run.stop()
    except PlanError as error:
        output.note(f"error: {error}")
        return EXIT_USAGE
    finally:
        if run.running():
            run.stop()
        if in_main_thread:
            signal.signal(signal.SIGTERM, previous)
        progress.end()
    result = read_result(run)
    return _report(result, plan, options, run, args, session, output, max_error_rate, interrupted)


def _advertised(bind: str) -> str:
    """The master's address as workers should type it."""
    if bind in ("0.0.0.0", "*", "::", ""):
        import socket

        return socket.getfqdn() or "THIS_HOST"
    return bind


def _main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


def _report(
    result: LoadResult,
    plan: LoadPlan,
    options: LoadOptions,
    run: LoadRun,
    args: argparse.Namespace,
    session: ExplorerSession,
    output: base_cli.Output,
    max_error_rate: float | None,
    interrupted: bool,
) -> int:
    for failure in result.auth_failures:
        output.note(f"Could not authenticate as {failure.get('identity')} ({failure.get('method')})")
        for finding in failure.get("findings", []):
            output.note(session.redactor.scrub(f"✗ {finding.get('code')}: {finding.get('message')}"))
            output.note(session.redactor.scrub(f"    fix: {finding.get('fix')}"))
    if result.auth_failures:
        return EXIT_USAGE
    if result.total is None and interrupted:
        output.note("stopped before Locust sent anything: every Locust process of the run was ended")
        return EXIT_FAILED
    if result.total is None:
        tail = [line for line in run.log_text().splitlines() if line.strip()][-5:]
        output.note("error: Locust wrote no statistics; its last lines:")
        for line in tail:
            output.note("  " + session.redactor.scrub(line))
        return EXIT_USAGE
    if interrupted:
        output.note("stopped: every Locust process of the run was ended; the numbers so far:")
    for line in report.summary_lines(result, plan, session.redactor):
        output.result(line)
    failed = report.threshold_failures(result, max_p95_ms=args.max_p95, max_error_rate=max_error_rate)
    for line in failed:
        output.note(line)
    if args.json_file:
        document = report.to_dict(result, plan, options, thresholds=failed, redactor=session.redactor)
        document["stopped"] = interrupted
        try:
            Path(args.json_file).write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
        except OSError as error:
            output.note(f"error: {args.json_file}: cannot write it: {error.strerror or error}")
            return EXIT_USAGE
    if failed or interrupted:
        return EXIT_FAILED
    return EXIT_OK

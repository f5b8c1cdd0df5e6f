"""The benchmarks (docs/BENCH.md), each measured side by side with its baseline in the same run.

    python bench/run.py [--quick] [--json FILE] [--markdown FILE]

Starts its own sandbox (and UI) as child processes on free ports, stops them at the end, and
prints one table: target, measured, baseline, ratio, goal, pass/fail. Machines are noisy, so
every timing is repeated and the two sides alternate; the table shows medians. `--quick` takes
under a minute, the full run a few minutes. Exit status: 0 when every target passed, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import Row, machine, sandbox_process, ui_process


@dataclass(frozen=True)
class Plan:
    """How many repeats each scenario gets."""

    overhead_rounds: int
    concurrency_repeats: int
    large_repeats: int
    ui_repeats: int
    cli_repeats: int
    cli_commands: tuple[str, ...]  # whose `--help` is checked for a Gradio import
    collection_repeats: int = 5  # rounds of the 1,000-request collection run
    load_repeats: int = 4  # pairs of Locust runs (generated locustfile vs minimal HttpUser)
    load_seconds: int = 6
    stream_rounds: int = (
        5  # alternating rounds of the per-event latency (explorer CLI or UI page vs bare requests)
    )
    matrix_repeats: int = 4  # alternating rounds of the 5 x 20 identity matrix vs 100 sends one by one


QUICK = Plan(
    overhead_rounds=40,
    concurrency_repeats=2,
    large_repeats=1,
    ui_repeats=1,
    cli_repeats=2,
    cli_commands=("call",),
    collection_repeats=1,
    load_repeats=2,
    load_seconds=3,
    stream_rounds=2,
    matrix_repeats=2,
)
FULL = Plan(
    overhead_rounds=300,
    concurrency_repeats=7,
    large_repeats=5,
    ui_repeats=9,
    cli_repeats=10,
    cli_commands=("call", "token", "apps", "endpoints", "snippet", "run", "import", "export", "load"),
)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python bench/run.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats: under a minute")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    parser.add_argument("--markdown", metavar="FILE", help="also write the table as Markdown")
    return parser.parse_args(argv)


def guarded(name: str, scenario: Callable[[], Row | list[Row]]) -> list[Row]:
    """A scenario's rows; a scenario that breaks becomes a failed row saying why."""
    print(f"… {name}", file=sys.stderr, flush=True)
    started = time.monotonic()
    try:
        result = scenario()
    except Exception as error:
        traceback.print_exc(file=sys.stderr)
        return [Row(name, "error", "—", "—", "—", False, f"{type(error).__name__}: {error}")]
    print(f"  done in {time.monotonic() - started:.1f} s", file=sys.stderr, flush=True)
    return result if isinstance(result, list) else [result]


def run(plan: Plan) -> list[Row]:
    from bench.collection_run import collection_run
    from bench.concurrency import concurrency
    from bench.large_body import large_body
    from bench.load_run import load_throughput
    from bench.matrix_run import matrix_vs_sequential
    from bench.memory import full_histories, idle_sessions
    from bench.overhead import engine_overhead, token_requests
    from bench.startup import cli_imports, cli_startup, gradio_import, ui_startup
    from bench.streams import event_latency, stream_memory
    from bench.ui_streams import ui_event_latency

    rows: list[Row] = []
    with sandbox_process() as info:
        rows += guarded("engine overhead", lambda: engine_overhead(info, plan.overhead_rounds))
        rows += guarded("token reuse", lambda: token_requests(info))
        with ui_process() as ui_url:
            rows += guarded("concurrency", lambda: concurrency(info, ui_url, plan.concurrency_repeats))
        with ui_process() as ui_url:  # a fresh UI: its memory before and after 100 idle sessions
            rows += guarded("idle sessions", lambda: idle_sessions(info, ui_url))
        rows += guarded("full histories", lambda: full_histories(info))
        rows += guarded("large body", lambda: large_body(info, plan.large_repeats))
        rows += guarded("CLI imports", lambda: cli_imports(info, plan.cli_commands))
        rows += guarded("collection run", lambda: collection_run(info, plan.collection_repeats))
        rows += guarded("load run", lambda: load_throughput(info, plan.load_repeats, plan.load_seconds))
        rows += guarded("identity matrix", lambda: matrix_vs_sequential(info, plan.matrix_repeats))
        rows += guarded("CLI start-up", lambda: cli_startup(info, plan.cli_repeats))
    rows += guarded("stream latency", lambda: event_latency(plan.stream_rounds))
    rows += guarded("stream memory", stream_memory)
    rows += guarded("UI stream latency", lambda: ui_event_latency(plan.stream_rounds))
    rows += guarded("Gradio's import", lambda: gradio_import(plan.cli_repeats))
    rows += guarded("UI start-up", lambda: ui_startup(plan.ui_repeats))
    return rows


HEADERS = ("target", "measured", "baseline", "ratio", "goal", "result")


def cells(row: Row) -> tuple[str, ...]:
    return (row.target, row.measured, row.baseline, row.ratio, row.goal, "pass" if row.passed else "FAIL")


def text_table(rows: list[Row]) -> str:
    table = [HEADERS, *(cells(r) for r in rows)]
    widths = [max(len(line[i]) for line in table) for i in range(len(HEADERS))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip() for line in table]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def markdown_table(rows: list[Row], about: dict[str, object], quick: bool) -> str:
    def line(values: tuple[str, ...]) -> str:
        return "| " + " | ".join(v.replace("|", "\\|") for v in values) + " |"

    header = (
        f"Run `python bench/run.py{' --quick' if quick else ''}` on {about['date']}: "
        f"{about['machine']}, {about['cpu']}, {about['cores']} cores, Python {about['python']} "
        f"({about['system']})."
    )
    table = [line(HEADERS), line(tuple("---" for _ in HEADERS)), *(line(cells(r)) for r in rows)]
    notes = [f"- **{r.target}**: {r.detail}" for r in rows if r.detail]
    return "\n".join([header, "", *table, "", "How each was measured:", "", *notes]) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    about = machine()
    started = time.monotonic()
    rows = run(QUICK if args.quick else FULL)
    elapsed = time.monotonic() - started
    print(text_table(rows))
    print(
        f"\n{about['machine']}, {about['cpu']}, {about['cores']} cores, Python {about['python']}, "
        f"{about['date']}; {'quick' if args.quick else 'full'} run took {elapsed:.0f} s"
    )
    if args.json:
        document = {
            "machine": about,
            "quick": args.quick,
            "seconds": elapsed,
            "rows": [r.as_dict() for r in rows],
        }
        Path(args.json).write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    if args.markdown:
        Path(args.markdown).write_text(markdown_table(rows, about, args.quick), encoding="utf-8")
    return 0 if all(r.passed for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())

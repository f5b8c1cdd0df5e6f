"""The report of a load run: console lines, one JSON document, and the thresholds.

    lines = summary_lines(result, plan)        # what `load` prints at the end
    document = to_dict(result, plan, options)  # `--json F` (and the UI)
    failed = threshold_failures(result, max_p95_ms=…, max_error_rate=…)   # [] when they hold

A burst of 429 or 503 answers is named (rate limited / unavailable) with the Retry-After the
server sent. Every text passes through the caller's redactor.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from explorer.load.plan import LoadPlan
from explorer.load.runner import LoadOptions, Progress
from explorer.load.stats import EntryStats, ErrorRow, LoadResult
from explorer.redact import Redactor

_BURSTS = {429: "rate limited", 503: "unavailable"}
BURST_MIN = 5  # occurrences before a run of 429s / 503s is called a burst


def _ms(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.0f} ms" if value >= 10 else f"{value:.1f} ms"


def progress_line(progress: Progress, elapsed: float, target: float | None) -> str:
    """`12 s/30 s · 20 users · 812 req/s · p50 3 ms · p95 9 ms · 0 failures`."""
    of = f"/{target:.0f} s" if target else " s"
    if not progress.users and not progress.requests:
        return f"{elapsed:.0f} s · starting Locust…"
    rate = f"{100.0 * progress.failures / progress.requests:.1f}%" if progress.requests else "0%"
    return (
        f"{elapsed:.0f}{of} · {progress.users} users · {progress.rps:.0f} req/s · "
        f"p50 {_ms(progress.p50_ms)} · p95 {_ms(progress.p95_ms)} · {progress.requests} requests · "
        f"{progress.failures} failures ({rate})"
    )


def bursts(result: LoadResult) -> list[str]:
    """One line per burst of 429 / 503 answers, with the Retry-After the server asked for."""
    lines = []
    for row in result.errors:
        if row.status in _BURSTS and row.occurrences >= BURST_MIN:
            retry = f", Retry-After: {row.retry_after}" if row.retry_after else ", no Retry-After sent"
            where = ", ".join(row.requests[:3])
            lines.append(
                f"{row.status} burst ({_BURSTS[row.status]}): {row.occurrences} × {row.status} {row.reason} "
                f"[{row.code}] on {where}{retry}"
            )
    return lines


def _entry_line(entry: EntryStats, width: int) -> str:
    p = entry.percentiles_ms
    return (
        f"{entry.name[:width]:<{width}}  {entry.requests:>8}  {entry.failures:>7}  {entry.rps:>8.1f}  "
        f"{_ms(p.get('p50')):>8}  {_ms(p.get('p90')):>8}  {_ms(p.get('p95')):>8}  {_ms(p.get('p99')):>8}  "
        f"{_ms(entry.max_ms):>8}"
    )


def summary_lines(result: LoadResult, plan: LoadPlan, redactor: Redactor | None = None) -> list[str]:
    scrub = redactor.scrub if redactor else (lambda text: text)
    total = result.total
    if total is None:
        return ["no statistics: Locust did not finish a run (see the messages above)"]
    plural = "s" if result.workers != 1 else ""
    where = f" on {result.workers} worker{plural}" if result.workers else ""
    lines = [
        f"{plan.name}: {total.requests} requests in {result.duration_s:.1f} s{where} · "
        f"{total.rps:.1f} req/s · {total.failures} failures ({total.error_rate:.2f}%)",
        f"latency p50 {_ms(total.percentiles_ms['p50'])} · p90 {_ms(total.percentiles_ms['p90'])} · "
        f"p95 {_ms(total.percentiles_ms['p95'])} · p99 {_ms(total.percentiles_ms['p99'])} · "
        f"max {_ms(total.max_ms)}",
    ]
    width = max([len("request"), *(len(e.name) for e in result.entries)])
    width = min(width, 48)
    if result.entries:
        header = (
            f"{'request':<{width}}  {'requests':>8}  {'fails':>7}  {'req/s':>8}  {'p50':>8}  {'p90':>8}  "
            f"{'p95':>8}  {'p99':>8}  {'max':>8}"
        )
        lines += ["", header]
        lines += [_entry_line(e, width) for e in result.entries]
    if result.errors:
        lines += ["", "errors by status: " + ", ".join(f"{k} × {v}" for k, v in result.by_status.items())]
        lines.append("errors by finding: " + ", ".join(f"{k} × {v}" for k, v in result.by_code.items()))
        for row in result.errors:
            status = f"HTTP {row.status} {row.reason}".strip() if row.status else f"no response {row.reason}"
            lines.append(f"  ✗ {row.code}: {row.occurrences} × {status} on {', '.join(row.requests[:3])}")
        lines += [f"  ! {line}" for line in bursts(result)]
    return [scrub(line) for line in lines]


def threshold_failures(
    result: LoadResult, *, max_p95_ms: float | None = None, max_error_rate: float | None = None
) -> list[str]:
    """One line per declared threshold that did not hold ([] when all held or none was declared)."""
    failed = []
    total = result.total
    if total is None:
        return ["no statistics: the thresholds cannot be checked"] if (max_p95_ms or max_error_rate) else []
    p95 = total.percentiles_ms.get("p95")
    if max_p95_ms is not None and p95 is not None and p95 > max_p95_ms:
        failed.append(f"threshold failed: p95 {p95:g} ms > --max-p95 {max_p95_ms:g} ms")
    if max_error_rate is not None and total.error_rate > max_error_rate:
        failed.append(
            f"threshold failed: error rate {total.error_rate:.2f}% > --max-error-rate {max_error_rate:g}%"
        )
    return failed


def _error_dict(row: ErrorRow) -> dict[str, Any]:
    return {
        "code": row.code,
        "status": row.status,
        "reason": row.reason,
        "occurrences": row.occurrences,
        "requests": row.requests,
        "retry_after": row.retry_after,
    }


def to_dict(
    result: LoadResult,
    plan: LoadPlan,
    options: LoadOptions,
    *,
    thresholds: list[str] | None = None,
    redactor: Redactor | None = None,
) -> dict[str, Any]:
    """The JSON report: settings, totals, per request, errors (by status, by code, rows), series."""
    total = result.total
    document: dict[str, Any] = {
        "name": plan.name,
        "source": plan.source,
        "host": plan.host,
        "settings": {
            "users": options.users,
            "spawn_rate": options.spawn,
            "rate": options.rate,
            "duration_s": options.duration,
            "requests": options.requests,
            "workers": options.workers,
            "remote_workers": options.remote_workers,
        },
        "duration_s": result.duration_s,
        "total": asdict(total) if total else None,
        "error_rate": total.error_rate if total else None,
        "requests": [asdict(e) for e in result.entries],
        "errors": {
            "by_status": result.by_status,
            "by_code": result.by_code,
            "rows": [_error_dict(r) for r in result.errors],
            "bursts": bursts(result),
        },
        "series": [asdict(p) for p in result.series],
        "identities_connected": result.connections,
        "thresholds_failed": thresholds or [],
        "ok": total is not None and not thresholds,
    }
    if redactor is not None:
        return _scrubbed(document, redactor)
    return document


def _scrubbed(value: Any, redactor: Redactor) -> Any:
    if isinstance(value, str):
        return redactor.scrub(value)
    if isinstance(value, dict):
        return {k: _scrubbed(v, redactor) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrubbed(v, redactor) for v in value]
    return value

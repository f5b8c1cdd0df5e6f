"""Locust's own statistics of a finished run, read back into plain data.

    result = read_result(run)   # summary.json (written by the locustfile's hooks from Locust's
                                # StatsEntry objects when Locust quits) + `_stats_history.csv`
                                # (Locust's per-second rows) + the hooks' event lines in the logs

Failures carry the explorer's finding code in Locust's error text (`CODE · HTTP 503 Reason ·
Retry-After: 2`, see explorer.load.hooks); they are grouped here by status and by code.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from explorer.load.plan import EVENT_PREFIX
from explorer.load.runner import LoadRun, Progress, read_history

_ERROR = re.compile(
    r"^(?P<code>[A-Z][A-Z_]+) · (?:HTTP (?P<status>\d{3})(?: (?P<reason>[^·]*?))?|no response(?P<why>.*?))"
    r"(?: · Retry-After: (?P<retry>.+))?$"
)
PERCENTILE_KEYS = ("p50", "p90", "p95", "p99")


@dataclass
class EntryStats:
    """Totals and latency of one request (or `Aggregated`), as Locust counted them."""

    name: str
    method: str
    requests: int
    failures: int
    rps: float
    avg_ms: float
    min_ms: float
    max_ms: float
    percentiles_ms: dict[str, float | None]

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EntryStats:
        return cls(
            name=str(data.get("name", "")),
            method=str(data.get("method", "")),
            requests=int(data.get("requests", 0)),
            failures=int(data.get("failures", 0)),
            rps=float(data.get("rps") or 0.0),
            avg_ms=float(data.get("avg_ms") or 0.0),
            min_ms=float(data.get("min_ms") or 0.0),
            max_ms=float(data.get("max_ms") or 0.0),
            percentiles_ms={k: data.get("percentiles_ms", {}).get(k) for k in PERCENTILE_KEYS},
        )

    @property
    def error_rate(self) -> float:
        """Failures per request, in percent."""
        return 100.0 * self.failures / self.requests if self.requests else 0.0


@dataclass
class ErrorRow:
    """Failures of one kind: the finding code, the status (None: no response), how many."""

    code: str
    status: int | None
    reason: str
    occurrences: int
    requests: list[str] = field(default_factory=list)  # the request names that failed so
    retry_after: str | None = None
    text: str = ""


@dataclass
class LoadResult:
    """What a run measured, from Locust's statistics."""

    total: EntryStats | None
    entries: list[EntryStats]
    errors: list[ErrorRow]
    series: list[Progress]
    duration_s: float
    workers: int = 0
    events: list[dict[str, Any]] = field(default_factory=list)

    @property
    def by_status(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for row in self.errors:
            key = str(row.status) if row.status is not None else "no response"
            counts[key] = counts.get(key, 0) + row.occurrences
        return dict(sorted(counts.items(), key=lambda kv: -kv[1]))

    @property
    def by_code(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for row in self.errors:
            counts[row.code] = counts.get(row.code, 0) + row.occurrences
        return dict(sorted(counts.items(), key=lambda kv: -kv[1]))

    @property
    def auth_failures(self) -> list[dict[str, Any]]:
        return [e for e in self.events if e.get("event") == "auth_failed"]

    @property
    def connections(self) -> int:
        """How many times a Locust process connected an identity (one token each)."""
        return sum(1 for e in self.events if e.get("event") == "connected")


def parse_error(text: str) -> tuple[str, int | None, str, str | None]:
    """(code, status, reason, retry_after) of a failure text; ("UNKNOWN", None, text, None) otherwise."""
    match = _ERROR.match(text.strip())
    if match is None:
        return "UNKNOWN", None, text.strip()[:200], None
    status = int(match["status"]) if match["status"] else None
    reason = (match["reason"] or "").strip() if status else (match["why"] or "").strip(" ()")
    return match["code"], status, reason, (match["retry"] or "").strip() or None


def group_errors(raw: list[dict[str, Any]]) -> list[ErrorRow]:
    rows: dict[tuple[str, int | None, str | None], ErrorRow] = {}
    for item in raw:
        text = str(item.get("error", ""))
        code, status, reason, retry = parse_error(text)
        key = (code, status, retry)
        row = rows.get(key)
        if row is None:
            row = rows[key] = ErrorRow(code, status, reason, 0, [], retry, text)
        row.occurrences += int(item.get("occurrences", 0))
        name = str(item.get("name", ""))
        if name and name not in row.requests:
            row.requests.append(name)
    return sorted(rows.values(), key=lambda r: -r.occurrences)


def read_events(log_text: str) -> list[dict[str, Any]]:
    events = []
    for line in log_text.splitlines():
        _, marker, rest = line.partition(EVENT_PREFIX)
        if not marker:
            continue
        try:
            events.append(json.loads(rest))
        except ValueError:
            continue
    return events


def read_result(run: LoadRun) -> LoadResult:
    """The run's statistics (an empty result when Locust wrote none, e.g. it failed to start)."""
    events = read_events(run.log_text())
    series = read_history(Path(run.csv_prefix + "_stats_history.csv"))
    try:
        summary = json.loads(run.summary_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        summary = None
    if not isinstance(summary, dict):
        return LoadResult(None, [], [], series, 0.0, run.options.workers + run.options.remote_workers, events)
    total = EntryStats.from_dict(summary.get("total", {}))
    entries = [EntryStats.from_dict(e) for e in summary.get("entries", [])]
    start = float(summary.get("start_time") or 0.0)
    last = float(summary.get("last_request_timestamp") or start)
    return LoadResult(
        total,
        entries,
        group_errors(list(summary.get("errors", []))),
        series,
        max(0.0, last - start),
        run.options.workers + run.options.remote_workers,
        events,
    )

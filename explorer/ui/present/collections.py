"""The Collections sidebar: the collection as a filterable tree, and a run's rows as they arrive."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from html import escape
from typing import Any

import pandas as pd

from explorer.collection.model import Collection, Folder, Request
from explorer.ui.present.basics import status_class

TREE_COLUMNS = ["Method", "Request"]
RUN_COLUMNS = ["", "Request", "Status", "ms", "✓"]


@dataclass(frozen=True)
class TreeRow:
    """One row of the tree: a folder (run it) or a request (open it)."""

    kind: str  # "folder" | "request"
    path: str  # folder path or request file, relative to the collection
    label: str
    method: str = ""
    depth: int = 0
    trail: tuple[str, ...] = ()


def tree_rows(collection: Collection, query: str = "") -> list[TreeRow]:
    """Folders and requests depth first in the collection's order; a filter keeps the matching
    requests and the folders they sit in."""
    words = (query or "").lower().split()
    rows: list[TreeRow] = []

    def walk(folder: Folder, depth: int, trail: tuple[str, ...]) -> list[TreeRow]:
        out: list[TreeRow] = []
        for item in folder.items:
            if isinstance(item, Folder):
                inner = walk(item, depth + 1, (*trail, item.name))
                if inner or not words:
                    out.append(TreeRow("folder", item.path, item.name, "", depth, (*trail, item.name)))
                    out.extend(inner)
            elif _matches(item, trail, words):
                out.append(TreeRow("request", item.path, item.name, item.method.upper(), depth, trail))
        return out

    rows.extend(walk(collection.root, 0, ()))
    return rows


def _matches(request: Request, trail: tuple[str, ...], words: list[str]) -> bool:
    text = " ".join([request.method, request.name, request.url, *trail]).lower()
    return all(w in text for w in words)


def tree_frame(rows: Iterable[TreeRow]) -> pd.DataFrame:
    """The tree as the sidebar's table (HTML cells: a method pill, the name indented)."""
    data = []
    for r in rows:
        pad = f'<span class="indent" style="padding-left:{12 * r.depth}px"></span>'
        if r.kind == "folder":
            data.append(("", f'{pad}<span class="folder-row">▾ {escape(r.label)}</span>'))
        else:
            pill = f'<span class="pill m-{escape(r.method.lower())}">{escape(r.method)}</span>'
            data.append((pill, f"{pad}{escape(r.label)}"))
    return pd.DataFrame(data, columns=TREE_COLUMNS)


def delete_question(row: TreeRow, collection: Collection) -> str:
    """Delete…'s confirmation: what goes, in words (a folder says how many requests go with it)."""
    if row.kind == "folder":
        inside = [r for _trail, r in collection.requests() if r.path.startswith(row.path + "/")]
        n = len(inside)
        what = f"the folder <b>{escape(row.label)}</b> and its {n} request{'s' if n != 1 else ''}"
    else:
        what = f"the request <b>{escape(row.label)}</b>"
    return (
        f'<div class="delete-question" role="alert">Delete {what}? '
        f'<div class="muted small"><code>{escape(row.path)}</code> goes from the collection; '
        "this cannot be undone.</div></div>"
    )


def run_frame(results: Iterable[Any], total: int | None = None) -> pd.DataFrame:
    """A run's rows as they arrive: ✓/✗, the request, its status, time, checks and top finding codes."""
    data = []
    for r in results:
        mark = "○" if r.skipped else "✓" if r.passed else "✗"
        status = r.status
        badge = (
            f'<span class="badge small {status_class(status)}">{status}</span>'
            if status is not None
            else f'<span class="badge small s-err">{"timeout" if _timed_out(r) else "—"}</span>'
        )
        held = sum(o.passed for o in r.outcomes)
        checks = f"{held}/{len(r.outcomes)}" if r.outcomes else ""
        codes = " ".join(sorted({f.code for f in r.findings}))[:60]
        name = escape(r.full_name) + (f'<div class="run-codes">{escape(codes)}</div>' if codes else "")
        if r.error and not r.passed:
            name += f'<div class="run-error">{escape(r.error[:160])}</div>'
        ms = f"{r.elapsed_ms:.0f}" if r.elapsed_ms is not None else ""
        data.append((mark, name, badge, ms, checks))
    return pd.DataFrame(data, columns=RUN_COLUMNS)


def _timed_out(result: Any) -> bool:
    return any(f.code == "TIMEOUT" for f in result.findings)


def run_summary(results: list[Any], total: int, done: bool, seconds: float) -> str:
    passed = sum(r.passed for r in results)
    failed = sum(not r.passed and not r.skipped for r in results)
    state = "Done" if done else "Running…"
    cls = "ok" if done and not failed else "bad" if failed else ""
    return (
        f'<div class="run-summary {cls}"><b>{state}</b> {len(results)}/{total} · '
        f'<span class="ok-text">{passed} passed</span> · <span class="bad-text">{failed} failed</span>'
        f" · {seconds:.1f} s</div>"
    )


def run_results_summary(results: Iterable[Any]) -> list[dict[str, Any]]:
    """The run's rows as plain data, for scripts (run_data)."""
    return [
        {
            "name": r.full_name,
            "method": r.method,
            "status": r.status,
            "passed": r.passed,
            "skipped": r.skipped,
            "elapsed_ms": r.elapsed_ms,
            "findings": [f.code for f in r.findings],
            "failed": [str(o) for o in r.failed_outcomes],
            "error": r.error,
        }
        for r in results
    ]

"""The Matrix view's HTML: the grid (rows = requests, columns = identities), the run's summary line,
the cell picker's choices and a comparison of two cells. Pure functions of the engine's `Matrix`
(explorer.collection.matrix) and `Comparison` (explorer.collection.compare).

Every cell says what it means in text and an icon, not only in colour: ✓ pass, ⊘ refused as
expected, ! surprise (the workspace predicted otherwise), ✗ an expectation failed or an error,
… waiting. Everything from the network or a file is escaped.
"""

from __future__ import annotations

import html
import json
from typing import Any

from explorer.collection.compare import Comparison
from explorer.collection.matrix import STATE_LABELS, Cell, Matrix, cell_state
from explorer.model import Connection
from explorer.textview import escape_controls


def esc(value: Any) -> str:
    return html.escape(escape_controls(str(value)))


def cell_key(row: int, col: int) -> str:
    return f"{row}:{col}"


def parse_cell_key(text: str) -> tuple[int, int] | None:
    """ "r:c" (or "r:c:nonce", as the page sends it) → (r, c); None for anything else."""
    parts = str(text or "").split(":")
    try:
        return int(parts[0]), int(parts[1])
    except (ValueError, IndexError):
        return None


def cell_detail(cell: Cell) -> list[str]:
    """The lines under a cell's status: top finding, time, what was predicted or expected, who the app saw."""
    lines = []
    top = " · ".join(
        v
        for v in (cell.codes[0] if cell.codes else "", f"{cell.elapsed_ms:.0f} ms" if cell.elapsed_ms else "")
        if v
    )
    if top:
        lines.append(top)
    if cell.expected is not None:
        lines.append(f"expected {cell.expected}")
    elif cell.predicted is not None:
        lines.append("predicted " + ("pass" if cell.predicted else "refusal"))
    if cell.seen:
        lines.append(f"app saw: {cell.seen}")
    if cell.error:
        lines.append(cell.error[:120])
    return lines


def _cell_html(matrix: Matrix, row: int, col: int, selected: set[str]) -> str:
    cell = matrix.cells[row][col]
    state = cell_state(cell)
    mark, label = STATE_LABELS[state]
    status = str(cell.status) if cell.status is not None else "—"
    detail = cell_detail(cell)
    key = cell_key(row, col)
    aria = f"{matrix.requests[row]} as {matrix.identities[col]}: {label}, status {status}"
    if detail:
        aria += ", " + ", ".join(detail)
    chosen = " mx-selected" if key in selected else ""
    lines = "".join(f'<span class="mx-line">{esc(line)}</span>' for line in detail)
    return (
        f'<td class="mx-td"><button type="button" class="mx-cell mx-{state}{chosen}" data-cell="{key}" '
        f'aria-label="{esc(aria)}" title="Open this exchange in a request tab">'
        f'<span class="mx-head"><span class="mx-mark" aria-hidden="true">{mark}</span> '
        f'<span class="mx-status">{esc(status)}</span> <span class="mx-label">{esc(label)}</span></span>'
        f"{lines}</button></td>"
    )


def _column_head(name: str, connection: Connection | None, builtin: dict[str, str]) -> str:
    if name in builtin:
        who = builtin[name]
    elif connection is None:
        who = "no token"
    elif not connection.ok:
        who = "not connected"
    else:
        who = f"{connection.auth.identity or '?'} ({connection.auth.method})"
    return (
        f'<th scope="col"><span class="mx-who">{esc(name)}</span><span class="mx-line">{esc(who)}</span></th>'
    )


def grid_html(
    matrix: Matrix | None, selected: set[str] | None = None, builtin: dict[str, str] | None = None
) -> str:
    """The grid as a table of buttons (a click opens the cell's exchange); `selected`: compared cells."""
    if matrix is None:
        return '<div class="muted small">Pick identities and requests, then Run.</div>'
    selected = selected or set()
    builtin = builtin or {}
    head = "".join(_column_head(n, matrix.connections.get(n), builtin) for n in matrix.identities)
    rows = []
    for r, name in enumerate(matrix.requests):
        cells = "".join(_cell_html(matrix, r, c, selected) for c in range(len(matrix.identities)))
        rows.append(f'<tr><th scope="row" class="mx-request">{esc(name)}</th>{cells}</tr>')
    legend = " · ".join(
        f'<span class="mx-legend mx-{k}"><span aria-hidden="true">{m}</span> {esc(label)}</span>'
        for k, (m, label) in STATE_LABELS.items()
        if k != "pending"
    )
    return (
        '<div class="mx-wrap"><table class="mx-grid" aria-label="Identity matrix: rows are requests, '
        f'columns identities"><thead><tr><th scope="col">request</th>{head}</tr></thead>'
        f'<tbody>{"".join(rows)}</tbody></table><div class="mx-legend-row small">{legend}</div></div>'
    )


def counts(matrix: Matrix) -> dict[str, int]:
    found = {key: 0 for key in STATE_LABELS}
    for row in matrix.cells:
        for cell in row:
            found[cell_state(cell)] += 1
    return found


def summary_html(matrix: Matrix | None, running: bool, seconds: float, note: str = "") -> str:
    """One line: how many cells are done, how many pass / are refused / surprise / fail."""
    if matrix is None:
        return f'<div class="muted small">{esc(note)}</div>' if note else ""
    found = counts(matrix)
    total = sum(found.values())
    done = total - found["pending"]
    if running:
        head = f"Running: {done} of {total} cells ({seconds:.1f} s)"
    else:
        verdict = "PASSED" if matrix.passed else "FAILED"
        head = f"{verdict}: {total} cells in {seconds:.1f} s"
    parts = [
        f"{STATE_LABELS[k][0]} {found[k]} {STATE_LABELS[k][1]}"
        for k in STATE_LABELS
        if k != "pending" and found[k]
    ]
    tail = f' <span class="muted">{esc(note)}</span>' if note else ""
    return f'<div class="mx-summary" role="status">{esc(head)} · {esc(" · ".join(parts) or "nothing yet")}{tail}</div>'


def matrix_summary(matrix: Matrix) -> dict[str, Any]:
    """The grid as plain data for scripts (the `matrix --json` shape, each cell with its meaning)."""
    data = matrix.as_dict()
    for row, cells in zip(matrix.cells, data["cells"], strict=True):
        for cell, shown in zip(row, cells, strict=True):
            shown["result"] = cell_state(cell)
    return data


def cell_choices(matrix: Matrix | None) -> list[tuple[str, str]]:
    """The compare pickers' choices: "request × identity" → "r:c"."""
    if matrix is None:
        return []
    return [
        (f"{name} × {identity}", cell_key(r, c))
        for r, name in enumerate(matrix.requests)
        for c, identity in enumerate(matrix.identities)
    ]


def _value(value: Any) -> str:
    if value is None:
        return "null"
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def comparison_html(c: Comparison) -> str:
    """Status, the headers that differ, and the body's differences, left beside right."""

    def shown(value: Any, present: bool) -> str:
        return esc((_value(value) if present else "—")[:300])

    def row(
        what: str, left: Any, right: Any, differs: bool, present: tuple[bool, bool] = (True, True)
    ) -> str:
        mark = '<span class="mx-diff">≠</span> ' if differs else '<span class="muted">=</span> '
        return (
            f'<tr><th scope="row">{mark}{esc(what)}</th><td><code>{shown(left, present[0])}</code></td>'
            f"<td><code>{shown(right, present[1])}</code></td></tr>"
        )

    rows = [
        row(
            "status",
            c.status[0],
            c.status[1],
            not c.same_status,
            (c.status[0] is not None, c.status[1] is not None),
        )
    ]
    rows += [
        row(f"header {h.name}", h.left, h.right, True, (h.left is not None, h.right is not None))
        for h in c.header_changes
    ]
    rows += [
        row(f"{d.kind} {d.path}", d.left, d.right, True, (d.kind != "added", d.kind != "removed"))
        for d in c.body
    ]
    if c.truncated:
        rows.append('<tr><td colspan="3" class="muted">… more differences not shown</td></tr>')
    same_headers = sum(1 for h in c.headers if h.same)
    verdict = (
        "The same answer (status, headers and body)."
        if c.identical
        else f"{len(c.header_changes)} header(s) and {len(c.body)} body difference(s); "
        f"{same_headers} header(s) the same."
    )
    return (
        f'<div class="mx-compare"><div class="small">{esc(verdict)}</div>'
        f'<table class="mx-compare-table"><thead><tr><th scope="col"></th><th scope="col">{esc(c.left)}</th>'
        f'<th scope="col">{esc(c.right)}</th></tr></thead><tbody>{"".join(rows)}</tbody></table></div>'
    )

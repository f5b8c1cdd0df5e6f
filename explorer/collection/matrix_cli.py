"""`python -m explorer matrix PATH --as NAME [--as NAME]… [--env E] [--json] [--junit F] [--markdown F]`.

Exit 0 when every expectation holds (with none declared: every prediction), 1 otherwise, 2 for
usage errors and broken files.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from explorer.collection.compare import Comparison, compare, comparison_markdown
from explorer.collection.files import CollectionError
from explorer.collection.matrix import (
    Identity,
    Matrix,
    connect_identity,
    grid_markdown,
    grid_svg,
    grid_text,
    run_matrix,
)
from explorer.collection.matrix_apps import DEFAULT_PATH, apps_plan
from explorer.collection.runner import RunPlan
from explorer.collection.storage import FolderStorage
from explorer.collection.variables import parse_assignment
from explorer.parse import InputError

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def add_matrix_command(commands: Any) -> dict[str, Any]:
    parser = commands.add_parser("matrix", help="send a collection as several identities, side by side")
    parser.add_argument(
        "path", metavar="PATH", nargs="?", help="the collection folder (identities in identities/NAME.yaml)"
    )
    parser.add_argument("--as", dest="identities", action="append", default=[], metavar="NAME",
                        help="an identity (identities/NAME.yaml, app: the app's own service principal, "
                             "or none); repeat")  # fmt: skip
    parser.add_argument("--apps", nargs="?", const=DEFAULT_PATH, metavar="API_PATH",
                        help=f"a row per workspace app instead: GET <app>API_PATH (default {DEFAULT_PATH})")  # fmt: skip
    parser.add_argument("--svg", metavar="FILE", help="write the grid as an SVG picture (slides)")
    parser.add_argument("--compare", metavar="REQUEST:A,B",
                        help="two identities' answers to one request side by side (status, headers, JSON diff)")  # fmt: skip
    parser.add_argument("--env", metavar="NAME", help="environment (environments/NAME.yaml)")
    parser.add_argument("--var", action="append", default=[], metavar="K=V", help="variable (repeat)")
    parser.add_argument("--folder", metavar="F", help="one folder only")
    parser.add_argument("--parallel", type=int, default=8, help="cells sent at once (default 8)")
    parser.add_argument("--json", action="store_true", help="print the grid as JSON on stdout")
    parser.add_argument("--junit", metavar="FILE", help="write JUnit XML (a testcase per cell)")
    parser.add_argument("--markdown", metavar="FILE", help="write the grid as Markdown")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds per request (default 30)")
    parser.add_argument("--debug", action="store_true", help="debug logging (secrets redacted)")
    parser.add_argument("--no-retry", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--auth", help=argparse.SUPPRESS)  # identities come from files
    return {"matrix": cmd_matrix}


def cmd_matrix(args: argparse.Namespace, _session: Any, output: Any) -> int:
    if not args.identities:
        output.note("error: name at least one identity: --as NAME (identities/NAME.yaml) [--as NAME]…")
        return EXIT_USAGE
    if not args.path and not args.apps:
        output.note("error: name the collection folder (PATH), or --apps for a row per workspace app")
        return EXIT_USAGE
    timeout = min(args.timeout, 10.0)
    try:
        wanted = parse_compare(args.compare, args.identities) if args.compare else None
        cli_vars = dict(parse_assignment(v) for v in args.var)
        if args.apps:
            matrix = _apps_matrix(args, cli_vars, timeout)
        else:
            plan = RunPlan.load(FolderStorage(args.path), env=args.env, cli_vars=cli_vars, folder=args.folder)
            matrix = run_matrix(plan, args.identities, parallel=args.parallel, timeout=timeout)
    except (CollectionError, InputError, ValueError) as error:
        output.note(f"error: {error}")
        return EXIT_USAGE
    for name, connection in matrix.connections.items():
        if connection is not None and not connection.ok:
            output.note(
                f"{name}: not connected: {connection.findings[0].message if connection.findings else '?'}"
            )
    try:
        comparison = compare_cells(matrix, *wanted) if wanted else None
    except InputError as error:
        output.note(f"error: {error}")
        return EXIT_USAGE
    if args.json:
        document = matrix.as_dict()
        if comparison is not None:
            document["comparison"] = comparison.as_dict()
        output.json(document)
    else:
        output.result(grid_text(matrix))
        if comparison is not None:
            output.result("\n" + comparison_markdown(comparison).rstrip("\n"))
        surprises = sum(c.surprise for row in matrix.cells for c in row)
        failed = sum(not c.ok for row in matrix.cells for c in row)
        output.note(
            f"{'PASSED' if matrix.passed else 'FAILED'}: {failed} cell(s) failed, {surprises} surprise(s)"
        )
    if args.markdown:
        Path(args.markdown).write_text(grid_markdown(matrix), encoding="utf-8")
    if args.junit:
        Path(args.junit).write_text(junit_xml(matrix), encoding="utf-8")
    if args.svg:
        Path(args.svg).write_text(grid_svg(matrix), encoding="utf-8")
    return EXIT_OK if matrix.passed else EXIT_FAILED


def parse_compare(text: str, identities: list[str]) -> tuple[str, str, str]:
    """`REQUEST:A,B` → (request, A, B); both identities must be among the --as names."""
    request, colon, pair = text.rpartition(":")
    names = [n.strip() for n in pair.split(",")]
    if not colon or not request.strip() or len(names) != 2 or not all(names):
        raise InputError(f"--compare takes REQUEST:IDENTITY,IDENTITY (got {text!r})")
    unknown = [n for n in names if n not in identities]
    if unknown:
        raise InputError(f"--compare names {unknown[0]!r}, which is not one of the --as identities")
    return request.strip(), names[0], names[1]


def compare_cells(matrix: Matrix, request: str, left: str, right: str) -> Comparison:
    """Two cells of one row, compared (explorer.collection.compare)."""
    if request not in matrix.requests:
        raise InputError(f"--compare: no request {request!r} (requests: {', '.join(matrix.requests)})")
    row = matrix.cells[matrix.requests.index(request)]
    a, b = (row[matrix.identities.index(name)] for name in (left, right))
    return compare((f"{request} × {left}", a.exchange), (f"{request} × {right}", b.exchange))


def _apps_matrix(args: argparse.Namespace, cli_vars: dict[str, str], timeout: float) -> Matrix:
    """--apps: the identities connect first; the first that may list the workspace's apps lists them."""
    from explorer.collection.model import Collection
    from explorer.collection.variables import Scope

    if args.path:
        files = RunPlan.load(FolderStorage(args.path), env=args.env, cli_vars=cli_vars)
    else:  # no folder: only the built-in identities (app, none)
        files = RunPlan(Collection("identities"), None, Scope([{}, {}, {}, {}]), {})
    identities: dict[str, Identity] = {}
    try:
        for name in args.identities:
            identities[name] = connect_identity(files, name, timeout)
        apps: list[Any] = []
        for identity in identities.values():
            if identity.connection is not None and identity.connection.ok:
                apps, _findings = identity.session.list_apps()
                if apps:
                    break
        plan = apps_plan(apps, args.apps)
        return run_matrix(plan, args.identities, parallel=args.parallel, timeout=timeout, given=identities)
    finally:
        for identity in identities.values():
            identity.session.close()


def junit_xml(matrix: Matrix) -> str:
    from xml.sax.saxutils import escape, quoteattr

    cases = []
    for name, row in zip(matrix.requests, matrix.cells, strict=True):
        for cell in row:
            case = f"<testcase classname={quoteattr('matrix.' + cell.identity)} name={quoteattr(name)}"
            time = (cell.elapsed_ms or 0) / 1000
            if cell.ok:
                cases.append(f'{case} time="{time:.3f}"/>')
                continue
            why = (
                f"expected {cell.expected}, got {cell.status}"
                if cell.expected is not None
                else cell.error
                or f"surprise: predicted {'pass' if cell.predicted else 'refusal'}, got {cell.status}"
            )
            cases.append(
                f'{case} time="{time:.3f}"><failure message={quoteattr(why)}>{escape(", ".join(cell.codes))}</failure></testcase>'
            )
    failures = sum(not c.ok for row in matrix.cells for c in row)
    total = sum(len(row) for row in matrix.cells)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<testsuite name="identity matrix" tests="{total}" failures="{failures}" errors="0">'
        + "".join(cases)
        + "</testsuite>\n"
    )

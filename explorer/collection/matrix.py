"""The identity matrix: every request of a collection sent as every identity, side by side, with
what the workspace predicts beside what the app answered.

Identities are files like environments (`identities/<name>.yaml`: `auth` with its non-secret
fields, `variables`); secrets come from the environment, `.env` or a prompt, as for `run`. Each
identity gets one `ExplorerSession`, connected once (its token is reused for all its cells); the
cells run in parallel with a bound.

For each cell the prediction comes from the workspace: the app's state, its access control list
(read by any identity of the matrix that may read it: CAN_MANAGE), and the identity's token scopes
against the app's required ones. A cell is a *surprise* when the answer disagrees (a permission
the workspace grants but the app refuses, or the reverse). A request may declare what each
identity must get (`expect: {bob: 403, demo-sp: 2xx}`): then that is the test.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Any

from explorer.collection.assertions import status_matches
from explorer.collection.files import load_environment
from explorer.collection.identities import connect_ref
from explorer.collection.model import Request
from explorer.collection.runner import RunPlan, build_spec
from explorer.collection.variables import Scope, UndefinedVariable
from explorer.model import AppSummary, Connection, Exchange, WorkspaceFacts
from explorer.parse import InputError, origin_key
from explorer.session import ExplorerSession
from explorer.tokens import PLATFORM_SCOPES

IDENTITIES = "identities"
BUILTIN_APP = "app"  # without identities/app.yaml: the `app` method (the app's own service principal)
BUILTIN_USER = "user"  # the signed-in user: only deployed, where the platform forwards the token
REFUSED = (302, 401, 403)  # the gateway's "not you" answers
PARALLEL = 8


@dataclass
class Identity:
    name: str
    session: ExplorerSession
    connection: Connection | None
    scope: Scope

    @property
    def names(self) -> list[str]:
        """Who this identity is, as an access control list names principals."""
        c = self.connection
        if c is None or not c.ok:
            return []
        token = c.token
        values = [c.auth.identity, token.subject if token else None, token.client_id if token else None]
        return [v for v in dict.fromkeys(values) if v]


@dataclass
class Cell:
    identity: str
    request: str
    status: int | None = None
    codes: list[str] = field(default_factory=list)
    predicted: bool | None = None  # True: the workspace says it should pass; None: it cannot say
    granted: bool | None = None  # the gateway let the call through (not 302/401/403)
    expected: Any = None  # the request's `expect` for this identity
    elapsed_ms: float | None = None
    error: str | None = None
    seen: str | None = None  # who the target says called it (its identity echo), e.g. an app-to-app hop
    done: bool = False  # sent (or refused before sending); False while the matrix runs
    exchange: Exchange | None = field(default=None, repr=False)

    @property
    def surprise(self) -> bool:
        return self.predicted is not None and self.granted is not None and self.predicted != self.granted

    @property
    def ok(self) -> bool:
        if self.expected is not None:
            return self.status is not None and status_matches(self.expected, self.status)
        return self.error is None and not self.surprise

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "codes": self.codes,
            "predicted": self.predicted,
            "granted": self.granted,
            "expected": self.expected,
            "elapsed_ms": None if self.elapsed_ms is None else round(self.elapsed_ms, 1),
            "surprise": self.surprise,
            "error": self.error,
            "seen": self.seen,
            "ok": self.ok,
        }


@dataclass
class Matrix:
    requests: list[str]
    identities: list[str]
    cells: list[list[Cell]]  # rows = requests, columns = identities
    connections: dict[str, Connection | None] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return all(cell.ok for row in self.cells for cell in row)

    def as_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "identities": self.identities,
            "cells": [[cell.as_dict() for cell in row] for row in self.cells],
            "ok": self.passed,
        }


def load_identity(plan: RunPlan, name: str) -> tuple[Any, Scope]:
    """The identity file's auth reference and the scope its variables add (CollectionError if absent)."""
    if plan.storage is None:
        raise InputError("identities come from a collection folder")
    found = load_environment(plan.storage, name, IDENTITIES)
    layers = [*plan.scope.layers[:2], found.variables, *plan.scope.layers[2:]]
    return found.auth, Scope(layers, environ=plan.scope.environ)


def run_matrix(
    plan: RunPlan,
    names: list[str],
    *,
    parallel: int = PARALLEL,
    timeout: float = 10.0,
    on_cell: Callable[[Cell], None] | None = None,
    on_start: Callable[[Matrix], None] | None = None,
    prompt: Callable[[str], str | None] | None = None,
    given: Mapping[str, Identity] | None = None,
    trust: Any = None,
) -> Matrix:
    """Send every request of `plan` as every identity in `names` (files under identities/).

    `given`: identities already connected (the UI's own connection, this app, the signed-in user),
    used instead of files and not closed here. `on_start` gets the empty grid before the first send;
    `on_cell` each cell as it finishes (in finishing order). `trust`: the sessions' (deployed rules).
    """
    given = dict(given or {})
    identities: list[Identity] = []
    try:
        for name in names:
            identities.append(
                given[name] if name in given else connect_identity(plan, name, timeout, prompt, trust)
            )
        chosen = plan.requests()
        rows = [[Cell(i.name, r.name, expected=r.expect.get(i.name)) for i in identities] for _t, r in chosen]
        matrix = Matrix(
            [r.name for _t, r in chosen],
            [i.name for i in identities],
            rows,
            {i.name: i.connection for i in identities},
        )
        if on_start is not None:
            on_start(matrix)
        jobs = [
            (row[c], request, identities[c])
            for row, (_t, request) in zip(rows, chosen, strict=True)
            for c in range(len(identities))
        ]
        with ThreadPoolExecutor(max_workers=max(1, parallel)) as pool:
            futures = [pool.submit(_send, plan, *job) for job in jobs]
            for future in as_completed(futures):
                cell = future.result()
                if on_cell is not None:
                    on_cell(cell)
        _predict(rows, identities)
        return matrix
    finally:
        for identity in identities:
            if identity.name not in given:
                identity.session.close()


def given_identity(name: str, session: ExplorerSession, plan: RunPlan) -> Identity:
    """An identity from a session already connected (None connection: sent without a token)."""
    return Identity(name, session, session.connection, plan.scope)


def connect_identity(
    plan: RunPlan,
    name: str,
    timeout: float = 10.0,
    prompt: Callable[[str], str | None] | None = None,
    trust: Any = None,
) -> Identity:
    """`none`, the built-in `app`, or identities/NAME.yaml of the plan's collection, connected once."""
    if name == BUILTIN_USER and not _has_identity_file(plan, name):
        raise InputError(
            "identity 'user' (the signed-in user's forwarded token) exists only in the deployed "
            "explorer's Matrix view; here, name an identity file (identities/NAME.yaml)"
        )
    session = ExplorerSession(trust=trust, timeout=timeout)
    if name == "none":
        return Identity(name, session, None, plan.scope)
    if name == BUILTIN_APP and not _has_identity_file(plan, name):
        return Identity(name, session, session.connect("app", {}), plan.scope)
    ref, scope = load_identity(plan, name)
    if ref is None:
        raise InputError(f"identity {name!r} names no auth method (identities/{name}.yaml needs `auth:`)")
    return Identity(name, session, connect_ref(session, ref, scope, plan.dotenv, prompt=prompt), scope)


def _has_identity_file(plan: RunPlan, name: str) -> bool:
    from explorer.collection.files import CollectionError

    if plan.storage is None:
        return False
    try:
        load_environment(plan.storage, name, IDENTITIES)
    except CollectionError:
        return False
    return True


def _send(plan: RunPlan, cell: Cell, request: Request, identity: Identity) -> Cell:
    try:
        return _send_cell(plan, cell, request, identity)
    finally:
        cell.done = True


def _send_cell(plan: RunPlan, cell: Cell, request: Request, identity: Identity) -> Cell:
    if identity.connection is not None and not identity.connection.ok:
        cell.error = "not connected: " + "; ".join(f.message for f in identity.connection.findings[:1])
        cell.codes = [f.code for f in identity.connection.findings]
        return cell
    try:
        spec = build_spec(request, plan, identity.scope, identity.session.redactor.add)
    except (UndefinedVariable, InputError) as error:
        cell.error = str(error)
        return cell
    exchange = identity.session.send(spec)
    cell.exchange = exchange
    cell.codes = [f.code for f in exchange.findings if f.severity != "info"]
    if exchange.response is not None:
        cell.status = exchange.response.status
        cell.elapsed_ms = exchange.response.elapsed_ms
        cell.granted = cell.status not in REFUSED
        cell.seen = forwarded_identity(exchange)
    else:
        cell.error = exchange.error
    return cell


def _predict(rows: list[list[Cell]], identities: list[Identity]) -> None:
    """What the workspace says each cell should get, shared across identities where it can."""
    acl: dict[str, WorkspaceFacts] = {}  # app origin -> facts with a readable ACL, from any identity
    apps: dict[str, AppSummary] = {}  # app origin -> the app as any identity sees it (its state)
    for row in rows:
        for cell, identity in zip(row, identities, strict=True):
            if cell.exchange is None:
                continue
            url = cell.exchange.request.url
            facts = identity.session.facts_for(url)
            key = origin_key(url)
            if facts is not None and facts.permissions is not None:
                acl.setdefault(key, facts)
            if facts is not None and facts.app is not None:
                apps.setdefault(key, facts.app)
    for row in rows:
        for cell, identity in zip(row, identities, strict=True):
            if cell.exchange is not None:
                key = origin_key(cell.exchange.request.url)
                cell.predicted = _prediction(cell.exchange, identity, acl.get(key), apps.get(key))


def _prediction(
    exchange: Exchange, identity: Identity, shared: WorkspaceFacts | None, known: AppSummary | None = None
) -> bool | None:
    facts = identity.session.facts_for(exchange.request.url) if identity.connection is not None else None
    app = (facts.app if facts else None) or (shared.app if shared else None) or known
    if app is not None and (app.state or "RUNNING") != "RUNNING":
        return None  # a stopped app answers 404 to everyone: not an access question
    if identity.connection is None:
        return False  # no token at all: the gateway sends the caller to sign in
    if app is None:
        return None
    token = identity.connection.token
    required = [s for s in (app.effective_user_api_scopes or app.user_api_scopes) if s not in PLATFORM_SCOPES]
    if token is not None and any(s not in token.scopes for s in required):
        return False
    source = facts if facts is not None and facts.permissions is not None else shared
    if source is None:
        return None
    return source.can_use(identity.names, facts.caller_groups if facts is not None else None)


def forwarded_identity(exchange: Exchange) -> str | None:
    """Who the target app says called it, from an identity echo (`/api/whoami` of the sample app and
    of the explorer: the gateway's X-Forwarded-* headers): the e-mail or user, and whether the
    caller's token was forwarded too. None when the answer is no such echo."""
    response = exchange.response
    body = response.json if response is not None else None
    if not isinstance(body, dict) or not ({"email", "user"} <= set(body)):
        return None
    who = body.get("email") or body.get("preferred_username") or body.get("user")
    if not isinstance(who, str) or not who:
        return "nobody forwarded"
    token = body.get("access_token")
    return f"{who} + user token" if token else who


def grid_text(matrix: Matrix) -> str:
    """The grid for a terminal: one row per request, one column per identity."""
    head = ["request", *matrix.identities]
    body = [
        [name, *(_cell_text(c) for c in row)] for name, row in zip(matrix.requests, matrix.cells, strict=True)
    ]
    widths = [max(len(r[i]) for r in [head, *body]) for i in range(len(head))]
    lines = ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip() for r in [head, *body]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def grid_markdown(matrix: Matrix) -> str:
    head = "| request | " + " | ".join(matrix.identities) + " |"
    rule = "|---" * (len(matrix.identities) + 1) + "|"
    rows = [
        "| "
        + name.replace("|", "\\|")
        + " | "
        + " | ".join(_cell_text(c).replace("|", "\\|") for c in row)
        + " |"
        for name, row in zip(matrix.requests, matrix.cells, strict=True)
    ]
    legend = (
        "✓ as predicted or expected · ✗ expectation failed · ! surprise (the workspace predicted otherwise)"
    )
    return "\n".join([head, rule, *rows, "", legend]) + "\n"


def cell_state(cell: Cell) -> str:
    """What a cell means, in one word: pending, pass, refused (as expected or predicted), denied
    (refused where the workspace could not predict), other (an
    error answer that is not an access refusal), surprise, failed (an expectation broken), error
    (nothing came back)."""
    if not cell.done:
        return "pending"
    if cell.expected is not None and not cell.ok:
        return "failed"
    if cell.error is not None:
        return "error"
    if cell.surprise and cell.expected is None:  # a declared expectation, when met, is the answer
        return "surprise"
    if cell.granted is False:  # as expected or predicted; "denied" when the workspace could not say
        return "refused" if cell.expected is not None or cell.predicted is False else "denied"
    return "other" if cell.status is not None and cell.status >= 400 else "pass"


STATE_LABELS = {
    "pending": ("…", "waiting"),
    "pass": ("✓", "pass"),
    "refused": ("⊘", "refused as expected"),
    "denied": ("⊘", "refused, unpredicted"),  # the permissions were not readable: nobody could say
    "other": ("○", "other answer"),  # not an access refusal (a stopped app's 404, a 500)
    "surprise": ("!", "surprise"),
    "failed": ("✗", "expectation failed"),
    "error": ("✗", "error"),
}
CSV_COLUMNS = [
    "request",
    "identity",
    "result",
    "status",
    "codes",
    "predicted",
    "expected",
    "elapsed_ms",
    "seen",
]


def grid_csv(matrix: Matrix) -> str:
    """One line per cell; a value a spreadsheet would run as a formula starts with an apostrophe."""
    import csv
    import io

    from explorer.history import csv_cell

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for name, row in zip(matrix.requests, matrix.cells, strict=True):
        for cell in row:
            predicted = {True: "pass", False: "refusal", None: ""}[cell.predicted]
            values = [
                name, cell.identity, STATE_LABELS[cell_state(cell)][1], cell.status, " ".join(cell.codes),
                predicted, cell.expected, None if cell.elapsed_ms is None else round(cell.elapsed_ms, 1),
                cell.seen or cell.error,
            ]  # fmt: skip
            writer.writerow([csv_cell(v) for v in values])
    return buffer.getvalue()


_SVG_FILL = {  # (background, text): dark text on light fills, each pair above 4.5:1
    "pending": ("#f1f5f9", "#334155"),
    "pass": ("#dcfce7", "#14532d"),
    "refused": ("#e0e7ff", "#312e81"),
    "denied": ("#e0e7ff", "#312e81"),
    "other": ("#f1f5f9", "#1e293b"),
    "surprise": ("#fef3c7", "#78350f"),
    "failed": ("#fee2e2", "#7f1d1d"),
    "error": ("#fee2e2", "#7f1d1d"),
}


def grid_svg(matrix: Matrix, title: str = "Identity matrix") -> str:
    """The grid as a self-contained SVG picture (for slides): one box per cell, its mark, status,
    top finding code and time, the legend below. Every text is XML-escaped."""
    from xml.sax.saxutils import escape

    def text(value: str, limit: int) -> str:
        value = str(value)
        return escape(value if len(value) <= limit else value[: limit - 1] + "…")

    first, width, height, pad = 210, 240, 54, 12
    cols, rows = len(matrix.identities), len(matrix.requests)
    total_w = pad * 2 + first + width * cols
    total_h = pad * 2 + 40 + 30 + height * rows + 60
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{total_w}" height="{total_h}" '
        f'viewBox="0 0 {total_w} {total_h}" font-family="system-ui, sans-serif" font-size="13">',
        '<rect width="100%" height="100%" fill="#ffffff"/>',
        f'<text x="{pad}" y="{pad + 20}" font-size="18" font-weight="600" fill="#0f172a">{text(title, 80)}</text>',
    ]
    top = pad + 40
    for c, name in enumerate(matrix.identities):
        x = pad + first + c * width
        out.append(
            f'<text x="{x + 8}" y="{top + 20}" font-weight="600" fill="#0f172a">{text(name, 24)}</text>'
        )
    for r, (name, row) in enumerate(zip(matrix.requests, matrix.cells, strict=True)):
        y = top + 30 + r * height
        out.append(f'<text x="{pad}" y="{y + 32}" fill="#0f172a">{text(name, 28)}</text>')
        for c, cell in enumerate(row):
            x = pad + first + c * width
            state = cell_state(cell)
            fill, ink = _SVG_FILL[state]
            mark, label = STATE_LABELS[state]
            status = str(cell.status) if cell.status is not None else "—"
            code = cell.codes[0] if cell.codes else ""
            ms = f"{cell.elapsed_ms:.0f} ms" if cell.elapsed_ms is not None else ""
            out += [
                f'<rect x="{x + 2}" y="{y + 2}" width="{width - 4}" height="{height - 4}" rx="6" fill="{fill}" '
                f'stroke="{ink}" stroke-opacity="0.35"/>',
                f'<text x="{x + 10}" y="{y + 22}" font-weight="600" fill="{ink}">{text(f"{mark} {status} {label}", 30)}</text>',
                f'<text x="{x + 10}" y="{y + 40}" fill="{ink}" font-size="11">{text(" · ".join(v for v in (code, ms) if v), 36)}</text>',
            ]
    legend_y = top + 30 + rows * height + 30
    legend = " · ".join(f"{mark} {label}" for key, (mark, label) in STATE_LABELS.items() if key != "pending")
    out.append(f'<text x="{pad}" y="{legend_y}" fill="#334155" font-size="12">{text(legend, 200)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _cell_text(cell: Cell) -> str:
    mark = "✓" if cell.ok else ("!" if cell.surprise and cell.expected is None else "✗")
    status = str(cell.status) if cell.status is not None else "—"
    code = f" {cell.codes[0]}" if cell.codes else ""
    return f"{mark} {status}{code}"

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

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from explorer.collection.assertions import status_matches
from explorer.collection.files import load_environment
from explorer.collection.identities import connect_ref
from explorer.collection.model import Request
from explorer.collection.runner import RunPlan, build_spec
from explorer.collection.variables import Scope, UndefinedVariable
from explorer.model import Connection, Exchange, WorkspaceFacts
from explorer.parse import InputError, origin_key
from explorer.session import ExplorerSession
from explorer.tokens import PLATFORM_SCOPES

IDENTITIES = "identities"
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
    prompt: Callable[[str], str | None] | None = None,
) -> Matrix:
    """Send every request of `plan` as every identity in `names` (files under identities/)."""
    identities = [_connect(plan, name, timeout, prompt) for name in names]
    try:
        chosen = plan.requests()
        rows = [[Cell(i.name, r.name, expected=r.expect.get(i.name)) for i in identities] for _t, r in chosen]
        jobs = [
            (row[c], request, identities[c])
            for row, (_t, request) in zip(rows, chosen, strict=True)
            for c in range(len(identities))
        ]
        with ThreadPoolExecutor(max_workers=max(1, parallel)) as pool:
            for cell in pool.map(lambda job: _send(plan, *job), jobs):
                if on_cell is not None:
                    on_cell(cell)
        _predict(rows, identities)
        return Matrix(
            [r.name for _t, r in chosen],
            [i.name for i in identities],
            rows,
            {i.name: i.connection for i in identities},
        )
    finally:
        for identity in identities:
            identity.session.close()


def _connect(
    plan: RunPlan, name: str, timeout: float, prompt: Callable[[str], str | None] | None
) -> Identity:
    session = ExplorerSession(timeout=timeout)
    if name == "none":
        return Identity(name, session, None, plan.scope)
    ref, scope = load_identity(plan, name)
    if ref is None:
        raise InputError(f"identity {name!r} names no auth method (identities/{name}.yaml needs `auth:`)")
    return Identity(name, session, connect_ref(session, ref, scope, plan.dotenv, prompt=prompt), scope)


def _send(plan: RunPlan, cell: Cell, request: Request, identity: Identity) -> Cell:
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
    else:
        cell.error = exchange.error
    return cell


def _predict(rows: list[list[Cell]], identities: list[Identity]) -> None:
    """What the workspace says each cell should get, shared across identities where it can."""
    acl: dict[str, WorkspaceFacts] = {}  # app origin -> facts with a readable ACL, from any identity
    for row in rows:
        for cell, identity in zip(row, identities, strict=True):
            if cell.exchange is None:
                continue
            url = cell.exchange.request.url
            facts = identity.session.facts_for(url)
            key = origin_key(url)
            if facts is not None and facts.permissions is not None:
                acl.setdefault(key, facts)
    for row in rows:
        for cell, identity in zip(row, identities, strict=True):
            if cell.exchange is not None:
                cell.predicted = _prediction(
                    cell.exchange, identity, acl.get(origin_key(cell.exchange.request.url))
                )


def _prediction(exchange: Exchange, identity: Identity, shared: WorkspaceFacts | None) -> bool | None:
    if identity.connection is None:
        return False  # no token at all: the gateway sends the caller to sign in
    facts = identity.session.facts_for(exchange.request.url)
    app = (facts.app if facts else None) or (shared.app if shared else None)
    if app is None:
        return None
    if (app.state or "RUNNING") != "RUNNING":
        return None  # a stopped app answers 404 to everyone: not an access question
    token = identity.connection.token
    required = [s for s in (app.effective_user_api_scopes or app.user_api_scopes) if s not in PLATFORM_SCOPES]
    if token is not None and any(s not in token.scopes for s in required):
        return False
    source = facts if facts is not None and facts.permissions is not None else shared
    if source is None:
        return None
    return source.can_use(identity.names, facts.caller_groups if facts is not None else None)


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


def _cell_text(cell: Cell) -> str:
    mark = "✓" if cell.ok else ("!" if cell.surprise and cell.expected is None else "✗")
    status = str(cell.status) if cell.status is not None else "—"
    code = f" {cell.codes[0]}" if cell.codes else ""
    return f"{mark} {status}{code}"

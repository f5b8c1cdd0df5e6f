"""Two answers side by side: the status, the headers and a JSON diff of the bodies (what Alice sees
next to what Bob sees). Pure: the matrix's UI and the command line format the same `Comparison`.

    comparison = compare(("hello × alice", a), ("hello × bob", b), redactor)
    comparison_markdown(comparison)

Everything shown passes through the redactor first (a body can echo a token).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from explorer.model import Exchange
from explorer.redact import Redactor

MAX_DIFFS = 200
# Headers that differ between any two answers (time, ids): listed, but not counted as a difference.
VOLATILE_HEADERS = frozenset({"date", "x-request-id", "content-length", "server-timing", "set-cookie", "age"})


@dataclass
class HeaderRow:
    name: str
    left: str | None
    right: str | None

    @property
    def same(self) -> bool:
        return self.left == self.right

    @property
    def volatile(self) -> bool:
        return self.name.lower() in VOLATILE_HEADERS


@dataclass
class BodyDiff:
    """One difference at a JSONPath-like location: added (only right), removed (only left), changed."""

    path: str
    kind: str
    left: Any = None
    right: Any = None


@dataclass
class Comparison:
    left: str  # the labels: "request × identity"
    right: str
    status: tuple[int | None, int | None]
    headers: list[HeaderRow] = field(default_factory=list)
    body: list[BodyDiff] = field(default_factory=list)
    body_kind: str = "json"  # "json" (a structural diff) or "text" (the bodies compared whole)
    truncated: bool = False  # more than MAX_DIFFS differences

    @property
    def same_status(self) -> bool:
        return self.status[0] == self.status[1]

    @property
    def header_changes(self) -> list[HeaderRow]:
        return [h for h in self.headers if not h.same and not h.volatile]

    @property
    def identical(self) -> bool:
        return self.same_status and not self.header_changes and not self.body

    def as_dict(self) -> dict[str, Any]:
        return {
            "left": self.left,
            "right": self.right,
            "status": list(self.status),
            "headers": [
                {"name": h.name, "left": h.left, "right": h.right, "same": h.same} for h in self.headers
            ],
            "body": [{"path": d.path, "kind": d.kind, "left": d.left, "right": d.right} for d in self.body],
            "body_kind": self.body_kind,
            "truncated": self.truncated,
            "identical": self.identical,
        }


def json_diff(left: Any, right: Any, path: str = "$", limit: int = MAX_DIFFS) -> list[BodyDiff]:
    """Where two JSON values differ: keys added or removed, array items, changed scalars (in order)."""
    found: list[BodyDiff] = []
    _diff(left, right, path, found, limit)
    return found


def _diff(left: Any, right: Any, path: str, out: list[BodyDiff], limit: int) -> None:
    if len(out) >= limit:
        return
    if isinstance(left, dict) and isinstance(right, dict):
        for key in [*left, *(k for k in right if k not in left)]:
            where = f"{path}.{key}" if _plain_key(key) else f"{path}[{json.dumps(key)}]"
            if key not in right:
                out.append(BodyDiff(where, "removed", left[key], None))
            elif key not in left:
                out.append(BodyDiff(where, "added", None, right[key]))
            else:
                _diff(left[key], right[key], where, out, limit)
            if len(out) >= limit:
                return
        return
    if isinstance(left, list) and isinstance(right, list):
        for i in range(max(len(left), len(right))):
            where = f"{path}[{i}]"
            if i >= len(right):
                out.append(BodyDiff(where, "removed", left[i], None))
            elif i >= len(left):
                out.append(BodyDiff(where, "added", None, right[i]))
            else:
                _diff(left[i], right[i], where, out, limit)
            if len(out) >= limit:
                return
        return
    if left != right or type(left) is not type(right):
        out.append(BodyDiff(path, "changed", left, right))


def _plain_key(key: Any) -> bool:
    return isinstance(key, str) and key.replace("_", "a").replace("-", "a").isalnum()


def compare(
    left: tuple[str, Exchange | None], right: tuple[str, Exchange | None], redactor: Redactor | None = None
) -> Comparison:
    """Compare two exchanges' answers (either may be missing: no response)."""
    redactor = redactor or Redactor()
    (left_label, a), (right_label, b) = left, right
    ra = a.response if a is not None else None
    rb = b.response if b is not None else None
    result = Comparison(left_label, right_label, (ra.status if ra else None, rb.status if rb else None))
    result.headers = _headers(ra.headers if ra else [], rb.headers if rb else [], redactor)
    body_a, body_b = _body(ra, redactor), _body(rb, redactor)
    if isinstance(body_a, str) or isinstance(body_b, str):
        result.body_kind = "text"
        if body_a != body_b:
            result.body = [BodyDiff("body", "changed", body_a, body_b)]
        return result
    result.body = json_diff(body_a, body_b, limit=MAX_DIFFS + 1)
    result.truncated = len(result.body) > MAX_DIFFS
    result.body = result.body[:MAX_DIFFS]
    return result


def _headers(a: list[tuple[str, str]], b: list[tuple[str, str]], redactor: Redactor) -> list[HeaderRow]:
    left = {k.lower(): v for k, v in redactor.scrub_headers(a)}
    right = {k.lower(): v for k, v in redactor.scrub_headers(b)}
    names = sorted({*left, *right})
    return [HeaderRow(n, left.get(n), right.get(n)) for n in names]


def _body(response: Any, redactor: Redactor) -> Any:
    """A body as JSON (scrubbed string by string), else its scrubbed text; None without a response."""
    if response is None:
        return None
    if response.json is not None:
        return redactor.scrub_json(response.json)
    text = response.text or response.body.decode("utf-8", "replace")
    return redactor.scrub(text)


def comparison_markdown(c: Comparison) -> str:
    """The comparison for a terminal, a PR or a mail."""

    def cell(value: Any) -> str:
        shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        shown = "—" if value is None else shown
        return shown.replace("|", "\\|").replace("\n", " ")[:120]

    lines = [f"| | {cell(c.left)} | {cell(c.right)} |", "|---|---|---|"]
    lines.append(f"| status | {cell(c.status[0])} | {cell(c.status[1])} |")
    lines += [f"| header {h.name} | {cell(h.left)} | {cell(h.right)} |" for h in c.header_changes]
    lines += [f"| {d.kind} {cell(d.path)} | {cell(d.left)} | {cell(d.right)} |" for d in c.body]
    if c.identical:
        lines.append("| | the same answer | |")
    return "\n".join(lines) + "\n"

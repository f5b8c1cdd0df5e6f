"""The identity matrix's pure parts: the JSON diff and the comparison of two cells, what a cell
means, the Matrix view's HTML (escaped, labelled, not colour alone), the CSV (formulas
neutralised) and SVG exports, and the identity echo read from a target's answer."""

from __future__ import annotations

import base64
import csv
import io
import json
from typing import Any
from xml.etree import ElementTree

from explorer.collection.compare import compare, comparison_markdown, json_diff
from explorer.collection.matrix import (
    Cell,
    Matrix,
    cell_state,
    forwarded_identity,
    grid_csv,
    grid_markdown,
    grid_svg,
)
from explorer.model import AuthInfo, Connection, Exchange, RequestSpec, Response
from explorer.redact import Redactor
from explorer.ui.present import matrix as view


def _segment(value: bytes) -> str:
    return base64.urlsafe_b64encode(value).rstrip(b"=").decode()


# A JWT-shaped token, built (so no token-shaped literal sits in the tree): what the app echoes back.
JWT = ".".join(
    _segment(part) for part in (b'{"alg":"RS256"}', b'{"sub":"alice@example.com"}', b"signature-of-the-token")
)


def exchange(status: int, body: Any, headers: list[tuple[str, str]] | None = None) -> Exchange:
    text = json.dumps(body) if not isinstance(body, str) else body
    response = Response(
        status=status,
        reason="",
        headers=headers or [("Content-Type", "application/json")],
        body=text.encode(),
        size=len(text),
        elapsed_ms=12.0,
        ttfb_ms=10.0,
        content_type="application/json",
        kind="json" if not isinstance(body, str) else "text",
        json=None if isinstance(body, str) else body,
        text=text,
    )
    return Exchange("x1", 0.0, RequestSpec("GET", "http://127.0.0.1:1/api/whoami"), response, None, None)


def done(identity: str, status: int | None, **kw: Any) -> Cell:
    cell = Cell(identity, "hello whoami", status=status, done=True, **kw)
    if status is not None and "granted" not in kw:
        cell.granted = status not in (302, 401, 403)
    return cell


# --- the diff --------------------------------------------------------------------------------------


def test_json_diff_names_added_removed_and_changed_paths_in_order() -> None:
    left = {"user": "alice", "rows": [1, 2, 3], "meta": {"n": 1, "odd key": True}}
    right = {"user": "bob", "rows": [1, 5], "meta": {"n": 1}, "extra": None}
    found = [(d.path, d.kind, d.left, d.right) for d in json_diff(left, right)]
    assert found == [
        ("$.user", "changed", "alice", "bob"),
        ("$.rows[1]", "changed", 2, 5),
        ("$.rows[2]", "removed", 3, None),
        ('$.meta["odd key"]', "removed", True, None),
        ("$.extra", "added", None, None),
    ]
    assert json_diff({"a": [1, {"b": 2}]}, {"a": [1, {"b": 2}]}) == []
    assert [d.kind for d in json_diff(1, 1.0)] == ["changed"]  # a type change is a change


def test_json_diff_stops_at_its_limit() -> None:
    assert len(json_diff(list(range(500)), list(range(1, 501)), limit=7)) == 7


def test_compare_two_cells_status_headers_and_body_scrubbed() -> None:
    alice = exchange(200, {"email": "alice@example.com", "token": JWT}, [("X-App", "1"), ("Date", "a")])
    bob = exchange(403, {"error": "access_denied"}, [("X-App", "2"), ("Date", "b")])
    result = compare(("hello × alice", alice), ("hello × bob", bob), Redactor())
    assert result.status == (200, 403) and not result.same_status and not result.identical
    assert [h.name for h in result.header_changes] == ["x-app"]  # Date differs always: not counted
    kinds = {(d.path, d.kind) for d in result.body}
    assert kinds == {("$.email", "removed"), ("$.token", "removed"), ("$.error", "added")}
    shown = json.dumps(result.as_dict()) + comparison_markdown(result) + view.comparison_html(result)
    assert JWT not in shown and "alice@example.com" in shown
    same = compare(("a", alice), ("b", alice))
    assert same.identical and "the same answer" in comparison_markdown(same)


def test_compare_a_missing_answer_and_text_bodies() -> None:
    result = compare(("a", exchange(200, "plain text")), ("b", None))
    assert result.status == (200, None) and result.body_kind == "text"
    assert [(d.kind, d.left, d.right) for d in result.body] == [("changed", "plain text", None)]


# --- cells and the grid ------------------------------------------------------------------------------


def test_what_a_cell_means() -> None:
    assert cell_state(Cell("a", "r")) == "pending"
    assert cell_state(done("a", 200, predicted=True)) == "pass"
    assert cell_state(done("a", 403, predicted=False)) == "refused"
    assert cell_state(done("a", 403)) == "denied"  # the workspace could not say (ACL unreadable)
    assert cell_state(done("a", 200, predicted=False)) == "surprise"
    assert cell_state(done("a", 200, expected=403)) == "failed"
    assert cell_state(done("a", 403, expected=403, predicted=True)) == "refused"  # the expectation decides
    assert cell_state(done("a", None, error="not connected")) == "error"
    assert cell_state(done("a", 404, codes=["APP_NOT_RUNNING"])) == "other"  # not an access answer


def sample_matrix() -> Matrix:
    hostile = "<img src=x onerror=alert(1)>"
    cells = [
        [
            done(
                "alice", 200, predicted=True, codes=[], elapsed_ms=12.3, seen="alice@example.com + user token"
            ),
            done(hostile, 403, predicted=False, codes=["NO_CAN_USE"], elapsed_ms=5.0),
        ],
        [done("alice", 200, predicted=False, codes=[]), Cell(hostile, "=HYPERLINK(1)")],
    ]
    connections = {"alice": Connection(AuthInfo("token", "pasted", identity="alice@example.com"), None)}
    return Matrix(["hello whoami", '=HYPERLINK("http://x")'], ["alice", hostile], cells, connections)


def test_grid_html_labels_every_cell_in_text_and_escapes_names() -> None:
    page = view.grid_html(sample_matrix(), {"0:1"})
    assert "<img" not in page and "&lt;img" in page
    assert page.count('class="mx-cell') == 4
    for label in ("pass", "refused as expected", "surprise", "waiting"):
        assert f'<span class="mx-label">{label}</span>' in page  # not colour alone
    assert 'data-cell="0:1"' in page and "mx-selected" in page
    assert "app saw: alice@example.com + user token" in page and "NO_CAN_USE · 5 ms" in page
    assert "alice@example.com (token)" in page  # the column says who the identity is
    assert 'aria-label="hello whoami as alice: pass, status 200' in page


def test_summary_choices_and_cell_keys() -> None:
    matrix = sample_matrix()
    running = view.summary_html(matrix, True, 1.5)
    assert "Running: 3 of 4 cells (1.5 s)" in running and "! 1 surprise" in running
    assert view.summary_html(matrix, False, 2.0).count("FAILED") == 1
    assert view.cell_choices(matrix)[1] == ("hello whoami × <img src=x onerror=alert(1)>", "0:1")
    assert view.parse_cell_key("1:0:1712") == (1, 0) and view.parse_cell_key("x") is None
    data = view.matrix_summary(matrix)
    assert [c["result"] for c in data["cells"][0]] == ["pass", "refused"]


def test_csv_export_neutralises_formulas() -> None:
    rows = list(csv.reader(io.StringIO(grid_csv(sample_matrix()))))
    assert rows[0][:4] == ["request", "identity", "result", "status"]
    assert rows[1][:5] == ["hello whoami", "alice", "pass", "200", ""]
    formula = [r for r in rows if "HYPERLINK" in r[0]]
    assert formula and all(r[0].startswith("'=") for r in formula)


def test_svg_picture_is_well_formed_and_escaped() -> None:
    picture = grid_svg(sample_matrix(), title="Access <audit>")
    root = ElementTree.fromstring(picture)  # well-formed XML: the hostile name was escaped
    texts = [t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert "Access <audit>" in texts
    assert any(t.startswith("✓ 200 pass") for t in texts) and any(
        t.startswith("! 200 surprise") for t in texts
    )
    assert "<img" not in picture


def test_markdown_grid_escapes_pipes() -> None:
    matrix = Matrix(["a|b"], ["x"], [[done("x", 200, predicted=True)]])
    assert "| a\\|b | ✓ 200 |" in grid_markdown(matrix)


def test_forwarded_identity_reads_an_identity_echo_only() -> None:
    echo = {"user": "1@2", "email": "alice@example.com", "access_token": "eyJh…x9Q", "forwarded_host": "h"}
    assert forwarded_identity(exchange(200, echo)) == "alice@example.com + user token"
    assert forwarded_identity(exchange(200, {**echo, "access_token": None})) == "alice@example.com"
    assert forwarded_identity(exchange(200, {"user": None, "email": None})) == "nobody forwarded"
    assert forwarded_identity(exchange(200, {"message": "hello"})) is None
    assert forwarded_identity(exchange(200, [1, 2])) is None


# --- the view's handlers: bad input is one clear message -------------------------------------------


def test_the_matrix_view_says_what_is_missing(tmp_path: Any) -> None:
    import pytest

    from explorer.collection.matrix_apps import apps_plan
    from explorer.model import AppSummary
    from explorer.session import ExplorerSession
    from explorer.ui.config import UIConfig
    from explorer.ui.forms import FormError
    from explorer.ui.handlers import Handlers
    from explorer.ui.matrix_view import MatrixHandlers, MatrixRun
    from explorer.ui.state import UISession

    m = MatrixHandlers(Handlers(UIConfig()))
    ui = UISession(ExplorerSession(timeout=2))
    try:
        with pytest.raises(FormError, match="at least one identity"):
            next(m.run(ui, None, "", None, [], "all", ""))
        with pytest.raises(FormError, match="Cannot open"):
            m.load(ui, str(tmp_path / "missing"), None)
        with pytest.raises(FormError, match="Type a collection folder"):
            next(m.run(ui, None, "", None, ["none"], "all", ""))
        plan = apps_plan([AppSummary("hello", "http://127.0.0.1:9", "RUNNING", None, None, None)])
        with pytest.raises(FormError, match="not available here"):
            m.connect(ui, ["none", "me"], plan, plan)  # locally there is no signed-in user
        with pytest.raises(FormError, match="Run the matrix first"):
            m.compare(ui, None, "0:0", "0:1")
        with pytest.raises(FormError, match="earlier matrix"):
            m.open_cell(ui, MatrixRun(sample_matrix()), "9:9:1")
        # Locally, without a collection: only every app's row, and the page's own identities.
        _ui, identities, _env, rows, note = m.load(ui, "", None)
        assert [v for _l, v in identities["choices"]] == ["none"]
        assert [v for _l, v in rows["choices"]] == ["apps"] and "No collection" in note
    finally:
        ui.close()

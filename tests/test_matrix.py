"""The identity matrix against the sandbox: a service principal, Alice (CAN_MANAGE), Bob (no
CAN_USE) and no token, over two apps; the grid matches the sandbox's permissions, predictions
agree with what the gateway answered, and a changed permission turns the run red."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from junitparser import JUnitXml
from support.sandbox_helpers import default_config, user_token

from explorer.cli import Output, main

AUDIT = Path(__file__).resolve().parents[1] / "examples" / "access-audit"
IDENTITIES = ["demo-sp", "alice", "bob", "none"]


def audit_env(info: dict, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    sp = info["service_principals"]["demo-sp"]
    values = {
        "DATABRICKS_HOST": info["host"],
        "DATABRICKS_CLIENT_ID": sp["client_id"],
        "DATABRICKS_CLIENT_SECRET": sp["client_secret"],
        "HELLO_URL": info["apps"]["hello"]["url"],
        "SCOPED_URL": info["apps"]["scoped"]["url"],
        "ALICE_TOKEN": user_token(info["host"], "alice@example.com", ["all-apis"]),
        "BOB_TOKEN": user_token(info["host"], "bob@example.com", ["all-apis"]),
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


def matrix(path: Path, *extra: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    argv = ["matrix", str(path), "--env", "sandbox", *(a for n in IDENTITIES for a in ("--as", n)), *extra]
    return main(argv, Output(out, err)), out.getvalue(), err.getvalue()


def test_the_grid_matches_the_sandboxs_permissions(
    sandbox_info: dict, clean_databricks_env: Any, monkeypatch, tmp_path
) -> None:
    secrets = audit_env(sandbox_info, monkeypatch)
    junit, markdown = tmp_path / "matrix.xml", tmp_path / "matrix.md"
    code, out, err = matrix(AUDIT, "--json", "--junit", str(junit), "--markdown", str(markdown))
    assert code == 0, err
    grid = json.loads(out)
    assert grid["identities"] == IDENTITIES and grid["requests"] == ["hello whoami", "scoped whoami"]
    hello, scoped = grid["cells"]
    assert [c["status"] for c in hello] == [200, 200, 403, 302]
    assert [c["status"] for c in scoped] == [403, 403, 403, 302]
    # what the workspace predicts (Alice's CAN_MANAGE makes the ACL readable for every column)
    assert [c["predicted"] for c in hello] == [True, True, False, False]
    assert [c["predicted"] for c in scoped] == [False, False, False, False]  # scopes missing / no token
    assert not any(c["surprise"] for row in grid["cells"] for c in row) and grid["ok"]
    assert "NO_CAN_USE" in hello[2]["codes"] and "SCOPE_MISSING" in scoped[0]["codes"]
    suite = JUnitXml.fromfile(str(junit))
    assert suite.tests == 8 and suite.failures == 0
    assert "| hello whoami | ✓ 200 | ✓ 200 | ✓ 403 NO_CAN_USE" in markdown.read_text()
    for text in (out, err, junit.read_text(), markdown.read_text()):
        for name in ("DATABRICKS_CLIENT_SECRET", "ALICE_TOKEN", "BOB_TOKEN"):
            assert secrets[name] not in text


def test_a_changed_permission_turns_the_run_red(
    start_sandbox: Any, clean_databricks_env: Any, monkeypatch, tmp_path
) -> None:
    config = default_config()
    for app in config["apps"]:
        if app["name"] == "hello":  # someone gave Bob access
            app["permissions"].append({"user_name": "bob@example.com", "permission_level": "CAN_USE"})
    sandbox = start_sandbox(config)
    audit_env(sandbox.info, monkeypatch)
    copy = tmp_path / "audit"
    shutil.copytree(AUDIT, copy)
    junit = tmp_path / "matrix.xml"
    code, out, _err = matrix(copy, "--json", "--junit", str(junit))
    assert code == 1
    bob = json.loads(out)["cells"][0][2]
    assert bob["status"] == 200 and bob["expected"] == 403 and not bob["ok"]
    assert JUnitXml.fromfile(str(junit)).failures == 1


def test_an_unknown_identity_is_a_clear_usage_error(tmp_path: Path) -> None:
    out, err = io.StringIO(), io.StringIO()
    code = main(["matrix", str(AUDIT), "--as", "mallory"], Output(out, err))
    assert code == 2 and "no identity 'mallory'" in err.getvalue() and "Traceback" not in err.getvalue()


def test_a_row_per_workspace_app_as_this_app_and_no_token(
    sandbox_info: dict, clean_databricks_env: Any, monkeypatch, tmp_path
) -> None:
    """`--apps`: the built-in `app` identity (the platform's variables, here the demo service
    principal's) and no token, over every app of the workspace; the echo says who arrived."""
    sp = sandbox_info["service_principals"]["demo-sp"]
    monkeypatch.setenv("DATABRICKS_HOST", sandbox_info["host"])
    monkeypatch.setenv("DATABRICKS_CLIENT_ID", sp["client_id"])
    monkeypatch.setenv("DATABRICKS_CLIENT_SECRET", sp["client_secret"])
    picture = tmp_path / "grid.svg"
    out, err = io.StringIO(), io.StringIO()
    argv = ["matrix", "--apps", "--as", "app", "--as", "none", "--json", "--svg", str(picture)]
    code = main(argv, Output(out, err))
    assert code == 0, err.getvalue()
    grid = json.loads(out.getvalue())
    rows = dict(zip(grid["requests"], grid["cells"], strict=True))
    assert {"hello", "scoped", "stopped"} <= set(rows)
    app, nobody = rows["hello"]
    assert app["status"] == 200 and app["seen"] == sp["client_id"] and nobody["status"] == 302
    assert rows["scoped"][0]["status"] == 403 and "SCOPE_MISSING" in rows["scoped"][0]["codes"]
    assert [c["predicted"] for c in rows["stopped"]] == [None, None]  # stopped: not an access question
    svg = picture.read_text(encoding="utf-8")
    assert svg.startswith("<svg") and "hello" in svg and sp["client_secret"] not in svg + out.getvalue()


def test_the_signed_in_user_is_no_identity_on_the_command_line() -> None:
    out, err = io.StringIO(), io.StringIO()
    assert main(["matrix", str(AUDIT), "--as", "user"], Output(out, err)) == 2
    assert "only in the deployed explorer" in err.getvalue()
    assert main(["matrix", "--as", "none"], Output(out, err)) == 2 and "--apps" in err.getvalue()


def test_cells_arrive_as_they_finish_after_an_empty_grid(
    sandbox_info: dict, clean_databricks_env: Any, monkeypatch, tmp_path
) -> None:
    """What the Matrix view fills in live from: the empty grid first, then each cell when it is done
    (a slow cell does not hold back a quick one listed after it)."""
    from explorer.collection.matrix import run_matrix
    from explorer.collection.runner import RunPlan
    from explorer.collection.storage import FolderStorage

    sp = sandbox_info["service_principals"]["demo-sp"]
    monkeypatch.setenv("DATABRICKS_CLIENT_ID", sp["client_id"])
    monkeypatch.setenv("DATABRICKS_CLIENT_SECRET", sp["client_secret"])
    hello = sandbox_info["apps"]["hello"]["url"]
    (tmp_path / "identities").mkdir()
    (tmp_path / "collection.yaml").write_text("name: live\n", encoding="utf-8")
    (tmp_path / "identities" / "sp.yaml").write_text(
        f"name: sp\nauth:\n  method: m2m\n  host: {sandbox_info['host']}\n", encoding="utf-8"
    )
    (tmp_path / "1-slow.posting.yaml").write_text(
        f"name: slow\nmethod: GET\nurl: {hello}/api/slow?ms=1500\n", encoding="utf-8"
    )
    (tmp_path / "2-quick.posting.yaml").write_text(
        f"name: quick\nmethod: GET\nurl: {hello}/api/hello\n", encoding="utf-8"
    )
    events: list[Any] = []
    plan = RunPlan.load(FolderStorage(tmp_path))
    matrix = run_matrix(
        plan, ["sp"], on_start=lambda m: events.append([c.done for row in m.cells for c in row]),
        on_cell=lambda c: events.append(c.request),
    )  # fmt: skip
    assert events == [[False, False], "quick", "slow"]
    assert [row[0].status for row in matrix.cells] == [200, 200] and matrix.passed


def test_compare_two_identities_answers_on_the_command_line(
    sandbox_info: dict, clean_databricks_env: Any, monkeypatch
) -> None:
    secrets = audit_env(sandbox_info, monkeypatch)
    code, out, err = matrix(AUDIT, "--compare", "hello whoami:alice,bob")
    assert code == 0, err
    assert "| | hello whoami × alice | hello whoami × bob |" in out
    assert "| status | 200 | 403 |" in out and "| added $.error | — | access_denied |" in out
    code, out, _err = matrix(AUDIT, "--json", "--compare", "hello whoami:alice,demo-sp")
    comparison = json.loads(out)["comparison"]
    assert comparison["status"] == [200, 200] and {"$.email", "$.user"} <= {
        d["path"] for d in comparison["body"]
    }
    assert secrets["ALICE_TOKEN"] not in out
    code, _out, err = matrix(AUDIT, "--compare", "hello whoami:alice,mallory")
    assert code == 2 and "not one of the --as identities" in err
    code, _out, err = matrix(AUDIT, "--compare", "nothing:alice,bob")
    assert code == 2 and "no request 'nothing'" in err

"""`python -m explorer call`: human output, `--json` and the exit codes."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from explorer.cli import Output, main

DEMO_SP = "demo-sp"
REPO = Path(__file__).resolve().parents[1]


def run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, Output(out, err))
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def sp_env(sandbox_info, clean_databricks_env, monkeypatch) -> list[str]:
    """demo-sp's credentials in the environment; returns the auth options for it."""
    creds = sandbox_info["service_principals"][DEMO_SP]
    monkeypatch.setenv("DATABRICKS_CLIENT_ID", creds["client_id"])
    monkeypatch.setenv("DATABRICKS_CLIENT_SECRET", creds["client_secret"])
    return ["--auth", "m2m", "--host", sandbox_info["host"]]


def hello(info: dict, path: str = "/api/hello", app: str = "hello") -> str:
    return info["apps"][app]["url"] + path


def test_call_json_has_the_documented_shape(sandbox_info, sp_env):
    code, out, _ = run(["call", hello(sandbox_info), "-H", "X-Demo: 1", *sp_env, "--json"])

    document = json.loads(out)
    assert code == 0
    assert set(document) >= {"request", "response", "token", "auth", "findings", "ok"}
    request, response, token = document["request"], document["response"], document["token"]
    assert request["method"] == "GET" and request["url"] == hello(sandbox_info)
    assert request["headers"]["X-Demo"] == "1" and request["headers"]["Authorization"].startswith(
        "Bearer eyJh…"
    )
    assert response["status"] == 200 and response["reason"] == "OK"
    assert response["body"] == {"message": "Hello, World!", "app": "hello"}
    assert response["headers"]["content-type"] == "application/json"
    assert response["elapsed_ms"] >= response["ttfb_ms"] > 0 and response["size"] > 0
    assert (
        token["masked"].startswith("eyJh…") and token["scopes"] == ["all-apis"] and token["kind"] == "oauth"
    )
    assert document["auth"]["method"] == "m2m" and "DATABRICKS_CLIENT_SECRET" in document["auth"]["source"]
    assert document["findings"] == [] and document["ok"] is True


def test_error_status_exits_1_with_findings(sandbox_info, sp_env):
    code, out, _ = run(["call", hello(sandbox_info, app="scoped"), *sp_env, "--json"])

    document = json.loads(out)
    assert code == 1 and document["ok"] is False and document["response"]["status"] == 403
    first = document["findings"][0]
    assert {"code", "severity", "message", "fix"} <= set(first) and first["code"] == "SCOPE_MISSING"
    assert first["action"]["kind"] == "add_scopes"  # the structured fix, for presenters that apply it


def test_no_response_exits_2(sp_env, sandbox_info):
    code, out, _ = run(["call", "http://my-app.invalid/api/hello", "--json", "--auth", "none"])

    document = json.loads(out)
    assert code == 2 and document["response"] is None and document["ok"] is False
    assert document["findings"][0]["code"] == "NETWORK_DNS"


def test_auth_failure_exits_2(sandbox_info, clean_databricks_env, monkeypatch):
    monkeypatch.setenv("DATABRICKS_CLIENT_SECRET", "not-the-secret-0123456789")
    creds = sandbox_info["service_principals"][DEMO_SP]
    argv = [
        "call",
        hello(sandbox_info),
        "--auth",
        "m2m",
        "--host",
        sandbox_info["host"],
        "--client-id",
        creds["client_id"],
    ]

    code, out, _ = run([*argv, "--json"])
    human_code, _, err = run(argv)

    assert code == human_code == 2
    assert json.loads(out)["findings"][0]["code"] == "AUTH_FAILED"
    assert "✗ AUTH_FAILED" in err and "fix:" in err and "not-the-secret" not in out + err


def test_human_output_is_compact(sandbox_info, sp_env):
    code, out, err = run(["call", hello(sandbox_info, "/api/nope"), *sp_env])

    lines = err.splitlines()
    assert code == 1
    assert lines[0] == f"404 Not Found  GET {hello(sandbox_info, '/api/nope')}"
    assert lines[1].startswith("time ") and "first byte" in lines[1]
    assert any(line.startswith("auth m2m: service principal") and "identity" in line for line in lines)
    assert any(line.startswith("✗ PATH_NOT_FOUND:") for line in lines)
    assert any(line.strip().startswith("fix: Check the path") for line in lines)
    assert json.loads(out) == {"detail": "Not Found"}  # the body alone on stdout


def test_post_body_from_a_file(sandbox_info, sp_env, tmp_path):
    body = tmp_path / "item.json"
    body.write_text('{"name": "widget", "price": 3}', encoding="utf-8")

    code, out, _ = run(["call", hello(sandbox_info, "/api/items"), "-d", f"@{body}", *sp_env, "--json"])

    document = json.loads(out)
    assert code == 0 and document["request"]["method"] == "POST"
    assert document["response"]["body"]["name"] == "widget"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["call"], "required: URL"),
        (["call", "http://x.example.com/api/a", "-H", "no colon"], "needs the form 'Name: value'"),
        (["call", "ftp://x.example.com/api/a", "--auth", "none"], "Unsupported scheme"),
        (["call", "http://x.example.com/api/a", "--auth", "magic"], "invalid choice"),
        (
            ["call", "http://x.example.com/api/a", "-d", "@/no/such/file", "--auth", "none"],
            "Cannot read the body",
        ),
        (
            ["call", "http://x.example.com/api/a", "--auth", "token", "--token-env", "UNSET_VAR"],
            "TOKEN_MISSING",
        ),
    ],
)
def test_bad_input_is_a_clear_message_and_exit_2(argv, message, clean_databricks_env, capsys):
    code, out, err = run(argv)

    captured = capsys.readouterr()  # argparse writes usage errors to the real stderr
    text = out + err + captured.err
    assert code == 2 and message in text and "Traceback" not in text


def test_real_process_exit_codes_and_no_gradio(sandbox_info, clean_databricks_env):
    creds = sandbox_info["service_principals"][DEMO_SP]
    env = {
        **os.environ,
        "DATABRICKS_CLIENT_ID": creds["client_id"],
        "DATABRICKS_CLIENT_SECRET": creds["client_secret"],
        "PYTHONPATH": str(REPO),
    }
    probe = (
        "import sys; from explorer.__main__ import main; code = main(sys.argv[1:]); "
        "print('gradio loaded' if 'gradio' in sys.modules else 'no gradio', file=sys.stderr); sys.exit(code)"
    )
    base = [sys.executable, "-c", probe, "call"]
    auth = ["--auth", "m2m", "--host", sandbox_info["host"]]

    ok = subprocess.run(
        [*base, hello(sandbox_info), *auth], env=env, capture_output=True, text=True, timeout=60
    )
    missing = subprocess.run(
        [*base, hello(sandbox_info, "/api/nope"), *auth], env=env, capture_output=True, text=True, timeout=60
    )
    module = subprocess.run(
        [sys.executable, "-m", "explorer", "call", "not a url"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert (ok.returncode, missing.returncode, module.returncode) == (0, 1, 2)
    assert "no gradio" in ok.stderr and "no gradio" in missing.stderr
    assert "Hello, World!" in ok.stdout
    assert "error:" in module.stderr and "Traceback" not in module.stderr

"""`token`, `apps`, `endpoints`, `snippet` and the browser sign-in from the command line."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests
from support.cli import run

from explorer.cli import Output, main

DEMO_SP = "demo-sp"
REPO = Path(__file__).resolve().parents[1]
AUTHORIZE_URL = re.compile(r"https?://\S+/oidc/v1/authorize\S+")


@pytest.fixture
def sp_auth(sandbox_info, clean_databricks_env, monkeypatch) -> list[str]:
    creds = sandbox_info["service_principals"][DEMO_SP]
    monkeypatch.setenv("DATABRICKS_CLIENT_ID", creds["client_id"])
    monkeypatch.setenv("DATABRICKS_CLIENT_SECRET", creds["client_secret"])
    return ["--auth", "m2m", "--host", sandbox_info["host"]]


def test_token_shows_masked_details(sp_auth, sandbox_info):
    code, out, err = run(["token", *sp_auth])

    assert code == 0
    assert re.search(r"^token\s+eyJh…\S+ \(oauth, at\+jwt\)$", out, re.MULTILINE)
    assert f"issuer   {sandbox_info['host']}/oidc" in out and "expires in" in out
    assert "auth m2m: service principal" in err


def test_token_json(sp_auth, sandbox_info):
    code, out, _ = run(["token", *sp_auth, "--json"])

    document = json.loads(out)
    assert code == 0 and document["ok"] is True
    assert document["auth"]["host"] == sandbox_info["host"]
    assert document["token"]["subject"] == sandbox_info["service_principals"][DEMO_SP]["client_id"]
    assert document["token"]["masked"].startswith("eyJh…")


def test_token_with_a_profile_through_the_databricks_cli(databricks_cli_profile):
    profile = databricks_cli_profile(user="alice@example.com")

    code, out, _ = run(["token", "--profile", profile, "--json"])

    document = json.loads(out)
    assert code == 0 and document["token"]["subject"] == "alice@example.com"
    assert "databricks-cli" in document["auth"]["source"]


def test_apps_table_and_json(sp_auth, sandbox_info):
    code, out, _ = run(["apps", *sp_auth])
    json_code, json_out, _ = run(["apps", *sp_auth, "--json"])

    lines = out.splitlines()
    assert code == json_code == 0
    assert [line.split()[0] for line in lines] == ["hello", "scoped", "stopped"]
    assert "scopes: sql files.files" in lines[1] and "STOPPED" in lines[2]
    apps = {a["name"]: a for a in json.loads(json_out)["apps"]}
    assert apps["hello"]["url"] == sandbox_info["apps"]["hello"]["url"]


def test_apps_without_credentials_exits_2(clean_databricks_env):
    code, out, _ = run(["apps", "--auth", "none", "--json"])

    assert code == 2 and json.loads(out)["ok"] is False


def test_endpoints_listing(sp_auth, sandbox_info):
    code, out, err = run(["endpoints", sandbox_info["apps"]["hello"]["url"], *sp_auth])
    json_code, json_out, _ = run(["endpoints", sandbox_info["apps"]["hello"]["url"], *sp_auth, "--json"])

    assert code == json_code == 0
    assert re.search(r"^GET\s+/api/hello\s+Say hello\s+\[name \(query\)\]$", out, re.MULTILINE)
    assert "from " + sandbox_info["apps"]["hello"]["url"] + "/api/openapi.json" in err
    document = json.loads(json_out)
    assert document["source_url"].endswith("/api/openapi.json") and document["ok"] is True
    post = next(e for e in document["endpoints"] if e["method"] == "POST" and e["path"] == "/api/items")
    assert post["body_schema"] and post["body_example"]


def test_endpoints_without_a_token_explain_the_gateway(sandbox_info, clean_databricks_env):
    code, _, err = run(["endpoints", sandbox_info["apps"]["hello"]["url"]])

    assert code == 1
    assert "OPENAPI_NOT_FOUND" in err and 'FastAPI(openapi_url="/api/openapi.json")' in err


@pytest.mark.parametrize("lang", ["curl", "python", "sdk"])
def test_snippet_prints_code_without_secrets(lang, sp_auth, sandbox_info):
    code, out, _ = run(
        ["snippet", sandbox_info["apps"]["hello"]["url"] + "/api/hello", *sp_auth, "--lang", lang]
    )

    assert code == 0 and "DATABRICKS_CLIENT_SECRET" in out
    assert sandbox_info["service_principals"][DEMO_SP]["client_secret"] not in out


def test_browser_sign_in_from_the_cli(sandbox_info, clean_databricks_env):
    """The CLI prints the URL and waits; the "browser" (auto-approve) lands on its listener."""
    out, err = io.StringIO(), io.StringIO()
    argv = [
        "call",
        sandbox_info["apps"]["scoped"]["url"] + "/api/whoami",
        "--auth",
        "browser",
        "--host",
        sandbox_info["host"],
        "--scopes",
        "sql files.files",
        "--browser-port",
        "0",
        "--login-hint",
        "alice@example.com",
        "--no-open",
        "--json",
    ]
    result: dict[str, int] = {}
    worker = threading.Thread(target=lambda: result.setdefault("code", main(argv, Output(out, err))))
    worker.start()
    url = _wait_for(lambda: AUTHORIZE_URL.search(err.getvalue()))
    requests.get(url.group(0), timeout=10)
    worker.join(30)

    document = json.loads(out.getvalue())
    assert result["code"] == 0
    assert document["response"]["body"]["email"] == "alice@example.com"
    assert {"sql", "files.files"} <= set(document["token"]["scopes"])


def test_browser_paste_back_from_the_cli(sandbox_info, clean_databricks_env):
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    argv = [sys.executable, "-m", "explorer", "token", "--auth", "browser", "--host", sandbox_info["host"]]
    argv += ["--login-hint", "bob@example.com", "--paste", "--json"]
    with subprocess.Popen(
        argv, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as process:
        url = _read_until(process.stderr, AUTHORIZE_URL)
        redirected = requests.get(url, allow_redirects=False, timeout=10).headers["Location"]
        out, _ = process.communicate(redirected + "\n", timeout=60)

    document = json.loads(out)
    assert process.returncode == 0 and document["token"]["subject"] == "bob@example.com"


def _wait_for(probe, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = probe()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError("the CLI never printed the sign-in URL")


def _read_until(stream, pattern: re.Pattern[str]) -> str:
    for line in stream:
        match = pattern.search(line)
        if match:
            return match.group(0)
    raise AssertionError("the CLI never printed the sign-in URL")


def test_the_front_door_help_lists_every_command_with_one_line():
    from explorer.commands import CLI_COMMANDS, OTHER_COMMANDS

    result = subprocess.run(
        [sys.executable, "-m", "explorer", "--help"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0
    for name, help_ in {**CLI_COMMANDS, **OTHER_COMMANDS}.items():
        assert f"  {name}" in result.stdout and help_ in result.stdout, name

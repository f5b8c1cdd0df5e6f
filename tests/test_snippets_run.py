"""The snippets the session and the CLI generate for a live connection run against the sandbox as printed.

Credentials come from env vars, as the snippets say; the snippets themselves never hold a secret.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from support.sandbox_helpers import STAND_IN_CLI

from explorer.cli import Output, main
from explorer.model import RequestSpec
from explorer.session import ExplorerSession

LANGS = ("curl", "python", "sdk")


def run_snippet(text: str, lang: str, env: dict[str, str], tmp_path: Path) -> dict:
    """Run `text` with bash or the project's Python in a clean env; returns the JSON it printed last."""
    base = {"PATH": env.pop("PATH", os.environ["PATH"]), "HOME": str(tmp_path), "LANG": "C.UTF-8"}
    command = ["bash", "-c", text] if lang == "curl" else [sys.executable, "-c", text]
    done = subprocess.run(
        command, env={**base, **env}, capture_output=True, text=True, timeout=120, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.rstrip().splitlines()
    assert any(re.search(r"\b200\b", line) for line in lines[:3]), done.stdout[:500]
    return json.loads(lines[-1])


@pytest.fixture
def session(clean_databricks_env):
    s = ExplorerSession()
    yield s
    s.close()


@pytest.mark.parametrize("lang", LANGS)
def test_m2m_with_custom_scopes_reaches_the_scoped_app(lang, session, sandbox_info, tmp_path):
    creds = sandbox_info["service_principals"]["demo-sp"]
    assert session.connect(
        "m2m",
        {
            "host": sandbox_info["host"],
            "client_id": creds["client_id"],
            "client_secret": creds["client_secret"],
            "scopes": "all-apis sql files.files",
        },
    ).ok
    spec = RequestSpec("GET", sandbox_info["apps"]["scoped"]["url"] + "/api/whoami")
    assert session.send(spec).ok

    text = session.snippet(spec, lang)

    assert creds["client_secret"] not in text and session.reveal_token() not in text
    env = {"DATABRICKS_CLIENT_ID": creds["client_id"], "DATABRICKS_CLIENT_SECRET": creds["client_secret"]}
    assert run_snippet(text, lang, env, tmp_path)["email"] == creds["client_id"]


@pytest.mark.parametrize("lang", LANGS)
def test_browser_connection_snippets_use_the_token_from_the_env(lang, session, sandbox_info, tmp_path):
    sign_in = session.begin_browser(
        {
            "host": sandbox_info["host"],
            "scopes": "sql files.files",
            "port": "0",
            "login_hint": "alice@example.com",
        }
    )
    requests.get(sign_in, timeout=10)
    assert session.wait_browser(timeout=10).ok
    spec = RequestSpec("POST", sandbox_info["apps"]["scoped"]["url"] + "/api/echo", body='{"n": 1}')

    text = session.snippet(spec, lang)

    token = session.reveal_token()
    assert token not in text and "DATABRICKS_TOKEN" in text
    echoed = run_snippet(text, lang, {"DATABRICKS_TOKEN": token}, tmp_path)
    assert echoed["method"] == "POST" and json.loads(echoed["body"]) == {"n": 1}


def test_profile_connection_snippet(session, sandbox_info, databricks_cli_profile, tmp_path):
    profile = databricks_cli_profile(user="alice@example.com")
    assert session.connect("profile", {"profile": profile}).ok
    spec = RequestSpec("GET", sandbox_info["apps"]["hello"]["url"] + "/api/whoami")

    text = session.snippet(spec, "python")

    names = ("DATABRICKS_CONFIG_FILE", "DATABRICKS_CLI_PATH", "SANDBOX_CLI_TOKEN_CACHE")
    env = {name: os.environ[name] for name in names}
    env["PATH"] = f"{STAND_IN_CLI.parent}{os.pathsep}{os.environ['PATH']}"
    assert repr(profile) in text
    assert run_snippet(text, "python", env, tmp_path)["email"] == "alice@example.com"


def test_cli_snippet_command_output_runs(sandbox_info, clean_databricks_env, tmp_path):
    creds = sandbox_info["service_principals"]["demo-sp"]
    out = io.StringIO()
    argv = ["snippet", sandbox_info["apps"]["hello"]["url"] + "/api/hello?name=CLI", "--auth", "m2m"]
    code = main([*argv, "--host", sandbox_info["host"], "--lang", "curl"], Output(out, io.StringIO()))

    env = {"DATABRICKS_CLIENT_ID": creds["client_id"], "DATABRICKS_CLIENT_SECRET": creds["client_secret"]}
    assert code == 0
    assert run_snippet(out.getvalue(), "curl", env, tmp_path)["message"] == "Hello, CLI!"

"""No secret leaks: every command with every auth method, at DEBUG, and every export and snippet.

Collects stdout, stderr and log records of the CLI (in-process for the whole matrix, and as real
processes with --debug), plus the session's history exports and snippets, and asserts that no
client secret, PAT, IdP token, access token or refresh token appears in any of it. Tokens minted
inside the commands are unknown to the test, so any complete JWT or refresh token is a leak.
"""

from __future__ import annotations

import io
import logging
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from support.sandbox_helpers import idp_token, m2m_token

from explorer.cli import Output, main
from explorer.model import RequestSpec
from explorer.session import ExplorerSession

REPO = Path(__file__).resolve().parents[1]
FULL_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{16,}")
REFRESH_TOKEN = re.compile(r"dor[A-Za-z0-9_-]{30,}")
PAT = re.compile(r"dapi[0-9a-f]{32}")
AUTHORIZE_URL = re.compile(r"https?://\S+/oidc/v1/authorize\S+")
# Setups that must fail (and still leak nothing): a wrong secret; a PAT, which the gateway refuses.
EXPECTED_TO_FAIL = ("m2m-wrong-secret", "token-pat")
COMMANDS = ["call", "token", "apps", "endpoints", "snippet-curl", "snippet-python", "snippet-sdk"]


def known_secrets(info: dict) -> list[str]:
    secrets = [sp["client_secret"] for sp in info["service_principals"].values()]
    secrets += [app["service_principal"]["client_secret"] for app in info["apps"].values()]
    secrets += [user["pat"] for user in info["users"].values()]
    return secrets


def assert_no_secret(text: str, secrets: list[str], where: str) -> None:
    for secret in secrets:
        assert secret not in text, f"a known secret ({secret[:4]}…) leaked in {where}"
    for pattern in (FULL_JWT, REFRESH_TOKEN, PAT):
        match = pattern.search(text)
        assert match is None, f"{pattern.pattern} leaked in {where}: {match.group(0)[:12]}…"


@pytest.fixture
def debug_log() -> Iterator[io.StringIO]:
    """Every log record of the process, at DEBUG, formatted with its exception text."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setLevel(logging.DEBUG)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield buffer
    root.removeHandler(handler)
    root.setLevel(previous)


def argv_for(command: str, info: dict, auth: list[str]) -> list[str]:
    hello = info["apps"]["hello"]["url"]
    if command == "call":
        return [
            "call",
            hello + "/api/echo?token=typed-in-query-secret",
            "-X",
            "POST",
            "-d",
            '{"a": 1}',
            *auth,
        ]
    if command == "endpoints":
        return ["endpoints", hello, *auth]
    if command.startswith("snippet"):
        return ["snippet", hello + "/api/hello", *auth, "--lang", command.split("-")[1]]
    return [command, *auth]


def run_cli(argv: list[str], *, sign_in_as: str | None = None) -> str:
    """stdout + stderr of one in-process run; a browser sign-in is approved headlessly."""
    out, err = io.StringIO(), io.StringIO()
    if sign_in_as is None:
        main([*argv, "--debug"], Output(out, err))
        return out.getvalue() + err.getvalue()
    worker = threading.Thread(target=main, args=([*argv, "--debug"], Output(out, err)))
    worker.start()
    deadline = time.monotonic() + 20
    while not AUTHORIZE_URL.search(err.getvalue()) and time.monotonic() < deadline:
        time.sleep(0.05)
    url = AUTHORIZE_URL.search(err.getvalue())
    if url:
        requests.get(url.group(0), timeout=10)
    worker.join(30)
    return out.getvalue() + err.getvalue()


@pytest.fixture
def auth_setups(sandbox_info, clean_databricks_env, databricks_cli_profile, monkeypatch, tmp_path) -> dict:
    """Every auth method of the CLI, as (auth options, user to sign in as)."""
    info, host = sandbox_info, sandbox_info["host"]
    sp = info["service_principals"]["demo-sp"]
    profile = databricks_cli_profile(user="alice@example.com")
    subject = tmp_path / "idp.jwt"
    subject.write_text(idp_token(info, "ci-pipeline@idp"), encoding="utf-8")
    monkeypatch.setenv("DATABRICKS_CLIENT_ID", sp["client_id"])
    monkeypatch.setenv("DATABRICKS_CLIENT_SECRET", sp["client_secret"])
    monkeypatch.setenv("OAUTH_TOKEN", m2m_token(info))
    monkeypatch.setenv("ALICE_PAT", info["users"]["alice@example.com"]["pat"])
    monkeypatch.setenv("IDP_TOKEN", idp_token(info, "ci-pipeline@idp"))
    browser = ["--auth", "browser", "--host", host, "--scopes", "sql", "--browser-port", "0", "--no-open"]
    return {
        "profile": (["--auth", "profile", "--profile", profile], None),
        "m2m": (["--auth", "m2m", "--host", host], None),
        "m2m-secret-flag": (["--auth", "m2m", "--host", host, "--client-secret", sp["client_secret"]], None),
        "m2m-wrong-secret": (
            ["--auth", "m2m", "--host", host, "--client-secret", "wrong-secret-123456789"],
            None,
        ),
        "token-oauth": (["--auth", "token", "--token-env", "OAUTH_TOKEN"], None),
        "token-pat": (["--auth", "token", "--token-env", "ALICE_PAT", "--host", host], None),
        "federated-file": (
            ["--auth", "federated", "--host", host, "--subject-token-file", str(subject)],
            None,
        ),
        "federated-env": (
            [
                "--auth",
                "federated",
                "--host",
                host,
                "--token-env",
                "IDP_TOKEN",
                "--client-id",
                sp["client_id"],
            ],
            None,
        ),
        "browser": ([*browser, "--login-hint", "alice@example.com"], "alice@example.com"),
    }


def test_every_command_with_every_method_at_debug(sandbox_info, auth_setups, debug_log, capfd, monkeypatch):
    secrets = [*known_secrets(sandbox_info), "wrong-secret-123456789"]
    secrets += [os.environ["OAUTH_TOKEN"], os.environ["IDP_TOKEN"]]
    outputs = []
    for name, (auth, user) in auth_setups.items():
        for command in COMMANDS:
            sign_in = user if command.startswith(("call", "token", "apps", "endpoints")) else None
            text = run_cli(argv_for(command, sandbox_info, auth), sign_in_as=sign_in)
            outputs.append(text)
            assert_no_secret(text, secrets, f"{command} with {name}")
            if command == "call" and name not in EXPECTED_TO_FAIL:  # the setup really worked
                assert '"method": "POST"' in text, f"call with {name} did not reach the app"
    # The app method, as deployed: the platform's variables.
    monkeypatch.setenv("DATABRICKS_APP_NAME", "explorer")
    monkeypatch.setenv("DATABRICKS_HOST", sandbox_info["host"])
    for command in COMMANDS:
        text = run_cli(argv_for(command, sandbox_info, ["--auth", "app"]))
        outputs.append(text)
        assert_no_secret(text, secrets, f"{command} with app")

    captured = capfd.readouterr()
    assert_no_secret(debug_log.getvalue(), secrets, "the debug log")
    assert_no_secret(captured.out + captured.err, secrets, "the process's own stdout/stderr")
    # The runs did run: calls reached the echo endpoint and the SDK logged at DEBUG.
    assert "DEBUG" in debug_log.getvalue()


def test_real_processes_at_debug(sandbox_info, clean_databricks_env, tmp_path):
    sp = sandbox_info["service_principals"]["demo-sp"]
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "DATABRICKS_CLIENT_ID": sp["client_id"],
        "DATABRICKS_CLIENT_SECRET": sp["client_secret"],
        "EXPLORER_LOG_LEVEL": "DEBUG",
        "PAT": sandbox_info["users"]["bob@example.com"]["pat"],
    }
    hello = sandbox_info["apps"]["hello"]["url"]
    runs = [
        ["call", hello + "/api/whoami", "--auth", "m2m", "--host", sandbox_info["host"], "--json"],
        ["token", "--auth", "m2m", "--host", sandbox_info["host"], "--json"],
        ["call", hello + "/api/hello", "--auth", "token", "--token-env", "PAT", "--debug"],
    ]
    texts = []
    for argv in runs:
        done = subprocess.run(
            [sys.executable, "-m", "explorer", *argv], env=env, capture_output=True, text=True, timeout=60
        )
        texts.append(done.stdout + done.stderr)

    assert "DEBUG" in texts[0] and '"status": 200' in texts[0]
    for argv, text in zip(runs, texts, strict=True):
        assert_no_secret(text, known_secrets(sandbox_info), " ".join(argv[:1]))


def test_history_exports_snippets_and_reprs_of_every_method(sandbox_info, clean_databricks_env, debug_log):
    info = sandbox_info
    sp = info["service_principals"]["demo-sp"]
    hello = info["apps"]["hello"]["url"]
    session = ExplorerSession()
    revealed: list[str] = []
    try:
        connections = [
            session.connect(
                "m2m",
                {"host": info["host"], "client_id": sp["client_id"], "client_secret": sp["client_secret"]},
            ),
            session.connect("user", {"token": m2m_token(info)}),
            session.connect("token", {"token": info["users"]["alice@example.com"]["pat"]}),
            session.connect(
                "federated", {"host": info["host"], "subject_token": idp_token(info, "ci-pipeline@idp")}
            ),
            _browser(session, info),
        ]
        for connection in connections:
            assert connection.ok, connection.findings
        for spec in (
            RequestSpec("GET", hello + "/api/whoami"),
            RequestSpec(
                "POST",
                hello + "/api/echo?code=abc123def456",
                headers=[("X-Api-Key", "typed-api-key-0123456789")],
                body='{"password": "typed-password-0123"}',
            ),
            RequestSpec("GET", info["apps"]["scoped"]["url"] + "/api/whoami"),
        ):
            session.send(spec)
            revealed.append(session.reveal_token() or "")
        credentials = session.credentials
        revealed.append(credentials.refresh_token_source() or "")
        texts = [session.history.export(fmt)[1] for fmt in ("csv", "json", "har")]
        texts += [
            session.snippet(RequestSpec("GET", hello + "/api/hello"), lang)
            for lang in ("curl", "python", "sdk")
        ]
        texts += [
            repr(session),
            repr(credentials),
            repr(session.connection),
            session.history.rows().to_string(),
        ]
    finally:
        session.close()

    # Values typed into the request come back in the echo's body, which the user asked to see:
    # only credentials are checked here.
    secrets = [*known_secrets(info), *[r for r in revealed if r]]
    for index, text in enumerate(texts):
        assert_no_secret(text, secrets, f"export/snippet/repr #{index}")
    assert_no_secret(debug_log.getvalue(), secrets, "the debug log")


def _browser(session: ExplorerSession, info: dict):
    url = session.begin_browser(
        {"host": info["host"], "port": "0", "login_hint": "alice@example.com", "scopes": "sql files.files"}
    )
    requests.get(url, timeout=10)
    return session.wait_browser(timeout=10)


def test_debug_shows_the_round_trips_and_the_swallowed_errors_with_secrets_redacted(
    sandbox_info, clean_databricks_env, debug_log, monkeypatch
):
    sp = sandbox_info["service_principals"]["demo-sp"]
    monkeypatch.setenv("DATABRICKS_CLIENT_ID", sp["client_id"])
    monkeypatch.setenv("DATABRICKS_CLIENT_SECRET", sp["client_secret"])
    url = sandbox_info["apps"]["hello"]["url"] + "/api/hello"
    run_cli(["call", url, "--auth", "m2m", "--host", sandbox_info["host"]])
    run_cli(["call", "http://127.0.0.1:9/api/x", "--auth", "none", "--timeout", "2"])
    log = debug_log.getvalue()
    assert f"GET {url} -> 200" in log  # the explorer's own round trip
    assert "GET http://127.0.0.1:9/api/x failed" in log and "Traceback" in log  # the swallowed error
    assert "/oidc/v1/token" in log  # the SDK's round trips (its own logger)
    assert_no_secret(log, [sp["client_secret"], *known_secrets(sandbox_info)], "the debug log")

"""Deployed behaviour that needs no deployment: what /api/whoami and /api/health answer, the host the
platform injects, when `user` is offered, and how a session follows the token the platform forwards
(the real handlers, real Gradio requests, real tokens from the sandbox)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import gradio as gr
import pytest
from starlette.datastructures import Headers
from starlette.requests import Request
from support.ports import free_port
from support.sandbox_helpers import m2m_token, user_token

from explorer.guard import Allowlist
from explorer.launch import local_config, normalize_host_env
from explorer.redact import mask
from explorer.server import health, identity
from explorer.ui import authform
from explorer.ui.config import UIConfig
from explorer.ui.handlers import Handlers

FORWARDED = "X-Forwarded-Access-Token"
REPO = Path(__file__).resolve().parents[1]


def gradio_request(headers: dict[str, str]) -> gr.Request:
    """The gr.Request Gradio builds for an event whose HTTP request carried `headers`."""
    raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    return gr.Request(request=Request({"type": "http", "method": "POST", "path": "/", "headers": raw}))


def method_names(choices_update: Any) -> list[str]:
    return [name for _label, name in choices_update.choices]


# --- the explorer's own API ----------------------------------------------------------------------


def test_whoami_echoes_the_forwarded_identity_with_tokens_masked(sandbox_info: dict[str, Any]) -> None:
    token = user_token(sandbox_info["host"], "alice@example.com", ["all-apis", "sql"])
    headers = Headers(
        {
            "X-Forwarded-Email": "alice@example.com",
            "X-Forwarded-User": "1234@5678",
            "X-Request-Id": "9f0c",
            FORWARDED: token,
            "Authorization": f"Bearer {token}",
        }
    )
    seen = identity(headers)
    assert seen["email"] == "alice@example.com" and seen["user"] == "1234@5678"
    assert seen["request_id"] == "9f0c" and seen["preferred_username"] is None
    assert seen["access_token"]["masked"] == mask(token)
    assert seen["access_token"]["subject"] == "alice@example.com"
    assert seen["access_token"]["scopes"] == ["all-apis", "sql"]
    assert seen["authorization"] == f"Bearer {mask(token)}"
    assert token not in json.dumps(seen)


def test_whoami_without_forwarded_headers_says_none() -> None:
    seen = identity(Headers({}))
    assert seen["email"] is None and seen["access_token"] is None and seen["authorization"] is None


def test_whoami_with_a_garbage_token_still_masks_it() -> None:
    garbage = "not-a-jwt-" + "x" * 40
    seen = identity(Headers({FORWARDED: garbage}))
    assert seen["access_token"]["kind"] == "opaque" and garbage not in json.dumps(seen)


def test_health_names_the_app_and_its_allowlist_without_secrets() -> None:
    env = {
        "DATABRICKS_APP_PORT": "8000",
        "DATABRICKS_APP_NAME": "api-explorer",
        "DATABRICKS_HOST": "https://adb-1.2.azuredatabricks.net",
        "DATABRICKS_CLIENT_SECRET": "dose-not-to-be-shown-0123456789",
        "EXPLORER_ALLOWED_HOSTS": "api.example.com",
    }
    config = local_config(env)
    answer = health(config, env)
    assert answer["status"] == "ok" and answer["app"] == "api-explorer"
    assert answer["deployed"] is True and answer["default_auth_method"] == "app"
    assert "https://adb-1.2.azuredatabricks.net" in answer["allowed_hosts"]
    assert "*.databricksapps.com" in answer["allowed_hosts"] and "api.example.com" in answer["allowed_hosts"]
    assert env["DATABRICKS_CLIENT_SECRET"] not in json.dumps(answer)


# --- start-up configuration ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("adb-1.2.azuredatabricks.net", "https://adb-1.2.azuredatabricks.net"),
        ("https://dbc-1.cloud.databricks.com/", "https://dbc-1.cloud.databricks.com"),
        ("http://127.0.0.1:8765", "http://127.0.0.1:8765"),
    ],
)
def test_the_platforms_host_gets_a_scheme(given: str, expected: str) -> None:
    env = {"DATABRICKS_HOST": given}
    normalize_host_env(env)
    assert env["DATABRICKS_HOST"] == expected


def test_a_missing_host_stays_missing() -> None:
    env: dict[str, str] = {}
    normalize_host_env(env)
    assert env == {}


def test_deployed_config_turns_the_allowlist_on_and_prefers_app() -> None:
    config = local_config({"DATABRICKS_APP_PORT": "8000", "DATABRICKS_HOST": "https://ws.example.com"})
    assert config.deployed and config.autoconnect and config.default_method == "app"
    assert config.allowlist.allows("https://my-app-1.aws.databricksapps.com/api/x")
    assert config.allowlist.allows("https://ws.example.com/api/2.0/apps")
    assert not config.allowlist.allows("http://169.254.169.254/latest/meta-data")


def test_locally_the_allowlist_is_off_unless_configured() -> None:
    assert local_config({}).allowlist is None and not local_config({}).deployed
    configured = local_config({"EXPLORER_ALLOWED_HOSTS": "127.0.0.1:9000"})
    assert isinstance(configured.allowlist, Allowlist)
    assert configured.allowlist.allows("http://127.0.0.1:9000/api/x")
    assert not configured.allowlist.allows("http://127.0.0.1:9001/api/x")


def test_a_bad_allowed_host_entry_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="not a host"):
        local_config({"DATABRICKS_APP_PORT": "8000", "EXPLORER_ALLOWED_HOSTS": "https://a.com/some/path"})


def test_a_deployed_start_with_a_bad_allowed_host_stops_with_one_clear_line() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DATABRICKS_")}
    env.update({"DATABRICKS_APP_PORT": str(free_port()), "EXPLORER_ALLOWED_HOSTS": "https://a.com/some/path"})
    result = subprocess.run(
        [sys.executable, "-m", "explorer"], env=env, cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert "not a host" in result.stderr and "Traceback" not in result.stderr


# --- the `user` method, per browser session -------------------------------------------------------


@pytest.fixture
def handlers(sandbox_info: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Handlers:
    """The deployed UI's handlers, as the platform would configure them for the sandbox workspace."""
    monkeypatch.setenv("DATABRICKS_HOST", sandbox_info["host"])
    return Handlers(UIConfig(deployed=True, allowlist=Allowlist.for_deployment(sandbox_info["host"])))


def startup(h: Handlers, request: gr.Request) -> tuple[Any, ...]:
    names = authform.box_names()
    return h.startup(None, "app", names, [""] * len(names), request)


def connect(h: Handlers, ui: Any, method: str, request: gr.Request) -> Any:
    names = authform.box_names()
    ui, *_ = h.connect(ui, method, names, [""] * len(names), request)
    return ui.explorer.connection


def test_user_is_offered_only_when_the_platform_forwards_a_token(
    handlers: Handlers, sandbox_info: dict[str, Any]
) -> None:
    token = user_token(sandbox_info["host"], "alice@example.com", ["sql"])
    with_token = startup(handlers, gradio_request({FORWARDED: token}))
    without = startup(handlers, gradio_request({"X-Forwarded-Email": "alice@example.com"}))
    assert "user" in method_names(with_token[1]) and "user" not in method_names(without[1])
    local = startup(Handlers(UIConfig()), gradio_request({FORWARDED: token}))
    assert "user" not in method_names(local[1])  # locally a forwarded header means nothing


def test_each_session_keeps_its_own_forwarded_token(handlers: Handlers, sandbox_info: dict[str, Any]) -> None:
    host = sandbox_info["host"]
    alice, bob = (user_token(host, u, ["sql"]) for u in ("alice@example.com", "bob@example.com"))
    ui_alice = startup(handlers, gradio_request({FORWARDED: alice}))[0]
    ui_bob = startup(handlers, gradio_request({FORWARDED: bob}))[0]
    try:
        assert connect(handlers, ui_alice, "user", gradio_request({FORWARDED: alice})).auth.identity == (
            "alice@example.com"
        )
        assert connect(handlers, ui_bob, "user", gradio_request({FORWARDED: bob})).auth.identity == (
            "bob@example.com"
        )
        assert ui_alice.explorer.reveal_token() == alice and ui_bob.explorer.reveal_token() == bob
        assert repr(ui_alice).count(alice[:20]) == 0  # the token is kept out of reprs
    finally:
        ui_alice.close()
        ui_bob.close()


def test_a_user_connection_follows_the_renewed_forwarded_token(
    handlers: Handlers, sandbox_info: dict[str, Any]
) -> None:
    host = sandbox_info["host"]
    first, renewed = (
        user_token(host, "alice@example.com", ["sql"]),
        user_token(host, "alice@example.com", ["sql"]),
    )
    assert first != renewed
    ui = startup(handlers, gradio_request({FORWARDED: first}))[0]
    try:
        assert connect(handlers, ui, "user", gradio_request({FORWARDED: first})).ok
        handlers.follow_forwarded(ui, gradio_request({FORWARDED: renewed}))  # the next event's request
        assert ui.explorer.reveal_token() == renewed
        assert ui.explorer.connection.token.masked == mask(renewed)
    finally:
        ui.close()


def test_user_without_a_forwarded_token_explains_how_to_enable_it(handlers: Handlers) -> None:
    ui = startup(handlers, gradio_request({}))[0]
    try:
        connection = connect(handlers, ui, "user", gradio_request({}))
        assert not connection.ok and connection.findings[0].code == "TOKEN_MISSING"
        assert "User authorization" in connection.findings[0].fix
    finally:
        ui.close()


def test_connecting_to_a_workspace_off_the_allowlist_sends_no_secret(
    handlers: Handlers, sandbox_info: dict[str, Any], start_sandbox: Any
) -> None:
    other = start_sandbox()  # another workspace: not this deployment's, not on the allowlist
    sp = other.info["service_principals"]["demo-sp"]
    ui = startup(handlers, gradio_request({}))[0]
    try:
        fields = {"host": other.host, "client_id": sp["client_id"], "client_secret": sp["client_secret"]}
        connection = ui.explorer.connect("m2m", fields)
        assert not connection.ok and connection.findings[0].code == "HOST_NOT_ALLOWED"
        assert sp["client_secret"] not in json.dumps([f.as_dict() for f in connection.findings])
        # A pasted token whose issuer is that workspace is refused the same way.
        connection = ui.explorer.connect("token", {"token": m2m_token(other.info)})
        assert not connection.ok and connection.findings[0].code == "HOST_NOT_ALLOWED"
        # This deployment's own workspace is fine.
        assert ui.explorer.connect("token", {"token": m2m_token(sandbox_info)}).ok
    finally:
        ui.close()

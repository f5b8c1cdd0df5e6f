"""Faults around the workspace: it goes down while the app stays up; a token expires between two
requests (SDK-backed methods refresh it transparently, a pasted token gets TOKEN_EXPIRED)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from support.fault_servers import Forwarder, tcp_forwarder
from support.sandbox_helpers import default_config, m2m_token

from explorer.model import RequestSpec
from explorer.session import ExplorerSession
from explorer.tokens import decode_token

pytestmark = pytest.mark.timeout(60)
TIMEOUT = 1.0
SHORT_TTL = 3  # seconds a sandbox token lives in the expiry stories


def sp_fields(info: dict[str, Any], host: str | None = None) -> dict[str, str]:
    sp = info["service_principals"]["demo-sp"]
    return {"host": host or info["host"], "client_id": sp["client_id"], "client_secret": sp["client_secret"]}


def token_requests(host: str) -> int:
    return int(requests.get(host + "/_sandbox/stats", timeout=10).json()["token_requests"])


@pytest.fixture
def session(clean_databricks_env: Any) -> Iterator[ExplorerSession]:
    s = ExplorerSession(timeout=TIMEOUT)
    yield s
    s.close()


@pytest.fixture
def workspace(sandbox_info: dict[str, Any]) -> Iterator[Forwarder]:
    """The workspace as the explorer knows it: a forwarder the test can take down."""
    parts = urlsplit(sandbox_info["host"])
    with tcp_forwarder(parts.hostname or "127.0.0.1", parts.port or 80) as forwarder:
        yield forwarder


def wait_until_expired(token: str) -> None:
    expires_at = decode_token(token).expires_at
    assert expires_at is not None
    time.sleep(max(0.0, expires_at - time.time()) + 0.3)


# --- the workspace goes down --------------------------------------------------------------------


def test_the_app_still_answers_while_the_workspace_is_down(session, sandbox_info, workspace):
    assert session.connect("m2m", sp_fields(sandbox_info, workspace.url)).ok
    hello = sandbox_info["apps"]["hello"]["url"] + "/api/hello"
    assert session.send(RequestSpec("GET", hello, timeout=TIMEOUT)).ok

    workspace.stop()
    exchange = session.send(RequestSpec("GET", hello, timeout=TIMEOUT))

    assert exchange.ok and exchange.response.json["message"] == "Hello, World!"
    assert not [f for f in exchange.findings if f.severity == "error"]


def test_a_failed_call_is_diagnosed_from_the_response_when_the_workspace_is_down(
    session, sandbox_info, workspace
):
    assert session.connect("m2m", sp_fields(sandbox_info, workspace.url)).ok
    workspace.stop()
    app = sandbox_info["apps"]["hello"]["url"]

    missing = session.send(RequestSpec("GET", app + "/api/no-such-route", timeout=TIMEOUT))
    failing = session.send(RequestSpec("GET", app + "/api/status/503", timeout=TIMEOUT))

    assert missing.findings[0].code == "PATH_NOT_FOUND"
    assert failing.findings[0].code == "SERVER_ERROR"
    for exchange in (missing, failing):
        note = next(f for f in exchange.findings if f.message.startswith("Workspace facts unavailable"))
        assert note.severity == "info" and note.code == "NETWORK_CONNECT"
        assert "Connection refused" in note.message


def test_listing_apps_with_the_workspace_down_is_a_network_finding(session, sandbox_info, workspace):
    assert session.connect("m2m", sp_fields(sandbox_info, workspace.url)).ok
    workspace.stop()

    apps, findings = session.list_apps()

    assert apps == []
    assert findings[0].code == "NETWORK_CONNECT" and "refused" in findings[0].message


def test_connecting_to_a_workspace_that_is_down_fails_fast(session, sandbox_info, workspace):
    workspace.stop()

    connection = session.connect("m2m", sp_fields(sandbox_info, workspace.url))

    assert not connection.ok and connection.findings[0].code == "NETWORK_CONNECT"
    assert sp_fields(sandbox_info)["client_secret"] not in repr(connection)


# --- a token expires between two requests ---------------------------------------------------------


@pytest.fixture
def short_lived(start_sandbox: Any) -> dict[str, Any]:
    """A sandbox whose tokens expire after SHORT_TTL seconds."""
    return start_sandbox(default_config(token_ttl_seconds=SHORT_TTL)).info


def test_m2m_refreshes_an_expired_token_between_two_sends(session, short_lived):
    assert session.connect("m2m", sp_fields(short_lived)).ok
    hello = short_lived["apps"]["hello"]["url"] + "/api/hello"
    first_token = session.reveal_token()
    assert session.send(RequestSpec("GET", hello, timeout=TIMEOUT)).ok
    before = token_requests(short_lived["host"])

    wait_until_expired(first_token)
    exchange = session.send(RequestSpec("GET", hello, timeout=TIMEOUT))

    assert exchange.ok, [f.code for f in exchange.findings]
    assert token_requests(short_lived["host"]) > before  # the SDK fetched a new one by itself
    first_expiry = decode_token(first_token).expires_at
    assert exchange.token is not None and exchange.token.expires_at > first_expiry  # a newer token went out


def test_a_pasted_token_that_expires_gets_token_expired(session, short_lived, monkeypatch):
    token = m2m_token(short_lived)
    monkeypatch.setenv("PASTED_TOKEN", token)
    assert session.connect("token", {"token_env": "PASTED_TOKEN"}).ok
    hello = short_lived["apps"]["hello"]["url"] + "/api/hello"
    assert session.send(RequestSpec("GET", hello, timeout=TIMEOUT)).ok

    wait_until_expired(token)
    exchange = session.send(RequestSpec("GET", hello, timeout=TIMEOUT))

    assert exchange.response is not None and exchange.response.status == 401
    finding = exchange.findings[0]
    assert finding.code == "TOKEN_EXPIRED" and finding.severity == "error"
    assert "databricks auth token" in finding.fix
    assert token not in repr(exchange) and token not in finding.message

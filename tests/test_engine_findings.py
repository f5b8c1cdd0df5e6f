"""One story per finding code: a real failure against the sandbox (or this machine), the code, its fix."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler

import pytest
import requests
from support.fault_servers import tls_server
from support.ports import free_port
from support.recording_server import serving
from support.sandbox_helpers import default_config, idp_token, m2m_token, user_token

from explorer.guard import Allowlist
from explorer.model import Exchange, Finding, RequestSpec
from explorer.session import ExplorerSession

DEMO_SP = "demo-sp"


def url(info: dict, app: str = "hello", path: str = "/api/hello") -> str:
    return info["apps"][app]["url"] + path


def sp_fields(info: dict, sp: str = DEMO_SP) -> dict[str, str]:
    creds = info["service_principals"][sp]
    return {"host": info["host"], "client_id": creds["client_id"], "client_secret": creds["client_secret"]}


def finding(exchange_or_findings: Exchange | list[Finding], code: str) -> Finding:
    findings = (
        exchange_or_findings.findings if isinstance(exchange_or_findings, Exchange) else exchange_or_findings
    )
    found = [f for f in findings if f.code == code]
    assert found, f"{code} not in {[f.code for f in findings]}"
    return found[0]


def send(session: ExplorerSession, target: str, timeout: float = 10.0, method: str = "GET") -> Exchange:
    return session.send(RequestSpec(method, target, timeout=timeout))


@pytest.fixture
def session(clean_databricks_env) -> Iterator[ExplorerSession]:
    s = ExplorerSession()
    yield s
    s.close()


@pytest.fixture
def m2m(session, sandbox_info) -> ExplorerSession:
    assert session.connect("m2m", sp_fields(sandbox_info)).ok
    return session


def connect_token(session: ExplorerSession, monkeypatch: pytest.MonkeyPatch, token: str) -> None:
    monkeypatch.setenv("PASTED_TOKEN", token)
    assert session.connect("token", {"token_env": "PASTED_TOKEN"}).ok


def browser_sign_in(session: ExplorerSession, host: str, user: str, scopes: str = "") -> None:
    sign_in = session.begin_browser({"host": host, "port": "0", "login_hint": user, "scopes": scopes})
    requests.get(sign_in, timeout=10)
    assert session.wait_browser(timeout=10).ok


# --- tokens ---------------------------------------------------------------------------------------


def test_no_token_is_redirected_to_sign_in(session, sandbox_info):
    exchange = send(session, url(sandbox_info))

    assert exchange.response.status == 302
    assert exchange.findings[0].code == "TOKEN_MISSING" and exchange.findings[0].severity == "error"
    assert "--auth profile" in finding(exchange, "TOKEN_MISSING").fix
    login = finding(exchange, "REDIRECTED_TO_LOGIN")
    assert "TOKEN_MISSING" in login.message and "/oidc/v1/authorize" in exchange.response.location


def test_personal_access_token_is_not_oauth(session, sandbox_info, monkeypatch):
    connect_token(session, monkeypatch, sandbox_info["users"]["alice@example.com"]["pat"])

    exchange = send(session, url(sandbox_info))

    assert exchange.response.status == 302
    assert exchange.findings[0].code == "TOKEN_NOT_OAUTH"
    assert "databricks auth login" in exchange.findings[0].fix
    assert session.connection.findings[0].code == "TOKEN_NOT_OAUTH"  # warned before sending


def test_external_idp_token_needs_exchange(session, sandbox_info, monkeypatch):
    connect_token(session, monkeypatch, idp_token(sandbox_info, "ci-pipeline@idp"))

    exchange = send(session, url(sandbox_info))

    assert exchange.response.status == 401
    assert exchange.findings[0].code == "TOKEN_NEEDS_EXCHANGE"
    assert "--auth federated" in exchange.findings[0].fix


def test_tampered_token_is_invalid(session, sandbox_info, monkeypatch):
    header, claims, signature = m2m_token(sandbox_info).split(".")
    forged = ".".join([header, claims, signature[::-1]])
    connect_token(session, monkeypatch, forged)

    exchange = send(session, url(sandbox_info))

    assert exchange.response.status == 401
    assert exchange.findings[0].code == "TOKEN_INVALID"
    assert "fresh token" in exchange.findings[0].fix


def test_expired_token(start_sandbox, session, monkeypatch):
    sb = start_sandbox(default_config(token_ttl_seconds=1))
    info = sb.info
    token = m2m_token(info)
    connect_token(session, monkeypatch, token)
    time.sleep(1.5)  # past the token's expiry

    exchange = send(session, url(info))

    assert exchange.response.status == 401
    expired = exchange.findings[0]
    assert expired.code == "TOKEN_EXPIRED" and expired.severity == "error"
    assert "databricks auth token" in expired.fix


def test_token_without_the_apps_scopes(m2m, sandbox_info):
    exchange = send(m2m, url(sandbox_info, "scoped"))

    assert exchange.response.status == 403
    scope = exchange.findings[0]
    assert scope.code == "SCOPE_MISSING" and "sql files.files" in scope.message
    assert '--scopes "all-apis sql files.files"' in scope.fix
    assert exchange.token.missing_scopes[:2] == ["sql", "files.files"]


def test_user_without_the_scopes_is_told_to_use_browser_with_them(session, sandbox_info):
    browser_sign_in(session, sandbox_info["host"], "alice@example.com")

    exchange = send(session, url(sandbox_info, "scoped"))

    assert exchange.findings[0].code == "SCOPE_MISSING"
    assert "Use `browser` with scopes sql files.files" in exchange.findings[0].fix


# --- permissions and apps -------------------------------------------------------------------------


def test_user_without_can_use(session, sandbox_info):
    browser_sign_in(session, sandbox_info["host"], "bob@example.com")

    exchange = send(session, url(sandbox_info))

    assert exchange.response.status == 403
    denied = exchange.findings[0]
    assert denied.code == "NO_CAN_USE" and "bob@example.com" in denied.message
    assert "Grant CAN USE: Databricks UI → Compute → Apps → hello → Permissions" in denied.fix
    assert '"user_name": "bob@example.com"' in denied.fix


def test_app_to_app_call_without_can_use(session, sandbox_info, monkeypatch):
    scoped_sp = sandbox_info["apps"]["scoped"]["service_principal"]
    monkeypatch.setenv("DATABRICKS_HOST", sandbox_info["host"])
    monkeypatch.setenv("DATABRICKS_CLIENT_ID", scoped_sp["client_id"])
    monkeypatch.setenv("DATABRICKS_CLIENT_SECRET", scoped_sp["client_secret"])
    assert session.connect("app", {}).ok

    exchange = send(session, url(sandbox_info))

    denied = finding(exchange, "NO_CAN_USE")
    assert scoped_sp["client_id"] in denied.message
    assert '"service_principal_name"' in denied.fix


def test_stopped_app(m2m, sandbox_info):
    exchange = send(m2m, url(sandbox_info, "stopped"))

    assert exchange.response.status == 404
    assert exchange.findings[0].code == "APP_NOT_RUNNING"
    assert "databricks apps start stopped" in exchange.findings[0].fix


def test_url_of_no_app_in_the_workspace(m2m, not_found_server):
    exchange = send(m2m, not_found_server + "/api/hello")

    assert exchange.response.status == 404
    assert exchange.findings[0].code == "APP_NOT_FOUND"
    assert "python -m explorer apps" in exchange.findings[0].fix


def test_path_outside_api(m2m, sandbox_info):
    exchange = send(m2m, url(sandbox_info, path="/"))

    assert exchange.response.status == 302
    outside = finding(exchange, "PATH_NOT_API")
    assert outside.severity == "error" and "/api/" in outside.fix
    assert finding(exchange, "REDIRECTED_TO_LOGIN").severity == "error"


def test_path_outside_api_is_warned_before_sending_but_the_response_wins(m2m, sandbox_info):
    from explorer.diagnose import presend_findings

    spec = RequestSpec("GET", url(sandbox_info, path="/logz"))
    warned = presend_findings(spec, None, True)

    assert [f.code for f in warned] == ["PATH_NOT_API"] and warned[0].severity == "warning"


def test_unknown_route_of_a_running_app(m2m, sandbox_info):
    exchange = send(m2m, url(sandbox_info, path="/api/nope"))

    assert exchange.response.status == 404
    assert exchange.findings[0].code == "PATH_NOT_FOUND"
    assert f"python -m explorer endpoints {sandbox_info['apps']['hello']['url']}" in exchange.findings[0].fix


def test_app_error(m2m, sandbox_info):
    exchange = send(m2m, url(sandbox_info, path="/api/status/500"))

    assert exchange.findings[0].code == "SERVER_ERROR"
    assert "/logz" in exchange.findings[0].fix and "→ hello → Logs" in exchange.findings[0].fix


def test_app_down(m2m, sandbox_info):
    exchange = send(m2m, url(sandbox_info, path="/api/status/502"))

    assert exchange.findings[0].code == "SERVER_ERROR" and "down" in exchange.findings[0].message


# --- network --------------------------------------------------------------------------------------


def test_unresolvable_host(session):
    exchange = send(session, "https://my-app-1234567890.aws.invalid/api/hello")

    assert exchange.response is None
    assert exchange.findings[0].code == "NETWORK_DNS"
    assert "databricksapps.com" in exchange.findings[0].fix


def test_refused_connection(session, closed_port):
    exchange = send(session, f"http://127.0.0.1:{closed_port}/api/hello")

    assert exchange.findings[0].code == "NETWORK_CONNECT"
    assert f"port {closed_port}" in exchange.findings[0].fix


def test_self_signed_certificate(session, self_signed_server):
    exchange = send(session, self_signed_server + "/api/hello")

    assert exchange.response is None
    assert exchange.findings[0].code == "NETWORK_TLS"
    assert "REQUESTS_CA_BUNDLE" in exchange.findings[0].fix


def test_proxy_failure(session, closed_port, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{closed_port}")
    for name in ("NO_PROXY", "no_proxy", "http_proxy"):
        monkeypatch.delenv(name, raising=False)

    exchange = send(session, "http://app.example.test/api/hello")

    proxy = finding(exchange, "NETWORK_PROXY")
    assert proxy.severity == "error" and "NO_PROXY" in proxy.fix


def test_proxy_settings_are_named_when_a_connection_fails(session, closed_port, monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example.test:3128")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")

    exchange = send(session, f"http://127.0.0.1:{closed_port}/api/hello")

    assert exchange.findings[0].code == "NETWORK_CONNECT"
    assert "HTTPS_PROXY" in finding(exchange, "NETWORK_PROXY").message


def test_slow_endpoint_times_out(m2m, sandbox_info):
    exchange = send(m2m, url(sandbox_info, path="/api/slow?ms=3000"), timeout=0.5)

    assert exchange.response is None
    assert exchange.findings[0].code == "TIMEOUT"
    assert "--timeout" in exchange.findings[0].fix


def test_bad_client_secret(session, sandbox_info):
    connection = session.connect("m2m", {**sp_fields(sandbox_info), "client_secret": "not-the-secret-123456"})

    assert not connection.ok
    assert connection.findings[0].code == "AUTH_FAILED"
    assert "invalid_client" in connection.findings[0].message


def test_host_not_allowed_sends_nothing(sandbox_info, listening_socket):
    s = ExplorerSession(allowlist=Allowlist.for_deployment(sandbox_info["host"]))
    try:
        s.connect("token", {"token": user_token(sandbox_info["host"], "alice@example.com", ["all-apis"])})
        port = listening_socket.getsockname()[1]
        exchange = send(s, f"http://127.0.0.1:{port}/api/hello")
    finally:
        s.close()

    assert exchange.response is None
    assert exchange.findings[0].code == "HOST_NOT_ALLOWED"
    assert "EXPLORER_ALLOWED_HOSTS" in exchange.findings[0].fix
    with pytest.raises(BlockingIOError):
        listening_socket.accept()  # nobody ever connected


# --- local servers for the network stories ---------------------------------------------------------


@pytest.fixture
def closed_port() -> int:
    return free_port()  # free: its probe socket is closed again, so nothing listens there


@pytest.fixture
def listening_socket() -> Iterator[socket.socket]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(1)
    sock.setblocking(False)
    yield sock
    sock.close()


class _NotFound(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def not_found_server() -> Iterator[str]:
    with serving(_NotFound) as url:
        yield url


@pytest.fixture
def self_signed_server() -> Iterator[str]:
    with tls_server() as url:
        yield url

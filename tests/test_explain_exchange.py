"""Every exchange says where its time went: the phases measured at the connection (DNS, connect,
TLS, send, wait, receive), reuse of a kept-alive connection, and the app's own Server-Timing —
in the engine, `call --json`, the CLI's human output and the HAR export."""

from __future__ import annotations

import io
import json
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.fault_servers import keep_alive, scripted_server, self_signed_context
from support.sandbox_helpers import demo_sp_fields

from explorer.cli import Output, main
from explorer.headers import parse_server_timing, parse_www_authenticate
from explorer.model import RequestSpec
from explorer.session import ExplorerSession

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def tls_app(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """An HTTPS app on 127.0.0.1 whose self-signed certificate this process trusts."""
    with tempfile.TemporaryDirectory(prefix="explain-tls-") as tmp:
        context = self_signed_context(Path(tmp))
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(Path(tmp) / "cert.pem"))

        def wrap(conn):  # type: ignore[no-untyped-def]
            conn.settimeout(5)
            return context.wrap_socket(conn, server_side=True)

        with scripted_server(keep_alive(0.05), wrap, scheme="https") as url:
            yield url


def test_the_phases_add_up_and_the_second_call_reuses_the_connection(tls_app: str) -> None:
    session = ExplorerSession(timeout=10)
    try:
        first = session.send(RequestSpec("GET", tls_app.replace("127.0.0.1", "localhost") + "/api/x"))
        second = session.send(RequestSpec("GET", tls_app.replace("127.0.0.1", "localhost") + "/api/x"))
    finally:
        session.close()
    assert first.response is not None and first.response.status == 200, first.findings
    t = first.response.timings
    assert t is not None and not t.reused
    assert (
        t.dns_ms is not None and t.connect_ms is not None and t.tls_ms is not None
    )  # a fresh TLS connection
    phases = [t.dns_ms, t.connect_ms, t.tls_ms, t.send_ms, t.wait_ms, t.receive_ms]
    assert abs(sum(p or 0 for p in phases) - first.response.elapsed_ms) < 5  # within a few ms of the total
    assert t.wait_ms is not None and t.wait_ms >= 40  # the app's 50 ms are in "waiting"
    reused = second.response.timings
    assert reused is not None and reused.reused
    assert reused.dns_ms is None and reused.connect_ms is None and reused.tls_ms is None
    assert [(m.name, m.duration_ms, m.description) for m in first.response.server_timing] == [
        ("db", 12.5, "Database"),
        ("cache", None, "miss"),
    ]


def test_call_json_har_and_the_human_output_carry_the_phases(tls_app: str) -> None:
    out, err = io.StringIO(), io.StringIO()
    assert main(["call", tls_app + "/api/x", "--auth", "none", "--json"], Output(out, err)) == 0
    document = json.loads(out.getvalue())
    timings = document["response"]["timings"]
    assert set(timings) == {"dns_ms", "connect_ms", "tls_ms", "send_ms", "wait_ms", "receive_ms", "reused"}
    assert timings["dns_ms"] is None and timings["tls_ms"] > 0  # an IP literal: no DNS lookup
    assert document["response"]["server_timing"][0] == {
        "name": "db",
        "duration_ms": 12.5,
        "description": "Database",
    }

    out, err = io.StringIO(), io.StringIO()
    main(["call", tls_app + "/api/x", "--auth", "none"], Output(out, err))
    assert "phases connect" in err.getvalue() and "(new connection)" in err.getvalue()
    assert "server db 12.5 ms (Database)" in err.getvalue()


def test_the_har_export_has_the_har_timings(tls_app: str) -> None:
    session = ExplorerSession(timeout=10)
    try:
        session.send(RequestSpec("GET", tls_app + "/api/x"))
        session.send(RequestSpec("GET", tls_app + "/api/x"))
        entries = json.loads(session.history.export("har")[1])["log"]["entries"]
    finally:
        session.close()
    fresh, reused = entries[0]["timings"], entries[1]["timings"]
    assert fresh["ssl"] > 0 and fresh["connect"] >= fresh["ssl"] and fresh["dns"] == -1
    assert reused["connect"] == -1 and reused["ssl"] == -1 and reused["wait"] > 0
    assert entries[0]["connection"] == "new" and "connection" not in entries[1]


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (
            'Bearer realm="apps", error="insufficient_scope", scope="sql files"',
            ("insufficient_scope", ["sql", "files"]),
        ),
        ('Bearer error="invalid_token", error_description="The token \\"expired\\""', ("invalid_token", [])),
        ("Bearer", (None, [])),
        ("", None),
        ("garbage ,,, =", None),
    ],
)
def test_www_authenticate_is_parsed_leniently(header: str, expected: tuple | None) -> None:
    challenges = [c for c in parse_www_authenticate(header) if c.scheme.lower() == "bearer"]
    if expected is None:
        assert challenges == []
    else:
        assert (challenges[0].error, challenges[0].scopes) == expected


def test_server_timing_is_parsed_leniently() -> None:
    metrics = parse_server_timing(['db;dur=53.2;desc="a, b", x;dur=NaN', "bad name;dur=1", ";;;"])
    assert [(m.name, m.duration_ms, m.description) for m in metrics] == [
        ("db", 53.2, "a, b"),
        ("x", None, ""),
    ]


# --- a diagnosis that reads the answer (the sandbox's sample app over its gateway) ---------------------


def first(exchange, code: str):  # type: ignore[no-untyped-def]
    found = [f for f in exchange.findings if f.code == code]
    assert found, [(f.code, f.message) for f in exchange.findings]
    return found[0]


def test_the_apps_own_404_is_not_a_missing_route(connected: ExplorerSession, sandbox_info: dict) -> None:
    hello = sandbox_info["apps"]["hello"]["url"]
    exchange = connected.send(RequestSpec("GET", hello + "/api/items/999"))
    finding = first(exchange, "RESOURCE_NOT_FOUND")
    assert "item 999 not found" in finding.message and "PATH_NOT_FOUND" not in [
        f.code for f in exchange.findings
    ]
    # a path the app really has no route for is still PATH_NOT_FOUND
    missing = connected.send(RequestSpec("GET", hello + "/api/no-such-route"))
    assert [f.code for f in missing.findings if f.severity == "error"][:1] == ["PATH_NOT_FOUND"]


def test_a_documented_templated_path_is_the_apps_resource(
    connected: ExplorerSession, sandbox_info: dict
) -> None:
    hello = sandbox_info["apps"]["hello"]["url"]
    assert connected.list_endpoints(hello).endpoints
    exchange = connected.send(RequestSpec("DELETE", hello + "/api/items/424242"))
    finding = first(exchange, "RESOURCE_NOT_FOUND")
    assert "/api/items/{item_id}" in finding.message


def test_a_validation_error_names_the_field(connected: ExplorerSession, sandbox_info: dict) -> None:
    hello = sandbox_info["apps"]["hello"]["url"]
    spec = RequestSpec(
        "POST", hello + "/api/items", headers=[("Content-Type", "application/json")], body="{}"
    )
    exchange = connected.send(spec)
    assert exchange.response.status == 422
    finding = first(exchange, "REQUEST_REJECTED")
    assert "body.name" in finding.message and "422" in finding.message


def test_a_timeout_carries_a_fix_the_ui_can_apply(connected: ExplorerSession, sandbox_info: dict) -> None:
    url = sandbox_info["apps"]["hello"]["url"] + "/api/slow?ms=3000"
    exchange = connected.send(RequestSpec("GET", url, timeout=1))
    finding = first(exchange, "TIMEOUT")
    assert finding.action is not None and finding.action.kind == "raise_timeout"
    assert float(finding.action.param("seconds") or 0) > 1


def test_a_missing_scope_carries_an_add_scopes_fix_and_names_spelling_drift(
    connected: ExplorerSession, sandbox_info: dict
) -> None:
    scoped = sandbox_info["apps"]["scoped"]["url"]
    exchange = connected.send(RequestSpec("GET", scoped + "/api/whoami"))
    finding = first(exchange, "SCOPE_MISSING")
    assert finding.action is not None and finding.action.kind == "add_scopes"
    assert finding.action.param("scopes") and finding.action.param("method") == "m2m"
    assert finding.as_dict()["action"]["kind"] == "add_scopes"


def test_scope_spellings_are_explained_as_the_same_scope() -> None:
    from explorer.diagnose import scope_missing
    from explorer.model import TokenInfo

    token = TokenInfo(masked="eyJh…x9Q", kind="oauth", scopes=["all-apis", "files.files"])
    finding = scope_missing(["files"], token, None, "error")
    assert "files.files for files" in finding.message and "another spelling" in finding.message


def test_a_sign_in_html_page_with_200_is_recognised() -> None:
    from explorer.diagnose import diagnose
    from explorer.model import Exchange, Response

    page = "<html><body><form action='/oidc/v1/authorize'><button>Sign in</button></form></body></html>"
    response = Response(200, "OK", [("Content-Type", "text/html")], page.encode(), len(page), 5, 2,
                        content_type="text/html; charset=utf-8", kind="text", text=page)  # fmt: skip
    exchange = Exchange(
        "x", 0, RequestSpec("GET", "https://a-1.aws.databricksapps.com/api/x"), response, None, None
    )
    codes = [f.code for f in diagnose(exchange)]
    assert "SIGN_IN_PAGE" in codes


# --- where the token came from, and a 401 that recovers by itself ---------------------------------


def revoke_all_tokens(host: str) -> int:
    import requests

    return int(requests.post(host + "/_sandbox/tokens/revoke", timeout=10).json()["revoked"])


@pytest.fixture(scope="module")
def own_info() -> Iterator[dict]:
    """A sandbox of these tests' own: revoking every token must not touch other tests' tokens."""
    from explorer.sandbox import Sandbox

    with Sandbox(config=None, port=0) as sandbox:
        yield sandbox.info


@pytest.fixture
def own_connected(own_info: dict, clean_databricks_env: Path) -> Iterator[ExplorerSession]:
    session = ExplorerSession(timeout=10)
    fields = demo_sp_fields(own_info)
    assert session.connect("m2m", fields).ok
    yield session
    session.close()


def test_connect_shows_the_token_calls_the_sdk_really_made(
    sandbox_info: dict, clean_databricks_env: Path
) -> None:
    session = ExplorerSession(timeout=10)
    try:
        fields = demo_sp_fields(sandbox_info)
        connection = session.connect("m2m", {**fields, "scopes": "all-apis sql"})
        assert connection.ok
        (event,) = connection.auth_events
        assert event.url == sandbox_info["host"] + "/oidc/v1/token"
        assert event.grant_type == "client_credentials" and event.scopes == ["all-apis", "sql"]
        assert event.status == 200 and event.error is None

        wrong = session.connect("m2m", {**fields, "client_secret": "wrong-secret-123456789"})
        assert not wrong.ok
        assert [(e.status, e.error) for e in wrong.auth_events] == [(401, "invalid_client")]
        assert "wrong-secret-123456789" not in json.dumps([e.as_dict() for e in wrong.auth_events])
    finally:
        session.close()


def test_token_json_includes_the_timeline(
    sandbox_info: dict, clean_databricks_env: Path, monkeypatch
) -> None:
    sp = sandbox_info["service_principals"]["demo-sp"]
    monkeypatch.setenv("DATABRICKS_CLIENT_SECRET", sp["client_secret"])
    out, err = io.StringIO(), io.StringIO()
    argv = [
        "token",
        "--auth",
        "m2m",
        "--host",
        sandbox_info["host"],
        "--client-id",
        sp["client_id"],
        "--json",
    ]
    assert main(argv, Output(out, err)) == 0
    document = json.loads(out.getvalue())
    assert [e["grant_type"] for e in document["auth_events"]] == ["client_credentials"]
    assert sp["client_secret"] not in out.getvalue() + err.getvalue()


def test_a_401_from_a_revoked_token_refreshes_once_and_recovers(
    own_connected: ExplorerSession, own_info: dict
) -> None:
    connected = own_connected  # its own sandbox: revoking must not touch other tests' tokens
    url = own_info["apps"]["hello"]["url"] + "/api/hello"
    assert connected.send(RequestSpec("GET", url)).ok
    assert revoke_all_tokens(own_info["host"]) >= 1  # the SDK still holds a token it thinks is good

    exchange = connected.send(RequestSpec("GET", url))
    assert exchange.ok and exchange.response.status == 200
    assert exchange.retried and "401" in exchange.retried
    assert [e.grant_type for e in exchange.auth_events] == ["client_credentials"]  # the refresh, on the wire
    assert connected.send(RequestSpec("GET", url)).retried is None  # and the fresh token is kept


def test_without_retry_the_401_is_the_verdict(own_info: dict, clean_databricks_env: Path) -> None:
    session = ExplorerSession(timeout=10, retry_on_401=False)
    try:
        assert session.connect("m2m", demo_sp_fields(own_info)).ok
        revoke_all_tokens(own_info["host"])  # its own sandbox: other tests' tokens stay valid
        exchange = session.send(RequestSpec("GET", own_info["apps"]["hello"]["url"] + "/api/hello"))
    finally:
        session.close()
    assert exchange.response.status == 401 and exchange.retried is None
    assert "TOKEN_INVALID" in [f.code for f in exchange.findings]


def test_a_pasted_token_cannot_refresh_so_its_401_stands(own_info: dict) -> None:
    from support.sandbox_helpers import m2m_token

    session = ExplorerSession(timeout=10)
    try:
        assert session.connect("token", {"token": m2m_token(own_info)}).ok
        revoke_all_tokens(own_info["host"])
        exchange = session.send(RequestSpec("GET", own_info["apps"]["hello"]["url"] + "/api/hello"))
    finally:
        session.close()
    assert exchange.response.status == 401 and exchange.retried is None


def test_a_refresh_during_an_exchange_is_on_its_timeline(clean_databricks_env: Path) -> None:
    from support.sandbox_helpers import default_config

    from explorer.sandbox import Sandbox

    # tokens this short are refreshed by the SDK before every call (it treats them as expiring)
    with Sandbox(config=default_config(token_ttl_seconds=30), port=0) as sandbox:
        info = sandbox.info
        session = ExplorerSession(timeout=10)
        try:
            fields = demo_sp_fields(info)
            assert session.connect("m2m", fields).ok
            exchange = session.send(RequestSpec("GET", info["apps"]["hello"]["url"] + "/api/hello"))
        finally:
            session.close()
    assert exchange.ok
    assert [e.grant_type for e in exchange.auth_events] == ["client_credentials"]
    assert json.loads(json.dumps(exchange.auth_events[0].as_dict()))["status"] == 200

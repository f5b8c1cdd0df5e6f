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

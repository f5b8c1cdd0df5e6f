"""Faults on the wire: an app that errors, stalls, trickles, resets or speaks the wrong TLS.

Each story sends through the engine (`ExplorerSession.send`) to a small local server doing one bad
thing for real, and checks the finding and that nothing waits past the request's timeout (the
module's pytest timeout catches a hang; no test asserts on durations).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from support.fault_servers import (
    answer_with,
    healthy,
    in_turn,
    reset_mid_body,
    scripted_server,
    silent,
    tls_server,
    trickle_body,
)
from support.recording_server import recording_server

from explorer.model import Exchange, Finding, RequestSpec
from explorer.session import ExplorerSession

pytestmark = pytest.mark.timeout(30)
TIMEOUT = 1.0


@pytest.fixture
def session() -> Iterator[ExplorerSession]:
    s = ExplorerSession(timeout=TIMEOUT)
    yield s
    s.close()


def send(session: ExplorerSession, base: str, path: str = "/api/data") -> Exchange:
    return session.send(RequestSpec("GET", base + path, timeout=TIMEOUT))


def first_error(exchange: Exchange) -> Finding:
    errors = [f for f in exchange.findings if f.severity == "error"]
    assert errors, f"no error finding in {[(f.code, f.severity) for f in exchange.findings]}"
    return errors[0]


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_name_their_retry_after(session, status):
    with scripted_server(answer_with(status, retry_after="7")) as base:
        exchange = send(session, base)

    assert exchange.response is not None and exchange.response.status == status
    finding = first_error(exchange)
    assert finding.code == "SERVER_ERROR"
    assert "retry after 7 s" in finding.message and "logz" in finding.fix
    assert exchange.response.json == {"error": "injected fault"}  # the app's own words stay visible


def test_retry_after_as_an_http_date(session):
    with scripted_server(answer_with(503, retry_after="Wed, 21 Oct 2026 07:28:00 GMT")) as base:
        finding = first_error(send(session, base))

    assert finding.code == "SERVER_ERROR" and "retry at 2026-10-21 07:28:00" in finding.message


def test_a_garbled_retry_after_is_left_out(session):
    with scripted_server(answer_with(503, retry_after="soon-ish")) as base:
        finding = first_error(send(session, base))

    assert finding.code == "SERVER_ERROR" and "retry" not in finding.message


def test_an_upstream_that_never_answers_times_out(session):
    with scripted_server(silent) as base:
        exchange = send(session, base)

    assert exchange.response is None
    finding = first_error(exchange)
    assert finding.code == "TIMEOUT" and f"{TIMEOUT:g} s" in finding.message
    assert exchange.error == finding.message


def test_a_body_slower_than_the_timeout_is_cut_and_flagged(session):
    with scripted_server(trickle_body(interval=0.1)) as base:
        exchange = send(session, base)

    response = exchange.response
    assert response is not None and response.status == 200 and response.truncated
    assert response.text.startswith("[")  # what did arrive is shown
    finding = first_error(exchange)  # a 2xx, yet an error: the body is incomplete
    assert finding.code == "TIMEOUT"


def test_a_body_that_stalls_after_the_headers_times_out(session):
    def stall(conn, stop):
        from support.fault_servers import read_request

        read_request(conn)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 50\r\n\r\n[1,")
        stop.wait(10)

    with scripted_server(stall) as base:
        exchange = send(session, base)

    assert exchange.response is not None and exchange.response.truncated
    assert first_error(exchange).code == "TIMEOUT"


def test_a_connection_reset_mid_body_keeps_status_and_headers(session):
    with scripted_server(reset_mid_body()) as base:
        exchange = send(session, base)

    response = exchange.response
    assert response is not None and response.status == 200 and response.truncated
    assert response.header("Content-Length") == "1000000"
    finding = first_error(exchange)
    assert finding.code == "NETWORK_CONNECT"
    assert "broke after" in finding.message and "incomplete" in finding.message


def test_a_body_shorter_than_promised_is_incomplete(session):
    def short(conn, _stop):
        from support.fault_servers import read_request

        read_request(conn)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n\r\nonly this")

    with scripted_server(short) as base:
        exchange = send(session, base)

    assert exchange.response is not None and exchange.response.truncated
    finding = first_error(exchange)
    assert finding.code == "NETWORK_CONNECT" and "broke after" in finding.message


def test_https_to_a_plain_http_server_is_a_tls_failure(session):
    with recording_server() as server:
        exchange = send(session, server.url.replace("http://", "https://"))

    assert exchange.response is None
    finding = first_error(exchange)
    assert finding.code == "NETWORK_TLS" and "handshake" in finding.message


def test_an_untrusted_certificate_is_a_tls_failure_and_sends_nothing(session, sandbox_info):
    sp = sandbox_info["service_principals"]["demo-sp"]
    fields = {
        "host": sandbox_info["host"],
        "client_id": sp["client_id"],
        "client_secret": sp["client_secret"],
    }
    assert session.connect("m2m", fields).ok

    with tls_server() as base:
        exchange = send(session, base)

    assert exchange.response is None
    assert first_error(exchange).code == "NETWORK_TLS"
    assert session.reveal_token() not in repr(exchange)  # the recorded request holds a masked token


def test_an_unresolvable_app_host_is_a_dns_failure(session):
    exchange = send(session, "https://no-such-app-1234567890.aws.invalid")

    assert exchange.response is None
    finding = first_error(exchange)
    assert finding.code == "NETWORK_DNS" and "no-such-app-1234567890.aws.invalid" in finding.message


@pytest.mark.parametrize(
    "fault",
    [reset_mid_body(), trickle_body(0.1), answer_with(503, retry_after="1"), silent],
    ids=["reset", "trickle", "503", "silent"],
)
def test_after_a_fault_the_next_request_to_the_same_app_works(session, fault):
    """No broken state is kept: a pooled connection that died or timed out is not reused."""
    with scripted_server(in_turn(fault, healthy)) as base:
        faulty = send(session, base)
        exchange = send(session, base)

    assert first_error(faulty).code in ("NETWORK_CONNECT", "TIMEOUT", "SERVER_ERROR")

    assert exchange.ok and exchange.response.json == {"ok": True}, exchange.findings

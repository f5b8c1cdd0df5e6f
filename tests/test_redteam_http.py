"""Red team on the wire: servers that trickle, flood headers or speak to the terminal, and pasted
tokens with line breaks. Each story runs the real engine (or the real CLI) against a local server
doing one hostile thing; the module's pytest timeout catches a hang (no test asserts durations)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from support.cli import run
from support.fault_servers import (
    many_headers,
    scripted_server,
    terminal_escapes,
    trickle_bytes,
    trickle_headers,
)
from support.sandbox_helpers import m2m_token

from explorer.model import RequestSpec
from explorer.session import ExplorerSession
from explorer.workspace import app_summary

pytestmark = pytest.mark.timeout(40)


@pytest.fixture
def session() -> Iterator[ExplorerSession]:
    s = ExplorerSession(timeout=2)
    yield s
    s.close()


@pytest.mark.parametrize("behaviour", [trickle_headers(0.2), trickle_bytes(0.2)], ids=["headers", "body"])
def test_a_trickling_server_cannot_outlast_the_timeout(session: ExplorerSession, behaviour: Any) -> None:
    # The server never finishes and every socket read succeeds: only a wall-clock deadline ends it.
    with scripted_server(behaviour) as base:
        exchange = session.send(RequestSpec("GET", base + "/api/slow", timeout=2))
    assert "TIMEOUT" in [f.code for f in exchange.findings]


def test_the_cli_timeout_is_wall_clock_too() -> None:
    with scripted_server(trickle_bytes(0.2)) as base:
        _code, out, _err = run(["call", base + "/api/slow", "--auth", "none", "--timeout", "2", "--json"])
    document = json.loads(out)
    assert "TIMEOUT" in [f["code"] for f in document["findings"]]


def test_ten_thousand_headers_is_a_malformed_response_not_a_connect_failure(session: ExplorerSession) -> None:
    with scripted_server(many_headers()) as base:
        exchange = session.send(RequestSpec("GET", base + "/api/h", timeout=5))
    codes = [f.code for f in exchange.findings]
    assert codes[0] == "RESPONSE_MALFORMED" and "NETWORK_CONNECT" not in codes
    assert "answered" in exchange.findings[0].message


def test_the_cli_never_prints_a_servers_terminal_escapes() -> None:
    with scripted_server(terminal_escapes) as base:
        human = run(["call", base + "/api/x", "--auth", "none"])
    with scripted_server(terminal_escapes) as base:
        as_json = run(["call", base + "/api/x", "--auth", "none", "--json"])
    for code, out, err in (human, as_json):
        assert code == 1
        for text in (out, err):
            assert "\x1b" not in text and "\x07" not in text and "\x9b" not in text
    assert "\\x1b]0;pwned" in human[2]  # the reason phrase is shown, escaped
    assert json.loads(as_json[1])["response"]["status"] == 418  # and the JSON stays valid


def test_a_pasted_token_with_a_line_break_connects_and_leaks_nowhere(
    sandbox_info: dict[str, Any], session: ExplorerSession
) -> None:
    token = m2m_token(sandbox_info)
    wrapped = token[:60] + "\n  " + token[60:120] + "\r\n" + token[120:]  # as a wrapped terminal copies it
    connection = session.connect("token", {"token": wrapped})
    assert connection.ok and session.reveal_token() == token
    exchange = session.send(RequestSpec("GET", sandbox_info["apps"]["hello"]["url"] + "/api/hello"))
    assert exchange.ok
    outputs = [repr(connection), repr(exchange)] + [
        session.history.export(fmt)[1] for fmt in ("json", "har", "csv")
    ]
    signature = token.rsplit(".", 1)[1]
    for text in outputs:
        assert signature not in text and signature[:20] not in text


def test_a_garbage_token_with_a_line_break_leaks_nowhere(
    sandbox_info: dict[str, Any], session: ExplorerSession
) -> None:
    garbage = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl" + "Zm9yZ2VkLXNpZ25hdHVyZS1wYXJ0"
    session.connect("token", {"token": garbage[:30] + "\n" + garbage[30:]})
    exchange = session.send(RequestSpec("GET", sandbox_info["apps"]["hello"]["url"] + "/api/hello"))
    outputs = [repr(exchange), *(session.history.export(fmt)[1] for fmt in ("json", "har", "csv"))]
    outputs += [f.message for f in exchange.findings]
    for text in outputs:
        assert "Zm9yZ2VkLXNpZ25hdHVyZS1wYXJ0" not in text


def test_a_malformed_app_url_from_the_apps_api_is_flagged_and_skipped() -> None:
    for bad in (
        "javascript:x'//",
        "https://",
        "http://exa mple.com",
        "data:text/html,<b>x</b>",
        "https://h:99999/",
    ):
        app = app_summary({"name": "evil", "url": bad, "app_status": {"state": "RUNNING"}})
        assert app.url is None and "not http(s)" in app.problem
    good = app_summary({"name": "ok", "url": "https://ok-1.aws.databricksapps.com"})
    assert good.url == "https://ok-1.aws.databricksapps.com" and not good.problem


def test_a_huge_openapi_document_lists_a_bounded_page(session: ExplorerSession) -> None:
    from http.server import BaseHTTPRequestHandler

    from support.recording_server import serving

    from explorer.ui import present
    from explorer.ui.present.discovery import PAGE_ROWS

    operations = 300_000
    document = json.dumps(
        {
            "openapi": "3.0.0",
            "paths": {f"/api/p{i:06d}": {"get": {"summary": f"op {i}"}} for i in range(operations)},
        }
    ).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(document)))
            self.end_headers()
            self.wfile.write(document)

        def log_message(self, *_: object) -> None:
            pass

    with serving(Handler) as base:
        listing = session.list_endpoints(base)
    assert listing.declared == operations and len(listing.endpoints) == 2_000
    assert listing.endpoints[0].path == "/api/p000000"
    assert len(present.endpoints_frame(listing.endpoints)) == PAGE_ROWS
    assert len(present.endpoints_summary(listing.endpoints)) == PAGE_ROWS
    assert "300,000 operations" in present.listing_html(listing)
    assert [e.path for e in present.filter_endpoints(listing.endpoints, "p001999")] == ["/api/p001999"]

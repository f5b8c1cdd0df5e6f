"""Property tests through the engine and its presenters (the pure parsers have theirs in
test_props_parsers.py): hostile form input, pasted tokens, OpenAPI documents served over real
HTTP and CLI arguments never raise, and every failure is a readable message.

Everything is sent to a small server on loopback. The sessions under test carry an allowlist of
127.0.0.1 only, so a hostile URL that would lead anywhere else is refused before any byte leaves
(and that refusal is itself one of the properties).
"""

from __future__ import annotations

import base64
import io
import json
import string
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import gradio as gr
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from explorer.cli import Output
from explorer.cli import main as cli_main
from explorer.discovery import MAX_ENDPOINTS
from explorer.guard import Allowlist
from explorer.session import ExplorerSession
from explorer.ui.config import UIConfig
from explorer.ui.events import with_form
from explorer.ui.handlers import Handlers, friendly
from explorer.ui.panes import SEND_PANE
from explorer.ui.state import UISession

PROPS = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
FEW = settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
LINE_BREAKS = "\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"


class HostileApp:
    """A loopback app: `/api/openapi.json` serves whatever `document` holds, other paths echo."""

    def __init__(self) -> None:
        self.document: bytes = b"{}"
        self.content_type = "application/json"
        self.lock = threading.Lock()
        self.hits: list[tuple[str, str]] = []
        app = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                with app.lock:
                    app.hits.append((self.headers.get("Host") or "", self.headers.get("Authorization") or ""))
                length = int(self.headers.get("content-length") or 0)
                self.rfile.read(min(length, 10_000_000))
                if self.path.startswith("/api/openapi.json"):
                    with app.lock:
                        body, ctype = app.document, app.content_type
                elif self.path.startswith("/api/2.0/") or self.path.startswith("/.well-known/"):
                    body, ctype = b'{"error_code": "NOT_FOUND", "message": "no"}', "application/json"
                    self.send_response(404)
                    self._finish(body, ctype)
                    return
                else:
                    body, ctype = (
                        json.dumps({"path": self.path, "method": self.command}).encode(),
                        "application/json",
                    )
                self.send_response(200)
                self._finish(body, ctype)

            def _finish(self, body: bytes, ctype: str) -> None:
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _answer

            def log_message(self, *_: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def hits_since(self, count: int) -> list[tuple[str, str]]:
        """(Host header, Authorization header) of each request received after the first `count`."""
        with self.lock:
            return list(self.hits[count:])

    def serve(self, document: bytes, content_type: str = "application/json") -> None:
        with self.lock:
            self.document, self.content_type = document, content_type


@pytest.fixture(scope="module")
def app() -> Iterator[HostileApp]:
    hostile = HostileApp()
    hostile.thread.start()
    try:
        yield hostile
    finally:
        hostile.server.shutdown()
        hostile.server.server_close()
        hostile.thread.join(5)


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def fake_token(issuer: str, claims: dict[str, Any] | None = None) -> str:
    """An unsigned JWT-shaped token: decoding is informational, so this is enough to connect."""
    body = {
        "iss": issuer,
        "sub": "props@example.com",
        "scope": "all-apis",
        "exp": 4102444800,
        **(claims or {}),
    }
    header = b64(json.dumps({"alg": "RS256", "typ": "at+jwt"}).encode())
    return f"{header}.{b64(json.dumps(body).encode())}.{b64(b'sig' * 20)}"


@pytest.fixture(scope="module")
def ui(app: HostileApp) -> Iterator[tuple[Handlers, UISession, str]]:
    """A UI session connected with a pasted token, allowed to send to 127.0.0.1 only."""
    token = fake_token(app.url + "/oidc")
    session = ExplorerSession(allowlist=Allowlist(["127.0.0.1"]), timeout=1)
    assert session.connect("token", {"token": token}).ok
    yield Handlers(UIConfig()), UISession(session), token
    session.close()


def page_send(handlers: Handlers) -> Any:
    """The send handler exactly as the page wires it (the form's fields, then the guard): what the
    page shows."""
    handler = friendly(with_form(handlers.send, ["snippet_language", "export_format"], request=True))

    def last(*args: Any) -> Any:
        final = handler(*args)
        # What the page shows at the end (without the state), the summary JSON moved last.
        names = ["tabstrip", "tabs_data", *SEND_PANE, "snippet", "history"]
        shown = dict(zip(names, final[1:], strict=True))
        return (*(v for k, v in shown.items() if k != "summary"), shown["summary"])

    return last


def readable(message: str) -> None:
    assert message and len(message) <= 600, message
    assert not any(ch in message for ch in LINE_BREAKS), message
    assert "Traceback" not in message


hostile_text = st.text(
    st.characters(blacklist_categories=("Cs",)) | st.sampled_from(list("/:?#[]@ \t\n\r\x00%.\\{}\"'")),
    max_size=60,
)
path_text = st.text(string.ascii_letters + string.digits + "-._~!$&'()*+,;=:/%{}[] ", max_size=40)
methods = st.sampled_from(["GET", "post", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]) | hostile_text
timeouts = st.one_of(
    st.none(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0, -1, 0.001, 5, "3", "soon", ""]),
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=15,
)
bodies = st.one_of(
    hostile_text, json_values.map(json.dumps), json_values.map(lambda v: json.dumps(v)[:-1]), st.just("")
)


# --- the UI's send path: form text -> spec -> real HTTP -> diagnosis -> panes -------------------


@PROPS
@given(
    method=methods,
    url=st.one_of(
        path_text.map(lambda p: "/api/" + p), hostile_text, path_text.map(lambda p: "http://127.0.0.1:1/" + p)
    ),
    params=hostile_text,
    header_lines=hostile_text,
    body=bodies,
    timeout=timeouts,
    app_url=st.sampled_from(["", "APP", "APP/api", "not a url", "ftp://x"]),
)
def test_any_form_input_gives_a_view_never_an_exception(
    ui, app, method, url, params, header_lines, body, timeout, app_url
):
    handlers, session, token = ui
    app_url = app_url.replace("APP", app.url)

    try:  # as the page calls it: `friendly` turns bad input into a message on the page
        outputs = page_send(handlers)(
            session, method, url, params, header_lines, body, timeout, app_url, "", "curl", "JSON", None
        )
    except gr.Error as error:
        readable(str(error.message))
        return

    summary = json.loads(outputs[-1])
    if summary.get("error"):
        readable(summary["error"])
    for finding in summary.get("findings") or []:
        readable(finding["message"])
    assert token not in json.dumps(outputs, default=str)


@FEW
@given(suffix=hostile_text)
def test_a_hostile_url_never_takes_the_token_off_the_allowed_host(ui, app, suffix):
    handlers, session, token = ui
    before = len(app.hits_since(0))
    outputs = page_send(handlers)(
        session, "GET", app.url + suffix, "", "", "", 1, "", "", "curl", "JSON", None
    )

    summary = json.loads(outputs[-1])
    if summary.get("response") is not None:  # it went out: then to this app, on the host typed
        hits = app.hits_since(before)
        assert hits, "a response came, but not from the app the URL named"
        assert all(host == app.url.split("//")[1] for host, _auth in hits), hits
    assert token not in json.dumps(outputs, default=str)


# --- pasted tokens --------------------------------------------------------------------------------

issuers = st.one_of(
    hostile_text,
    st.sampled_from(
        ["", "https://", "http://[::1", "javascript:alert(1)", "https://adb-1.azuredatabricks.net/oidc"]
    ),
    st.text(max_size=3000).map(lambda s: "https://" + s),
)
tokens = st.one_of(
    hostile_text,
    st.builds(
        fake_token,
        issuers,
        st.dictionaries(st.text(max_size=6), json_values, max_size=4),
    ),
    st.binary(max_size=100).map(lambda raw: raw.decode("latin-1")),
    st.sampled_from(["dapi" + "0" * 32, "Bearer eyJ", "eyJ.eyJ.", "a.b.c\r\nX-Injected: 1"]),
)


@PROPS
@given(token=tokens)
def test_any_pasted_token_connects_or_explains_and_sends_safely(app, token):
    session = ExplorerSession(allowlist=Allowlist(["127.0.0.1"]), timeout=1)
    try:
        connection = session.connect("token", {"token": token})
        for finding in connection.findings:
            readable(finding.message)
        if not connection.ok:
            return
        from explorer.model import RequestSpec

        exchange = session.send(RequestSpec("GET", app.url + "/api/echo", timeout=1))
        if exchange.error:
            readable(exchange.error)
        for finding in exchange.findings:
            readable(finding.message)
        if len(token.strip()) >= 12:
            assert token.strip() not in repr(connection) + repr(exchange)
    finally:
        session.close()


# --- OpenAPI documents served over HTTP -----------------------------------------------------------


def ref_chain(length: int) -> dict[str, Any]:
    """A → B → … → A: a $ref cycle `length` schemas long, used by a request body."""
    names = [f"S{i}" for i in range(length)]
    schemas = {
        n: {
            "type": "object",
            "properties": {"next": {"$ref": f"#/components/schemas/{names[(i + 1) % length]}"}},
        }
        for i, n in enumerate(names)
    }
    body = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/S0"}}}}
    return {
        "openapi": "3.0.0",
        "components": {"schemas": schemas},
        "paths": {"/api/x": {"post": {"requestBody": body}}},
    }


def huge(count: int) -> dict[str, Any]:
    ops = {
        "get": {
            "summary": "s" * 200,
            "parameters": [{"name": "q", "in": "query", "schema": {"type": "string"}}],
        }
    }
    return {"openapi": "3.0.0", "paths": {f"/api/r{i}": ops for i in range(count)}}


documents = st.one_of(
    json_values.map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=200),
    st.integers(1, 60).map(lambda n: json.dumps(ref_chain(n)).encode()),
    st.integers(1, 400).map(lambda depth: ("[" * depth * 100 + "]" * depth * 100).encode()),
    st.just(json.dumps(huge(12_000)).encode()),  # ~3 MB: more than the display limit
    json_values.map(lambda v: json.dumps({"openapi": "3.0.0", "paths": {"/api/a": v}}).encode()),
    st.text(max_size=200).map(lambda t: ('{"openapi": "3.0.0", "paths": ' + t).encode()),
)


@FEW
@given(
    document=documents,
    content_type=st.sampled_from(["application/json", "text/html", "application/yaml", ""]),
)
def test_any_openapi_document_lists_endpoints_or_explains(ui, app, document, content_type):
    _handlers, session, _token = ui
    app.serve(document, content_type)

    listing = session.explorer.list_endpoints(app.url)

    for finding in listing.findings:
        readable(finding.message)
    for endpoint in listing.endpoints:
        assert endpoint.path.startswith("/")
        if endpoint.body_example is not None:
            json.loads(endpoint.body_example)
    assert listing.endpoints or listing.findings  # an empty list always says why


def test_a_document_larger_than_the_display_limit_is_still_parsed(ui, app):
    _handlers, session, _token = ui
    app.serve(json.dumps(huge(12_000)).encode())

    listing = session.explorer.list_endpoints(app.url)

    # parsed whole (all 12,000 operations are counted), listed up to the cap, the rest said
    assert listing.declared == 12_000, [f.message for f in listing.findings]
    assert len(listing.endpoints) == MAX_ENDPOINTS


# --- the command line -----------------------------------------------------------------------------


@FEW
@given(
    method=st.sampled_from(["GET", "POST"]) | hostile_text.filter(lambda s: not s.startswith("-")),
    path=path_text,
    header=hostile_text.filter(lambda s: not s.startswith("-")),
    body=bodies.filter(lambda s: not s.startswith(("-", "@"))),
    as_json=st.booleans(),
)
def test_the_cli_answers_any_arguments_with_an_exit_status(app, method, path, header, body, as_json):
    out, err = io.StringIO(), io.StringIO()
    argv = ["call", app.url + "/api/" + path.replace("@", ""), "-X", method, "-H", header, "--auth", "none"]
    argv += ["--timeout", "1", *(["-d", body] if body else []), *(["--json"] if as_json else [])]

    status = cli_main(argv, Output(out, err))

    assert status in (0, 1, 2)
    assert "Traceback" not in out.getvalue() + err.getvalue()
    if as_json and status != 2:
        json.loads(out.getvalue())

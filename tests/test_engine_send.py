"""Sending against the sample app: bodies, timings, redirects, connection reuse, discovery, history."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import uvicorn
from fastapi import FastAPI
from support.sandbox_helpers import default_config

from explorer.model import RequestSpec
from explorer.send import DISPLAY_LIMIT, PRETTY_LIMIT
from explorer.session import ExplorerSession

DEMO_SP = "demo-sp"
DEMO_SP_ID = "7b1f3c2a-5d4e-4f60-9a8b-1c2d3e4f5a6b"  # fixed in the default config


def url(info: dict, path: str, app: str = "hello") -> str:
    return info["apps"][app]["url"] + path


@pytest.fixture
def m2m(sandbox_info, clean_databricks_env) -> Iterator[ExplorerSession]:
    creds = sandbox_info["service_principals"][DEMO_SP]
    session = ExplorerSession()
    assert session.connect(
        "m2m",
        {
            "host": sandbox_info["host"],
            "client_id": creds["client_id"],
            "client_secret": creds["client_secret"],
        },
    ).ok
    yield session
    session.close()


def test_json_body_with_timings_and_masked_request_headers(m2m, sandbox_info):
    exchange = m2m.send(RequestSpec("GET", url(sandbox_info, "/api/hello"), params=[("name", "Ada")]))

    response = exchange.response
    assert response.status == 200 and response.reason == "OK"
    assert response.kind == "json" and response.json == {"message": "Hello, Ada!", "app": "hello"}
    assert json.loads(response.text) == response.json and "\n  " in response.text  # pretty-printed
    assert 0 < response.ttfb_ms <= response.elapsed_ms
    assert response.size == len(response.body) and not response.truncated
    authorization = dict(exchange.request.headers)["Authorization"]
    assert authorization.startswith("Bearer eyJh…") and m2m.reveal_token() not in authorization


def test_post_json_body_is_sent_as_json(m2m, sandbox_info):
    body = json.dumps({"name": "widget", "price": 2.5})

    exchange = m2m.send(RequestSpec("POST", url(sandbox_info, "/api/echo"), body=body))

    echoed = exchange.response.json
    assert exchange.response.status == 200
    assert echoed["method"] == "POST" and json.loads(echoed["body"]) == {"name": "widget", "price": 2.5}
    assert echoed["headers"]["content-type"] == "application/json"


def test_text_body_and_custom_headers(m2m, sandbox_info):
    exchange = m2m.send(
        RequestSpec("PUT", url(sandbox_info, "/api/echo"), headers=[("X-Trace", "t-1")], body="plain words")
    )

    echoed = exchange.response.json
    assert echoed["headers"]["x-trace"] == "t-1" and echoed["body"] == "plain words"
    assert echoed["headers"]["content-type"].startswith("text/plain")


def test_large_body_is_truncated_for_display(m2m, sandbox_info):
    exchange = m2m.send(RequestSpec("GET", url(sandbox_info, "/api/large?rows=40000")))

    response = exchange.response
    assert response.size > DISPLAY_LIMIT and len(response.body) == DISPLAY_LIMIT
    assert response.truncated and response.kind == "json" and response.json is None
    assert "[truncated: showing the first" in response.text
    assert len(response.text) < 2 * PRETTY_LIMIT
    assert '"name": "row-0000000"' in response.text  # re-indented prefix


def test_redirect_is_reported_not_followed(m2m, sandbox_info):
    exchange = m2m.send(RequestSpec("GET", url(sandbox_info, "/")))

    assert exchange.response.status == 302
    assert exchange.response.location.startswith(sandbox_info["host"] + "/oidc/v1/authorize")


def test_empty_body(m2m, sandbox_info):
    exchange = m2m.send(RequestSpec("GET", url(sandbox_info, "/api/status/204")))

    assert exchange.response.status == 204 and exchange.response.kind == "empty" and exchange.ok


def test_server_sent_events_arrive_as_text(m2m, sandbox_info):
    exchange = m2m.send(RequestSpec("GET", url(sandbox_info, "/api/events?count=3&interval_ms=10")))

    assert exchange.response.kind == "text" and exchange.response.text.count("data:") == 3


def test_connections_are_reused_per_target(m2m, sandbox_info):
    target = url(sandbox_info, "/api/hello")
    for _ in range(5):
        assert m2m.send(RequestSpec("GET", target)).ok

    manager = m2m._pool.get(target).get_adapter(target).poolmanager
    pools = [manager.pools[key] for key in manager.pools.keys()]  # noqa: SIM118 (the container has no __iter__)
    assert len(pools) == 1
    assert pools[0].num_connections == 1 and pools[0].num_requests >= 5


def test_history_records_every_exchange_and_exports_without_tokens(m2m, sandbox_info):
    m2m.send(RequestSpec("GET", url(sandbox_info, "/api/hello")))
    m2m.send(RequestSpec("GET", url(sandbox_info, "/api/nope")))
    token = m2m.reveal_token()

    rows = m2m.history.rows()
    exports = [m2m.history.export(fmt)[1] for fmt in ("csv", "json", "har")]

    assert list(rows["status"]) == [200, 404]
    assert set(rows["auth"]) == {"m2m"}
    assert all(token not in text for text in exports)
    assert json.loads(exports[2])["log"]["version"] == "1.2"


def test_endpoints_come_from_the_openapi_document(m2m, sandbox_info):
    listing = m2m.list_endpoints(sandbox_info["apps"]["hello"]["url"])

    assert listing.source_url == url(sandbox_info, "/api/openapi.json")
    routes = {(e.method, e.path) for e in listing.endpoints}
    assert {("GET", "/api/hello"), ("POST", "/api/items"), ("GET", "/api/items/{item_id}")} <= routes
    create = next(e for e in listing.endpoints if (e.method, e.path) == ("POST", "/api/items"))
    assert create.body_schema and create.body_example
    assert listing.findings == []


def test_endpoints_of_an_app_without_can_use_explain_why(sandbox_info, clean_databricks_env):
    session = ExplorerSession()
    try:
        listing = session.list_endpoints(sandbox_info["apps"]["hello"]["url"])
    finally:
        session.close()

    assert listing.endpoints == []
    codes = [f.code for f in listing.findings]
    assert codes[-1] == "OPENAPI_NOT_FOUND"
    assert 'FastAPI(openapi_url="/api/openapi.json")' in listing.findings[-1].fix
    assert "302 to sign-in" in listing.findings[-1].message


def test_an_app_with_fastapis_default_document_gets_the_fix(start_sandbox, clean_databricks_env):
    """FastAPI serves /openapi.json by default; through the gateway a token cannot reach it."""
    with _fastapi_app() as upstream:
        config = default_config(
            apps=[
                {
                    "name": "plain",
                    "kind": "upstream",
                    "upstream": upstream,
                    "state": "RUNNING",
                    "permissions": [{"service_principal_name": DEMO_SP_ID, "permission_level": "CAN_USE"}],
                }
            ]
        )
        info = start_sandbox(config).info
        creds = info["service_principals"][DEMO_SP]
        session = ExplorerSession()
        try:
            fields = {
                "host": info["host"],
                "client_id": creds["client_id"],
                "client_secret": creds["client_secret"],
            }
            assert session.connect("m2m", fields).ok
            assert session.send(RequestSpec("GET", info["apps"]["plain"]["url"] + "/api/ping")).ok
            listing = session.list_endpoints(info["apps"]["plain"]["url"])
        finally:
            session.close()

    assert listing.endpoints == [] and listing.findings[-1].code == "OPENAPI_NOT_FOUND"
    assert "/api/openapi.json → 404, /openapi.json → 302 to sign-in" in listing.findings[-1].message
    assert 'FastAPI(openapi_url="/api/openapi.json")' in listing.findings[-1].fix


@contextmanager
def _fastapi_app() -> Iterator[str]:
    app = FastAPI()

    @app.get("/api/ping")
    def ping() -> dict:
        return {"pong": True}

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(10)


def test_apps_list_with_states_and_scopes(m2m, sandbox_info):
    apps, findings = m2m.list_apps()

    by_name = {a.name: a for a in apps}
    assert findings == []
    assert (
        by_name["hello"].url == sandbox_info["apps"]["hello"]["url"] and by_name["hello"].state == "RUNNING"
    )
    assert by_name["stopped"].compute_state == "STOPPED"
    assert by_name["scoped"].user_api_scopes == ["sql", "files.files"]


def test_token_details_show_missing_scopes_for_the_target_app(m2m, sandbox_info):
    exchange = m2m.send(RequestSpec("GET", url(sandbox_info, "/api/hello", app="scoped")))

    token = exchange.token
    assert token.required_scopes[:2] == ["sql", "files.files"]
    assert token.missing_scopes[:2] == ["sql", "files.files"]


def test_snippet_uses_env_vars_not_secrets(m2m, sandbox_info):
    spec = RequestSpec("GET", url(sandbox_info, "/api/hello"))

    text = m2m.snippet(spec, "curl")

    creds = sandbox_info["service_principals"][DEMO_SP]
    assert "DATABRICKS_CLIENT_SECRET" in text and creds["client_secret"] not in text
    assert m2m.reveal_token() not in text


def test_a_truncated_answer_downloads_in_full_and_scrubbed(sandbox_info, tmp_path) -> None:
    """Session.download: the same request again, its whole body written to a file (not just the
    display-sized part), and the session's secrets scrubbed from it like from any export."""
    import json as _json

    from support.sandbox_helpers import demo_sp_fields

    from explorer.model import RequestSpec
    from explorer.send import DISPLAY_LIMIT
    from explorer.session import ExplorerSession

    session = ExplorerSession()
    try:
        assert session.connect("m2m", demo_sp_fields(sandbox_info)).ok
        app = sandbox_info["apps"]["hello"]["url"]
        big = tmp_path / "large.json"
        exchange = session.download(RequestSpec("GET", app + "/api/large?rows=40000"), big)
        assert exchange.response is not None and exchange.response.truncated  # the pane's copy is cut
        assert exchange.response.size > DISPLAY_LIMIT and big.stat().st_size == exchange.response.size
        assert len(_json.loads(big.read_text(encoding="utf-8"))) == 40000  # the file is the whole answer
        token = session.reveal_token()
        assert token
        echoed = tmp_path / "echo.json"  # the app sends the session's own token back in its body
        spec = RequestSpec(
            "POST",
            app + "/api/echo",
            headers=[("Content-Type", "application/json")],
            body=_json.dumps({"t": token}),
        )
        session.download(spec, echoed)
        text = echoed.read_text(encoding="utf-8")
        assert "api/echo" in text and token not in text and token[:4] in text  # masked, not whole
    finally:
        session.close()

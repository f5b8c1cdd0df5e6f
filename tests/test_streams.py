"""Streams as they arrive: SSE and NDJSON parsed event by event through the real gateway, the agent's
answer assembled word by word, Cancel closing the upstream connection, endless streams bounded, and
the CLI printing each event as it comes. A third-party-shaped SSE server behaves the same."""

from __future__ import annotations

import io
import json
import threading
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
import requests
from support.recording_server import serving
from support.sandbox_helpers import demo_sp_fields

from explorer.agent import TranscriptBuilder
from explorer.cli import Output, main
from explorer.model import RequestSpec, StreamEvent
from explorer.session import ExplorerSession
from explorer.stream import MAX_EVENTS, NDJSONParser, SSEParser
from explorer.transport import Cancel

pytestmark = pytest.mark.timeout(60)


def agent_request(url: str, **extra: Any) -> RequestSpec:
    body = json.dumps({"input": "How many items are there?", "stream": True, **extra})
    return RequestSpec("POST", url, headers=[("Content-Type", "application/json")], body=body, timeout=20)


# --- the parsers -----------------------------------------------------------------------------------


def test_sse_is_parsed_as_eventsource_does_across_chunk_boundaries() -> None:
    parser = SSEParser()
    raw = b': keep-alive\n\nevent: greet\nid: 7\ndata: hello\ndata: world\n\ndata: {"a": 1}\r\n\r\ndata: cut'
    events: list[StreamEvent] = []
    for i in range(len(raw)):  # one byte at a time: no event may depend on how the bytes are split
        events += parser.feed(raw[i : i + 1], float(i))
    events += parser.close(99.0)
    assert [(e.event, e.id, e.data) for e in events] == [
        ("greet", "7", "hello\nworld"),
        (None, "7", '{"a": 1}'),
        (None, "7", "cut"),
    ]


def test_ndjson_lines_are_events_and_a_split_utf8_character_survives() -> None:
    parser = NDJSONParser()
    text = '{"w": "é"}\n\n{"w": 2}\n'.encode()
    split = text.index("é".encode()) + 1
    events = parser.feed(text[:split], 1.0) + parser.feed(text[split:], 2.0) + parser.close(3.0)
    assert [json.loads(e.data)["w"] for e in events] == ["é", 2]


def test_chat_completions_chunks_are_assembled_too() -> None:
    builder = TranscriptBuilder()
    chunks = [
        {"choices": [{"delta": {"role": "assistant", "content": "Hel"}}]},
        {"choices": [{"delta": {"content": "lo"}}]},
        {
            "choices": [
                {"delta": {"tool_calls": [{"index": 0, "function": {"name": "f", "arguments": '{"x"'}}]}}
            ]
        },
        {"choices": [{"delta": {"tool_calls": [{"index": 0, "function": {"arguments": ": 1}"}}]}}]},
        {"choices": [{"delta": {}, "finish_reason": "stop"}], "usage": {"completion_tokens": 2}},
    ]
    for i, chunk in enumerate(chunks):
        builder.add(StreamEvent(10.0 * (i + 1), json.dumps(chunk)))
    builder.add(StreamEvent(60.0, "[DONE]"))
    t = builder.transcript
    assert t is not None and t.shape == "chat" and t.text == "Hello" and t.done
    assert t.tool_calls == [{"name": "f", "arguments": '{"x": 1}'}] and t.first_token_ms == 10.0


# --- through the gateway ---------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/invocations", "/responses"])
def test_the_agent_answer_streams_in_word_by_word(
    connected: ExplorerSession, sandbox_info: dict, path: str
) -> None:
    url = sandbox_info["apps"]["hello"]["url"] + path
    arrivals: list[float] = []
    started = time.perf_counter()
    exchange = connected.send(
        agent_request(url), on_event=lambda e: arrivals.append(time.perf_counter() - started)
    )
    if path == "/responses":  # outside /api/: the gateway (as documented) sends a token call to sign in
        assert exchange.response.status == 302 and "PATH_NOT_API" in [f.code for f in exchange.findings]
        return
    response = exchange.response
    assert exchange.ok and response.stream == "sse" and response.events_total == len(arrivals) > 10
    elapsed = response.elapsed_ms / 1000
    assert arrivals[0] < elapsed / 2  # the first events came long before the stream ended
    t = response.transcript
    assert t is not None and t.shape == "responses" and t.done
    assert "scripted by the sandbox" in t.text and t.tool_calls[0]["name"] == "lookup_items"
    assert t.first_token_ms is not None and t.first_token_ms < response.elapsed_ms
    assert t.usage["output_tokens"] > 0 and t.tokens_per_second


def test_ndjson_through_the_gateway(connected: ExplorerSession, sandbox_info: dict) -> None:
    url = sandbox_info["apps"]["hello"]["url"] + "/api/ndjson?count=5&interval_ms=100"
    exchange = connected.send(RequestSpec("GET", url))
    events = exchange.response.events
    assert exchange.response.stream == "ndjson" and [json.loads(e.data)["n"] for e in events] == [
        0,
        1,
        2,
        3,
        4,
    ]
    offsets = [e.offset_ms for e in events]
    assert offsets == sorted(offsets) and offsets[-1] - offsets[0] >= 300  # they came apart, in time


def heartbeats(info: dict) -> dict:
    return requests.get(info["apps"]["hello"]["url"] + "/api/stats", headers=_bearer(info), timeout=10).json()


def _bearer(info: dict) -> dict:
    from support.sandbox_helpers import m2m_token

    return {"Authorization": f"Bearer {m2m_token(info)}"}


def test_cancel_closes_the_upstream_and_keeps_what_arrived(
    connected: ExplorerSession, sandbox_info: dict
) -> None:
    before = heartbeats(sandbox_info)["heartbeat"]["disconnected"]
    cancel = Cancel()
    seen: list[StreamEvent] = []

    def on_event(event: StreamEvent) -> None:
        seen.append(event)
        if len(seen) == 3:
            cancel.set()  # as the UI's Cancel or Ctrl-C would, from another thread: here, mid-stream

    url = sandbox_info["apps"]["hello"]["url"] + "/api/heartbeat?interval_ms=50"
    exchange = connected.send(RequestSpec("GET", url, timeout=30), on_event=on_event, cancel=cancel)
    assert exchange.response is not None and exchange.response.cancelled
    assert exchange.response.events_total >= 3 and "TIMEOUT" not in [f.code for f in exchange.findings]
    deadline = time.monotonic() + 10
    while heartbeats(sandbox_info)["heartbeat"]["disconnected"] == before and time.monotonic() < deadline:
        time.sleep(0.1)
    assert heartbeats(sandbox_info)["heartbeat"]["disconnected"] > before  # the app saw the client go


def test_an_endless_stream_keeps_a_bounded_view(connected: ExplorerSession, sandbox_info: dict) -> None:
    url = sandbox_info["apps"]["hello"]["url"] + "/api/ndjson?count=5000&interval_ms=0"
    exchange = connected.send(RequestSpec("GET", url, timeout=30))
    response = exchange.response
    assert response.events_total == 5000 and len(response.events) == MAX_EVENTS
    assert json.loads(response.events[-1].data)["n"] == 4999  # the newest are kept, the oldest counted


class Clocked(io.StringIO):
    """stdout that notes when each non-blank write came (the CLI prints an event as it arrives)."""

    def __init__(self) -> None:
        super().__init__()
        self.times: list[float] = []

    def write(self, text: str) -> int:
        if text.strip():
            self.times.append(time.perf_counter())
        return super().write(text)


def demo_sp_env(info: dict, monkeypatch: Any) -> None:
    """The CLI's m2m credentials: the sandbox's demo service principal, from the environment."""
    sp = info["service_principals"]["demo-sp"]
    monkeypatch.setenv("DATABRICKS_CLIENT_ID", sp["client_id"])
    monkeypatch.setenv("DATABRICKS_CLIENT_SECRET", sp["client_secret"])


def test_the_cli_prints_each_event_as_it_arrives(
    sandbox_info: dict, clean_databricks_env: Path, monkeypatch
) -> None:
    demo_sp_env(sandbox_info, monkeypatch)

    out, err = Clocked(), io.StringIO()
    url = sandbox_info["apps"]["hello"]["url"] + "/api/ndjson?count=4&interval_ms=200"
    argv = ["call", url, "--auth", "m2m", "--host", sandbox_info["host"], "--json"]
    assert main(argv, Output(out, err)) == 0
    lines = out.getvalue().strip().split("\n")
    events = [json.loads(line) for line in lines[:4]]
    assert [json.loads(e["data"])["n"] for e in events] == [0, 1, 2, 3] and set(events[0]) == {
        "offset_ms",
        "event",
        "id",
        "data",
    }
    assert json.loads("\n".join(lines[4:]))["response"]["stream"] == "ndjson"  # the exchange object last
    assert out.times[3] - out.times[0] >= 0.4  # printed as they came, not all at the end


def test_a_third_party_sse_server_behaves_the_same() -> None:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"  # no chunking, no length: the body ends when the connection does

        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            for i in range(3):
                self.wfile.write(f'event: tick\nid: {i}\ndata: {{"i": {i}}}\n\n'.encode())
                self.wfile.flush()
                time.sleep(0.15)

        def log_message(self, *_: object) -> None:
            pass

    arrivals: list[float] = []
    with serving(Handler) as base:
        session = ExplorerSession(timeout=10)
        try:
            started = time.perf_counter()
            exchange = session.send(
                RequestSpec("GET", base + "/stream"),
                on_event=lambda e: arrivals.append(time.perf_counter() - started),
            )
        finally:
            session.close()
    assert [(e.event, e.id) for e in exchange.response.events] == [
        ("tick", "0"),
        ("tick", "1"),
        ("tick", "2"),
    ]
    assert arrivals[1] - arrivals[0] >= 0.1  # read as it arrived, not at the end (read1, not 64 KB reads)
    assert threading.active_count() > 0


def test_history_and_har_keep_the_events_with_their_offsets(
    connected: ExplorerSession, sandbox_info: dict
) -> None:
    url = sandbox_info["apps"]["hello"]["url"] + "/api/ndjson?count=3&interval_ms=20"
    connected.send(RequestSpec("GET", url))
    entry = json.loads(connected.history.export("har")[1])["log"]["entries"][-1]
    events = entry["response"]["content"]["_events"]
    assert [json.loads(e["data"])["n"] for e in events] == [0, 1, 2] and all("offset_ms" in e for e in events)
    exported = json.loads(connected.history.export("json")[1])[-1]
    assert exported["response"]["events_total"] == 3


# --- WebSockets ----------------------------------------------------------------------------------------


def ws_url(info: dict, path: str = "/api/ws") -> str:
    return info["apps"]["hello"]["url"].replace("http://", "ws://") + path


def test_a_websocket_through_the_gateway_with_the_token(
    connected: ExplorerSession, sandbox_info: dict
) -> None:
    spec = RequestSpec("GET", ws_url(sandbox_info), body="hello\nagain", timeout=10)
    exchange = connected.send(spec)
    response = exchange.response
    assert response is not None and response.status == 101 and response.stream == "websocket"
    assert [(e.event, e.data) for e in response.events] == [
        ("sent", "hello"),
        ("sent", "again"),
        ("received", "echo: hello"),
        ("received", "echo: again"),
    ]
    offsets = [e.offset_ms for e in response.events]
    assert offsets == sorted(offsets)
    assert exchange.request.headers and dict(exchange.request.headers)["Authorization"].startswith("Bearer ")


def test_any_chunked_text_body_is_printed_line_by_line_as_it_arrives(
    sandbox_info: dict, clean_databricks_env: Path, monkeypatch
) -> None:
    """A chunked text/plain body (no stream type) is read as it arrives too: each line out at once."""
    demo_sp_env(sandbox_info, monkeypatch)

    out, err = Clocked(), io.StringIO()
    url = sandbox_info["apps"]["hello"]["url"] + "/api/chunks?count=4&interval_ms=300"
    started = time.perf_counter()
    assert main(["call", url, "--auth", "m2m", "--host", sandbox_info["host"]], Output(out, err)) == 0
    ended = time.perf_counter()
    assert out.getvalue().split() == [
        "line",
        "1",
        "of",
        "4",
        "line",
        "2",
        "of",
        "4",
        "line",
        "3",
        "of",
        "4",
        "line",
        "4",
        "of",
        "4",
    ]
    assert out.times[0] - started < (ended - started) - 0.5  # the first line was out well before the end


def test_a_stream_announces_its_kind_and_first_byte_before_its_first_event(
    connected: ExplorerSession, sandbox_info: dict
) -> None:
    """on_start comes when a stream's headers are in (the UI's live view shows TTFB and the kind at
    once); an ordinary JSON answer never calls it."""
    seen: list[tuple[str, float | str]] = []
    app = sandbox_info["apps"]["hello"]["url"]
    on_start = lambda ttfb, kind: seen.append(("start", kind))  # noqa: E731
    on_event = lambda event: seen.append(("event", event.data))  # noqa: E731
    connected.send(
        RequestSpec("GET", app + "/api/chunks?count=2&interval_ms=50"), on_start=on_start, on_event=on_event
    )
    assert seen[0] == ("start", "text") and [k for k, _ in seen[1:]] == ["event", "event"]
    seen.clear()
    connected.send(RequestSpec("GET", app + "/api/hello"), on_start=on_start, on_event=on_event)
    assert seen == []


def test_a_chunked_json_document_is_not_taken_for_a_stream() -> None:
    from explorer.stream import TextLinesParser, stream_kind

    assert stream_kind("text/plain; charset=utf-8", chunked=True) == "text"
    assert stream_kind("", chunked=True) == "text"
    assert stream_kind("application/json", chunked=True) is None  # a document: shown whole
    assert stream_kind("text/plain") is None  # with a length: an ordinary body
    assert stream_kind("application/x-ndjson") == "ndjson"
    parser = TextLinesParser()
    events = parser.feed(b"one\n\ntw", 1.0) + parser.feed(b"o\nthr", 2.0) + parser.close(3.0)
    assert [e.data for e in events] == ["one", "", "two", "thr"]


def test_the_cli_opens_an_app_http_url_as_a_websocket_with_x_ws(
    sandbox_info: dict, clean_databricks_env: Path, monkeypatch
) -> None:
    demo_sp_env(sandbox_info, monkeypatch)
    out, err = io.StringIO(), io.StringIO()
    url = sandbox_info["apps"]["hello"]["url"] + "/api/ws"  # http: the method makes it a WebSocket
    argv = ["call", url, "-X", "WS", "--auth", "m2m", "--host", sandbox_info["host"], "-d", "hi there"]
    assert main(argv, Output(out, err)) == 0
    assert "echo: hi there" in out.getvalue() + err.getvalue()
    assert "101" in err.getvalue() and "ws://" in err.getvalue()


def test_a_websocket_without_a_token_gets_the_http_diagnosis(sandbox_info: dict) -> None:
    session = ExplorerSession(timeout=10)
    try:
        exchange = session.send(RequestSpec("GET", ws_url(sandbox_info), body="x", timeout=10))
    finally:
        session.close()
    # the sandbox's gateway refuses an upgrade it cannot redirect with 403 (Starlette's WebSocket
    # denial); whatever the status, the diagnosis is the one HTTP gets: no token was sent
    assert exchange.response is not None and exchange.response.status in (302, 401, 403)
    assert "TOKEN_MISSING" in {f.code for f in exchange.findings}


def test_a_websocket_to_a_host_off_the_allowlist_is_refused(sandbox_info: dict) -> None:
    from explorer.guard import Allowlist

    session = ExplorerSession(allowlist=Allowlist(["example.invalid"]), timeout=5)
    try:
        exchange = session.send(RequestSpec("GET", ws_url(sandbox_info), body="x"))
    finally:
        session.close()
    assert exchange.response is None and exchange.findings[0].code == "HOST_NOT_ALLOWED"


def test_paths_beyond_api_are_a_note_never_the_verdict_when_the_app_answers(
    clean_databricks_env: Path,
) -> None:
    from support.sandbox_helpers import default_config

    from explorer.sandbox import Sandbox

    config = default_config()
    for app in config["apps"]:
        if app["name"] == "hello":
            app["token_paths"] = ["/api/", "/responses"]  # as MLflow's agent server is reached
    with Sandbox(config=config, port=0) as sandbox:
        info = sandbox.info
        session = ExplorerSession(timeout=10)
        try:
            fields = demo_sp_fields(info)
            assert session.connect("m2m", fields).ok
            exchange = session.send(agent_request(info["apps"]["hello"]["url"] + "/responses"))
        finally:
            session.close()
    assert exchange.ok and exchange.response.transcript is not None and exchange.response.transcript.done
    notes = [f for f in exchange.findings if f.code == "PATH_NOT_API"]
    assert notes and all(f.severity == "info" for f in notes)


def test_a_background_answer_is_followed_poll_by_poll(connected: ExplorerSession, sandbox_info: dict) -> None:
    url = sandbox_info["apps"]["hello"]["url"] + "/api/invocations"
    spec = agent_request(url, stream=False, background=True)
    submitted = connected.send(spec)
    assert submitted.ok and submitted.response.json["status"] in ("queued", "in_progress")
    seen: list[str] = []
    polls = connected.follow_background(
        submitted, on_poll=lambda p: seen.append(p.response.json["status"]), interval=0.1
    )
    assert polls and seen[-1] == "completed" and len(seen) == len(polls)
    final = polls[-1].response.transcript
    assert final is not None and final.done and "scripted by the sandbox" in final.text
    assert final.tool_calls[0]["name"] == "lookup_items"
    assert all(p.request.url.startswith(url + "/") for p in polls)

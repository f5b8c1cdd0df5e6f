"""The stream part of the response pane as pure functions: event rows (pretty JSON, escaped, scrubbed),
metrics, the agent's transcript, the bounded view, and the live collector that paces page updates."""

from __future__ import annotations

import json
import threading
import time

from explorer.model import Exchange, RequestSpec, Response, StreamEvent, Transcript
from explorer.redact import Redactor
from explorer.ui.live import LiveStream
from explorer.ui.present import stream as sv
from explorer.ui.present.response import exchange_view

SECRET = "dapi" + "0123456789abcdef" * 2  # built, so no token-shaped literal sits in the tree


def test_an_event_row_shows_offset_name_id_and_pretty_json() -> None:
    row = sv.event_row(StreamEvent(1234.5, '{"a": [1, 2]}', "tick", "7"), 3)
    assert 'data-n="3"' in row and "#3" in row and "+1.234 s" in row
    assert ">tick<" in row and "id 7" in row
    assert "{\n  &quot;a&quot;: [\n    1," in row  # pretty, and escaped


def test_network_text_is_escaped_and_scrubbed_in_every_part() -> None:
    redactor = Redactor([SECRET])
    hostile = StreamEvent(1.0, f"<img src=x onerror=alert(1)> {SECRET} \x1b[31m", "<b>e</b>", "<i>")
    row = sv.event_row(hostile, 1, redactor)
    assert "<img" not in row and "<b>e" not in row and "<i>" not in row
    assert SECRET not in row and "\\x1b" in row
    t = Transcript(
        "responses", text=f"<script>x</script> {SECRET}", tool_calls=[{"name": "<t>", "arguments": SECRET}]
    )
    html = sv.transcript_html(t, redactor)
    assert "<script>" not in html and "<t>" not in html and SECRET not in html


def test_long_data_is_cut_and_a_websocket_frame_says_its_direction() -> None:
    assert sv.data_text("x" * 5000, limit=100).endswith("[4,900 more characters]")
    assert sv.data_text("not json {") == "not json {"
    sent = sv.event_row(StreamEvent(1.0, "hello", "sent"), 1, websocket=True)
    received = sv.event_row(StreamEvent(2.0, "echo: hello", "received"), 2, websocket=True)
    assert "→ sent" in sent and "ev-sent" in sent and "← received" in received


def test_metrics_rate_first_event_and_what_was_dropped_from_view() -> None:
    assert sv.events_per_second(11, 0.0, 1000.0) == 10.0
    assert sv.events_per_second(1, 5.0, 5.0) is None
    view = sv.StreamView("live", "sse", rows=("r",) * 3, total=10, first_event_ms=40.0, last_event_ms=940.0)
    html = sv.metrics_html(view)
    assert "live" in html and "<b>10</b> events" in html and "10.0 events/s" in html
    assert "first event 40 ms" in html and "7 dropped from view" in html and "Cancel" in html
    ended = sv.metrics_html(sv.StreamView("cancelled", "websocket", total=2, ttfb_ms=12.0, elapsed_ms=900.0))
    assert "cancelled" in ended and "frames" in ended and "TTFB 12 ms" in ended and "total 900 ms" in ended


def test_the_transcript_shows_text_tools_first_token_and_tokens_per_second() -> None:
    t = Transcript(
        "responses", "Hello there", [{"name": "lookup", "arguments": '{"q": 1}'}], 61.0, {"output_tokens": 21}
    )
    t.tokens_per_second = 49.14
    live = sv.transcript_html(t, live=True)
    assert "Hello there" in live and "lookup" in live and "first token 61 ms" in live
    assert "49.1 tokens/s" in live and "21 output tokens" in live and "streaming…" in live
    t.done = True
    assert "done" in sv.transcript_html(t) and "cursor" not in sv.transcript_html(t, live=True)


def _exchange(response: Response | None, url: str = "http://app/api/stream") -> Exchange:
    return Exchange("e1", time.time(), RequestSpec("GET", url), response, None, None)


def _streamed(total: int) -> Response:
    events = [StreamEvent(float(i), json.dumps({"n": i})) for i in range(total)][-2000:]
    return Response(200, "OK", [], b"", 0, 100.0, 5.0, "text/event-stream", "text", stream="sse",
                    events=events, events_total=total, first_event_ms=0.0)  # fmt: skip


def test_a_finished_stream_keeps_only_the_latest_rows_and_counts_the_rest() -> None:
    view = sv.exchange_stream(_exchange(_streamed(5000)))
    assert view is not None and view.state == "done" and len(view.rows) == sv.VIEW_EVENTS
    assert view.dropped == 5000 - sv.VIEW_EVENTS and 'data-n="5000"' in view.rows[-1]
    html = sv.stream_html(view)
    assert f"{5000 - sv.VIEW_EVENTS:,} earlier events dropped from view" in html


def test_a_plain_answer_has_no_stream_part_and_a_cancelled_one_says_what_was_kept() -> None:
    plain = Response(200, "OK", [], b"{}", 2, 10.0, 5.0, "application/json", "json", json={})
    assert (
        sv.exchange_stream(_exchange(plain)) is None
        and exchange_view(_exchange(plain), time.time()).stream == ""
    )
    cut = _streamed(3)
    cut.cancelled = cut.truncated = True
    view = exchange_view(_exchange(cut), time.time())
    assert "cancelled" in view.stream and "Cancelled: the connection was closed after 3 events" in view.status
    assert "Large response" not in view.status


def test_background_polls_are_listed_with_the_final_transcript() -> None:
    submitted = Response(200, "OK", [], b"", 0, 5.0, 5.0, "application/json", "json",
                         json={"object": "response", "id": "resp_1", "status": "queued"})  # fmt: skip
    done = Response(200, "OK", [], b"", 0, 5.0, 5.0, "application/json", "json", json={"status": "completed"},
                    transcript=Transcript("responses", "All done", done=True))  # fmt: skip
    first = _exchange(submitted, "http://app/api/invocations")
    poll = _exchange(done, "http://app/api/invocations/resp_1")
    view = exchange_view(first, time.time(), polls=[poll])
    assert "Background answer" in view.stream and "resp_1" in view.stream and "poll 1" in view.stream
    assert "completed" in view.stream and "All done" in view.stream
    assert view.summary["polls"] == [{"status": 200, "state": "completed"}]


def test_the_live_collector_is_bounded_assembles_and_batches_updates() -> None:
    live = LiveStream(lambda e, n: sv.event_row(e, n), keep=5)
    done = threading.Event()
    for i in range(12):
        delta = {"type": "response.output_text.delta", "delta": f"w{i} "}
        live.add(StreamEvent(float(i), json.dumps(delta), "response.output_text.delta"))
    snap = live.snapshot()
    # at most twice `keep` rows, trimmed in blocks (rows keep their place on the page between trims)
    assert snap.total == 12 and len(snap.rows) == 6 and snap.dropped == 6 and 'data-n="12"' in snap.rows[-1]
    assert snap.transcript is not None and snap.transcript.text.startswith("w0 w1")

    seen: list[int] = []

    def feed() -> None:
        for i in range(40):  # a burst: 40 events within ~80 ms
            live.add(StreamEvent(100.0 + i, "x"))
            time.sleep(0.002)
        time.sleep(0.2)
        done.set()

    threading.Thread(target=feed, daemon=True).start()
    for update in live.updates(done, interval=0.05):
        seen.append(update.total)
    assert seen and seen == sorted(seen) and len(seen) < 40  # batched, never out of order
    assert live.snapshot().total == 52


def test_the_follower_claims_a_stream_once_and_hears_its_tab_come_and_go() -> None:
    live = LiveStream(lambda e, n: sv.event_row(e, n))
    assert live.claim() and not live.claim() and live.claimed
    done, shown = threading.Event(), {"active": True}

    def switch() -> None:
        live.add(StreamEvent(1.0, "x"))
        time.sleep(0.3)
        shown["active"] = False  # another tab: no new event, yet the follower must hear of it
        time.sleep(0.3)
        done.set()

    threading.Thread(target=switch, daemon=True).start()
    updates = list(live.updates(done, active=lambda: shown["active"]))
    assert len(updates) == 2 and all(u.total == 1 for u in updates)


def test_a_live_stream_shows_its_kind_and_first_byte_once_its_headers_are_in() -> None:
    from explorer.ui.live import LiveStream

    live = LiveStream(lambda event, n: f"<div>{n}</div>")
    assert not live.started
    live.start(31.5, "ndjson")
    view = live.snapshot()
    assert live.started and view.kind == "ndjson" and view.ttfb_ms == 31.5 and view.total == 0
    html = sv.stream_html(view)
    assert "NDJSON" in html and "TTFB" in html

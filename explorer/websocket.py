"""WebSockets: connect with the current credentials' bearer token, send text frames, record the
frames both ways with their times, close. A refused upgrade (401, 403, a 302 to sign in) becomes
an ordinary Response, so it gets the same diagnosis as HTTP.

The `websockets` library's synchronous client does the protocol; this module only maps it onto
the explorer's model (a `websocket` stream whose events are the frames, "sent" or "received").
"""

from __future__ import annotations

import time
from collections.abc import Callable

from explorer.model import RequestSpec, Response, StreamEvent
from explorer.parse import url_with_params
from explorer.stream import MAX_EVENTS
from explorer.transport import Cancel

IDLE_SECONDS = 2.0  # after the last frame, how long to wait for another before closing
MAX_FRAME = 4 * 1024 * 1024


def is_websocket(url: str) -> bool:
    return url.split(":", 1)[0].lower() in ("ws", "wss")


def exchange_frames(
    spec: RequestSpec,
    headers: dict[str, str],
    *,
    on_event: Callable[[StreamEvent], None] | None = None,
    cancel: Cancel | None = None,
    idle: float = IDLE_SECONDS,
) -> Response:
    """Open the WebSocket, send the body (one text frame per non-empty line), read until the server
    closes, `idle` s pass without a frame, the timeout, or a cancel. Raises OSError/TimeoutError
    when nothing answered at all."""
    from websockets.exceptions import ConnectionClosed, InvalidStatus
    from websockets.sync.client import connect

    started = time.perf_counter()
    deadline = started + spec.timeout
    events: list[StreamEvent] = []
    total = 0

    def record(direction: str, data: str | bytes) -> None:
        nonlocal total
        text = data if isinstance(data, str) else f"[binary frame: {len(data)} bytes] {data[:64].hex()}"
        event = StreamEvent((time.perf_counter() - started) * 1000, text, direction)
        total += 1
        events.append(event)
        del events[:-MAX_EVENTS]
        if on_event is not None:
            on_event(event)

    url = url_with_params(spec.url, spec.params)
    try:
        ws = connect(
            url,
            additional_headers=headers,
            open_timeout=spec.timeout,
            close_timeout=2,
            max_size=MAX_FRAME,
            proxy=None,
            user_agent_header="databricks-apps-explorer",
        )
    except InvalidStatus as refused:
        return _refused(refused.response, started)
    opened = time.perf_counter()
    cancelled = False
    with ws:
        for line in (spec.body or "").splitlines():
            if line.strip():
                ws.send(line)
                record("sent", line)
        last = time.perf_counter()
        while True:
            if cancel is not None and cancel.requested:
                cancelled = True
                break
            now = time.perf_counter()
            if now >= deadline or now - last >= idle:
                break
            try:
                frame = ws.recv(timeout=min(0.2, deadline - now))
            except TimeoutError:
                continue
            except ConnectionClosed:
                break
            record("received", frame)
            last = time.perf_counter()
        handshake = ws.response
    body = "\n".join(f"{e.event}: {e.data}" for e in events).encode("utf-8", errors="replace")
    return Response(
        status=handshake.status_code if handshake else 101,
        reason=(handshake.reason_phrase if handshake else "") or "Switching Protocols",
        headers=list(handshake.headers.raw_items()) if handshake else [],
        body=body[:MAX_FRAME],
        size=len(body),
        elapsed_ms=(time.perf_counter() - started) * 1000,
        ttfb_ms=(opened - started) * 1000,
        content_type="websocket",
        kind="text" if body else "empty",
        text=body.decode("utf-8", errors="replace"),
        stream="websocket",
        events=events,
        events_total=total,
        first_event_ms=events[0].offset_ms if events else None,
        cancelled=cancelled,
    )


def _refused(response: object, started: float) -> Response:
    """The HTTP answer to a refused upgrade, as a Response the diagnosis reads like any other."""
    status = int(getattr(response, "status_code", 0) or 0)
    headers = list(getattr(response, "headers", {}).raw_items()) if getattr(response, "headers", None) else []
    body = bytes(getattr(response, "body", b"") or b"")
    content_type = next((v for k, v in headers if k.lower() == "content-type"), "")
    location = next((v for k, v in headers if k.lower() == "location"), None)
    text = body.decode("utf-8", errors="replace")
    parsed = None
    if "json" in content_type.lower():
        import json

        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = None
    return Response(
        status=status,
        reason=str(getattr(response, "reason_phrase", "") or ""),
        headers=headers,
        body=body,
        size=len(body),
        elapsed_ms=(time.perf_counter() - started) * 1000,
        ttfb_ms=(time.perf_counter() - started) * 1000,
        content_type=content_type,
        kind="json" if parsed is not None else ("text" if body else "empty"),
        json=parsed,
        text=text,
        location=location,
    )

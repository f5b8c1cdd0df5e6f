"""Streams of the sample app: NDJSON lines and an endless heartbeat (SSE) that notices the client leave.

The heartbeat counts every stream it started and every client that went away, so a test can
prove that cancelling a request through the gateway closed the app's side too.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from collections.abc import AsyncIterator

from fastapi import APIRouter, Query
from starlette.responses import Response, StreamingResponse
from starlette.types import Message, Receive, Scope, Send


class HeartbeatCounter:
    """How many heartbeat streams run now, started, and ended because the client disconnected."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.active = self.started = self.disconnected = self.events = 0

    def begin(self) -> None:
        with self._lock:
            self.active += 1
            self.started += 1

    def beat(self) -> None:
        with self._lock:
            self.events += 1

    def end(self, disconnected: bool) -> None:
        with self._lock:
            self.active -= 1
            self.disconnected += int(disconnected)

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return {
                "active": self.active,
                "started": self.started,
                "disconnected": self.disconnected,
                "events": self.events,
            }

    def reset(self) -> None:
        with self._lock:
            self.started, self.disconnected, self.events = self.active, 0, 0


class HeartbeatResponse(Response):
    """`event: heartbeat` every interval until the client disconnects (it never ends by itself).

    It listens for `http.disconnect` while it writes, so it stops at once rather than at the next
    failed write, and counts the disconnect.
    """

    media_type = "text/event-stream"

    def __init__(self, counter: HeartbeatCounter, interval: float):
        # Not Response.__init__: it would declare `content-length: 0` for the empty body.
        self.status_code, self.background = 200, None
        self.raw_headers = [
            (b"content-type", b"text/event-stream; charset=utf-8"),
            (b"cache-control", b"no-cache"),
            (b"x-accel-buffering", b"no"),
        ]
        self._counter, self._interval = counter, interval

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        gone = asyncio.Event()

        async def listen() -> None:
            while True:
                message: Message = await receive()
                if message["type"] == "http.disconnect":
                    gone.set()
                    return

        listener = asyncio.create_task(listen())
        self._counter.begin()
        try:
            await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
            n = 0
            while not gone.is_set():
                data = json.dumps({"n": n, "at": round(time.time(), 3)})
                chunk = f"id: {n}\nevent: heartbeat\ndata: {data}\n\n".encode()
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
                self._counter.beat()
                n += 1
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(gone.wait(), self._interval)
        except OSError:  # the write failed: the client is gone
            gone.set()
        finally:
            listener.cancel()
            self._counter.end(disconnected=gone.is_set())


def stream_routes(counter: HeartbeatCounter) -> APIRouter:
    router = APIRouter(tags=["streams"])

    @router.get(
        "/api/ndjson",
        summary="Newline-delimited JSON, one object per line with a small delay",
        response_class=StreamingResponse,
        responses={200: {"content": {"application/x-ndjson": {}}}},
    )
    def ndjson(
        count: int = Query(5, ge=1, le=10_000, description="Number of lines"),
        interval_ms: int = Query(50, ge=0, le=10_000, description="Delay between lines"),
    ) -> StreamingResponse:
        async def lines() -> AsyncIterator[bytes]:
            for i in range(count):
                yield json.dumps({"n": i, "of": count, "square": i * i}).encode() + b"\n"
                if i + 1 < count:
                    await asyncio.sleep(interval_ms / 1000)

        return StreamingResponse(lines(), media_type="application/x-ndjson")

    @router.get(
        "/api/chunks",
        summary="Plain text in chunks, one line per chunk with a small delay (a chunked body, no stream type)",
        response_class=StreamingResponse,
        responses={200: {"content": {"text/plain": {}}}},
    )
    def chunks(
        count: int = Query(5, ge=1, le=10_000, description="Number of lines"),
        interval_ms: int = Query(50, ge=0, le=10_000, description="Delay between lines"),
    ) -> StreamingResponse:
        async def lines() -> AsyncIterator[bytes]:
            for i in range(count):
                yield f"line {i + 1} of {count}\n".encode()
                if i + 1 < count:
                    await asyncio.sleep(interval_ms / 1000)

        return StreamingResponse(lines(), media_type="text/plain; charset=utf-8")

    @router.get(
        "/api/heartbeat",
        summary="An endless SSE stream: one heartbeat event per interval until the client disconnects",
        response_class=StreamingResponse,
        responses={200: {"content": {"text/event-stream": {}}}},
    )
    def heartbeat(
        interval_ms: int = Query(200, ge=10, le=60_000, description="Delay between events"),
    ) -> Response:
        return HeartbeatResponse(counter, interval_ms / 1000)

    return router

"""A stream as it arrives, for the page: the engine's `on_event` hook fills it from the send's
thread; the page's follower (`Handlers.follow_stream`, an event of its own) reads snapshots of
it, at most every `interval`, and yields them into the stream's live part of the response pane.

Bounded: only the latest rows are kept (between present.stream.LIVE_EVENTS and twice that), the
rest are counted. Each event is rendered once, when it arrives (the renderer scrubs and escapes
it), so a page update costs a join, however long the stream has run. Old rows are dropped in
blocks, not one per event: the page patches its HTML node by node, and rows that keep their place
are left alone, so most updates only append.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace

from explorer.agent import TranscriptBuilder
from explorer.model import Exchange, StreamEvent
from explorer.ui.present.stream import LIVE_EVENTS, StreamView

UPDATE_SECONDS = 0.05  # at most one page update per 50 ms: events arriving faster are batched


class LiveStream:
    """Events (and background polls) as they arrive, thread-safe; `updates()` paces the page."""

    def __init__(
        self,
        render: Callable[[StreamEvent, int], str],
        render_poll: Callable[[Exchange, int], str] | None = None,
        kind: str | None = None,
        keep: int = LIVE_EVENTS,
        changed: threading.Event | None = None,
    ) -> None:
        self._render, self._render_poll, self.kind = render, render_poll, kind
        self._lock = threading.Lock()
        self._rows: list[str] = []
        self._keep = keep
        self._builder = TranscriptBuilder()
        self._first_ms: float | None = None
        self._last_ms: float | None = None
        self.total = 0
        self.polls: list[Exchange] = []
        self._poll_rows: list[str] = []
        self.version = 0
        self._claimed = False
        self._ttfb_ms: float | None = None
        self.released = threading.Event()  # the page's follower (Handlers.follow_stream) has let go
        self.changed = changed or threading.Event()  # the send's own wake-up (its end sets it too)

    def add(self, event: StreamEvent) -> None:
        """The engine's on_event hook (called from the send's thread)."""
        with self._lock:
            self.total += 1
            self._rows.append(self._render(event, self.total))
            if len(self._rows) > 2 * self._keep:
                del self._rows[: -self._keep]
            self._builder.add(event)
            if self._first_ms is None:
                self._first_ms = event.offset_ms
            self._last_ms = event.offset_ms
            self.version += 1
        self.changed.set()

    def add_poll(self, poll: Exchange) -> None:
        """The engine's on_poll hook while a background answer is followed."""
        with self._lock:
            self.polls.append(poll)
            if self._render_poll is not None:
                self._poll_rows.append(self._render_poll(poll, len(self.polls)))
            self.version += 1
        self.changed.set()

    def start(self, ttfb_ms: float, kind: str) -> None:
        """The engine's on_start hook: the stream's headers are in (its kind, its time to first byte)."""
        with self._lock:
            self._ttfb_ms, self.kind = ttfb_ms, self.kind or kind
            self.version += 1
        self.changed.set()

    def claim(self) -> bool:
        """The page's follower takes this stream (once: a second follower gets False)."""
        with self._lock:
            claimed, self._claimed = self._claimed, True
        return not claimed

    @property
    def claimed(self) -> bool:
        return self._claimed

    @property
    def started(self) -> bool:
        """A stream is under way: its headers said so, or events or polls arrived."""
        return bool(self.total or self.polls or self._ttfb_ms is not None)

    def snapshot(self) -> StreamView:
        with self._lock:
            transcript = self._builder.transcript
            if transcript is not None:  # a copy: the send's thread keeps assembling the original
                transcript = replace(
                    transcript,
                    tool_calls=[dict(c) for c in transcript.tool_calls],
                    usage=dict(transcript.usage),
                )
            return StreamView(
                state="live",
                kind=self.kind,
                rows=tuple(self._rows),
                total=self.total,
                first_event_ms=self._first_ms,
                last_event_ms=self._last_ms,
                ttfb_ms=self._ttfb_ms,
                transcript=transcript,
                polls=tuple(self._poll_rows),
            )

    def updates(
        self,
        done: threading.Event,
        interval: float = UPDATE_SECONDS,
        active: Callable[[], bool] | None = None,
    ) -> Iterator[StreamView]:
        """A snapshot whenever something new arrived, at most one per `interval`, until `done` is set.

        A lone event is shown at once; a burst is batched into the next update. With `active`
        (is the stream's tab shown?), a change of it counts as new too (checked every 0.1 s)."""
        shown, last = 0, 0.0
        was = active() if active is not None else True
        while not done.is_set():
            self.changed.wait(1.0 if active is None else 0.1)  # set by every event, and by the end
            if done.is_set():
                return
            pause = interval - (time.monotonic() - last)
            if pause > 0 and done.wait(pause):
                return
            self.changed.clear()
            now = active() if active is not None else True
            if self.version != shown or now != was:
                shown, last, was = self.version, time.monotonic(), now
                yield self.snapshot()

"""Streamed bodies, event by event as they arrive: Server-Sent Events, NDJSON / JSON Lines, and any
other chunked text body, line by line.

The parsers are incremental (`feed(bytes) -> [StreamEvent]`), bounded (a line longer than the cap
is cut, not buffered forever) and never raise on what a server sends.
"""

from __future__ import annotations

import codecs

from explorer.model import StreamEvent

STREAM_TYPES = {"text/event-stream": "sse", "application/x-ndjson": "ndjson", "application/jsonl": "ndjson",
                "application/x-jsonlines": "ndjson", "application/jsonlines": "ndjson"}  # fmt: skip
MAX_LINE = 1024 * 1024  # characters of one line kept
MAX_EVENTS = 2000  # events kept for view (older ones are dropped and counted)


def stream_kind(content_type: str, chunked: bool = False) -> str | None:
    """ "sse" or "ndjson" for a streaming content type; "text" for another chunked body that is text
    (a chunked JSON document stays a document: shown whole, when it ends); else None."""
    base = content_type.split(";")[0].strip().lower()
    if base in STREAM_TYPES:
        return STREAM_TYPES[base]
    if chunked and (base.startswith("text/") or not base):
        return "text"
    return None


class _Lines:
    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._pending = ""

    def feed(self, chunk: bytes) -> list[str]:
        text = self._pending + self._decoder.decode(chunk)
        lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        self._pending = lines.pop()[-MAX_LINE:]
        return [line[:MAX_LINE] for line in lines]

    def rest(self) -> str:
        rest, self._pending = self._pending + self._decoder.decode(b"", final=True), ""
        return rest


class SSEParser:
    """The EventSource algorithm: `event:`, `data:` (joined by newlines), `id:`, blank line dispatches."""

    def __init__(self) -> None:
        self._lines = _Lines()
        self._data: list[str] = []
        self._event: str | None = None
        self._id: str | None = None

    def feed(self, chunk: bytes, offset_ms: float) -> list[StreamEvent]:
        return [e for line in self._lines.feed(chunk) if (e := self._line(line, offset_ms)) is not None]

    def close(self, offset_ms: float) -> list[StreamEvent]:
        rest = self._lines.rest()
        events = [e for e in (self._line(rest, offset_ms), self._line("", offset_ms)) if e is not None]
        return events if rest or self._data else []

    def _line(self, line: str, offset_ms: float) -> StreamEvent | None:
        if line == "":
            if not self._data and self._event is None:
                return None
            event = StreamEvent(offset_ms, "\n".join(self._data), self._event, self._id)
            self._data, self._event = [], None
            return event
        if line.startswith(":"):
            return None  # a comment (keep-alive)
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value[:200]
        elif name == "id" and "\0" not in value:
            self._id = value[:200]
        return None


class NDJSONParser:
    """One event per non-empty line."""

    def __init__(self) -> None:
        self._lines = _Lines()

    def feed(self, chunk: bytes, offset_ms: float) -> list[StreamEvent]:
        return [StreamEvent(offset_ms, line) for line in self._lines.feed(chunk) if line.strip()]

    def close(self, offset_ms: float) -> list[StreamEvent]:
        rest = self._lines.rest()
        return [StreamEvent(offset_ms, rest)] if rest.strip() else []


class TextLinesParser:
    """A chunked text body: one event per line as it arrives (blank lines too: it is text, not records)."""

    def __init__(self) -> None:
        self._lines = _Lines()

    def feed(self, chunk: bytes, offset_ms: float) -> list[StreamEvent]:
        return [StreamEvent(offset_ms, line) for line in self._lines.feed(chunk)]

    def close(self, offset_ms: float) -> list[StreamEvent]:
        rest = self._lines.rest()
        return [StreamEvent(offset_ms, rest)] if rest else []


def parser_for(kind: str) -> SSEParser | NDJSONParser | TextLinesParser:
    if kind == "sse":
        return SSEParser()
    return TextLinesParser() if kind == "text" else NDJSONParser()

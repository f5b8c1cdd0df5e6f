"""A streamed answer as the response pane shows it: metrics, the agent's transcript, the events.

Pure functions of the model, no Gradio. The same view is drawn while the stream arrives (from the
UI's live collector, `explorer.ui.live`) and once it ended (from the Exchange): rows are rendered
once per event (`event_row`) and joined, so a long stream costs one join per page update.

Everything in it came from the network: it is scrubbed by the session's redactor, control
characters are shown as escapes, and it is HTML-escaped.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from html import escape
from typing import Any

from explorer.model import Exchange, StreamEvent, Transcript
from explorer.redact import Redactor
from explorer.textview import escape_controls
from explorer.ui.present.basics import human_ms, status_class

VIEW_EVENTS = 200  # rows on the page once a stream ended; older ones are dropped from view (and counted)
LIVE_EVENTS = 50  # rows on the page while it streams: each update redraws them, so fewer keep it quick
DATA_CHARS = 2000  # characters of one event's data shown
TEXT_CHARS = 64 * 1024  # characters of an assembled answer shown
DIRECTIONS = {"sent": "→ sent", "received": "← received"}


@dataclass
class StreamView:
    """What the stream part of the response pane shows, live or after the end."""

    state: str  # "live" | "done" | "cancelled"
    kind: str | None = None  # "sse" | "ndjson" | "text" | "websocket" (None while unknown)
    rows: Sequence[str] = ()  # rendered event rows, oldest first (the latest VIEW_EVENTS)
    total: int = 0  # every event that arrived
    first_event_ms: float | None = None
    last_event_ms: float | None = None
    ttfb_ms: float | None = None  # known once the exchange is back
    elapsed_ms: float | None = None
    transcript: Transcript | None = None
    polls: Sequence[str] = ()  # rendered background polls
    background_id: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def dropped(self) -> int:
        return max(0, self.total - len(self.rows))


def clean(text: str, redactor: Redactor | None) -> str:
    """Network text made safe to put in HTML: secrets scrubbed, controls escaped, HTML escaped."""
    text = redactor.scrub(text) if redactor is not None else text
    return escape(escape_controls(text))


def data_text(data: str, limit: int = DATA_CHARS) -> str:
    """An event's data as shown: pretty JSON when it parses, else as sent; at most `limit` characters."""
    shown = data
    stripped = data.strip()
    if stripped[:1] in ("{", "[") and len(stripped) <= 4 * limit:
        try:
            shown = json.dumps(json.loads(stripped), indent=2, ensure_ascii=False)
        except ValueError:
            shown = data
    if len(shown) > limit:
        shown = shown[:limit] + f"… [{len(shown) - limit:,} more characters]"
    return shown


def offset_text(ms: float | None) -> str:
    """+0.035 s: an event's offset since the request was sent."""
    return "" if ms is None else f"+{ms / 1000:.3f} s"


def event_row(
    event: StreamEvent, number: int, redactor: Redactor | None = None, websocket: bool = False
) -> str:
    """One event: its number, offset since send, event name (a frame's direction), id, data."""
    name = event.event or ""
    if websocket and name in DIRECTIONS:
        label, cls = DIRECTIONS[name], f"ev-{name}"
    else:
        label, cls = clean(name[:200], redactor), ""
    ident = f'<span class="ev-id">id {clean(event.id[:200], redactor)}</span>' if event.id else ""
    return (
        f'<div class="ev {cls}" data-n="{number}"><span class="ev-n">#{number}</span>'
        f'<span class="ev-t">{offset_text(event.offset_ms)}</span>'
        f'<span class="ev-name">{label}</span>{ident}'
        f'<pre class="ev-data">{clean(data_text(event.data), redactor)}</pre></div>'
    )


def poll_row(poll: Exchange, number: int, started: float) -> str:
    """One poll of a background answer: when, its HTTP status, the answer's status, how long it took."""
    response = poll.response
    offset = max(0.0, (poll.started_at - started) * 1000)
    if response is None:
        outcome = f'<span class="badge s-err small">no answer</span> {escape(poll.error or "")}'
    else:
        state = response.json.get("status") if isinstance(response.json, dict) else None
        outcome = (
            f'<span class="badge {status_class(response.status)} small">{response.status}</span> '
            f"<b>{escape(str(state or '')[:40])}</b> · {human_ms(response.elapsed_ms)}"
        )
    return (
        f'<div class="poll" data-n="{number}"><span class="ev-n">poll {number}</span>'
        f'<span class="ev-t">{offset_text(offset)}</span><span class="poll-outcome">{outcome}</span></div>'
    )


def events_per_second(total: int, first_ms: float | None, last_ms: float | None) -> float | None:
    """The stream's pace: events after the first over the time they took (None for fewer than 2)."""
    if total < 2 or first_ms is None or last_ms is None or last_ms <= first_ms:
        return None
    return (total - 1) / ((last_ms - first_ms) / 1000)


def metrics_html(view: StreamView) -> str:
    """`live · 42 events · 12.3 events/s · first event 35 ms · TTFB 30 ms · 180 dropped from view`."""
    badge = {
        "live": '<span class="badge live small">live</span>',
        "cancelled": '<span class="badge s-err small">cancelled</span>',
    }.get(view.state, '<span class="badge s-2xx small">ended</span>')
    what = {"websocket": "frames", None: "events"}.get(view.kind, "events")
    parts = [f"<b>{view.total:,}</b> {what}"]
    rate = events_per_second(view.total, view.first_event_ms, view.last_event_ms)
    if rate is not None:
        parts.append(f"{rate:,.1f} {what}/s")
    if view.ttfb_ms is not None:
        parts.append(f"TTFB {human_ms(view.ttfb_ms)}")
    if view.first_event_ms is not None:
        parts.append(f"first {what[:-1]} {human_ms(view.first_event_ms)}")
    if view.elapsed_ms is not None and view.state != "live":
        parts.append(f"total {human_ms(view.elapsed_ms)}")
    if view.dropped:
        parts.append(f'<span class="dropped">{view.dropped:,} dropped from view</span>')
    kind = {
        "sse": "Server-Sent Events",
        "ndjson": "NDJSON",
        "text": "chunked text",
        "websocket": "WebSocket",
    }.get(view.kind or "", "")
    label = f'<span class="muted">{kind}</span> ' if kind else ""
    stop = ' <span class="muted small">Esc or Cancel stops it and keeps what arrived</span>'
    return (
        f'<div class="stream-metrics">{badge} {label}{" · ".join(parts)}'
        f"{stop if view.state == 'live' else ''}</div>"
    )


def transcript_html(t: Transcript, redactor: Redactor | None = None, live: bool = False) -> str:
    """The agent's answer as assembled so far: its text, tool calls, time to first token, tokens/s."""
    facts = [{"responses": "Responses", "chat": "Chat Completions"}.get(t.shape, t.shape)]
    if t.first_token_ms is not None:
        facts.append(f"first token {human_ms(t.first_token_ms)}")
    tokens = t.usage.get("output_tokens") or t.usage.get("completion_tokens")
    if isinstance(tokens, int):
        facts.append(f"{tokens:,} output tokens")
    if t.tokens_per_second is not None:
        facts.append(f"{t.tokens_per_second:,.1f} tokens/s")
    state = "done" if t.done else ("streaming…" if live else "incomplete")
    tools = "".join(
        f'<div class="tool-call"><span class="muted">tool call</span> <code>{clean(c.get("name", "")[:200], redactor)}</code>'
        f'<pre class="ev-data">{clean(data_text(c.get("arguments", "")), redactor)}</pre></div>'
        for c in t.tool_calls
    )
    text = t.text if len(t.text) <= TEXT_CHARS else t.text[:TEXT_CHARS] + "…"
    cursor = '<span class="cursor">▍</span>' if live and not t.done else ""
    return (
        f'<div class="transcript"><div class="tr-head"><b>Assistant</b> '
        f'<span class="muted">{escape(" · ".join(facts))}</span> <span class="tr-state">{state}</span></div>'
        f'{tools}<div class="tr-text">{clean(text, redactor)}{cursor}</div></div>'
    )


def stream_html(view: StreamView | None, redactor: Redactor | None = None) -> str:
    """The whole stream part: metrics, transcript, background polls, the event list ("" for none)."""
    if view is None:
        return ""
    parts = [metrics_html(view)] if view.total or view.kind or view.state == "live" else []
    if view.transcript is not None:
        parts.append(transcript_html(view.transcript, redactor, live=view.state == "live"))
    if view.polls or view.background_id:
        ident = f" <code>{escape(view.background_id)}</code>" if view.background_id else ""
        parts.append(
            f'<div class="polls"><div class="tr-head"><b>Background answer</b>{ident} '
            f'<span class="muted">followed: polled until it was no longer queued or in progress</span></div>'
            f"{''.join(view.polls)}</div>"
        )
    if view.rows:
        dropped = (
            f'<div class="ev dropped-row muted">{view.dropped:,} earlier events dropped from view</div>'
            if view.dropped
            else ""
        )
        parts.append(
            f'<div class="events"><div class="events-list">{dropped}{"".join(view.rows)}</div></div>'
        )
    elif view.state == "live" and not view.polls:
        parts.append('<div class="events empty muted">Waiting for the first event…</div>')
    return f'<div class="stream-view {escape(view.state)}">{"".join(parts)}</div>'


def exchange_stream(
    exchange: Exchange, polls: Iterable[Exchange] = (), redactor: Redactor | None = None
) -> StreamView | None:
    """The finished view of an exchange: its events (or the polls that followed it); None when it
    neither streamed, nor was an agent's answer, nor was followed."""
    r = exchange.response
    polls = list(polls)
    if r is None or not (r.stream or r.transcript or polls):
        return None
    websocket = r.stream == "websocket"
    events = r.events[-VIEW_EVENTS:]
    first_number = r.events_total - len(events) + 1
    rows = [event_row(e, first_number + i, redactor, websocket) for i, e in enumerate(events)]
    transcript = r.transcript
    final = polls[-1].response if polls and polls[-1].response is not None else None
    if final is not None and final.transcript is not None:
        transcript = final.transcript
    ident = r.json.get("id") if polls and isinstance(r.json, dict) else None
    return StreamView(
        state="cancelled" if r.cancelled else "done",
        kind=r.stream,
        rows=rows,
        total=r.events_total,
        first_event_ms=r.first_event_ms,
        last_event_ms=r.events[-1].offset_ms if r.events else None,
        ttfb_ms=r.ttfb_ms if r.stream else None,
        elapsed_ms=r.elapsed_ms if r.stream else None,
        transcript=transcript,
        polls=[poll_row(p, i + 1, exchange.started_at) for i, p in enumerate(polls)],
        background_id=str(ident) if ident else None,
    )


def polls_summary(polls: Iterable[Exchange]) -> list[dict[str, Any]]:
    """The polls of a followed background answer, for scripts: HTTP status and the answer's status."""
    out = []
    for p in polls:
        r = p.response
        state = r.json.get("status") if r is not None and isinstance(r.json, dict) else None
        out.append({"status": r.status if r else None, "state": state})
    return out

"""Where an exchange's time went and where its token came from, as the page shows them.

`waterfall_html(response)`: one bar per phase (DNS, connect, TLS, send, wait, receive), widths in
proportion, "connection reused" when it was, and the app's own Server-Timing metrics beside it.
`auth_events_html(events)`: the token calls, one row each (endpoint, grant, scopes, status, time,
the OAuth error). Everything from the network is HTML-escaped.
"""

from __future__ import annotations

from collections.abc import Iterable
from html import escape

from explorer.model import AuthEvent, Response

_PHASES = (
    ("dns", "DNS"),
    ("connect", "connect"),
    ("tls", "TLS"),
    ("send", "send"),
    ("wait", "waiting"),
    ("receive", "download"),
)


def waterfall_html(response: Response | None) -> str:
    if response is None or response.timings is None:
        return ""
    t = response.timings
    values = {
        "dns": t.dns_ms,
        "connect": t.connect_ms,
        "tls": t.tls_ms,
        "send": t.send_ms,
        "wait": t.wait_ms,
        "receive": t.receive_ms,
    }
    total = sum(v for v in values.values() if v) or 1.0
    bars, legend = [], []
    for key, label in _PHASES:
        value = values[key]
        if value is None:
            continue
        width = max(0.5, 100 * value / total)
        tip = f"{label} {value:.1f} ms"
        bars.append(f'<span class="wf wf-{key}" style="width:{width:.1f}%" title="{escape(tip)}"></span>')
        legend.append(f'<span class="wf-key wf-{key}-key">{escape(tip)}</span>')
    reuse = "connection reused" if t.reused else "new connection"
    server = "".join(
        f'<span class="chip">{escape(m.name)}'
        + (f" {m.duration_ms:g} ms" if m.duration_ms is not None else "")
        + (f" · {escape(m.description)}" if m.description else "")
        + "</span>"
        for m in response.server_timing
    )
    server_html = f'<div class="wf-server muted small">app says: {server}</div>' if server else ""
    return (
        f'<div class="waterfall" aria-label="where the time went"><div class="wf-bar">{"".join(bars)}</div>'
        f'<div class="wf-legend small">{" · ".join(legend)} · {reuse}</div>{server_html}</div>'
    )


def auth_events_html(events: Iterable[AuthEvent]) -> str:
    rows = []
    for e in events:
        outcome = "no answer" if e.status is None else str(e.status)
        error = f" {escape(e.error)}" if e.error else ""
        why = f": {escape(e.error_description)}" if e.error_description else ""
        scopes = escape(" ".join(e.scopes)) or "—"
        cls = "ok" if e.status is not None and e.status < 400 else "bad"
        rows.append(
            f"<tr><td><code>{escape(e.grant_type)}</code></td><td>{scopes}</td>"
            f'<td class="{cls}">{escape(outcome)}{error}{why}</td><td>{e.elapsed_ms:.0f} ms</td>'
            f'<td class="muted small">{escape(e.url)}</td></tr>'
        )
    if not rows:
        return ""
    head = "<tr><th>grant</th><th>scopes asked</th><th>answer</th><th>time</th><th>token endpoint</th></tr>"
    return f'<table class="auth-timeline" aria-label="token calls">{head}{"".join(rows)}</table>'


def token_calls_html(events: Iterable[AuthEvent], when: str) -> str:
    """Where the token came from: the token endpoint calls made during `when`, folded."""
    events = list(events or [])
    table = auth_events_html(events)
    if not table:
        return ""
    n = len(events)
    summary = f"{n} token call{'s' if n != 1 else ''} during {escape(when)}"
    return f'<details class="auth-events small"><summary>{summary}</summary>{table}</details>'

"""Network text made safe to show: control characters become visible escapes.

A server's reason phrase, header or body can carry terminal escape sequences (ESC]0;… sets a
window title, ESC[2J clears the screen, OSC 52 writes the clipboard) or invisible characters;
every presenter shows them as `\\x1b`-style escapes instead of passing them through. Line breaks
and tabs stay where text is multi-line.
"""

from __future__ import annotations

import json
import re
from typing import Any

from explorer.model import AuthEvent, ServerTiming, Timings

# C0 controls but \t and \n, DEL, C1 controls, and the Unicode line/paragraph separators and
# bidirectional overrides (which reorder what a reader sees).
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_JSON_UNSAFE = re.compile("[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def escape_controls(text: str) -> str:
    """`text` with every control character shown as an escape (`\\x1b`, `\\u202e`); \\n and \\t kept."""
    if not text:
        return text
    return _CONTROLS.sub(_escape, text)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group(0))
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def human_size(size: int | None) -> str:
    """1023 B, 1.5 KB, 52.0 MB, 1.2 GB ("" for None)."""
    if size is None:
        return ""
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"


def waterfall_text(timings: Timings) -> str:
    """dns 1.2 · connect 0.4 · tls 3.1 · send 0.1 · wait 9.6 · receive 0.9 ms (new connection)."""
    phases = [
        ("dns", timings.dns_ms),
        ("connect", timings.connect_ms),
        ("tls", timings.tls_ms),
        ("send", timings.send_ms),
        ("wait", timings.wait_ms),
        ("receive", timings.receive_ms),
    ]
    shown = " · ".join(f"{name} {value:.1f}" for name, value in phases if value is not None)
    return f"{shown} ms ({'connection reused' if timings.reused else 'new connection'})"


def server_timing_text(metric: ServerTiming) -> str:
    """db 53.2 ms (Database) — what the app says it spent, from its Server-Timing header."""
    duration = f" {metric.duration_ms:g} ms" if metric.duration_ms is not None else ""
    described = f" ({escape_controls(metric.description)})" if metric.description else ""
    return f"{escape_controls(metric.name)}{duration}{described}"


def auth_event_text(event: AuthEvent) -> str:
    """POST <token endpoint> client_credentials [all-apis] -> 200 in 41 ms (or the OAuth error)."""
    scopes = f" [{' '.join(event.scopes)}]" if event.scopes else ""
    outcome = "no answer" if event.status is None else str(event.status)
    error = f" {event.error}: {event.error_description or ''}".rstrip(": ") if event.error else ""
    return escape_controls(
        f"{event.url} {event.grant_type}{scopes} -> {outcome}{error} in {event.elapsed_ms:.0f} ms"
    )


def json_text(document: Any, indent: int | None = 2) -> str:
    """JSON for a terminal: indented, non-ASCII kept readable, but controls json.dumps leaves raw
    (DEL, C1, separators, bidi overrides) written as \\u escapes, so the text stays valid JSON."""
    text = json.dumps(document, indent=indent, ensure_ascii=False, default=str)
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text)

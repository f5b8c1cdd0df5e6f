"""The sidebar's connection card and the browser sign-in notices."""

from __future__ import annotations

import json
from html import escape
from typing import Any

from explorer.parse import is_web_link
from explorer.serialize import connection_to_dict
from explorer.ui.present.basics import chips, code_html, countdown_html, findings_html, sorted_findings
from explorer.ui.present.timeline import token_calls_html


def connection_html(connection: Any, now: float, failed_attempt: Any = None) -> str:
    """Sidebar card: who we are, where the credentials came from, the token in brief.

    `connection` is a session.Connection (auth: AuthInfo, token: TokenInfo | None, findings, ok).
    `failed_attempt`: a Connect that failed while `connection` stayed in use: said under the card.
    A connection whose token raised a warning or an error (a pasted non-JWT) gets an amber dot, not green.
    """
    if connection is None:
        return '<div class="conn idle"><span class="dot"></span>Not connected</div>'
    marks = field_marks(failed_attempt if failed_attempt is not None else connection)
    # The form marks these fields (the page script: red border, aria-invalid, the reason under it).
    marked = f' data-field-marks="{escape(json.dumps(marks), quote=True)}"' if marks else ""
    auth, token = connection.auth, connection.token
    doubtful = any(f.severity in ("error", "warning") for f in connection.findings)
    head_cls = ("warn" if doubtful else "ok") if connection.ok else "bad"
    name = auth.details.get("display_name")
    who = escape(name or auth.identity or ("connected" if connection.ok else "not connected"))
    lines = [
        f'<div class="conn-head"><span class="dot {head_cls}"></span><b>{who}</b>'
        f'<span class="chip">{escape(auth.method)}</span></div>'
    ]
    if name and auth.identity and auth.identity not in (auth.source or ""):  # the id once, not twice
        lines.append(f'<div class="muted">{escape(auth.identity)}</div>')
    if auth.source:  # one line; the full value on hover
        source = escape(auth.source, quote=True)
        lines.append(f'<div class="muted one-line" title="{source}">{source}</div>')
    if auth.host:
        lines.append(f'<div class="muted">{escape(auth.host)}</div>')
    if token is not None and token.kind != "none":
        lines.append(
            f'<div class="tokenline">{code_html(token.masked)} {countdown_html(token, now)} {chips(token.scopes)}</div>'
        )
    if connection.findings:
        lines.append(findings_html(connection.findings))
    lines.append(token_calls_html(getattr(connection, "auth_events", []), "connecting"))
    if failed_attempt is not None:
        lines.append(
            f'<div class="attempt-failed" role="alert"><b>The new {escape(failed_attempt.auth.method)} attempt '
            "failed; still connected as above.</b>"
            f"{findings_html(failed_attempt.findings, actions=False)}"
            f"{token_calls_html(getattr(failed_attempt, 'auth_events', []), 'the attempt')}</div>"
        )
    return f'<div class="conn {head_cls}"{marked}>{"".join(lines)}</div>'


MARK_CHARS = 160  # the reason under a marked field: one short line (the card has it in full)


def field_marks(connection: Any) -> dict[str, str]:
    """The auth form fields a connection's findings blame (Finding.field, from auth.registry's
    FIELD_AT_FAULT), each with the reason; errors before warnings, one reason per field."""
    marks: dict[str, str] = {}
    for finding in sorted_findings(connection.findings if connection is not None else []):
        if finding.field and finding.severity in ("error", "warning") and finding.field not in marks:
            text = finding.message
            marks[finding.field] = text if len(text) <= MARK_CHARS else text[: MARK_CHARS - 1] + "…"
    return marks


def connection_summary(connection: Any) -> dict[str, Any]:
    """The connection card as JSON for API clients (explorer.serialize; the token is masked)."""
    summary = connection_to_dict(connection)
    summary["display_name"] = connection.auth.details.get("display_name")
    summary["findings"] = [f.as_dict() for f in sorted_findings(connection.findings)]
    summary["fields"] = field_marks(connection)
    return summary


def authorize_html(url: str) -> str:
    if not is_web_link(url):  # links from the network are http(s) only (never javascript: or data:)
        return '<div class="authorize muted small">The workspace gave a sign-in link that is not an http(s) URL.</div>'
    return (
        f'<div class="authorize"><a href="{escape(url, quote=True)}" target="_blank" rel="noopener">'
        "Open the sign-in page ↗</a>"
        '<div class="muted small">Sign in there; this page connects when the browser comes back. '
        "If it cannot reach this machine, paste the URL it ends on below.</div></div>"
    )


def waiting_html(seconds_left: float | None) -> str:
    if seconds_left is None:
        return ""
    if seconds_left <= 0:
        return '<div class="muted small">Stopped waiting: sign in again, or paste the redirected URL.</div>'
    return (
        f'<div class="waiting"><span class="spinner"></span>Waiting for sign-in… {int(seconds_left)} s</div>'
    )

"""The response pane: status line, body views (pretty, table, raw), headers, the JSON digest."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from dataclasses import dataclass
from html import escape
from typing import Any

import pandas as pd

from explorer.model import Exchange, Response
from explorer.redact import Redactor
from explorer.serialize import exchange_to_dict
from explorer.textview import escape_controls, human_size
from explorer.ui.present.basics import findings_html, human_ms, status_class
from explorer.ui.present.stream import exchange_stream, polls_summary, stream_html
from explorer.ui.present.tabs import banner_html, exchange_answers
from explorer.ui.present.timeline import token_calls_html, waterfall_html
from explorer.ui.present.token import token_html

TABLE_MAX_ROWS = 1000  # a table pane beyond this is unreadable and slow to render


RAW_LIMIT = 256 * 1024  # bytes of a body shown raw


def status_html(exchange: Exchange | None) -> str:
    """The response pane's status line: badge, reason, timings, size, notices."""
    if exchange is None:
        return '<div class="statusline empty">Send a request to see the response here.</div>'
    r = exchange.response
    if r is None:
        label = "Timeout" if any(f.code == "TIMEOUT" for f in exchange.findings) else "No response"
        # The banner under the status line shows the findings: their message is not said twice.
        said = any(f.message == exchange.error for f in exchange.findings)
        error = "" if said else escape(exchange.error or "No response")
        return f'<div class="statusline"><span class="badge s-err">{label}</span><span class="reason">{error}</span></div>'
    metrics = [f"<b>{human_ms(r.elapsed_ms)}</b>", f"TTFB {human_ms(r.ttfb_ms)}", human_size(r.size)]
    if r.location:
        metrics.append(f'<span title="{escape(r.location, quote=True)}">→ {escape(r.location)}</span>')
    notice = ""
    if r.cancelled:
        what = "frames" if r.stream == "websocket" else "events"
        notice = (
            f'<div class="notice">Cancelled: the connection was closed after {r.events_total:,} {what}; '
            "what arrived is kept.</div>"
        )
    elif r.truncated:
        notice = (
            f'<div class="notice">Large response ({human_size(r.size)}): the panes show its beginning. '
            "Download full response fetches it whole.</div>"
        )
    retried = (
        f'<div class="muted small">Retried: {escape(exchange.retried)}</div>' if exchange.retried else ""
    )
    return (
        f'<div class="statusline"><span class="badge {status_class(r.status)}">{r.status}</span>'
        f'<span class="reason">{escape(r.reason or "")}</span>'
        f'<span class="metrics">{" · ".join(metrics)}</span></div>'
        f"{waterfall_html(r)}{retried}{token_calls_html(exchange.auth_events, 'this exchange')}{notice}"
    )


def pretty_body(response: Response | None) -> tuple[str, str | None]:
    """(text, code language) for the Pretty view."""
    if response is None:
        return "", None
    return response.text or "", ("json" if response.kind == "json" else None)


def raw_body(response: Response | None) -> str:
    """The body as received (its first RAW_LIMIT bytes: more would only slow the browser down)."""
    if response is None:
        return ""
    if response.kind == "binary":
        return response.text
    text = response.body[:RAW_LIMIT].decode("utf-8", errors="replace")
    if response.truncated or len(response.body) > RAW_LIMIT:
        text += f"\n… [showing the first {human_size(min(len(response.body), RAW_LIMIT))} of {human_size(response.size)}]"
    return text


def _records(value: Any) -> list[dict[str, Any]] | None:
    """The list of records in a table-like JSON value, or None."""
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        return value
    if isinstance(value, dict):
        columns = value.get("columns")
        rows = value.get("rows", value.get("data"))
        if isinstance(columns, list) and isinstance(rows, list) and all(isinstance(r, list) for r in rows):
            names = [c.get("name") if isinstance(c, dict) else c for c in columns]
            return [dict(zip(map(str, names), r, strict=False)) for r in rows] or None
        lists = [v for v in value.values() if isinstance(v, list)]
        if len(lists) == 1:
            return _records(lists[0])
    return None


def body_table(response: Response | None) -> pd.DataFrame | None:
    """A DataFrame when the JSON body is a list of records or a {columns, rows} object."""
    if response is None or response.json is None:
        return None
    records = _records(response.json)
    if not records:
        return None
    frame = pd.DataFrame.from_records(records[:TABLE_MAX_ROWS])
    # Nested values would show as Python reprs; JSON text is what the user expects to read.
    return frame.map(lambda v: json.dumps(v) if isinstance(v, (dict, list)) else v)


def headers_frame(headers: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """The Headers tab's rows, in the shape gr.Dataframe takes without pandas (cheaper per send)."""
    return {"headers": ["Header", "Value"], "data": [[k, v] for k, v in headers]}


@dataclass
class ExchangeView:
    """Everything the response pane shows for one exchange."""

    status: str
    pretty: str
    language: str | None
    table: pd.DataFrame | None
    raw: str
    headers: dict[str, Any]  # gr.Dataframe value: {"headers": [...], "data": [[...]]}
    token: str
    claims: dict[str, Any]
    diagnosis: str
    finding_count: int
    tab: str  # the response tab to bring forward: "body" (a failure's top findings are a banner over it)
    summary: dict[str, Any]
    banner: str = ""  # on failure: the top findings above the body
    stream: str = ""  # a streamed answer: metrics, the agent's transcript, the events (present.stream)


def pane_marks(findings: int, table: bool, truncated: bool = False) -> str:
    """What the page's stylesheet reads to label the Diagnosis tab with its count, to show the Table
    tab only for a tabular answer and "Download full response" only for a truncated one (no
    component property changes: those cost Gradio a rebuild)."""
    return (
        f'<span class="pane-marks" hidden data-count="{int(findings)}" data-table="{int(table)}" '
        f'data-truncated="{int(truncated)}"></span>'
    )


def full_download_note(exchange: Exchange, saved: int) -> str:
    """Under "Download full response": what was fetched again, and what to keep in mind."""
    r = exchange.response
    if r is None:
        return f'<div class="muted small">Not fetched: {escape(exchange.error or "no response")}</div>'
    when = time.strftime("%H:%M:%S", time.gmtime(exchange.started_at))
    cut = " (cut at the download limit)" if saved < r.size else ""
    return (
        f'<div class="muted small">{human_size(saved)} saved{cut}: the request sent again at {when} UTC '
        f"(answer {r.status}; the app may answer differently the second time), secrets redacted.</div>"
    )


def exchange_summary(exchange: Exchange, redactor: Redactor | None = None) -> dict[str, Any]:
    """A JSON-able digest for API clients: the one serialisation (explorer.serialize), tokens masked."""
    return exchange_to_dict(exchange, redactor)


def exchange_view(
    exchange: Exchange, now: float, redactor: Redactor | None = None, polls: Iterable[Exchange] = ()
) -> ExchangeView:
    """The response pane for `exchange`. Bodies and headers pass through `redactor` (the session's: it
    knows the session's secrets, and masks anything token-shaped), so no token reaches the page whole.
    `polls`: a background answer's polls, when the UI followed it."""
    redactor = redactor or Redactor()
    r = exchange.response
    pretty, language = pretty_body(r)
    if r is None and exchange.error and not exchange.findings:
        pretty = exchange.error  # with findings, the status line and the banner already say it
    table = body_table(r)
    if table is not None:
        table = table.map(lambda v: redactor.scrub(v) if isinstance(v, str) else v)
    summary = exchange_summary(exchange, redactor)
    polls = list(polls)
    if polls:
        summary["polls"] = polls_summary(polls)
        summary["followed"] = exchange_summary(polls[-1], redactor)
    return ExchangeView(
        status=status_html(exchange)
        + exchange_answers(exchange)
        + pane_marks(len(exchange.findings), table is not None, bool(r is not None and r.truncated)),
        pretty=escape_controls(redactor.scrub(pretty)),
        language=language,
        table=table,
        raw=escape_controls(redactor.scrub(raw_body(r))),
        headers=headers_frame(
            [(k, escape_controls(v)) for k, v in redactor.scrub_headers(r.headers)] if r else []
        ),
        token=token_html(exchange.token, now),
        claims=dict(exchange.token.claims) if exchange.token else {},
        diagnosis=findings_html(exchange.findings, ok=exchange.ok),
        finding_count=len(exchange.findings),
        tab="body",
        summary=summary,
        banner="" if exchange.ok else banner_html(exchange.findings),
        stream=stream_html(exchange_stream(exchange, polls, redactor), redactor),
    )


def scrub_json(value: Any, redactor: Redactor) -> Any:
    """`value` with every string scrubbed (a parsed body can carry tokens anywhere)."""
    if isinstance(value, str):
        return redactor.scrub(value)
    if isinstance(value, list):
        return [scrub_json(v, redactor) for v in value]
    if isinstance(value, dict):
        return {k: scrub_json(v, redactor) for k, v in value.items()}
    return value


def not_sent_view(message: str, status: str | None = None) -> ExchangeView:
    """The response pane when the form itself was wrong: say what to fix, send nothing (or, with
    `status`, any notice in the status line: a cancelled send, one still running)."""
    status = status or (
        f'<div class="statusline"><span class="badge s-err">Not sent</span>'
        f'<span class="reason">{escape(message)}</span></div>'
    )
    return ExchangeView(
        status=status if "pane-marks" in status else status + pane_marks(0, False),
        pretty="",
        language=None,
        table=None,
        raw="",
        headers=headers_frame([]),
        token="",
        claims={},
        diagnosis=findings_html([]),
        finding_count=0,
        tab="body",
        summary={"ok": False, "error": message, "response": None, "findings": []},
    )

"""Domain objects -> what the panes show (HTML snippets, tables, text). Pure functions, no Gradio.

Every value that came from outside (server bodies, headers, claims, messages) is HTML-escaped here;
tokens only ever appear in their masked form (TokenInfo.masked).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from html import escape
from typing import Any

import pandas as pd

from explorer.model import AppSummary, Endpoint, EndpointListing, Exchange, Finding, Response, TokenInfo
from explorer.redact import Redactor

SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}
TABLE_MAX_ROWS = 1000  # a table pane beyond this is unreadable and slow to render
RAW_LIMIT = 256 * 1024  # bytes of a body shown raw
_TOKEN_KINDS = {
    "oauth": "Databricks OAuth token",
    "pat": "personal access token (PAT)",
    "entra": "Entra ID token (needs exchange)",
    "foreign": "token from another issuer",
    "opaque": "opaque token (not a JWT)",
    "none": "no token",
}


def as_json(value: Any) -> str:
    """JSON text for the hidden scripting outputs (bytes and other oddities as strings)."""
    return json.dumps(value, ensure_ascii=False, default=str)


# --- small formatters ---------------------------------------------------------------------------


def human_size(size: int | None) -> str:
    if size is None:
        return ""
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"


def human_ms(ms: float | None) -> str:
    if ms is None:
        return ""
    return f"{ms:.0f} ms" if ms < 10_000 else f"{ms / 1000:.1f} s"


def countdown_text(seconds_left: float) -> str:
    """`59:12 left`, `2 h 05 min left`, `expired 3:07 ago` (the page's script keeps it ticking)."""
    left = int(seconds_left)
    span = abs(left)
    if span >= 3600:
        text = f"{span // 3600} h {span % 3600 // 60:02d} min"
    else:
        text = f"{span // 60}:{span % 60:02d}"
    return f"{text} left" if left >= 0 else f"expired {text} ago"


def countdown_html(token: TokenInfo, now: float) -> str:
    left = token.seconds_left(now)
    if left is None:
        return '<span class="muted">no expiry</span>'
    state = "expired" if left < 0 else "soon" if left < 300 else ""
    return f'<span class="countdown {state}" data-left="{int(left)}">{countdown_text(left)}</span>'


def chips(items: Iterable[str], kind: str = "") -> str:
    return "".join(f'<span class="chip {kind}">{escape(i)}</span>' for i in items)


def status_class(status: int | None) -> str:
    if status is None:
        return "s-err"
    return {2: "s-2xx", 3: "s-3xx", 4: "s-4xx", 5: "s-5xx"}.get(status // 100, "s-err")


def sorted_findings(findings: Iterable[Finding]) -> list[Finding]:
    """Most important first; the order among equals is the engine's."""
    return sorted(findings, key=lambda f: SEVERITY_ORDER.get(f.severity, 3))


def _code(text: Any) -> str:
    return f"<code>{escape(str(text))}</code>"


def _when(epoch: float | None) -> str:
    if epoch is None:
        return ""
    return pd.Timestamp(epoch, unit="s", tz="UTC").strftime("%Y-%m-%d %H:%M:%S UTC")


# --- response -------------------------------------------------------------------------------------


def status_html(exchange: Exchange | None) -> str:
    """The response pane's status line: badge, reason, timings, size, notices."""
    if exchange is None:
        return '<div class="statusline empty">Send a request to see the response here.</div>'
    r = exchange.response
    if r is None:
        error = escape(exchange.error or "No response")
        return f'<div class="statusline"><span class="badge s-err">No response</span><span class="reason">{error}</span></div>'
    metrics = [f"<b>{human_ms(r.elapsed_ms)}</b>", f"TTFB {human_ms(r.ttfb_ms)}", human_size(r.size)]
    if r.location:
        metrics.append(f"→ {escape(r.location)}")
    notice = ""
    if r.truncated:
        notice = (
            f'<div class="notice">Large response ({human_size(r.size)}): the panes show its beginning. '
            "Use the Code tab's snippet to fetch it whole.</div>"
        )
    return (
        f'<div class="statusline"><span class="badge {status_class(r.status)}">{r.status}</span>'
        f'<span class="reason">{escape(r.reason or "")}</span>'
        f'<span class="metrics">{" · ".join(metrics)}</span></div>{notice}'
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


def headers_frame(headers: Iterable[tuple[str, str]]) -> pd.DataFrame:
    return pd.DataFrame(list(headers), columns=["Header", "Value"])


def findings_html(findings: Iterable[Finding], ok: bool = False) -> str:
    items = sorted_findings(findings)
    if not items:
        text = "No problems found." if ok else "Nothing to diagnose yet."
        return f'<div class="findings empty">{text}</div>'
    cards = "".join(
        f'<div class="finding {escape(f.severity)}"><div class="finding-head">'
        f'<span class="sev">{escape(f.severity)}</span><code class="fcode">{escape(f.code)}</code></div>'
        f'<div class="fmsg">{escape(f.message)}</div><div class="ffix"><b>Fix</b> {escape(f.fix)}</div></div>'
        for f in items
    )
    return f'<div class="findings">{cards}</div>'


# --- token ----------------------------------------------------------------------------------------


def scopes_html(token: TokenInfo) -> str:
    """Granted vs required scopes: required ones granted in green, missing ones in red."""
    required = set(token.required_scopes)
    granted = "".join(
        f'<span class="chip {"ok" if s in required else ""}">{escape(s)}</span>' for s in token.scopes
    )
    needed = (
        chips(token.required_scopes)
        if token.required_scopes
        else '<span class="muted">none declared by the app</span>'
    )
    rows = [("granted", granted or '<span class="muted">none</span>'), ("required", needed)]
    if token.missing_scopes:
        rows.append(("missing", chips(token.missing_scopes, "bad")))
    body = "".join(
        f'<div class="scopes"><span class="label">{k}</span><span>{v}</span></div>' for k, v in rows
    )
    verdict = (
        f'<div class="verdict bad">Missing {len(token.missing_scopes)} required scope(s)</div>'
        if token.missing_scopes
        else '<div class="verdict ok">Has every scope the app requires</div>'
        if token.required_scopes
        else ""
    )
    return f'<div class="scopebox"><div class="kv-title">Scopes</div>{verdict}{body}</div>'


def token_summary(token: TokenInfo | None) -> dict[str, Any] | None:
    """The token as API clients see it: masked, decoded fields, scope check."""
    if token is None:
        return None
    return {
        "masked": token.masked,
        "kind": token.kind,
        "subject": token.subject,
        "client_id": token.client_id,
        "issuer": token.issuer,
        "expires_at": token.expires_at,
        "scopes": token.scopes,
        "required_scopes": token.required_scopes,
        "missing_scopes": token.missing_scopes,
    }


def token_html(token: TokenInfo | None, now: float) -> str:
    """The Token tab: what the bearer token says about itself, and the scope check beside it."""
    if token is None or token.kind == "none":
        return '<div class="findings empty">No token was sent with this request.</div>'
    audience = ", ".join(token.audience) if isinstance(token.audience, list) else token.audience
    pairs = [
        ("Token", _code(token.masked)),
        ("Kind", escape(_TOKEN_KINDS.get(token.kind, token.kind))),
        ("Subject", _code(token.subject) if token.subject else ""),
        ("Client id", _code(token.client_id) if token.client_id else ""),
        ("Issuer", escape(token.issuer or "")),
        ("Audience", escape(audience or "")),
        ("Type", escape(token.token_type or "")),
        ("Issued", escape(_when(token.issued_at))),
        (
            "Expires",
            f"{escape(_when(token.expires_at))} {countdown_html(token, now)}" if token.expires_at else "",
        ),
    ]
    grid = "".join(f'<div class="k">{k}</div><div class="v">{v}</div>' for k, v in pairs if v)
    return f'<div class="token"><div class="kv">{grid}</div>{scopes_html(token)}</div>'


# --- discovery ------------------------------------------------------------------------------------


def history_frame(rows: pd.DataFrame) -> pd.DataFrame:
    """History rows for the table: numbered (# = position in the session), newest first, no ids."""
    frame = rows.drop(columns=["id"], errors="ignore").copy()
    frame.insert(0, "#", range(1, len(frame) + 1))
    if "time" in frame:
        frame["time"] = frame["time"].astype(str).str[-8:]  # the day is today's; the clock time is enough
    frame = frame.rename(columns={"elapsed_ms": "ms"})
    return frame.iloc[::-1].reset_index(drop=True)


def apps_summary(apps: Iterable[AppSummary]) -> list[dict[str, Any]]:
    return [
        {"name": a.name, "url": a.url, "state": a.state, "user_api_scopes": a.user_api_scopes} for a in apps
    ]


def app_label(app: AppSummary) -> str:
    state = (app.state or app.compute_state or "?").upper()
    return f"{app.name} · {state}"


def app_html(app: AppSummary | None) -> str:
    """Beside the app picker: state, the scopes its user authorization requires, the description."""
    if app is None:
        return ""
    state = (app.state or "unknown").upper()
    cls = "ok" if state == "RUNNING" else "bad"
    scopes = (
        chips(app.user_api_scopes) if app.user_api_scopes else '<span class="muted">no user scopes</span>'
    )
    title = escape(app.description, quote=True)
    return (
        f'<div class="appcard" title="{title}"><span class="chip {cls}">{escape(state)}</span> {scopes}</div>'
    )


def _endpoint_row(e: Endpoint) -> tuple[str, str]:
    path = f'<div class="ep-path">{escape(e.path)}</div><div class="ep-sum">{escape(e.summary)}</div>'
    return e.method.upper(), path


def endpoints_frame(endpoints: Iterable[Endpoint]) -> pd.DataFrame:
    """The sidebar list: method, and the path with its summary under it (HTML cells)."""
    return pd.DataFrame([_endpoint_row(e) for e in endpoints], columns=["Method", "Endpoint"])


def endpoint_for_row(endpoints: Iterable[Endpoint], row: Any) -> Endpoint | None:
    """The endpoint a clicked row shows. By content, not position: the list may have been re-filtered
    between the click and its event."""
    wanted = tuple(str(v) for v in row) if isinstance(row, (list, tuple)) else None
    return next((e for e in endpoints if _endpoint_row(e) == wanted), None)


def endpoints_summary(endpoints: Iterable[Endpoint]) -> list[dict[str, Any]]:
    """The endpoints as plain data, for API clients."""
    return [
        {"method": e.method.upper(), "path": e.path, "summary": e.summary, "parameters": e.parameters,
         "body_example": e.body_example}
        for e in endpoints
    ]  # fmt: skip


def filter_endpoints(endpoints: Iterable[Endpoint], query: str) -> list[Endpoint]:
    """Endpoints whose method, path or summary contain every word of `query` (case-insensitive)."""
    words = (query or "").lower().split()
    return [e for e in endpoints if all(w in f"{e.method} {e.path} {e.summary}".lower() for w in words)]


# --- connection -----------------------------------------------------------------------------------


def connection_html(connection: Any, now: float) -> str:
    """Sidebar card: who we are, where the credentials came from, the token in brief.

    `connection` is a session.Connection (auth: AuthInfo, token: TokenInfo | None, findings, ok).
    """
    if connection is None:
        return '<div class="conn idle"><span class="dot"></span>Not connected</div>'
    auth, token = connection.auth, connection.token
    head_cls = "ok" if connection.ok else "bad"
    who = escape(auth.identity or ("connected" if connection.ok else "not connected"))
    lines = [
        f'<div class="conn-head"><span class="dot {head_cls}"></span><b>{who}</b>'
        f'<span class="chip">{escape(auth.method)}</span></div>'
    ]
    if auth.source:
        lines.append(f'<div class="muted">{escape(auth.source)}</div>')
    if auth.host:
        lines.append(f'<div class="muted">{escape(auth.host)}</div>')
    if token is not None and token.kind != "none":
        lines.append(
            f'<div class="tokenline">{_code(token.masked)} {countdown_html(token, now)} {chips(token.scopes)}</div>'
        )
    if connection.findings:
        lines.append(findings_html(connection.findings))
    return f'<div class="conn {head_cls}">{"".join(lines)}</div>'


# --- a whole exchange -----------------------------------------------------------------------------


@dataclass
class ExchangeView:
    """Everything the response pane shows for one exchange."""

    status: str
    pretty: str
    language: str | None
    table: pd.DataFrame | None
    raw: str
    headers: pd.DataFrame
    token: str
    claims: dict[str, Any]
    diagnosis: str
    finding_count: int
    tab: str  # the response tab to bring forward: "body", or "diagnosis" on failure
    summary: dict[str, Any]


def exchange_summary(exchange: Exchange) -> dict[str, Any]:
    """A JSON-able digest for API clients: what the panes show, tokens masked, body as parsed."""
    r, token, auth = exchange.response, exchange.token, exchange.auth
    response = None
    if r is not None:
        response = {
            "status": r.status,
            "reason": r.reason,
            "elapsed_ms": round(r.elapsed_ms, 1),
            "ttfb_ms": round(r.ttfb_ms, 1),
            "size": r.size,
            "truncated": r.truncated,
            "content_type": r.content_type,
            "body": r.json if r.json is not None else r.text,
        }
    return {
        "ok": exchange.ok,
        "request": {"method": exchange.request.method, "url": exchange.request.url},
        "response": response,
        "error": exchange.error,
        "token": token_summary(token),
        "auth": None
        if auth is None
        else {"method": auth.method, "source": auth.source, "identity": auth.identity},
        "findings": [f.as_dict() for f in sorted_findings(exchange.findings)],
    }


def exchange_view(exchange: Exchange, now: float, redactor: Redactor | None = None) -> ExchangeView:
    """The response pane for `exchange`. Bodies and headers pass through `redactor` (the session's: it
    knows the session's secrets, and masks anything token-shaped), so no token reaches the page whole."""
    redactor = redactor or Redactor()
    r = exchange.response
    pretty, language = pretty_body(r)
    if r is None and exchange.error:
        pretty = exchange.error
    table = body_table(r)
    if table is not None:
        table = table.map(lambda v: redactor.scrub(v) if isinstance(v, str) else v)
    summary = exchange_summary(exchange)
    if summary["response"] is not None:
        summary["response"]["body"] = scrub_json(summary["response"]["body"], redactor)
    return ExchangeView(
        status=status_html(exchange),
        pretty=redactor.scrub(pretty),
        language=language,
        table=table,
        raw=redactor.scrub(raw_body(r)),
        headers=headers_frame(redactor.scrub_headers(r.headers) if r else []),
        token=token_html(exchange.token, now),
        claims=dict(exchange.token.claims) if exchange.token else {},
        diagnosis=findings_html(exchange.findings, ok=exchange.ok),
        finding_count=len(exchange.findings),
        tab="body" if exchange.ok else "diagnosis",
        summary=summary,
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


def not_sent_view(message: str) -> ExchangeView:
    """The response pane when the form itself was wrong: say what to fix, send nothing."""
    status = (
        f'<div class="statusline"><span class="badge s-err">Not sent</span>'
        f'<span class="reason">{escape(message)}</span></div>'
    )
    return ExchangeView(
        status=status,
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


# --- sidebar notices ------------------------------------------------------------------------------


def apps_notice(count: int) -> str:
    """Only worth a line when there is nothing to pick."""
    if count == 0:
        return '<div class="muted small">No apps in this workspace: type an app URL below.</div>'
    return ""


def listing_html(listing: EndpointListing) -> str:
    """Where the endpoints came from, or why none were found (with the fix)."""
    parts = []
    if listing.source_url:
        n = len(listing.endpoints)
        parts.append(
            f'<div class="muted small">{n} endpoint{"s" if n != 1 else ""} from '
            f"<code>{escape(listing.source_url)}</code></div>"
        )
    if listing.findings:
        parts.append(findings_html(listing.findings))
    elif not listing.endpoints:
        parts.append('<div class="muted small">No endpoints found: type a path in the request bar.</div>')
    return "".join(parts)


def authorize_html(url: str) -> str:
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


def connection_summary(connection: Any) -> dict[str, Any]:
    """The connection card as JSON for API clients (no secrets: the token is masked)."""
    auth = connection.auth
    return {
        "ok": connection.ok,
        "method": auth.method,
        "source": auth.source,
        "identity": auth.identity,
        "host": auth.host,
        "token": token_summary(connection.token),
        "findings": [f.as_dict() for f in sorted_findings(connection.findings)],
    }

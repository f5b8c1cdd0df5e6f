"""The workbench's chrome: tab labels, which request a response answers, the sending notice, the
findings banner above the body and fix actions. Pure functions of the model, no Gradio."""

from __future__ import annotations

import time
from collections.abc import Iterable
from html import escape
from typing import Any
from urllib.parse import urlencode, urlsplit

from explorer.model import Exchange, Finding
from explorer.ui.present.basics import finding_card, sorted_findings

BANNER_FINDINGS = 2  # findings shown above the body; the rest are one click away in Diagnosis


def short_target(url: str) -> str:
    """A URL as a tab shows it: the path (and query) without the app's origin."""
    try:
        parts = urlsplit(url or "")
    except ValueError:  # half-typed or hostile ("http://host[…"): shown as typed
        return url
    if parts.scheme and parts.netloc:
        return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return url or "new request"


def tab_label(method: str, name: str, url: str, dirty: bool, sending: bool = False) -> str:
    """`GET /api/hello`, `POST Create an item •` (a dot while unsaved), `⋯` while sending."""
    title = name or short_target(url)
    if len(title) > 36:
        title = title[:35] + "…"
    mark = " ⋯" if sending else " •" if dirty else ""
    return f"{(method or 'GET').upper()} {title}{mark}"


def banner_html(findings: Iterable[Finding]) -> str:
    """Above the body on a failure: the top findings, and "n more" into the Diagnosis tab."""
    items = sorted_findings(findings)
    shown = [f for f in items if f.severity != "info"][:BANNER_FINDINGS] or items[:1]
    if not shown:
        return ""
    # With an action, the banner offers the button, not the command-line wording (Diagnosis keeps both).
    cards = "".join(
        finding_card(f, items.index(f), "banner-finding", fix_text=f.action is None) for f in shown
    )
    more = len(items) - len(shown)
    link = (
        f'<button type="button" class="more-findings" data-open-tab="Diagnosis">{more} more in Diagnosis →</button>'
        if more > 0
        else ""
    )
    return f'<div class="banner" role="status">{cards}{link}</div>'


def answers_html(method: str, url: str, at: float | None) -> str:
    """Which request the response pane answers: method, URL, when (full URL on hover)."""
    when = time.strftime("%H:%M:%S", time.localtime(at)) if at else ""
    safe = escape(url or "", quote=True)
    return (
        f'<div class="answers" title="{safe}"><span class="muted">answers</span> <b>{escape(method.upper())}</b> '
        f'<span class="answers-url">{escape(url or "")}</span> <span class="muted">· {escape(when)}</span></div>'
    )


def exchange_answers(exchange: Exchange) -> str:
    spec = exchange.request
    url = spec.url
    if spec.params:
        url += ("&" if "?" in url else "?") + urlencode(spec.params)
    return answers_html(spec.method, url, exchange.started_at)


def sending_html(method: str, url: str, started: float) -> str:
    """While a request runs: the ticking notice (the page's script counts from data-started)."""
    seconds = max(0.0, time.time() - started)
    return (
        f'<div class="statusline sending"><span class="spinner"></span>'
        f'<span class="sending-text" data-started="{started:.3f}">Sending… {seconds:.1f} s</span>'
        f'<span class="muted small">Esc or Cancel stops it</span></div>{answers_html(method, url, started)}'
    )


def cancelled_html(method: str, url: str, started: float, seconds: float) -> str:
    return (
        f'<div class="statusline"><span class="badge s-err">Cancelled</span>'
        f'<span class="reason">after {seconds:.1f} s: no response is shown for it</span></div>'
        f"{answers_html(method, url, started)}"
    )


def sent_as_html(status: str, name: str) -> str:
    """The status line of an answer an identity sent, with "as NAME" after its metrics."""
    tag = f'<span class="sent-as" title="sent as the identity {escape(name, quote=True)}">as {escape(name)}</span>'
    head, found, tail = status.partition("</div>")  # the status line's own div comes first
    return f"{head}{tag}{found}{tail}" if found else status + tag


def tabs_summary(tabs: Iterable[Any], active: str) -> list[dict[str, Any]]:
    """The open tabs as plain data, for scripts (tabs_data)."""
    out = []
    for t in tabs:
        response = t.exchange.response if t.exchange is not None else None
        out.append(
            {
                "id": t.id,
                "active": t.id == active,
                "method": t.form.method,
                "url": t.form.url,
                "name": t.name,
                "dirty": t.dirty,
                "sending": t.sending,
                "source": t.source,
                "send_as": t.form.send_as,
                "status": response.status if response is not None else None,
                "exchange_id": t.exchange.id if t.exchange is not None else None,
                "notice": t.notice,
            }
        )
    return out

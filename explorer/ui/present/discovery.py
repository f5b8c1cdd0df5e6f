"""Apps, endpoints and history as the page lists them (with JSON twins for scripts)."""

from __future__ import annotations

import itertools
import time
from collections.abc import Collection, Iterable, Mapping
from html import escape
from typing import Any

import pandas as pd

from explorer.model import AppSummary, Endpoint, EndpointListing, Exchange
from explorer.ui.present.basics import chips, findings_html

PAGE_ROWS = 300  # endpoint rows sent to the page at once


def apps_summary(apps: Iterable[AppSummary]) -> list[dict[str, Any]]:
    return [
        {"name": a.name, "url": a.url, "state": a.state, "user_api_scopes": a.user_api_scopes} for a in apps
    ]


def app_label(app: AppSummary) -> str:
    state = (app.state or app.compute_state or "?").upper()
    return f"{app.name} · {state}" + (" · no usable URL" if app.problem else "")


def app_html(app: AppSummary | None) -> str:
    """Beside the app picker: state, the scopes its user authorization requires, the description."""
    if app is None:
        return ""
    state = (app.state or "unknown").upper()
    cls = "ok" if state == "RUNNING" else "bad"
    # The same required set as the Token pane and the Diagnosis (the engine's: effective, else configured).
    required = app.effective_user_api_scopes or app.user_api_scopes
    scopes = chips(required) if required else '<span class="muted">no user scopes</span>'

    title = escape(app.description, quote=True)
    problem = f' <span class="chip bad">{escape(app.problem)}</span>' if app.problem else ""
    return (
        f'<div class="appcard" title="{title}"><span class="chip {cls}">{escape(state)}</span> {scopes}'
        f"{problem}</div>"
    )


def apps_notice(count: int) -> str:
    """Only worth a line when there is nothing to pick."""
    if count == 0:
        return '<div class="muted small">No apps in this workspace: type an app URL below.</div>'
    return ""


def _endpoint_row(e: Endpoint) -> tuple[str, str]:
    """A compact row: a coloured method pill; the path with its summary after it (on hover in full)."""
    method = e.method.upper()
    pill = f'<span class="pill m-{escape(method.lower())}">{escape(method)}</span>'
    path = (
        f'<div class="ep-row" title="{escape(e.summary, quote=True)}"><span class="ep-path">{escape(e.path)}</span>'
        f'<span class="ep-sum">{escape(e.summary)}</span></div>'
    )
    return pill, path


def endpoint_group(e: Endpoint) -> str:
    """The group an endpoint is listed under: its first OpenAPI tag, else its first path segment after /api/."""
    tags = getattr(e, "tags", None) or []
    if tags:
        return str(tags[0])
    segments = [s for s in e.path.split("/") if s and s != "api"]
    return segments[0] if segments else "/"


def endpoint_groups(endpoints: Iterable[Endpoint]) -> dict[str, list[Endpoint]]:
    """Endpoints by group, the groups in the order they first appear (the list is sorted by path)."""
    groups: dict[str, list[Endpoint]] = {}
    for e in itertools.islice(endpoints, PAGE_ROWS):
        groups.setdefault(endpoint_group(e), []).append(e)
    return groups


def group_header(group: str, count: int, collapsed: bool) -> tuple[str, str]:
    """A group's header row: click it (or Enter on it) to collapse or expand the group."""
    arrow, state = ("▸", "collapsed") if collapsed else ("▾", "expanded")
    action = "expand" if collapsed else "collapse"
    return (
        "",
        f'<span class="ep-group" title="Click or press Enter to {action} {escape(group, quote=True)}">'
        f'<span aria-hidden="true">{arrow}</span> {escape(group)} <span class="ep-count">{count}</span>'
        f'<span class="sr-only"> ({state})</span></span>',
    )


def endpoints_frame(endpoints: Iterable[Endpoint], hidden: Collection[str] = ()) -> pd.DataFrame:
    """The sidebar list: a header row over each OpenAPI tag's group (when grouping helps), its
    endpoints under it unless the group is in `hidden` (collapsed). At most PAGE_ROWS endpoints: a
    huge document must not send megabytes to the page (the filter narrows it)."""
    groups = endpoint_groups(endpoints)
    # Headers when grouping helps: not when most groups hold one endpoint each (untagged paths).
    headed = len(groups) <= max(1, sum(len(m) for m in groups.values()) // 2)
    rows: list[tuple[str, str]] = []
    for group, members in groups.items():
        if headed:
            rows.append(group_header(group, len(members), group in hidden))
            if group in hidden:
                continue
        rows.extend(_endpoint_row(e) for e in members)
    return pd.DataFrame(rows[:PAGE_ROWS], columns=["Method", "Endpoint"])


def group_for_row(endpoints: Iterable[Endpoint], row: Any, hidden: Collection[str] = ()) -> str | None:
    """The group whose header a clicked row is (None: an endpoint's row). By content, like endpoint_for_row."""
    wanted = tuple(str(v) for v in row) if isinstance(row, (list, tuple)) else None
    for group, members in endpoint_groups(endpoints).items():
        if group_header(group, len(members), group in hidden) == wanted:
            return group
    return None


def endpoint_for_row(endpoints: Iterable[Endpoint], row: Any) -> Endpoint | None:
    """The endpoint a clicked row shows. By content, not position: the list may have been re-filtered
    between the click and its event."""
    wanted = tuple(str(v) for v in row) if isinstance(row, (list, tuple)) else None
    return next((e for e in endpoints if _endpoint_row(e) == wanted), None)


def endpoints_summary(endpoints: Iterable[Endpoint]) -> list[dict[str, Any]]:
    """The endpoints as plain data, for API clients (the same PAGE_ROWS the list shows)."""
    return [
        {"method": e.method.upper(), "path": e.path, "summary": e.summary, "parameters": e.parameters,
         "body_example": e.body_example}
        for e in itertools.islice(endpoints, PAGE_ROWS)
    ]  # fmt: skip


def filter_endpoints(endpoints: Iterable[Endpoint], query: str) -> list[Endpoint]:
    """Endpoints whose method, path or summary contain every word of `query` (case-insensitive)."""
    words = (query or "").lower().split()
    return [e for e in endpoints if all(w in f"{e.method} {e.path} {e.summary}".lower() for w in words)]


def listing_html(listing: EndpointListing) -> str:
    """Where the endpoints came from, or why none were found (with the fix)."""
    parts = []
    if listing.source_url:
        n = len(listing.endpoints)
        parts.append(
            f'<div class="muted small">{n:,} endpoint{"s" if n != 1 else ""} from '
            f"<code>{escape(listing.source_url)}</code></div>"
        )
    if listing.declared and listing.declared > len(listing.endpoints):
        parts.append(
            f'<div class="muted small">The document declares {listing.declared:,} operations; only the '
            f"first {len(listing.endpoints):,} by path are listed.</div>"
        )
    if len(listing.endpoints) > PAGE_ROWS:
        parts.append(
            f'<div class="muted small">Showing {PAGE_ROWS} at a time: type in the filter to narrow.</div>'
        )
    if listing.findings:
        parts.append(findings_html(listing.findings))
    elif not listing.endpoints:
        parts.append('<div class="muted small">No endpoints found: type a path in the request bar.</div>')
    return "".join(parts)


def history_frame(rows: pd.DataFrame) -> pd.DataFrame:
    """History rows for the table: numbered (# = position in the session), newest first, no ids."""
    frame = rows.drop(columns=["id"], errors="ignore").copy()
    frame.insert(0, "#", range(1, len(frame) + 1))
    if "time" in frame:
        frame["time"] = frame["time"].astype(str).str[-8:]  # the day is today's; the clock time is enough
    frame = frame.rename(columns={"elapsed_ms": "ms"})
    return frame.iloc[::-1].reset_index(drop=True)


HISTORY_COLUMNS = ["#", "status", "request", "app", "ms"]


class HistoryRows:
    """The History table's rows, built once per exchange: a send adds one row, it never rebuilds them all.

    A row depends on its exchange and on which app names the origins; a new app list starts afresh.
    """

    def __init__(self) -> None:
        self._rows: list[tuple[Exchange, tuple[Any, ...]]] = []
        self._apps: tuple[tuple[str, str], ...] = ()

    def table(
        self,
        exchanges: list[Exchange],
        apps: Iterable[AppSummary] = (),
        sent_as: Mapping[str, str] | None = None,
    ) -> pd.DataFrame:
        """The rows, newest first; `sent_as`: exchange id -> the identity it was sent as (its row says so)."""
        apps_key = tuple((a.name, a.url) for a in apps if a.url)
        if apps_key != self._apps:
            self._rows, self._apps = [], apps_key
        kept = 0  # rows still valid: the same exchanges at the same numbers (the history may have been cut)
        for (ex, _row), current in zip(self._rows, exchanges, strict=False):
            if ex is not current:
                break
            kept += 1
        del self._rows[kept:]
        by_origin = _origins(apps_key)
        for number, ex in enumerate(exchanges[kept:], start=kept + 1):
            self._rows.append((ex, _history_row(number, ex, by_origin, (sent_as or {}).get(ex.id))))
        frame = pd.DataFrame([row for _ex, row in self._rows], columns=HISTORY_COLUMNS)
        return frame.iloc[::-1].reset_index(drop=True)


def export_note(count: int, fmt: str) -> str:
    """Under Export: what the built file holds (it is a snapshot: the next send makes it stale)."""
    if not count:
        return '<div class="muted small">Nothing to export yet: send a request first.</div>'
    noun = "exchange" if count == 1 else "exchanges"
    return (
        f'<div class="muted small">{escape(fmt or "HAR")} file with {count} {noun}, secrets redacted.</div>'
    )


def history_table(exchanges: list[Exchange], apps: Iterable[AppSummary] = ()) -> pd.DataFrame:
    """The History tab: numbered (# = position in the session), newest first; the status coloured (a
    timeout says so), the app by name, the path with its full URL on hover."""
    return HistoryRows().table(exchanges, apps)


def _origins(apps: tuple[tuple[str, str], ...]) -> dict[tuple[str, str], str]:
    from urllib.parse import urlsplit

    by_origin = {}
    for name, url in apps:
        parts = urlsplit(url)
        by_origin[(parts.scheme, parts.netloc)] = name
    return by_origin


def _history_row(
    number: int, ex: Exchange, by_origin: dict[tuple[str, str], str], sent_as: str | None = None
) -> tuple[Any, ...]:
    from urllib.parse import urlsplit

    from explorer.ui.present.basics import status_class

    parts = urlsplit(ex.request.url)
    response = ex.response
    if response is not None:
        status = f'<span class="badge small {status_class(response.status)}">{response.status}</span>'
        ms = f"{response.elapsed_ms:.0f}"
    else:
        timed_out = any(f.code == "TIMEOUT" for f in ex.findings)
        status = f'<span class="badge small s-err">{"timeout" if timed_out else "no answer"}</span>'
        ms = ""
    path = escape((parts.path or "/") + (f"?{parts.query}" if parts.query else ""))
    clock = time.strftime("%H:%M:%S", time.gmtime(ex.started_at))
    who = " · ".join(
        x
        for x in (
            clock,
            f"as {sent_as}" if sent_as else "",
            ex.auth.method if ex.auth else "",
            ex.auth.identity if ex.auth else "",
        )
        if x
    )
    method = escape(ex.request.method.upper())
    # The method, the path (its full URL on hover), and under them when and as whom: one column,
    # so every column fits the sidebar's width.
    target = (
        f'<span class="pill m-{method.lower()}">{method}</span> '
        f'<span class="hist-path" title="{escape(ex.request.url, quote=True)}">{path}</span>'
        f'<div class="hist-who" title="{escape(who, quote=True)}">{escape(who)}</div>'
    )
    app = by_origin.get((parts.scheme, parts.netloc), parts.netloc)
    return (number, status, target, app, ms)

"""Thin event handlers: read the form, call the engine (ExplorerSession), format with `present`.

Each handler takes the session's UISession (None on a session's first event) and returns it first,
so Gradio keeps it in that browser session's gr.State. No protocol logic lives here.
"""

from __future__ import annotations

import functools
import logging
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import gradio as gr
import pandas as pd

from explorer import redact
from explorer.model import Exchange
from explorer.ui import authform, present
from explorer.ui.config import UIConfig
from explorer.ui.forms import FormError, RequestForm, build_spec, endpoint_form
from explorer.ui.state import UISession

log = logging.getLogger(__name__)
F = TypeVar("F", bound=Callable[..., Any])
FORWARDED_TOKEN = "x-forwarded-access-token"
BROWSER_WAIT_SECONDS = 300  # how long the browser sign-in waits for the callback, in short steps
_BROWSER_STEP = 2.0


def friendly(fn: F) -> F:
    """Turn an unexpected failure into a short on-page error instead of a traceback.

    Engine methods report network/HTTP problems as values (findings); anything that still raises is a
    bug or bad input, and its text is scrubbed of token-shaped strings before the user sees it.
    """

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except gr.Error:
            raise
        except (FormError, ValueError) as e:
            raise gr.Error(redact.scrub(str(e)), print_exception=False) from None
        except Exception as e:
            log.exception("UI handler %s failed", fn.__name__)
            raise gr.Error(
                f"Unexpected {type(e).__name__}: {redact.scrub(str(e))}", print_exception=False
            ) from None

    return wrapper  # type: ignore[return-value]


class Handlers:
    """The UI's handlers, bound to one UIConfig (shared, read-only); state arrives per call."""

    def __init__(self, config: UIConfig) -> None:
        self.config = config

    def session(self, ui: UISession | None) -> UISession:
        """This browser session's state, created on its first event."""
        if ui is not None:
            return ui
        from explorer.session import ExplorerSession

        return UISession(ExplorerSession(allowlist=self.config.allowlist))

    # --- connection -------------------------------------------------------------------------------

    def remember_forwarded(self, ui: UISession, request: gr.Request | None) -> None:
        """Deployed: keep the user's forwarded token of this event in this session only."""
        if request is not None and self.config.deployed:
            ui.forwarded_token = request.headers.get(FORWARDED_TOKEN) or None

    def connect_fields(
        self, ui: UISession, method: str, names: list[str], values: list[str]
    ) -> dict[str, str]:
        """The selected method's field values; presets and the forwarded token filled in server-side."""
        if method not in authform.METHODS:
            raise FormError(f"Unknown auth method {method!r}.")
        wanted = authform.fields_of(method)
        fields = {n: self.config.preset(n, v) for n, v in zip(names, values, strict=True) if n in wanted}
        if method == "user":
            fields["token"] = ui.forwarded_token or ""  # from the platform's header, never via the page
        return {k: str(v).strip() for k, v in fields.items() if v and str(v).strip()}

    def startup(
        self,
        ui: UISession | None,
        method: str,
        names: list[str],
        values: list[str],
        request: gr.Request | None,
    ) -> tuple[UISession, Any, Any]:
        """Page load: offer the methods this request allows; the demo connects straight away."""
        ui = self.session(ui)
        self.remember_forwarded(ui, request)
        choices = gr.Dropdown(choices=authform.method_choices(self.config.deployed, bool(ui.forwarded_token)))
        if not self.config.autoconnect:
            return ui, choices, gr.skip()
        connection = ui.explorer.connect(method, self.connect_fields(ui, method, names, values))
        return ui, choices, present.connection_html(connection, time.time())

    def connect(
        self,
        ui: UISession | None,
        method: str,
        names: list[str],
        values: list[str],
        request: gr.Request | None,
    ) -> tuple[UISession, str]:
        ui = self.session(ui)
        self.remember_forwarded(ui, request)
        connection = ui.explorer.connect(method, self.connect_fields(ui, method, names, values))
        return ui, present.connection_html(connection, time.time())

    def begin_browser(
        self, ui: UISession | None, names: list[str], values: list[str]
    ) -> tuple[UISession, str]:
        ui = self.session(ui)
        url = ui.explorer.begin_browser(self.connect_fields(ui, "browser", names, values))
        return ui, present.authorize_html(url)

    def wait_browser(self, ui: UISession | None) -> Iterator[tuple[UISession, str, Any]]:
        """Wait for the sign-in callback in short bounded steps, reporting progress as it goes."""
        ui = self.session(ui)
        deadline = time.monotonic() + BROWSER_WAIT_SECONDS
        while True:
            connection = ui.explorer.wait_browser(timeout=_BROWSER_STEP)
            left = deadline - time.monotonic()
            if connection is not None and (connection.ok or left <= 0 or not _still_waiting(connection)):
                yield ui, present.waiting_html(None), present.connection_html(connection, time.time())
                return
            if left <= 0:
                yield ui, present.waiting_html(0), gr.skip()
                return
            yield ui, present.waiting_html(left), gr.skip()

    def complete_browser(self, ui: UISession | None, redirected_url: str) -> tuple[UISession, str, str]:
        ui = self.session(ui)
        if not (redirected_url or "").strip():
            raise FormError("Paste the full URL your browser was sent to after signing in.")
        connection = ui.explorer.complete_browser(redirected_url.strip())
        return ui, present.connection_html(connection, time.time()), present.waiting_html(None)

    def reveal_token(self, ui: UISession | None) -> Any:
        token = self.session(ui).explorer.reveal_token()
        if not token:
            raise FormError("No token yet: connect first.")
        return gr.Textbox(value=token, visible=True)

    # --- apps and endpoints -----------------------------------------------------------------------

    def list_apps(self, ui: UISession | None, current: str | None) -> tuple[UISession, Any, str]:
        ui = self.session(ui)
        apps, findings = ui.explorer.list_apps()
        ui.apps = apps
        choices = [(present.app_label(a), a.name) for a in apps]
        pick = (
            current
            if ui.app_named(current)
            else self.config.app_name
            if ui.app_named(self.config.app_name)
            else None
        )
        notice = present.findings_html(findings) if findings else present.apps_notice(len(apps))
        return ui, gr.Dropdown(choices=choices, value=pick), notice

    def list_apps_if_connected(self, ui: UISession | None, current: str | None) -> tuple[Any, Any, Any]:
        """After connecting: list the apps, unless the connection failed (its card says why)."""
        connection = ui.explorer.connection if ui is not None else None
        if connection is None or not connection.ok:
            return gr.skip(), gr.skip(), gr.skip()
        return self.list_apps(ui, current)

    def pick_app(self, ui: UISession | None, name: str | None, app_url: str) -> tuple[UISession, str, str]:
        ui = self.session(ui)
        app = ui.app_named(name)
        if app is None:
            return ui, app_url, ""
        return ui, app.url or app_url, present.app_html(app)

    def list_endpoints(
        self, ui: UISession | None, app_url: str, query: str
    ) -> tuple[UISession, pd.DataFrame, str]:
        ui = self.session(ui)
        if not (app_url or "").strip():
            raise FormError("Pick an app or type its URL first.")
        ui.listing = ui.explorer.list_endpoints(app_url.strip())
        ui.shown = present.filter_endpoints(ui.listing.endpoints, query)
        return ui, present.endpoints_frame(ui.shown), present.listing_html(ui.listing)

    def list_endpoints_if_url(self, ui: UISession | None, app_url: str, query: str) -> tuple[Any, Any, Any]:
        if not (app_url or "").strip():
            return gr.skip(), gr.skip(), gr.skip()
        return self.list_endpoints(ui, app_url, query)

    def filter_endpoints(self, ui: UISession | None, query: str) -> tuple[UISession, pd.DataFrame]:
        ui = self.session(ui)
        ui.shown = present.filter_endpoints(ui.listing.endpoints if ui.listing else [], query)
        return ui, present.endpoints_frame(ui.shown)

    def pick_endpoint(self, ui: UISession | None, app_url: str, evt: gr.SelectData) -> tuple[Any, ...]:
        ui = self.session(ui)
        row = evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index
        if not isinstance(row, int) or not 0 <= row < len(ui.shown):
            return gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
        form = endpoint_form(ui.shown[row], (app_url or "").strip())
        tab = "body" if form.body else "params"
        return form.method, form.url, form.params, form.body, gr.Tabs(selected=tab)

    # --- request ----------------------------------------------------------------------------------

    def send(
        self,
        ui: UISession | None,
        method: str,
        url: str,
        params: str,
        headers: str,
        body: str,
        timeout: float,
        app_url: str,
        snippet_language: str,
        export_format: str,
    ) -> tuple[Any, ...]:
        """Send the form's request; outputs: state, the response pane, the snippet, history, export file."""
        ui = self.session(ui)
        form = RequestForm(method, url, params, headers, body, app_url, float(timeout or 30))
        try:
            spec = build_spec(form)
        except FormError as e:
            return ui, *view_outputs(present.not_sent_view(str(e))), gr.skip(), gr.skip(), gr.skip()
        exchange = ui.explorer.send(spec)
        ui.last = exchange
        view = present.exchange_view(exchange, time.time())
        snippet = ui.explorer.snippet(spec, snippet_language or "curl")
        rows = ui.explorer.history.rows()
        return ui, *view_outputs(view), snippet, rows, self.export_file(ui, export_format)

    def snippet(
        self,
        ui: UISession | None,
        method: str,
        url: str,
        params: str,
        headers: str,
        body: str,
        timeout: float,
        app_url: str,
        snippet_language: str,
    ) -> tuple[UISession, str]:
        """curl / Python / SDK text for the request as the form has it now (not yet sent)."""
        ui = self.session(ui)
        form = RequestForm(method, url, params, headers, body, app_url, float(timeout or 30))
        try:
            spec = build_spec(form)
        except FormError as e:
            return ui, f"# {e}"
        return ui, ui.explorer.snippet(spec, snippet_language or "curl")

    # --- history ----------------------------------------------------------------------------------

    def history(self, ui: UISession | None) -> tuple[UISession, pd.DataFrame]:
        ui = self.session(ui)
        return ui, ui.explorer.history.rows()

    def show_exchange(self, ui: UISession | None, evt: gr.SelectData) -> tuple[Any, ...]:
        """A history row clicked: show that exchange in the response pane again."""
        ui = self.session(ui)
        row = evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index
        exchange = _nth_exchange(ui, row)
        if exchange is None:
            return ui, *view_outputs(None)
        ui.last = exchange
        return ui, *view_outputs(present.exchange_view(exchange, time.time()))

    def export_file(self, ui: UISession, fmt: str) -> str | None:
        """Write the redacted export to a fresh temp dir; Gradio serves (and later cleans) the copy."""
        if not ui.explorer.history.rows().shape[0]:
            return None
        filename, text = ui.explorer.history.export((fmt or "har").lower())
        path = Path(tempfile.mkdtemp(prefix="explorer-export-")) / Path(filename).name
        path.write_text(text, encoding="utf-8")
        return str(path)

    def export_history(self, ui: UISession | None, fmt: str) -> tuple[UISession, str | None]:
        ui = self.session(ui)
        return ui, self.export_file(ui, fmt)


RESPONSE_OUTPUTS = 12  # how many components view_outputs() fills, in layout order


def view_outputs(view: present.ExchangeView | None) -> tuple[Any, ...]:
    """An ExchangeView as updates for the response pane's components (see layout.ResponsePane)."""
    if view is None:
        return (gr.skip(),) * RESPONSE_OUTPUTS
    table = view.table if view.table is not None else pd.DataFrame()
    diagnosis_label = f"Diagnosis ({view.finding_count})" if view.finding_count else "Diagnosis"
    return (
        view.status,
        gr.Code(value=view.pretty, language=view.language),
        table,
        gr.Tab(visible=view.table is not None),
        view.raw,
        view.headers,
        view.token,
        view.claims,
        view.diagnosis,
        gr.Tab(label=diagnosis_label),
        gr.Tabs(selected=view.tab),
        view.summary,
    )


def _still_waiting(connection: Any) -> bool:
    """A bounded wait that ran out reports a timeout-ish finding; keep waiting on those only."""
    return any(f.code == "TIMEOUT" for f in getattr(connection, "findings", []))


def _nth_exchange(ui: UISession, row: Any) -> Exchange | None:
    exchanges = list(getattr(ui.explorer.history, "exchanges", []))
    if isinstance(row, int) and 0 <= row < len(exchanges):
        return exchanges[row]
    return None

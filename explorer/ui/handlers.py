"""Thin event handlers: read the form, call the engine (ExplorerSession), format with `present`.

Each handler takes the session's UISession (None on a session's first event) and returns it first,
so Gradio keeps it in that browser session's gr.State. No protocol logic lives here.
"""

from __future__ import annotations

import functools
import html
import inspect
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any, TypeVar

import gradio as gr
import pandas as pd

from explorer import redact
from explorer.auth import AuthFailed
from explorer.model import Exchange, Fix, RequestSpec
from explorer.parse import InputError
from explorer.request import HTTP_METHODS as HTTP_VERBS
from explorer.textview import escape_controls
from explorer.ui import authform, identities, present
from explorer.ui.config import UIConfig
from explorer.ui.forms import (
    THIS_CONNECTION,
    FormError,
    RequestForm,
    build_spec,
    endpoint_form,
    fill_path,
    form_from_spec,
    path_params,
    values_from_rows,
)
from explorer.ui.live import LiveStream
from explorer.ui.panes import ANSWER_CHROME, RESPONSE_PANE, SEND_PANE, TAB_CHROME
from explorer.ui.present import stream as streamview
from explorer.ui.present import tabs as tabview
from explorer.ui.state import NotYourSession, RequestTab, SendJob, UISession
from explorer.websocket import is_websocket

log = logging.getLogger(__name__)
F = TypeVar("F", bound=Callable[..., Any])
FORWARDED_TOKEN = "x-forwarded-access-token"
FORWARDED_EMAIL = "x-forwarded-email"
SKIP = gr.skip()
SKIP3 = (gr.skip(), gr.skip(), gr.skip())
ANNOUNCE_SECONDS = 0.5  # how soon a stream is announced once its tab is shown again
KEPT_SECONDS = 5.0  # after Cancel, how long a stream's send may take to return what arrived
FOLLOW_SECONDS = 3.0  # how long a send's end waits for the page's follower to let go of its stream


def friendly(fn: F) -> F:
    """Every handler's guard: the session's owner is checked, and a failure becomes a short on-page
    message instead of a traceback.

    Deployed, a browser session belongs to the signed-in user who opened it: each event's request
    must carry the same X-Forwarded-Email, whichever handler it reaches (a handler that does not
    take the request gets it appended to its signature, so Gradio passes it). Engine methods report
    network/HTTP problems as values (findings); what still raises is bad input or a bug, and its
    text is scrubbed of token-shaped strings before anyone sees it. Generators stay generators.
    """
    signature = inspect.signature(fn)
    takes_request = "request" in signature.parameters

    def guard(args: tuple[Any, ...]) -> tuple[Any, ...]:
        request = next((a for a in args if isinstance(a, gr.Request)), None)
        if not takes_request and args and (args[-1] is None or isinstance(args[-1], gr.Request)):
            args = args[:-1]  # the request appended for the guard
        ui = next((a for a in args if isinstance(a, UISession)), None)
        if ui is not None and request is not None:
            ui.check_owner(request.headers.get(FORWARDED_EMAIL))
        return args

    if inspect.isgeneratorfunction(fn):

        @functools.wraps(fn)
        def streaming(*args: Any) -> Iterator[Any]:
            try:
                for result in fn(*guard(args)):
                    yield _state_kept(args, result)
            except Exception as e:
                raise _user_error(fn, e, args) from None

        wrapper: Callable[..., Any] = streaming
    else:

        @functools.wraps(fn)
        def plain(*args: Any) -> Any:
            try:
                return _state_kept(args, fn(*guard(args)))
            except Exception as e:
                raise _user_error(fn, e, args) from None

        wrapper = plain
    if not takes_request:
        extra = inspect.Parameter(
            "request", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None, annotation=gr.Request
        )
        wrapper.__signature__ = signature.replace(parameters=[*signature.parameters.values(), extra])  # type: ignore[attr-defined]
        wrapper.__annotations__ = {**getattr(fn, "__annotations__", {}), "request": gr.Request}
    return wrapper  # type: ignore[return-value]


def _state_kept(args: tuple[Any, ...], result: Any) -> Any:
    """The session state, when the event received it and changed it in place, as a skip: storing it
    again costs Gradio a config rebuild of the State each event. A new session is stored as usual."""
    ui = args[0] if args and isinstance(args[0], UISession) else None
    if ui is None or ui.due_for_store():  # stored now and then: that renews its idle lifetime
        return result
    if result is ui:
        return SKIP
    if isinstance(result, tuple) and result and result[0] is ui:
        return (SKIP, *result[1:])
    return result


def _user_error(fn: Callable[..., Any], error: Exception, args: tuple[Any, ...]) -> gr.Error:
    if isinstance(error, (gr.Error, NotYourSession)):
        return error if isinstance(error, gr.Error) else gr.Error(str(error), print_exception=False)
    # The session's redactor knows its secrets; without a session, mask what looks like a token.
    ui = next((a for a in args if isinstance(a, UISession)), None)
    scrub = ui.explorer.redactor.scrub if ui is not None else redact.scrub
    # Gradio renders a toast's text as HTML: everything in it is escaped (it may quote the network).
    if isinstance(error, (FormError, InputError)):  # bad input, already one clear line
        return gr.Error(html.escape(escape_controls(scrub(str(error)))), print_exception=False)
    # Anything else is a bug, not the user's input: logged (the log filter redacts it), said so.
    log.exception("UI handler %s failed", fn.__name__)
    return gr.Error(
        f"The explorer hit a bug ({html.escape(type(error).__name__)}) in {html.escape(fn.__name__)}; "
        "it is in the server's log. Your input is kept: try again or reload.",
        print_exception=False,
    )


def changed(ui: UISession | None, key: str, **props: Any) -> Any:
    """A property update for a component only the server changes, or a skip when the page has it already.

    Gradio rebuilds a component and its config (its API schema included) for every property update,
    a skip included: ~0.3–0.5 ms each, spent under the GIL while other sessions wait; values are
    cheap. So events output few components, and properties only when they change.
    """
    value = tuple(sorted(props.items()))
    if ui is not None:
        if ui.shown.get(key) == value:
            return gr.skip()
        ui.shown[key] = value
    return gr.update(**props)


def is_skip(update: Any) -> bool:
    return isinstance(update, dict) and update == {"__type__": "update"}


def view_outputs(
    view: present.ExchangeView | None,
    ui: UISession | None = None,
    *,
    bring_forward: bool = True,
    names: tuple[str, ...] = RESPONSE_PANE,
) -> tuple[Any, ...]:
    """An ExchangeView as updates for the response pane's components `names` (panes.RESPONSE_PANE order).

    `bring_forward`: show the Body tab (a tab switch, a history row); after a send the user's tab stays.
    Only the named parts are built (a property counts as shown only once it is sent: `changed`).
    """
    if view is None:
        return (gr.skip(),) * len(names)

    def pretty() -> Any:  # the language and the text go together; else the text alone
        language = changed(ui, "pretty", language=view.language)
        return view.pretty if is_skip(language) else gr.update(value=view.pretty, language=view.language)

    parts: dict[str, Callable[[], Any]] = {
        "status": lambda: view.status,
        "pretty": pretty,
        "table": lambda: view.table if view.table is not None else {"headers": [], "data": []},  # no pandas
        "raw": lambda: view.raw,
        "response_headers": lambda: view.headers,
        "token": lambda: view.token,
        "claims": lambda: view.claims,
        "diagnosis": lambda: view.diagnosis,
        "response_tabs": lambda: gr.update(selected=view.tab) if bring_forward else gr.skip(),
        "banner": lambda: view.banner,
        "stream": lambda: view.stream,
        "summary": lambda: present.as_json(view.summary),
    }
    assert set(parts) == set(RESPONSE_PANE)
    return tuple(parts[name]() for name in names)


def connection_outputs(connection: Any, kept: Any = None) -> tuple[Any, ...]:
    """The sidebar card, its JSON twin (for API clients), and the credentials form (folded once connected).

    `kept`: a failed attempt left this earlier, working connection in place; the card shows it, with
    why the attempt failed, and the form stays open to correct it."""
    if kept is not None and kept is not connection and kept.ok and not connection.ok:
        summary = present.connection_summary(connection)
        summary["kept"] = present.connection_summary(kept)
        return (
            present.connection_html(kept, time.time(), failed_attempt=connection),
            present.as_json(summary),
            gr.update(open=True),
        )
    return (
        present.connection_html(connection, time.time()),
        present.as_json(present.connection_summary(connection)),
        gr.update(
            open=not connection.ok or bool(present.field_marks(connection))
        ),  # a marked field stays in view
    )


FORM_SIZE = 8  # panes.REQUEST_FORM


def form_outputs(form: RequestForm) -> tuple[Any, ...]:
    """The request form's boxes for `form` (panes.REQUEST_FORM order; the app stays as picked; who
    the tab sends as is a value, which costs Gradio less than a skip)."""
    return form.method, form.url, form.params, form.headers, form.body, form.timeout, gr.skip(), form.send_as


def tab_view(ui: UISession, tab: RequestTab) -> present.ExchangeView:
    """The response pane of `tab`: its own exchange only; while it sends, the previous one dimmed."""
    if tab.exchange is not None:
        polls = tab.polls.get(tab.exchange.id, [])
        view = present.exchange_view(tab.exchange, time.time(), ui.explorer.redactor, polls)
        sent_as = ui.sent_as.get(tab.exchange.id)
        if sent_as:  # sent as an identity: the status line (and the summary) say which
            view.status = tabview.sent_as_html(view.status, sent_as)
            view.summary = {**view.summary, "sent_as": sent_as}
    else:
        view = present.not_sent_view("", tab.notice or present.status_html(None))
        view.summary = dict(tab.notice_summary) if tab.notice else {}
    if tab.sending and tab.job is not None:
        view.status = tabview.sending_html(tab.job.method, tab.job.url, tab.job.started)
        view.stream = ""  # its stream shows as it arrives (follow_stream), the previous answer's is gone
    return view


def live_stream(ui: UISession, spec: RequestSpec, job: SendJob) -> LiveStream:
    """The collector a send fills as its stream arrives: rows rendered once, scrubbed and escaped."""
    redactor, websocket = ui.explorer.redactor, is_websocket(spec.url)
    started = time.time()
    return LiveStream(
        lambda event, n: streamview.event_row(event, n, redactor, websocket),
        lambda poll, n: streamview.poll_row(poll, n, started),
        kind="websocket" if websocket else None,
        changed=job.wake,
    )


def tab_chrome(
    ui: UISession, tab: RequestTab | None = None, *, bring_forward: bool = True, upto: int = len(TAB_CHROME)
) -> tuple[Any, ...]:
    """The tab strip, its JSON twin, the path table, the notes, the request tabs (panes.TAB_CHROME).

    `bring_forward`: show the request's Body or Params tab (a tab opened or switched to). `upto`: only
    the first so many (a property is remembered as shown only when it is sent: handlers.changed)."""
    tab = tab or ui.tab()
    choices = [
        (tabview.tab_label(t.form.method, t.name, t.form.url, t.dirty, t.sending), t.id) for t in ui.tabs
    ]
    rows = path_params(tab.form.url, tab.path_values, tab.endpoint) if upto > 2 else []

    def frame() -> pd.DataFrame:
        return pd.DataFrame(
            [(r.name, r.value, r.type, "yes" if r.required else "", r.description) for r in rows],
            columns=["Path parameter", "Value", "Type", "Required", "Description"],
        )

    parts: list[Callable[[], Any]] = [  # built in order, only as many as are shown (`upto`)
        lambda: (
            tab.id
            if is_skip(changed(ui, "tabstrip", choices=choices))
            else gr.update(choices=choices, value=tab.id)
        ),
        lambda: present.as_json(tabview.tabs_summary(ui.tabs, ui.active)),
        frame,
        lambda: changed(ui, "path_group", visible=bool(rows)),
        lambda: changed(ui, "notes", value=tab.notes, visible=bool(tab.notes.strip())),
        lambda: gr.update(selected="body" if tab.form.body else "params") if bring_forward else SKIP,
    ]
    assert len(parts) == len(TAB_CHROME)
    return tuple(part() for part in parts[:upto])


def tab_outputs(ui: UISession, tab: RequestTab | None = None) -> tuple[Any, ...]:
    """panes.tab_view(): state, chrome, form, response pane, all for the active tab."""
    tab = tab or ui.tab()
    return ui, *tab_chrome(ui, tab), *form_outputs(tab.form), *view_outputs(tab_view(ui, tab), ui)


def skipped_tab_outputs(ui: UISession) -> tuple[Any, ...]:
    return ui, *(gr.skip(),) * (len(TAB_CHROME) + FORM_SIZE + len(RESPONSE_PANE))


class Handlers:
    """The UI's handlers, bound to one UIConfig (shared, read-only); state arrives per call."""

    def __init__(self, config: UIConfig) -> None:
        self.config = config

    def session(self, ui: UISession | None, request: gr.Request | None = None) -> UISession:
        """This browser session's state (created on its first event), up to date with `request`."""
        if ui is None:
            from explorer.session import ExplorerSession

            ui = UISession(ExplorerSession(trust=self.config.session_trust()))
            ui.keep_alive_every = min(60.0, self.config.idle_seconds / 4)
        if request is not None:
            if self.config.deployed and ui.owner is None:
                ui.owner = (request.headers.get(FORWARDED_EMAIL) or "").strip().lower()
            ui.check_owner(request.headers.get(FORWARDED_EMAIL))
            self.follow_forwarded(ui, request)
        return ui

    def follow_forwarded(self, ui: UISession, request: gr.Request) -> None:
        """Deployed: hand this event's forwarded user token to the engine session (which follows it)."""
        if self.config.deployed:
            ui.explorer.follow_forwarded_token(request.headers.get(FORWARDED_TOKEN) or None)

    def connect_fields(
        self, ui: UISession, method: str, names: list[str], values: list[Any]
    ) -> dict[str, str]:
        """The method's field values; presets and the forwarded token are filled in server-side."""
        if method not in authform.METHODS:
            raise FormError(f"Unknown auth method {method!r}: use one of {', '.join(authform.METHODS)}.")
        wanted = authform.fields_of(method)
        typed = {n: str(v or "") for n, v in zip(names, values, strict=True) if n in wanted}
        fields = self.config.presets(method, typed)
        if authform.METHODS[method].forwarded:
            fields["token"] = ui.explorer.forwarded_token or ""  # the platform's header, never the page
        return {k: str(v).strip() for k, v in fields.items() if v and str(v).strip()}

    def startup(
        self,
        ui: UISession | None,
        method: str,
        names: list[str],
        values: list[Any],
        request: gr.Request | None,
    ) -> tuple[Any, ...]:
        """Page load: offer the methods this request allows; the demo connects straight away."""
        ui = self.session(ui, request)
        choices = gr.Dropdown(
            choices=authform.method_choices(ui.explorer.trust, bool(ui.explorer.forwarded_token))
        )
        if not self.config.autoconnect:
            return ui, choices, *SKIP3
        fields = self.connect_fields(ui, method, names, values)
        prepared = self.config.prepared.take(method, fields) if self.config.prepared is not None else None
        if prepared is not None:  # the demo's first page: connected while its scripts loaded
            ui.explorer.close()
            ui.explorer = prepared
            return ui, choices, *connection_outputs(prepared.connection)
        return ui, choices, *connection_outputs(ui.explorer.connect(method, fields))

    def connect(
        self,
        ui: UISession | None,
        method: str,
        names: list[str],
        values: list[Any],
        request: gr.Request | None,
    ) -> tuple[Any, ...]:
        ui = self.session(ui, request)
        if method in authform.METHODS and authform.METHODS[method].interactive:
            raise FormError("Browser sign-in: use “Sign in with browser” (or begin_browser).")
        connection = ui.explorer.connect(method, self.connect_fields(ui, method, names, values))
        return ui, *connection_outputs(connection, ui.explorer.connection)

    def begin_browser(
        self, ui: UISession | None, names: list[str], values: list[Any]
    ) -> tuple[UISession, str]:
        """Start a PKCE sign-in: the link to open (a local listener waits for its redirect)."""
        ui = self.session(ui)
        try:
            url = ui.explorer.begin_browser(self.connect_fields(ui, "browser", names, values))
        except AuthFailed as e:
            return ui, present.findings_html(e.findings)
        return ui, present.authorize_html(url)

    def wait_browser(self, ui: UISession | None) -> Iterator[tuple[Any, ...]]:
        """Wait (bounded) for the sign-in callback, with a countdown while the engine waits."""
        ui = self.session(ui)
        outcome: dict[str, Any] = {}

        def wait() -> None:
            try:
                outcome["connection"] = ui.explorer.wait_browser(timeout=self.config.browser_wait_seconds)
            except Exception as e:  # re-raised below, in the handler, where it becomes a message
                outcome["error"] = e

        waiter = threading.Thread(target=wait, name="ui: browser sign-in", daemon=True)
        waiter.start()
        deadline = time.monotonic() + self.config.browser_wait_seconds
        while waiter.is_alive():
            yield ui, present.waiting_html(max(1.0, deadline - time.monotonic())), *SKIP3
            waiter.join(1.0)
        if "error" in outcome:
            raise outcome["error"]
        connection, current = outcome["connection"], ui.explorer.connection
        if not connection.ok and current is not None and current.ok:
            connection = current  # signed in meanwhile (pasted URL): this wait was superseded
        yield ui, present.waiting_html(None), *connection_outputs(connection)

    def complete_browser(self, ui: UISession | None, redirected_url: str) -> tuple[Any, ...]:
        """Paste-back mode: finish the sign-in with the URL the browser ended on."""
        ui = self.session(ui)
        if not (redirected_url or "").strip():
            raise FormError("Paste the whole URL your browser ended on after signing in.")
        connection = ui.explorer.complete_browser(redirected_url.strip())
        return ui, present.waiting_html(None), *connection_outputs(connection)

    def reveal_token(self, ui: UISession | None) -> Any:
        """The explicit reveal control: the current token, for this session's page only."""
        token = self.session(ui).explorer.reveal_token()
        if not token:
            raise FormError("No token yet: connect first.")
        return token, gr.Group(visible=True)

    # --- apps and endpoints -----------------------------------------------------------------------

    def list_apps(
        self,
        ui: UISession | None,
        current: str | None,
        request: gr.Request | None = None,
    ) -> tuple[Any, ...]:
        """The workspace's apps into the picker; keeps the current pick (demo: preselects its app)."""
        ui = self.session(ui, request)
        apps, findings = ui.explorer.list_apps()
        ui.apps = apps
        choices = [(present.app_label(a), a.name) for a in apps]
        wanted = current or self.config.app_name
        pick = wanted if ui.app_named(wanted) else None
        notice = present.findings_html(findings) if findings else present.apps_notice(len(apps))
        return (
            ui,
            gr.Dropdown(choices=choices, value=pick),
            notice,
            present.as_json(present.apps_summary(apps)),
        )

    def list_apps_if_connected(
        self, ui: UISession | None, current: str | None, request: gr.Request | None = None
    ) -> tuple[Any, ...]:
        """After connecting: list the apps, unless the connection failed (its card says why)."""
        connection = ui.explorer.connection if ui is not None else None
        if connection is None or not connection.ok:
            return (gr.skip(),) * 4
        return self.list_apps(ui, current, request)

    def pick_app(self, ui: UISession | None, name: str | None, app_url: str) -> tuple[Any, ...]:
        ui = self.session(ui)
        app = ui.app_named(name)
        if app is None:
            return ui, gr.skip(), ""
        return ui, app.url or app_url, present.app_html(app)

    def list_endpoints(
        self,
        ui: UISession | None,
        app_url: str,
        query: str,
        request: gr.Request | None = None,
    ) -> tuple[Any, ...]:
        """The app's /api/ endpoints from its OpenAPI document (or why there are none)."""
        ui = self.session(ui, request)
        if not (app_url or "").strip():
            raise FormError("Pick an app or type its URL first.")
        ui.listing = ui.explorer.list_endpoints(app_url.strip())
        return ui, *_endpoint_outputs(ui, query), present.listing_html(ui.listing)

    def list_endpoints_if_url(
        self, ui: UISession | None, app_url: str, query: str, request: gr.Request | None = None
    ) -> tuple[Any, ...]:
        if not (app_url or "").strip():
            return (gr.skip(),) * 4
        return self.list_endpoints(ui, app_url, query, request)

    def filter_endpoints(self, ui: UISession | None, query: str) -> tuple[Any, ...]:
        ui = self.session(ui)
        return ui, *_endpoint_outputs(ui, query)

    def toggle_endpoint_group(self, ui: UISession | None, query: str, evt: gr.SelectData) -> tuple[Any, ...]:
        """A group's header row clicked (or Enter on it): the group collapses or expands; other rows: nothing."""
        ui = self.session(ui)
        shown = present.filter_endpoints(ui.listing.endpoints if ui.listing else [], query)
        group = present.group_for_row(shown, evt.row_value, ui.groups.hidden(query))
        if group is None:
            return ui, gr.skip(), gr.skip()
        ui.groups.toggle(group, query)
        return ui, *_endpoint_outputs(ui, query)

    def pick_endpoint(self, ui: UISession | None, app_url: str, evt: gr.SelectData) -> tuple[Any, ...]:
        """An endpoint row clicked: opened in a tab (the active one when untouched), its response empty."""
        ui = self.session(ui)
        endpoint = present.endpoint_for_row(ui.listing.endpoints if ui.listing else [], evt.row_value)
        return self._open_endpoint(ui, endpoint, app_url)

    def open_first_endpoint(self, ui: UISession | None, app_url: str, query: str) -> tuple[Any, ...]:
        """Enter in the endpoint filter: open the first endpoint that matches."""
        ui = self.session(ui)
        matches = present.filter_endpoints(ui.listing.endpoints if ui.listing else [], query)
        return self._open_endpoint(ui, matches[0] if matches else None, app_url)

    def _open_endpoint(self, ui: UISession, endpoint: Any, app_url: str) -> tuple[Any, ...]:
        if endpoint is None:
            return skipped_tab_outputs(ui)
        form = endpoint_form(endpoint, (app_url or "").strip())
        tab = ui.open_tab(form, reuse=True, endpoint=endpoint)
        return tab_outputs(ui, tab)

    # --- request tabs -----------------------------------------------------------------------------

    def keep_form(self, ui: UISession, form: RequestForm) -> RequestTab:
        """What the boxes hold now belongs to the active tab (before it is switched away or sent)."""
        tab = ui.tab()
        tab.form = form
        return tab

    def switch_tab(self, ui: UISession | None, form: RequestForm, tab_id: str | None) -> tuple[Any, ...]:
        """Another tab picked: the boxes go into the tab being left; the picked tab's request and response come back."""
        ui = self.session(ui)
        if tab_id and tab_id != ui.active:
            self.keep_form(ui, form)
            ui.active = ui.tab(tab_id).id
        return tab_outputs(ui)

    def new_tab(self, ui: UISession | None, form: RequestForm) -> tuple[Any, ...]:
        ui = self.session(ui)
        self.keep_form(ui, form)
        tab = ui.open_tab(RequestForm(app_url=form.app_url))
        return tab_outputs(ui, tab)

    def close_tab(self, ui: UISession | None, form: RequestForm) -> tuple[Any, ...]:
        ui = self.session(ui)
        self.keep_form(ui, form)
        return tab_outputs(ui, ui.close_tab(ui.active))

    def edit_form(self, ui: UISession | None, form: RequestForm) -> tuple[Any, ...]:
        """Typing in the request: the tab keeps it (its dot appears); a pasted curl command becomes the request."""
        ui = self.session(ui)
        tab = ui.tab()
        was = (tab.dirty, tuple(path_params(tab.form.url, {}, None)))
        if form.url.lstrip().startswith("curl ") and not tab.sending:
            tab.form = self.from_curl(form)
            return tab_outputs(ui, tab)
        tab.form = form
        now = (tab.dirty, tuple(path_params(tab.form.url, {}, None)))
        if now == was:
            return skipped_tab_outputs(ui)
        chrome = tab_chrome(ui, tab, upto=4)  # the label and the path table; Send and the form as they are
        boxes = (*(gr.skip(),) * (FORM_SIZE - 1), form.send_as)  # a value costs less than a skip
        rest = (*(gr.skip(),) * (len(TAB_CHROME) - 4), *boxes, *(gr.skip(),) * len(RESPONSE_PANE))
        return ui, *chrome, *rest

    def from_curl(self, form: RequestForm) -> RequestForm:
        """A curl command as the tab's request (explorer.collection's importer: one set of rules)."""
        from explorer.collection.importers import ImportError_
        from explorer.collection.importers.curl import parse_curl

        try:
            request, _notices = parse_curl(form.url.strip())
        except (ImportError_, ValueError) as e:
            raise FormError(f"That curl command cannot be read: {e}") from None
        return request_form(request, form.app_url)

    def edit_path(self, ui: UISession | None, rows: Any) -> UISession:
        """A value typed in the path-variable table."""
        ui = self.session(ui)
        ui.tab().path_values.update(values_from_rows(rows))
        return ui

    def first_tab(self, ui: UISession | None, form: RequestForm) -> tuple[Any, ...]:
        """Page load: the form as the page starts is the first tab (unmodified)."""
        ui = self.session(ui)
        if not ui.tabs:
            ui.open_tab(form)
        return ui, *tab_chrome(ui)

    # --- request ----------------------------------------------------------------------------------

    def send(
        self,
        ui: UISession | None,
        form: RequestForm,
        snippet_language: str,
        export_format: str,
        request: gr.Request | None = None,
    ) -> tuple[Any, ...]:
        """Send the active tab's request; its answer lands in that tab, whichever tab is shown by then.

        One event a send, one update (a plain function: a generator's every answer would reach the
        page twice, docs/BENCH.md). The page itself shows "Sending… n s" over the previous answer
        (and Cancel for Send) from the moment Send is pressed (theme.KEYBOARD_HEAD), so the server
        spends nothing until the answer is there. Outputs: state, the tab strip and its JSON twin,
        the response pane (panes.SEND_PANE: the response tab the user reads stays in front), the
        snippet, the History table (only while its tab is open; empty otherwise, as a value costs
        Gradio far less than a skip). Cancel or Esc gives up on it.
        A stream (events, an agent's answer as it is assembled, a background answer's polls) is
        handed over once it starts in the shown tab: this event ends with the server's "Sending…"
        line, whose script starts the page's follower (`follow_stream`, the stream as it arrives),
        and `finish_stream`, chained after the follower, shows the answer. Scripts that want one
        answer at the end, streams too, call `send_json`.
        """
        ui = self.session(ui, request)
        tab = self.keep_form(ui, form)
        try:
            spec = build_spec(self.sendable(ui, tab, form))
            sender = self.sender(ui, tab)  # an identity is connected on its first send
        except FormError as e:
            not_sent = present.not_sent_view(str(e))
            tab.exchange, tab.sent, tab.notice, tab.notice_summary = (
                None,
                None,
                not_sent.status,
                not_sent.summary,
            )
            return self._answer(ui, tab, snippet_language)
        if tab.job is not None:
            tab.job.cancel()  # a second Send on a sending tab replaces the first, never silently dropped
        job = tab.job = SendJob(spec.method, spec.url)
        tab.sent, tab.sent_session = spec, sender
        name = tab.form.send_as
        live = job.live = live_stream(ui, spec, job)

        def work() -> None:
            try:
                exchange = sender.send(spec, cancel=job.stop, on_event=live.add, on_start=live.start)
                # An agent's background answer (queued, an id to poll) is followed: each poll shown.
                sender.follow_background(exchange, on_poll=live.add_poll, cancel=job.stop)
                self.adopt(ui, name, sender, exchange)
                job.finish(exchange)
            except BaseException as e:  # re-raised in the handler, where it becomes a message
                job.finish(None, e)

        threading.Thread(target=work, name="ui: send", daemon=True).start()
        # Until the answer: woken by the job (its end, a cancel, a stream's first sign), not by a
        # clock. The timeout catches the user coming back to a tab whose stream is under way.
        while not job.settled.is_set():
            job.wake.clear()
            if live.started and ui.active == tab.id and tab.job is job:
                job.hand_over()  # finish_stream, after the page's follower, answers it
                if job.settled.is_set() and job.take_over():
                    break  # it ended meanwhile: answered here after all
                return self._streaming(ui, spec, job)
            if not job.settled.is_set():
                job.wake.wait(ANNOUNCE_SECONDS)
        return self._settled(ui, tab, job, snippet_language)

    def finish_stream(self, ui: UISession | None, snippet_language: str) -> tuple[Any, ...]:
        """After the page's follower (`follow_stream`): the answer of each send that handed its
        stream over and has ended since, in its tab; the page shows the active tab's."""
        if ui is None:
            return gr.skip()
        views = {
            tab.id: self._settled(ui, tab, tab.job, snippet_language)
            for tab in list(ui.tabs)
            if tab.job is not None and tab.job.settled.is_set() and tab.job.take_over()
        }
        if not views:
            return gr.skip()
        return views.get(ui.active) or self._unchanged(ui)

    def _settled(
        self, ui: UISession, tab: RequestTab, job: SendJob, snippet_language: str
    ) -> tuple[Any, ...]:
        """A send that has ended (answered, failed or cancelled): its tab keeps the outcome; the
        outputs show it if the tab is still shown and still its own."""
        live = job.live
        if live is not None and live.claimed:  # the follower's last update lands first, never over it
            live.released.wait(FOLLOW_SECONDS)
        shown = ui.active == tab.id and tab.job is job
        cancelled = job.cancelled
        streamed = live is not None and live.started
        if cancelled and streamed and job.finished.wait(KEPT_SECONDS) and job.exchange is not None:
            cancelled = job.exchange.response is None  # a stream: Cancel closed it, what arrived is kept
        if cancelled:
            if tab.job is job:
                tab.job, tab.exchange = None, None
                tab.notice = tabview.cancelled_html(job.method, job.url, job.started, job.seconds)
                tab.notice_summary = {
                    "ok": False,
                    "cancelled": True,
                    "error": "Cancelled",
                    "response": None,
                    "findings": [],
                }
            return self._answer(ui, tab, snippet_language) if shown else self._unchanged(ui)
        if job.error is not None:
            if tab.job is job:
                tab.job = None
            raise job.error
        exchange = job.exchange
        assert exchange is not None
        if tab.job is job:
            tab.job, tab.exchange, tab.notice = None, exchange, ""
            tab.polls = {exchange.id: list(live.polls)} if live is not None and live.polls else {}
        ui.last = exchange
        # Shown: this tab's answer; else the user moved on (the answer waits in its own tab) and the
        # page shows what it shows, but the strip's label and the History table (if open) move on.
        return self._answer(ui, tab, snippet_language) if shown else self._unchanged(ui)

    def send_as_choices(self, ui: UISession | None) -> Any:
        """The Send-as dropdown's choices, after a collection opened (its identity files) or the page
        loaded (deployed: this app, me); a property update only when they changed."""
        if ui is None:
            return gr.skip()
        return changed(ui, "send_as", choices=identities.send_as_choices(ui, self.config.deployed))

    def sender(self, ui: UISession, tab: RequestTab) -> Any:
        """The ExplorerSession `tab` sends with: the page's, or the identity its "Send as" names
        (connected once, on demand: ui.identities; a failure to connect is a FormError)."""
        return identities.sending_session(ui, tab, self.config.deployed, self.identity_env)

    def identity_env(self) -> dict[str, str]:
        """The values identity files read their secrets from, server-side (the demo's; else none)."""
        return dict(self.config.identity_env()) if callable(self.config.identity_env) else {}

    @staticmethod
    def adopt(ui: UISession, name: str, sender: Any, exchange: Exchange) -> None:
        """An exchange identity `name` sent joins the page: its History (with the identity's name)
        and its redactor (the identity's secrets, a token refreshed meanwhile too)."""
        if sender is ui.explorer:
            return
        ui.explorer.redactor.absorb(sender.redactor)
        ui.sent_as[exchange.id] = name
        ui.explorer.history.add(exchange)

    def _answer(self, ui: UISession, tab: RequestTab, snippet_language: str) -> tuple[Any, ...]:
        """A send's outputs for the tab it answers (see `send`)."""
        if tab.sent is not None:  # the request as sent (its path filled in, its variables resolved)
            snippet = (tab.sent_session or ui.explorer).snippet(tab.sent, snippet_language or "curl")
        else:
            snippet = self.snippet(ui, tab.form, snippet_language)[1]
        return (
            ui,
            *tab_chrome(ui, tab, upto=len(ANSWER_CHROME)),
            *view_outputs(tab_view(ui, tab), ui, names=SEND_PANE),
            snippet,
            self.history_rows(ui) if ui.history_open else None,
        )

    def _streaming(self, ui: UISession, spec: RequestSpec, job: SendJob) -> tuple[Any, ...]:
        """A stream is under way: `send` ends with the server's "Sending…" line (its script then
        starts the page's follower, `follow_stream`) and the previous answer's stream cleared; the
        rest as it is. Once a stream, so its skips (a rebuild each, see `changed`) are paid once."""
        sending = tabview.sending_html(spec.method, spec.url, job.started)
        shown = {"status": sending, "stream": ""}
        return (
            ui,
            *(gr.skip(),) * len(ANSWER_CHROME),
            *(shown.get(name, SKIP) for name in SEND_PANE),
            gr.skip(),
            gr.skip(),
        )

    def _unchanged(self, ui: UISession) -> tuple[Any, ...]:
        """A send whose tab is not shown any more: the active tab's strip, status line (it may be sending
        itself: the page's "Sending…" then comes from the server's line) and History; the rest as it is."""
        status = tab_view(ui, ui.tab()).status
        return (
            ui,
            *tab_chrome(ui, upto=len(ANSWER_CHROME)),
            *(status if name == "status" else gr.skip() for name in SEND_PANE),
            gr.skip(),
            self.history_rows(ui) if ui.history_open else None,
        )

    def follow_stream(self, ui: UISession | None) -> Iterator[str]:
        """A send's stream as it arrives, while it runs: its own part of the response pane, at most
        one update per 50 ms, and nothing while another tab is shown. The page presses the hidden
        button when a send starts; the active tab's send is followed (once).

        An event apart from `send` because each output an update leaves as it is (gr.skip()) costs
        Gradio a component built anew, ~20 per update of `send`. It ends with an empty part: the
        stream as it ended is the answer's to show (`finish_stream`, chained after this)."""
        tab = ui.tab() if ui is not None else None
        job = tab.job if tab is not None else None
        if ui is None or tab is None or job is None or job.live is None or job.settled.is_set():
            return
        if not job.live.claim():
            return
        shown = ""
        try:
            for snapshot in job.live.updates(job.settled, active=lambda: ui.active == tab.id):
                html = streamview.stream_html(snapshot) if ui.active == tab.id and tab.job is job else ""
                if html != shown:
                    shown = html
                    yield html
            if shown:
                yield ""
        finally:
            job.live.released.set()

    def apply_fix(
        self,
        ui: UISession | None,
        fix_index: str,
        method: str,
        names: list[str],
        values: list[Any],
        form: RequestForm,
        request: gr.Request | None = None,
    ) -> tuple[Any, ...]:
        """A fix button: apply the finding's structured fix (explorer.model.Fix) to the form or the connection.

        Outputs: state, the auth method, its field boxes, the connection card (3), HTTP method, URL, timeout.
        """
        ui = self.session(ui, request)
        action = _fix_at(ui.tab().exchange, fix_index)
        boxes: list[Any] = [gr.skip()] * len(names)
        auth_method, connection, verb, url, timeout = gr.skip(), SKIP3, gr.skip(), gr.skip(), gr.skip()
        wanted = action.param("method") or method
        if action.kind == "use_method" and wanted.upper() in HTTP_VERBS:
            verb = wanted.upper()
        elif action.kind == "use_path":
            path = action.param("path") or ""
            url = (form.app_url.rstrip("/") + path) if form.app_url and path.startswith("/") else path
        elif action.kind == "raise_timeout":
            timeout = float(action.param("seconds") or max(form.timeout * 2, 60))
        elif action.kind == "use_method":
            auth_method = wanted
        elif action.kind in ("add_scopes", "reconnect"):
            values = list(values)
            if action.kind == "add_scopes" and "scopes" in names:
                at = names.index("scopes")
                scopes = " ".join(
                    dict.fromkeys(
                        [*(str(values[at] or "all-apis").split()), *(action.param("scopes") or "").split()]
                    )
                )
                values[at] = boxes[at] = scopes
            if wanted != method:
                auth_method = wanted
            if not authform.METHODS.get(wanted) or not authform.METHODS[wanted].interactive:
                connection = connection_outputs(
                    ui.explorer.connect(wanted, self.connect_fields(ui, wanted, names, values))
                )
        else:
            raise FormError(f"The explorer cannot apply a {action.kind!r} fix here: follow the text.")
        return ui, auth_method, *boxes, *connection, verb, url, timeout

    @staticmethod
    def sendable(ui: UISession, tab: RequestTab, form: RequestForm) -> RequestForm:
        """The form as sent: a collection request's {{variables}} resolved, its {path} values filled in."""
        if tab.source and ui.collection is not None:
            form = ui.collection.resolve(form)
        return replace(form, url=fill_path(form.url, tab.path_values))

    def fetch_full(self, ui: UISession | None) -> tuple[Any, ...]:
        """Download full response: the active tab's request sent again, its whole body into a file of
        the session's (served to its owner only, scrubbed like any export). Outputs: state, the file's
        download button (shown), a line saying what it holds."""
        ui = self.session(ui)
        tab = ui.tab()
        if tab.sent is None or tab.exchange is None or tab.exchange.response is None:
            raise FormError("Send the request first: the full response is fetched by sending it again.")
        extension = {"json": "json", "text": "txt"}.get(tab.exchange.response.kind, "bin")
        path = ui.export_path(f"response-{tab.exchange.id}.{extension}")
        sender = tab.sent_session or ui.explorer
        exchange = sender.download(tab.sent, path)
        self.adopt(ui, ui.sent_as.get(tab.exchange.id, THIS_CONNECTION), sender, exchange)
        saved = path.stat().st_size if path.exists() else 0
        shown = (
            gr.update(value=str(path), visible=True)
            if exchange.response is not None
            else gr.update(visible=False)
        )
        return ui, shown, present.full_download_note(exchange, saved)

    def cancel(self, ui: UISession | None) -> UISession:
        """Give up on the active tab's send (Cancel, Esc): its tab says so; a late answer is not shown."""
        ui = self.session(ui)
        tab = ui.tab()
        if tab.job is not None:
            tab.job.cancel()
        return ui

    def send_json(
        self, ui: UISession | None, form: RequestForm, request: gr.Request | None = None
    ) -> tuple[UISession, str]:
        """For scripts: send, and answer the exchange as one JSON object (the `call --json` shape)."""
        ui = self.session(ui, request)
        tab = self.keep_form(ui, form)
        spec = build_spec(
            replace(form, url=fill_path(form.url, tab.path_values))
        )  # FormError: one clear message
        sender = self.sender(ui, tab)
        exchange = sender.send(spec)
        self.adopt(ui, form.send_as, sender, exchange)
        tab.sent, tab.sent_session = spec, sender
        ui.last = tab.exchange = exchange
        tab.notice = ""
        return ui, present.as_json(present.exchange_summary(exchange, ui.explorer.redactor))

    def snippet(self, ui: UISession | None, form: RequestForm, snippet_language: str) -> tuple[Any, ...]:
        """curl / Python / SDK code for the request as the form has it now (sent or not)."""
        ui = self.session(ui)
        try:
            spec = build_spec(form)
        except FormError as e:
            return ui, f"# Not ready: {e}"
        session = identities.kept_session(ui, form.send_as)  # the tab's identity, once it has sent
        return ui, session.snippet(spec, snippet_language or "curl")

    # --- history ----------------------------------------------------------------------------------

    def history(self, ui: UISession | None) -> tuple[UISession, pd.DataFrame]:
        """The History tab opened: its table, kept up to date by each send while it stays open."""
        ui = self.session(ui)
        ui.history_open = True
        return ui, self.history_rows(ui)

    def history_closed(self, ui: UISession | None) -> UISession:
        """Another sidebar tab opened: sends stop updating the (hidden) History table."""
        ui = self.session(ui)
        ui.history_open = False
        return ui

    @staticmethod
    def history_rows(ui: UISession) -> pd.DataFrame:
        if ui.history_rows is None:
            ui.history_rows = present.HistoryRows()
        return ui.history_rows.table(ui.explorer.history.exchanges(), ui.apps, ui.sent_as)

    def show_exchange(self, ui: UISession | None, evt: gr.SelectData) -> tuple[Any, ...]:
        """A history row clicked: its request and its response, together, in a tab."""
        ui = self.session(ui)
        exchange = _numbered_exchange(ui, (evt.row_value or [None])[0])
        if exchange is None:
            return skipped_tab_outputs(ui)
        tab = ui.tab_with(exchange)
        if tab is None:
            tab = ui.open_tab(form_from_spec(exchange.request), reuse=True)
            tab.exchange = exchange
            tab.form.send_as = ui.sent_as.get(exchange.id, THIS_CONNECTION)  # sent again as the same identity
        ui.active = tab.id
        ui.last = exchange
        return tab_outputs(ui, tab)

    def export_file(self, ui: UISession, fmt: str) -> str | None:
        """Write the redacted export to the session's folder; Gradio serves a copy from its cache."""
        if not len(ui.explorer.history):
            return None
        filename, text = ui.explorer.history.export((fmt or "har").lower())
        path = ui.export_path(filename)
        path.write_text(text, encoding="utf-8")
        return str(path)

    def export_history(self, ui: UISession | None, fmt: str) -> tuple[UISession, Any, str]:
        """Export, step one: build the redacted file now (never on every send); step two is its download.

        Outputs: state, the download button (shown, holding the file), a line saying what it holds."""
        ui = self.session(ui)
        path = self.export_file(ui, fmt)
        if path is None:
            return ui, gr.update(value=None, visible=False), present.export_note(0, fmt)
        return ui, gr.update(value=path, visible=True), present.export_note(len(ui.explorer.history), fmt)

    def export_stale(self, ui: UISession | None) -> tuple[UISession, Any, str]:
        """The format changed: the built file is not what Export would make now."""
        return self.session(ui), gr.update(value=None, visible=False), ""


def _endpoint_outputs(ui: UISession, query: str) -> tuple[pd.DataFrame, str]:
    """The endpoint list (filtered, its collapsed groups folded) and its JSON twin (every match)."""
    endpoints = present.filter_endpoints(ui.listing.endpoints if ui.listing else [], query)
    frame = present.endpoints_frame(endpoints, ui.groups.hidden(query))
    return frame, present.as_json(present.endpoints_summary(endpoints))


def _numbered_exchange(ui: UISession, number: Any) -> Exchange | None:
    """The exchange a history row's `#` refers to (1 = the session's first)."""
    exchanges = ui.explorer.history.exchanges()
    try:
        index = int(number) - 1
    except (TypeError, ValueError):
        return None
    return exchanges[index] if 0 <= index < len(exchanges) else None


def _fix_at(exchange: Exchange | None, fix_index: str) -> Fix:
    """The structured fix of the shown exchange's finding at `fix_index` ("3" or "3:<nonce>" from the page)."""
    findings = present.sorted_findings(exchange.findings) if exchange is not None else []
    try:
        action = findings[int(str(fix_index).split(":")[0])].action
    except (ValueError, IndexError):
        action = None
    if action is None:
        raise FormError("That fix belongs to an answer no longer shown: send again.")
    return action


def request_form(request: Any, app_url: str = "") -> RequestForm:
    """A collection Request (explorer.collection.model) as the form's text."""
    params = "\n".join(("" if p.enabled else "# ") + f"{p.name}={p.value}" for p in request.params)
    headers = "\n".join(("" if h.enabled else "# ") + f"{h.name}: {h.value}" for h in request.headers)
    body = ""
    if request.body is not None:
        if request.body.content is not None:
            body = request.body.content
        elif request.body.form_data:
            body = "&".join(f"{p.name}={p.value}" for p in request.body.form_data if p.enabled)
    timeout = request.timeout if getattr(request, "timeout", None) else 30.0
    return RequestForm(request.method.upper(), request.url, params, headers, body, app_url, float(timeout))

"""The page: sidebar (connection, app, endpoints), request bar, response pane, history.

`build_ui(config)` builds the Blocks; `events.wire()` connects them to the handlers. Serve it with
`blocks.launch(**theme.page_options())` or `gr.mount_gradio_app(app, blocks, "/", **theme.page_options())`.
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from explorer.ui import events
from explorer.ui.authform import box_names, box_view, is_secret, method_choices
from explorer.ui.config import UIConfig
from explorer.ui.forms import METHODS as HTTP_METHODS
from explorer.ui.present import connection_html, findings_html, status_html
from explorer.ui.theme import COUNTDOWN_JS

CONCURRENCY = 32  # events run in parallel across sessions: one user's slow call never queues another's
BRAND = (
    '<div class="brand"><span class="logo">◆</span><div><b>Apps API Explorer</b>'
    '<div class="muted small">Databricks Apps · token auth</div></div></div>'
)


class Panes:
    """Every component the handlers read or write, by name (filled in by the builders below)."""

    def __getattr__(self, name: str) -> Any:  # a typo in wiring fails loudly, at build time
        raise AttributeError(f"no pane component {name!r}")


def _field_box(name: str, config: UIConfig) -> gr.components.Component:
    view = box_view(config.default_method, name)
    value = config.box_value(name)
    common = {
        "label": view.label or name,
        "info": view.info,
        "visible": view.visible,
        "elem_id": f"field-{name}",
    }
    if name == "profile":
        return gr.Dropdown(
            choices=events.profile_choices(), value=value or None, allow_custom_value=True, **common
        )
    return gr.Textbox(value=value, type="password" if is_secret(name) else "text", **common)


def _connection(p: Panes, config: UIConfig) -> None:
    method = config.default_method
    p.method = gr.Dropdown(
        choices=method_choices(config.deployed), value=method, label="Auth method", elem_id="auth-method"
    )
    p.fields = {name: _field_box(name, config) for name in box_names()}
    with gr.Group(visible=method == "browser", elem_classes="browser-signin") as p.browser_group:
        p.begin_browser = gr.Button("Sign in with browser", size="sm")
        p.authorize = gr.HTML("")
        p.waiting = gr.HTML("")
        p.paste_url = gr.Textbox(
            label="Or paste the URL the browser ended on", placeholder="http://localhost:8020/?code=…&state=…"
        )
        p.complete_browser = gr.Button("Complete sign-in", size="sm")
    p.connect = gr.Button("Connect", variant="primary", visible=method != "browser", elem_id="connect")
    p.connection = gr.HTML(connection_html(None, 0), js_on_load=COUNTDOWN_JS, elem_id="connection")
    with gr.Row(elem_classes="reveal-row"):
        p.reveal = gr.Button("Reveal token", size="sm", elem_id="reveal")
        p.hide = gr.Button("Hide", size="sm")
    p.revealed = gr.Textbox(show_label=False, visible=False, buttons=["copy"], elem_id="revealed")


def _apps(p: Panes, config: UIConfig) -> None:
    gr.HTML('<div class="section">App</div>')
    with gr.Row(equal_height=True, elem_classes="tight"):
        p.app = gr.Dropdown(choices=[], value=None, show_label=False, scale=1, elem_id="app-picker")
        p.refresh_apps = gr.Button("↻", size="sm", scale=0, min_width=36, elem_id="refresh-apps")
    p.apps_notice = gr.HTML("")
    p.app_url = gr.Textbox(
        value=config.app_url,
        show_label=False,
        placeholder="or type an app URL and press Enter",
        elem_id="app-url",
    )
    p.app_card = gr.HTML("")


def _endpoints(p: Panes) -> None:
    gr.HTML('<div class="section">Endpoints</div>')
    p.endpoint_filter = gr.Textbox(
        show_label=False, placeholder="Filter endpoints", elem_id="endpoint-filter"
    )
    p.endpoints = gr.Dataframe(
        headers=["Method", "Path", "Summary"], interactive=False, max_height=300, wrap=False,
        column_widths=["64px", "45%", "45%"], elem_id="endpoints",
    )  # fmt: skip
    p.listing = gr.HTML("")


def _sidebar(p: Panes, config: UIConfig) -> None:
    with gr.Sidebar(width=350, elem_id="sidebar"):
        gr.HTML(BRAND)
        gr.HTML('<div class="section">Connection</div>')
        _connection(p, config)
        _apps(p, config)
        _endpoints(p)


def _request(p: Panes) -> None:
    with gr.Row(equal_height=True, elem_id="reqbar"):
        p.http_method = gr.Dropdown(
            choices=list(HTTP_METHODS),
            value="GET",
            show_label=False,
            scale=0,
            min_width=110,
            elem_id="http-method",
        )
        p.url = gr.Textbox(
            show_label=False, placeholder="https://<app-url>/api/… or /api/…", scale=1, elem_id="url"
        )
        p.send = gr.Button("Send", variant="primary", scale=0, min_width=90, elem_id="send")
    with gr.Tabs(elem_id="reqtabs") as p.request_tabs:
        with gr.Tab("Params", id="params"):
            p.params = gr.Textbox(
                show_label=False,
                lines=3,
                max_lines=8,
                placeholder="name=value, one per line",
                elem_classes="mono",
            )
        with gr.Tab("Headers", id="headers"):
            p.headers = gr.Textbox(
                show_label=False,
                lines=3,
                max_lines=8,
                placeholder="Name: value, one per line",
                elem_classes="mono",
            )
        with gr.Tab("Body", id="body"):
            p.body = gr.Code(language="json", lines=4, max_lines=14, show_label=False, elem_id="body")
        with gr.Tab("Options", id="options"):
            p.timeout = gr.Number(value=30, minimum=1, maximum=600, label="Timeout (s)", scale=0)


def _response(p: Panes) -> None:
    p.status = gr.HTML(status_html(None), elem_id="status")
    with gr.Tabs(elem_id="resptabs") as p.response_tabs:
        with gr.Tab("Body", id="body"), gr.Tabs():
            with gr.Tab("Pretty", id="pretty"):
                p.pretty = gr.Code(
                    language="json",
                    interactive=False,
                    show_label=False,
                    lines=12,
                    max_lines=24,
                    elem_id="pretty",
                )
            with gr.Tab("Table", id="table", visible=False) as p.table_tab:
                p.table = gr.Dataframe(interactive=False, max_height=420, elem_id="table")
            with gr.Tab("Raw", id="raw"):
                p.raw = gr.Code(interactive=False, show_label=False, lines=12, max_lines=24, elem_id="raw")
        with gr.Tab("Headers", id="headers"):
            p.response_headers = gr.Dataframe(headers=["Header", "Value"], interactive=False, max_height=420)
        with gr.Tab("Token", id="token"):
            p.token = gr.HTML("", js_on_load=COUNTDOWN_JS, elem_id="token")
            with gr.Accordion("All claims", open=False):
                p.claims = gr.JSON(show_label=False)
        with gr.Tab("Diagnosis", id="diagnosis") as p.diagnosis_tab:
            p.diagnosis = gr.HTML(findings_html([]), elem_id="diagnosis")
        with gr.Tab("Code", id="code") as p.code_tab:
            p.snippet_language = gr.Radio(
                [("curl", "curl"), ("Python requests", "python"), ("Python SDK", "sdk")],
                value="curl", show_label=False, elem_id="snippet-language",
            )  # fmt: skip
            p.snippet = gr.Code(
                language="shell", interactive=False, show_label=False, buttons=["copy"], lines=8
            )
    # The same digest the panes show, as JSON, for gradio_client users (hidden on the page).
    p.summary = gr.JSON(visible=False)


def _history(p: Panes) -> None:
    with gr.Accordion("History", open=False, elem_id="history"):
        p.history = gr.Dataframe(interactive=False, max_height=260, elem_id="history-table")
        with gr.Row(equal_height=True, elem_classes="tight"):
            p.export_format = gr.Radio(
                ["HAR", "JSON", "CSV"], value="HAR", show_label=False, scale=0, elem_id="export-format"
            )
            p.download = gr.DownloadButton("Export", size="sm", scale=0, min_width=110, elem_id="export")
            gr.HTML('<div class="muted small">Secrets are redacted in every export.</div>')


def response_outputs(p: Panes) -> list[gr.components.Component | gr.Blocks]:
    """The response pane's components, in the order handlers.view_outputs() fills them."""
    return [
        p.status, p.pretty, p.table, p.table_tab, p.raw, p.response_headers, p.token, p.claims,
        p.diagnosis, p.diagnosis_tab, p.response_tabs, p.summary,
    ]  # fmt: skip


def build_ui(config: UIConfig | None = None) -> gr.Blocks:
    """The explorer's Blocks, with per-session state, named events and a wide queue."""
    config = config or UIConfig()
    p = Panes()
    with gr.Blocks(title=config.title, fill_width=True, analytics_enabled=False) as blocks:
        p.state = gr.State(None, delete_callback=events.close_session)
        _sidebar(p, config)
        with gr.Column(elem_id="main"):
            _request(p)
            _response(p)
            _history(p)
        events.wire(blocks, p, config)
    blocks.queue(default_concurrency_limit=CONCURRENCY)
    return blocks

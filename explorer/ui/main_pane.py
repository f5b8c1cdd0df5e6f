"""The main pane: the target app, the request bar and its tabs, the response, the history."""

from __future__ import annotations

import gradio as gr

from explorer.ui.config import UIConfig
from explorer.ui.forms import METHODS as HTTP_METHODS
from explorer.ui.forms import THIS_CONNECTION
from explorer.ui.panes import Panes
from explorer.ui.present import findings_html, pane_marks, status_html
from explorer.ui.theme import COUNTDOWN_JS, SENDING_JS, SENDING_LINE


def json_twin(label: str) -> gr.Textbox:
    """A hidden output holding, as JSON text, what a pane shows: the scripting view of the page.

    Text rather than gr.JSON: gradio_client takes any dict with a "path" key for a file to download,
    and response bodies (and endpoints) have such keys.
    """
    return gr.Textbox(label=label, visible=False)


SNIPPET_LANGUAGES = [("curl", "curl"), ("Python requests", "python"), ("Python SDK", "sdk")]


def _lines_box(label: str, placeholder: str) -> gr.Textbox:
    return gr.Textbox(
        label=label, show_label=False, lines=3, max_lines=8, placeholder=placeholder, elem_classes="mono"
    )


def target(p: Panes, config: UIConfig) -> None:
    """The app to call: picked from the workspace's apps, or any app URL typed in."""
    with gr.Row(equal_height=True, elem_id="targetbar"):
        p.app = gr.Dropdown(
            choices=[], value=None, label="app", show_label=False, container=False, scale=2, min_width=170,
            elem_id="app-picker",
        )  # fmt: skip
        p.app_url = gr.Textbox(
            value=config.app_url, label="app_url", show_label=False, container=False, max_lines=1, scale=4,
            placeholder="or an app's URL (https://…databricksapps.com), then Enter",
            elem_id="app-url",
        )  # fmt: skip
        p.refresh_apps = gr.Button("↻", size="sm", scale=0, min_width=34, elem_id="refresh-apps")
        p.app_card = gr.HTML("", label="app_card", elem_id="app-card", scale=0, min_width=150)
    p.apps_notice = gr.HTML("", label="apps_notice", elem_classes="slot")
    p.apps_data = json_twin("apps")


def tab_strip(p: Panes) -> None:
    """The open requests, one tab each (method + name or path, a dot while unsaved), + and ×."""
    with gr.Row(equal_height=True, elem_id="tabbar"):
        p.tabstrip = gr.Radio(
            choices=[], value=None, label="open requests", show_label=False, container=False, scale=1,
            elem_id="tabstrip",
        )  # fmt: skip
        p.new_tab = gr.Button("+", size="sm", scale=0, min_width=34, elem_id="new-tab")
        p.close_tab = gr.Button("×", size="sm", scale=0, min_width=34, elem_id="close-tab")
    p.tabs_data = json_twin("tabs")


def request(p: Panes, config: UIConfig) -> None:
    tab_strip(p)
    with gr.Row(equal_height=True, elem_id="reqbar"):
        p.http_method = gr.Dropdown(
            choices=list(HTTP_METHODS),
            value="GET",
            label="method",
            show_label=False,
            container=False,
            scale=0,
            min_width=116,
            elem_id="http-method",
        )
        p.url = gr.Textbox(
            value=config.request_path,
            label="url",
            show_label=False,
            container=False,
            max_lines=1,
            placeholder="https://<app-url>/api/…  or  /api/…  or paste a curl command",
            scale=1,
            elem_id="url",
        )
        # Who this tab sends as: the page's connection, or an identity (ui.identities: choices
        # from the collection open in Collections, deployed "this app" and "me"), kept per tab.
        p.send_as = gr.Dropdown(
            choices=[(THIS_CONNECTION, THIS_CONNECTION)], value=THIS_CONNECTION, label="Send as",
            show_label=False, container=False, allow_custom_value=True, scale=0, min_width=184,
            elem_id="send-as",
        )  # fmt: skip
        p.send = gr.Button("Send", variant="primary", scale=0, min_width=96, elem_id="send")
        # Shown instead of Send by the stylesheet while a send runs (style.css: #main.sending-now).
        p.cancel = gr.Button("Cancel", variant="stop", scale=0, min_width=96, elem_id="cancel")
    p.notes = gr.Markdown("", visible=False, elem_id="notes")
    with gr.Tabs(elem_id="reqtabs") as p.request_tabs:
        with gr.Tab("Params", id="params"):
            with gr.Group(visible=False, elem_id="path-group") as p.path_group:
                p.path_table = gr.Dataframe(
                    headers=["Path parameter", "Value", "Type", "Required", "Description"],
                    datatype=["str", "str", "str", "str", "str"],
                    label="path parameters", show_label=False, interactive=True, static_columns=[0, 2, 3, 4],
                    buttons=[], elem_id="path-table",
                )  # fmt: skip
            p.params = _lines_box("params", "name=value, one per line  (# comments out a line)")
        with gr.Tab("Headers", id="headers"):
            p.headers = _lines_box("headers", "Name: value, one per line  (Authorization is added for you)")
        with gr.Tab("Body", id="body"):
            p.body = gr.Code(
                language="json", label="body", show_label=False, lines=4, max_lines=14, elem_id="body"
            )
        with gr.Tab("Options", id="options"):
            p.timeout = gr.Number(value=30, minimum=1, maximum=600, label="Timeout (s)", scale=0)


def _body_views(p: Panes) -> None:
    with gr.Tabs(elem_id="bodytabs"):
        with gr.Tab("Pretty", id="pretty"):
            p.pretty = gr.Code(
                language="json", label="pretty", show_label=False, interactive=False, lines=10, max_lines=22,
                elem_id="pretty",
            )  # fmt: skip
        with gr.Tab("Table", id="table") as p.table_tab:  # shown for tabular answers only (style.css)
            p.table = gr.Dataframe(
                label="table", show_label=False, interactive=False, max_height=400, elem_id="table"
            )
        with gr.Tab("Raw", id="raw"):
            p.raw = gr.Code(
                label="raw",
                show_label=False,
                interactive=False,
                lines=10,
                max_lines=22,
                wrap_lines=True,
                elem_id="raw",
            )


def response(p: Panes) -> None:
    p.sending_line = gr.HTML(SENDING_LINE, label="sending", elem_id="sending-line")
    p.status = gr.HTML(
        status_html(None) + pane_marks(0, False),
        label="status",
        js_on_load=SENDING_JS,
        elem_id="status",
    )
    # A truncated answer, whole: sent again into a file (shown for one only: style.css, pane marks).
    with gr.Row(equal_height=True, elem_id="full-row", elem_classes="tight"):
        p.fetch_full = gr.Button(
            "Download full response", size="sm", scale=0, min_width=180, elem_id="fetch-full"
        )
        p.full_download = gr.DownloadButton(
            "Save the file", size="sm", scale=0, min_width=110, visible=False, elem_id="full-download"
        )
        p.full_note = gr.HTML("", elem_id="full-note")
    p.banner = gr.HTML("", label="banner", elem_id="banner")
    # A stream as it arrives (its own event, so an update rebuilds nothing else), then as it ended.
    p.stream_live = gr.HTML("", label="stream_live", elem_id="stream-live")
    p.follow_stream = gr.Button("follow_stream", visible="hidden", elem_id="follow-stream")
    p.stream = gr.HTML("", label="stream", elem_id="stream")  # events, the agent's answer, background polls
    # A fix button on the page (banner or Diagnosis) hands its finding's index to apply_fix here.
    p.fix_index = gr.Textbox(label="fix_index", visible="hidden", elem_id="fix-index")
    p.apply_fix = gr.Button("apply_fix", visible="hidden", elem_id="apply-fix")
    with gr.Tabs(elem_id="resptabs") as p.response_tabs:
        with gr.Tab("Body", id="body"):
            _body_views(p)
        with gr.Tab("Headers", id="headers"):
            p.response_headers = gr.Dataframe(
                headers=["Header", "Value"], label="response_headers", show_label=False, interactive=False,
                max_height=400, elem_id="response-headers",
            )  # fmt: skip
        with gr.Tab("Token", id="token"):
            p.token = gr.HTML("", label="token", js_on_load=COUNTDOWN_JS, elem_id="token")
            with gr.Accordion("All claims", open=False):
                p.claims = gr.JSON(label="claims", show_label=False)
        with gr.Tab("Diagnosis", id="diagnosis") as p.diagnosis_tab:
            p.diagnosis = gr.HTML(findings_html([]), label="diagnosis", elem_id="diagnosis")
        with gr.Tab("Code", id="code") as p.code_tab:
            p.snippet_language = gr.Radio(
                SNIPPET_LANGUAGES,
                value="curl",
                label="language",
                show_label=False,
                elem_id="snippet-language",
            )
            p.snippet = gr.Code(
                language="shell", label="snippet", show_label=False, interactive=False, buttons=["copy"], lines=8,
                elem_id="snippet",
            )  # fmt: skip
    # What the panes show, as one JSON digest for gradio_client users (hidden on the page).
    p.summary = json_twin("summary")
    p.send_json = gr.Button("send_json", visible=False)  # the scripting twin of Send (api_name send_json)


def main_pane(p: Panes, config: UIConfig) -> None:
    with gr.Column(elem_id="main"):
        target(p, config)
        request(p, config)
        response(p)

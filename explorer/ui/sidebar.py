"""The left pane: connection (auth method, its fields, the identity card) and the app's endpoints."""

from __future__ import annotations

from typing import Any

import gradio as gr

from explorer.auth import METHODS
from explorer.ui.authform import box_names, box_view, is_secret, method_choices
from explorer.ui.config import UIConfig
from explorer.ui.main_pane import json_twin
from explorer.ui.panes import Panes
from explorer.ui.present import connection_html
from explorer.ui.theme import COUNTDOWN_JS

BRAND = (
    '<div class="brand"><span class="logo">◆</span><div><b>Apps API Explorer</b>'
    '<div class="muted small">Databricks Apps · token auth</div></div></div>'
)


def section(title: str) -> None:
    gr.HTML(f'<div class="section">{title}</div>')


def profile_choices() -> list[tuple[str, str]]:
    """(label, name) of the config file's profiles; none when the file is missing or unreadable."""
    from explorer.profiles import ProfileError, list_profiles

    try:
        profiles = list_profiles()
    except ProfileError:  # a broken ~/.databrickscfg must not stop the page from loading
        return []
    labels = ((p, " · ".join(x for x in (p.host, p.auth_type) if x)) for p in profiles)
    return [(f"{p.name} — {extra}" if extra else p.name, p.name) for p, extra in labels]


def field_box(name: str, config: UIConfig) -> gr.components.Component:
    """One auth field's box, as the preselected method wants it (secrets in password boxes)."""
    view = box_view(config.default_method, name, config.deployed)
    common: dict[str, Any] = {
        "label": view.label or name,
        "visible": view.visible,
        "elem_id": f"field-{name}",
    }
    if name == "profile":
        # "" rather than None: gradio_client treats a None default as a required argument
        value = config.box_value(name)
        choices = profile_choices()
        info = (
            None
            if choices
            else "No profiles in ~/.databrickscfg yet: run databricks auth login --host <workspace-url> "
            "--profile <name>, then reload"
        )
        return gr.Dropdown(choices=choices, value=value, allow_custom_value=True, info=info, **common)
    kind = "password" if is_secret(name) else "text"
    return gr.Textbox(
        value=config.box_value(name), placeholder=view.placeholder, type=kind, max_lines=1, **common
    )


def _interactive(method: str) -> bool:
    """A method a person completes in a browser: the page shows sign-in instead of Connect."""
    return bool(METHODS.get(method) and METHODS[method].interactive)


def _browser_signin(p: Panes, method: str) -> None:
    with gr.Group(visible=_interactive(method), elem_classes="browser-signin") as p.browser_group:
        p.begin_browser = gr.Button("Sign in with browser", variant="primary", elem_id="begin-browser")
        p.authorize = gr.HTML("", elem_id="authorize")
        p.waiting = gr.HTML("", elem_id="waiting")
        p.paste_url = gr.Textbox(
            label="Or paste the URL the browser ended on",
            placeholder="http://localhost:8020/?code=…",
            max_lines=1,
            elem_id="paste-url",
        )
        p.complete_browser = gr.Button("Complete sign-in", size="sm", elem_id="complete-browser")


def connection(p: Panes, config: UIConfig) -> None:
    method = config.default_method
    with gr.Accordion("Credentials", open=not config.autoconnect, elem_id="credentials") as p.credentials:
        p.method = gr.Dropdown(
            choices=method_choices(config.session_trust()),
            value=method,
            label="Auth method",
            elem_id="auth-method",
        )
        p.fields = {name: field_box(name, config) for name in box_names()}
        _browser_signin(p, method)
        p.connect = gr.Button(
            "Connect", variant="primary", visible=not _interactive(method), elem_id="connect"
        )
    p.connection = gr.HTML(
        connection_html(None, 0), label="connection", js_on_load=COUNTDOWN_JS, elem_id="connection"
    )
    p.connection_data = json_twin("connection")
    with gr.Row(elem_classes="reveal-row"):
        p.reveal = gr.Button("Reveal token", size="sm", elem_id="reveal")
    # One toggle: Hide lives with the revealed token and goes away with it.
    with gr.Group(visible=False, elem_id="revealed-group") as p.revealed_group:
        p.revealed = gr.Textbox(
            label="token", show_label=False, buttons=["copy"], max_lines=1, elem_id="revealed"
        )
        p.hide = gr.Button("Hide", size="sm", elem_id="hide")


def endpoints(p: Panes) -> None:
    p.endpoint_filter = gr.Textbox(
        label="filter",
        show_label=False,
        container=False,
        max_lines=1,
        placeholder="Filter endpoints",
        elem_id="endpoint-filter",
    )
    p.endpoints = gr.Dataframe(
        headers=["Method", "Endpoint"],
        datatype=["html", "html"],
        label="endpoints",
        show_label=False,
        interactive=False,
        max_height=360,
        column_widths=["19%", "81%"],
        buttons=[],
        elem_id="endpoints",
    )
    p.endpoints_data = json_twin("endpoints")
    p.listing = gr.HTML("", label="listing")


def history(p: Panes) -> None:
    p.history = gr.Dataframe(
        label="history", show_label=False, interactive=False, max_height=420, wrap=True,
        datatype=["number", "html", "html", "str", "str"], elem_id="history-table",
        column_widths=["8%", "20%", "48%", "14%", "10%"],  # every column within the sidebar's width
    )  # fmt: skip
    with gr.Row(equal_height=False, elem_classes="tight export-row"):
        p.export_format = gr.Radio(
            ["HAR", "JSON", "CSV"], value="HAR", label="format", show_label=False, container=False, scale=0,
            min_width=236, elem_id="export-format",
        )  # fmt: skip
        # Two steps: Export builds the file when asked (never on every send), then its download appears.
        p.export = gr.Button("Export", variant="primary", size="sm", scale=0, min_width=80, elem_id="export")
        p.download = gr.DownloadButton(
            "Download", size="sm", scale=0, min_width=96, visible=False, elem_id="download"
        )
    p.export_note = gr.HTML("", elem_id="export-note")
    gr.HTML(
        '<div class="muted small">Click a row to open it in a tab · secrets are redacted in exports</div>'
    )


def collections(p: Panes, config: UIConfig) -> None:
    """Open a collection folder, browse and filter it, open a request, save, pick an environment, run."""
    with gr.Row(equal_height=True, elem_classes="tight"):
        p.coll_location = gr.Textbox(
            value=config.collection_path, label="collection", show_label=False, container=False, max_lines=1,
            placeholder="workspace:/Users/… (deployed)" if config.deployed else "collection folder, e.g. examples/sandbox-demo",
            scale=1, elem_id="coll-location",
        )  # fmt: skip
        p.coll_open = gr.Button("Open", size="sm", scale=0, min_width=56, elem_id="coll-open")
        p.coll_import = gr.UploadButton(
            "Import…", size="sm", scale=0, min_width=70, file_types=[".json", ".yaml", ".yml", ".har"],
            elem_id="coll-import",
        )  # fmt: skip
    p.coll_title = gr.HTML("", elem_id="coll-title")
    with gr.Row(equal_height=True, elem_classes="tight"):
        p.coll_env = gr.Dropdown(
            choices=[], value=None, label="Environment", scale=1, min_width=120, elem_id="coll-env"
        )
        p.coll_run = gr.Button(
            "Run collection", variant="primary", size="sm", scale=0, min_width=110, elem_id="coll-run"
        )
    p.coll_filter = gr.Textbox(
        label="filter", show_label=False, container=False, max_lines=1, placeholder="Filter requests",
        elem_id="coll-filter",
    )  # fmt: skip
    p.coll_tree = gr.Dataframe(
        headers=["Method", "Request"], datatype=["html", "html"], label="collection", show_label=False,
        interactive=False, max_height=300, column_widths=["22%", "78%"], buttons=[], elem_id="coll-tree",
    )  # fmt: skip
    p.coll_tree_data = json_twin("collection")
    with gr.Row(equal_height=True, elem_classes="tight"):
        p.save_name = gr.Textbox(
            label="name", show_label=False, container=False, max_lines=1, placeholder="request name",
            scale=1, elem_id="save-name",
        )  # fmt: skip
        p.save = gr.Button("Save", size="sm", scale=0, min_width=50, elem_id="save")
        p.save_as = gr.Button("Save as", size="sm", scale=0, min_width=64, elem_id="save-as")
        p.rename = gr.Button("Rename", size="sm", scale=0, min_width=64, elem_id="rename")
        p.coll_delete = gr.Button("Delete…", size="sm", scale=0, min_width=64, elem_id="coll-delete")
    # Deleting asks first: what goes (the file, or the folder and its requests), then Delete or Keep.
    with gr.Group(visible=False, elem_id="delete-confirm") as p.delete_group:
        p.delete_question = gr.HTML("", elem_id="delete-question")
        p.delete_path = gr.Textbox(visible=False, label="path", elem_id="delete-path")
        with gr.Row(equal_height=True, elem_classes="tight"):
            p.delete_yes = gr.Button(
                "Delete", variant="stop", size="sm", scale=0, min_width=70, elem_id="delete-yes"
            )
            p.delete_no = gr.Button("Keep it", size="sm", scale=0, min_width=70, elem_id="delete-no")
    p.save_notice = gr.HTML("", elem_id="save-notice")
    p.run_summary = gr.HTML("", elem_id="run-summary")
    p.run_table = gr.Dataframe(
        headers=["", "Request", "Status", "ms", "✓"], datatype=["str", "html", "html", "str", "str"],
        label="run", show_label=False, interactive=False, max_height=320, wrap=True,
        column_widths=["6%", "45%", "20%", "14%", "15%"], buttons=[], elem_id="run-table",
    )  # fmt: skip
    p.run_data = json_twin("run")


def sidebar(p: Panes, config: UIConfig) -> None:
    with gr.Sidebar(width=380, elem_id="sidebar"):
        gr.HTML(BRAND)
        connection(p, config)
        with gr.Tabs(elem_id="sidetabs") as p.side_tabs:
            with gr.Tab("Endpoints", id="endpoints-tab") as p.endpoints_pane:
                endpoints(p)
            with gr.Tab("Collections", id="collections-tab", elem_id="collections") as p.collections_pane:
                collections(p, config)
            with gr.Tab("History", id="history-tab", elem_id="history") as p.history_pane:
                history(p)

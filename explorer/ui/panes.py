"""Every component the handlers read or write, declared once with its type.

`sidebar()` and `main_pane()` fill a `Panes`; events.py wires them. The request form's fields and
the response pane's outputs are declared here too, so their order lives in one place.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

import gradio as gr

# The request form, in the order handlers receive it (RequestForm's fields).
REQUEST_FORM = ("http_method", "url", "params", "headers", "body", "timeout", "app_url", "send_as")
# The response pane, in the order handlers.view_outputs() fills it.
RESPONSE_PANE = (
    "status", "pretty", "table", "raw", "response_headers", "token", "claims",
    "diagnosis", "response_tabs", "banner", "stream", "summary",
)  # fmt: skip
# What a send updates: the pane but its tabs (the one the user reads stays in front; which show,
# Table, and their labels, Diagnosis's count, are the stylesheet's, from present.pane_marks) ...
SEND_PANE = tuple(name for name in RESPONSE_PANE if name != "response_tabs")
# ... and of the tab chrome only the strip (the form, path table and notes are the tab's own).
ANSWER_CHROME = ("tabstrip", "tabs_data")
# What a tab switch changes besides the form and the response pane (handlers.tab_outputs, in order).
# Send and Cancel are not here: the stylesheet shows one or the other from the status line.
TAB_CHROME = ("tabstrip", "tabs_data", "path_table", "path_group", "notes", "request_tabs")


@dataclass(init=False)
class Panes:
    """The page's components by name; reading one that was never built fails at build time."""

    state: gr.State
    # connection (sidebar)
    method: gr.Dropdown
    fields: dict[str, gr.components.Component]
    credentials: gr.Accordion
    connect: gr.Button
    connection: gr.HTML
    connection_data: gr.Textbox
    browser_group: gr.Group
    begin_browser: gr.Button
    authorize: gr.HTML
    waiting: gr.HTML
    paste_url: gr.Textbox
    complete_browser: gr.Button
    reveal: gr.Button
    hide: gr.Button
    revealed: gr.Textbox
    revealed_group: gr.Group
    # endpoints (sidebar)
    endpoint_filter: gr.Textbox
    endpoints: gr.Dataframe
    endpoints_data: gr.Textbox
    listing: gr.HTML
    side_tabs: gr.Tabs
    # collections (sidebar)
    coll_location: gr.Textbox
    coll_open: gr.Button
    coll_import: gr.UploadButton
    coll_title: gr.HTML
    coll_env: gr.Dropdown
    coll_filter: gr.Textbox
    coll_tree: gr.Dataframe
    coll_tree_data: gr.Textbox
    coll_run: gr.Button
    run_summary: gr.HTML
    run_table: gr.Dataframe
    run_data: gr.Textbox
    save_name: gr.Textbox
    save: gr.Button
    save_as: gr.Button
    rename: gr.Button
    coll_delete: gr.Button
    delete_group: gr.Group
    delete_question: gr.HTML
    delete_path: gr.Textbox
    delete_yes: gr.Button
    delete_no: gr.Button
    save_notice: gr.HTML
    # app and request (main pane)
    app: gr.Dropdown
    app_url: gr.Textbox
    refresh_apps: gr.Button
    app_card: gr.HTML
    apps_notice: gr.HTML
    apps_data: gr.Textbox
    # request tabs (workbench)
    tabstrip: gr.Radio
    tabs_data: gr.Textbox
    new_tab: gr.Button
    close_tab: gr.Button
    http_method: gr.Dropdown
    url: gr.Textbox
    send_as: gr.Dropdown  # who the tab sends as (part of the form: kept per tab)
    send: gr.Button
    cancel: gr.Button
    path_group: gr.Group
    path_table: gr.Dataframe
    notes: gr.Markdown
    request_tabs: gr.Tabs
    params: gr.Textbox
    headers: gr.Textbox
    body: gr.Code
    timeout: gr.Number
    # response
    status: gr.HTML
    banner: gr.HTML
    stream: gr.HTML  # a streamed answer once it ended (present.stream)
    stream_live: gr.HTML  # a stream as it arrives (Handlers.follow_stream)
    follow_stream: gr.Button  # hidden: the status line's script presses it when a send starts
    fix_index: gr.Textbox
    apply_fix: gr.Button
    sending_line: gr.HTML
    fetch_full: gr.Button
    full_download: gr.DownloadButton
    full_note: gr.HTML
    pretty: gr.Code
    table: gr.Dataframe
    table_tab: gr.Tab
    raw: gr.Code
    response_headers: gr.Dataframe
    token: gr.HTML
    claims: gr.JSON
    diagnosis: gr.HTML
    diagnosis_tab: gr.Tab
    response_tabs: gr.Tabs
    code_tab: gr.Tab
    snippet_language: gr.Radio
    snippet: gr.Code
    summary: gr.Textbox
    send_json: gr.Button
    # history (the sidebar's other tabs, to know when the History table is hidden)
    endpoints_pane: gr.Tab
    collections_pane: gr.Tab
    history_pane: gr.Tab
    history: gr.Dataframe
    export_format: gr.Radio
    export: gr.Button
    download: gr.DownloadButton
    export_note: gr.HTML

    def __getattr__(self, name: str) -> Any:  # only called for names never assigned
        declared = {f.name for f in fields(self)}
        what = "was declared but never built" if name in declared else "is not a pane component"
        raise AttributeError(f"{name!r} {what}")

    def request_form(self) -> list[Any]:
        return [getattr(self, name) for name in REQUEST_FORM]

    def response_pane(self) -> list[Any]:
        return [getattr(self, name) for name in RESPONSE_PANE]

    def tab_view(self) -> list[Any]:
        """Everything a tab switch rewrites: state, chrome, the form, the response pane."""
        return [
            self.state,
            *(getattr(self, n) for n in TAB_CHROME),
            *self.request_form(),
            *self.response_pane(),
        ]

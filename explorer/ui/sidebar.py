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
            placeholder="http://localhost:8020/?code=…&state=…",
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
        p.hide = gr.Button("Hide", size="sm", elem_id="hide")
    with gr.Group(visible=False, elem_id="revealed-group") as p.revealed_group:
        p.revealed = gr.Textbox(
            label="token", show_label=False, buttons=["copy"], max_lines=1, elem_id="revealed"
        )


def endpoints(p: Panes) -> None:
    section("Endpoints")
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
        datatype=["str", "html"],
        label="endpoints",
        show_label=False,
        interactive=False,
        max_height=330,
        column_widths=["25%", "75%"],
        buttons=[],
        elem_id="endpoints",
    )
    p.endpoints_data = json_twin("endpoints")
    p.listing = gr.HTML("", label="listing")


def sidebar(p: Panes, config: UIConfig) -> None:
    with gr.Sidebar(width=360, elem_id="sidebar"):
        gr.HTML(BRAND)
        connection(p, config)
        endpoints(p)

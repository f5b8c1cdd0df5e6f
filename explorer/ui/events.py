"""Wiring: which component triggers which handler, with which inputs and outputs, under which api_name.

Every event is named so the page is scriptable with gradio_client (state is per client session).
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable
from typing import Any

import gradio as gr

from explorer.ui.authform import box_view
from explorer.ui.config import UIConfig
from explorer.ui.handlers import Handlers, friendly
from explorer.ui.state import UISession

log = logging.getLogger(__name__)


def profile_choices() -> list[tuple[str, str]]:
    """(label, name) of the config file's profiles; none when the file is missing or unreadable."""
    try:
        from explorer.profiles import list_profiles

        profiles = list_profiles()
    except Exception:  # a broken ~/.databrickscfg must not stop the page from loading
        log.warning("could not list profiles", exc_info=True)
        return []
    return [(_profile_label(pr), pr.name) for pr in profiles]


def _profile_label(profile: Any) -> str:
    extras = [x for x in (getattr(profile, "host", None), getattr(profile, "auth_type", None)) if x]
    return f"{profile.name} — {' · '.join(extras)}" if extras else profile.name


def close_session(ui: UISession | None) -> None:
    if ui is not None:
        ui.close()


def with_field_params(fn: Callable[..., Any], names: list[str], request: bool) -> Callable[..., Any]:
    """`fn(ui, *values[, request])` presented to Gradio with one named parameter per auth field.

    Gradio (and gradio_client's keyword arguments) read parameter names from the signature, so a
    script can call `connect(method="m2m", host=…, client_id=…)` instead of guessing positions.
    """

    def call(*args: Any) -> Any:
        return fn(*args)

    params = [inspect.Parameter("ui", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    params += [inspect.Parameter(n, inspect.Parameter.POSITIONAL_OR_KEYWORD) for n in names]
    if request:
        params.append(
            inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=gr.Request)
        )
        call.__annotations__ = {"request": gr.Request}  # how Gradio spots the request parameter
    call.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    call.__name__ = fn.__name__
    return call


# Fields that mean the same for every method: switching methods keeps what was typed in them.
_SAME_MEANING = frozenset({"host", "scopes", "token_env", "config_file"})


def _box_update(method: str, name: str, value: str, config: UIConfig) -> Any:
    view = box_view(method, name)
    if not view.visible:
        return gr.update(visible=False)
    keep = name in _SAME_MEANING and value
    return gr.update(
        visible=True,
        label=view.label,
        info=view.info,
        value=value if keep else config.box_value(name, method),
    )


def _connection_events(p: Any, h: Handlers, config: UIConfig) -> None:
    names = list(p.fields)
    boxes = list(p.fields.values())

    def select_method(method: str, *values: str) -> tuple[Any, ...]:
        """Relabel the field boxes for `method`; values keep only where the meaning is the same."""
        boxes = [_box_update(method, n, v, config) for n, v in zip(names, values, strict=True)]
        browser = method == "browser"
        return *boxes, gr.Group(visible=browser), gr.Button(visible=not browser)

    p.method.change(
        select_method, [p.method, *boxes], [*boxes, p.browser_group, p.connect], api_name="select_method"
    )

    def connect(ui: UISession | None, method: str, *rest: Any) -> tuple[UISession, str]:
        *values, request = rest
        return h.connect(ui, method, names, list(values), request)

    connect_fn = friendly(with_field_params(connect, ["method", *names], request=True))
    p.connect.click(connect_fn, [p.state, p.method, *boxes], [p.state, p.connection], api_name="connect").then(
        friendly(h.list_apps_if_connected), [p.state, p.app], [p.state, p.app, p.apps_notice],
        api_name="list_apps_after_connect", api_visibility="undocumented",
    )  # fmt: skip

    def begin_browser(ui: UISession | None, *values: Any) -> tuple[UISession, str]:
        return h.begin_browser(ui, names, list(values))

    p.begin_browser.click(
        friendly(with_field_params(begin_browser, names, request=False)), [p.state, *boxes],
        [p.state, p.authorize], api_name="begin_browser",
    ).then(friendly(h.wait_browser), p.state, [p.state, p.waiting, p.connection], api_name="wait_browser")  # fmt: skip
    p.complete_browser.click(
        friendly(h.complete_browser), [p.state, p.paste_url], [p.state, p.connection, p.waiting],
        api_name="complete_browser",
    )  # fmt: skip
    p.reveal.click(friendly(h.reveal_token), p.state, p.revealed, api_name="reveal_token")
    p.hide.click(lambda: gr.Textbox(value="", visible=False), None, p.revealed, api_name="hide_token")


def _discovery_events(p: Any, h: Handlers) -> None:
    p.refresh_apps.click(
        friendly(h.list_apps), [p.state, p.app], [p.state, p.app, p.apps_notice], api_name="list_apps"
    )
    list_endpoints = friendly(h.list_endpoints)
    endpoint_outputs = [p.state, p.endpoints, p.listing]
    p.app.change(
        friendly(h.pick_app), [p.state, p.app, p.app_url], [p.state, p.app_url, p.app_card], api_name="pick_app"
    ).then(
        friendly(h.list_endpoints_if_url), [p.state, p.app_url, p.endpoint_filter], endpoint_outputs,
        api_name="list_endpoints_after_pick", api_visibility="undocumented",
    )  # fmt: skip
    p.app_url.submit(
        list_endpoints, [p.state, p.app_url, p.endpoint_filter], endpoint_outputs, api_name="list_endpoints"
    )
    p.endpoint_filter.change(
        friendly(h.filter_endpoints), [p.state, p.endpoint_filter], [p.state, p.endpoints],
        api_name="filter_endpoints", show_progress="hidden",
    )  # fmt: skip
    p.endpoints.select(
        friendly(h.pick_endpoint), [p.state, p.app_url],
        [p.http_method, p.url, p.params, p.body, p.request_tabs], api_name="pick_endpoint",
    )  # fmt: skip


def _request_events(p: Any, h: Handlers, response: list[Any]) -> None:
    form = [p.http_method, p.url, p.params, p.headers, p.body, p.timeout, p.app_url]
    send_inputs = [p.state, *form, p.snippet_language, p.export_format]
    send_outputs = [p.state, *response, p.snippet, p.history, p.download]
    send = friendly(h.send)
    p.send.click(send, send_inputs, send_outputs, api_name="send", show_progress_on=[p.status])
    p.url.submit(send, send_inputs, send_outputs, api_name="send_on_enter", show_progress_on=[p.status])
    snippet = friendly(h.snippet)
    snippet_inputs = [p.state, *form, p.snippet_language]
    p.snippet_language.change(snippet, snippet_inputs, [p.state, p.snippet], api_name="snippet")
    p.code_tab.select(snippet, snippet_inputs, [p.state, p.snippet], api_name="snippet_on_tab")


def _history_events(p: Any, h: Handlers, response: list[Any]) -> None:
    p.history.select(friendly(h.show_exchange), p.state, [p.state, *response], api_name="show_exchange")
    p.export_format.change(
        friendly(h.export_history),
        [p.state, p.export_format],
        [p.state, p.download],
        api_name="export_history",
    )


def _startup_events(blocks: gr.Blocks, p: Any, h: Handlers, config: UIConfig) -> None:
    """Page load: offer `user` when deployed with a forwarded token; demo: connect and pick the app."""
    names = list(p.fields)
    boxes = list(p.fields.values())

    def startup(ui: UISession | None, method: str, *rest: Any) -> tuple[Any, ...]:
        *values, request = rest
        return h.startup(ui, method, names, list(values), request)

    blocks.load(
        friendly(with_field_params(startup, ["method", *names], request=True)),
        [p.state, p.method, *boxes], [p.state, p.method, p.connection], api_name="startup",
    ).then(
        friendly(h.list_apps_if_connected), [p.state, p.app], [p.state, p.app, p.apps_notice],
        api_name="list_apps_on_load", api_visibility="undocumented",
    )  # fmt: skip


def wire(blocks: gr.Blocks, p: Any, config: UIConfig) -> None:
    from explorer.ui.layout import response_outputs

    h = Handlers(config)
    response = response_outputs(p)
    _connection_events(p, h, config)
    _discovery_events(p, h)
    _request_events(p, h, response)
    _history_events(p, h, response)
    _startup_events(blocks, p, h, config)

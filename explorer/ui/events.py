"""Wiring: which component triggers which handler, with which inputs and outputs, under which api_name.

Every event is named so the page is scriptable with gradio_client (state is per client session).
Events a page chains after another (`.then`) are named but undocumented.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterator
from typing import Any

import gradio as gr

from explorer.auth import METHODS
from explorer.ui.authform import box_view
from explorer.ui.collection_handlers import CollectionHandlers
from explorer.ui.config import UIConfig
from explorer.ui.forms import FORM_PARAMS, RequestForm
from explorer.ui.handlers import Handlers, friendly
from explorer.ui.panes import ANSWER_CHROME, SEND_PANE, TAB_CHROME, Panes
from explorer.ui.state import UISession
from explorer.ui.theme import SENT_JS

# Fields that mean the same for every method: switching methods keeps what was typed in them.
_SAME_MEANING = frozenset({"host", "scopes", "token_env", "config_file"})


def close_session(ui: UISession | None) -> None:
    """gr.State's delete callback: the browser session is gone, release its engine session."""
    if ui is not None:
        ui.close()


def with_field_params(fn: Callable[..., Any], names: list[str], request: bool) -> Callable[..., Any]:
    """`fn(ui, *values[, request])` shown to Gradio with one named parameter per form field.

    Gradio (and gradio_client's keyword arguments) take parameter names from the signature, so a
    script can call `connect(method="m2m", host=…, client_id=…)` instead of counting positions.
    """

    if inspect.isgeneratorfunction(fn):  # a streaming handler stays one (Gradio streams its yields)

        def call(*args: Any) -> Any:
            yield from fn(*args)

    else:

        def call(*args: Any) -> Any:
            return fn(*args)

    kind = inspect.Parameter.POSITIONAL_OR_KEYWORD
    params = [inspect.Parameter(n, kind) for n in ["ui", *names]]
    if request:
        params.append(inspect.Parameter("request", kind, annotation=gr.Request))
        call.__annotations__ = {"request": gr.Request}  # how Gradio spots where to pass the request
    call.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    call.__name__ = fn.__name__
    return call


def _box_update(method: str, name: str, value: Any, config: UIConfig) -> Any:
    view = box_view(method, name, config.deployed)
    if not view.visible:
        return gr.update(visible=False)
    kept = value if (name in _SAME_MEANING and value) else config.box_value(name, method)
    update: dict[str, Any] = {"visible": True, "label": view.label, "value": kept}
    if name != "profile":
        update["placeholder"] = view.placeholder
    return gr.update(**update)


def _connection_events(p: Panes, h: Handlers, config: UIConfig) -> None:
    names, boxes = list(p.fields), list(p.fields.values())
    connection = [p.connection, p.connection_data, p.credentials]
    apps = [p.state, p.app, p.apps_notice, p.apps_data]
    list_apps_after = friendly(h.list_apps_if_connected)

    def select_method(_ui: Any, method: str, *values: Any) -> tuple[Any, ...]:
        """Relabel the field boxes for `method`; values stay only where they mean the same."""
        updates = [_box_update(method, n, v, config) for n, v in zip(names, values, strict=True)]
        browser = bool(METHODS.get(method) and METHODS[method].interactive)
        return *updates, gr.Group(visible=browser), gr.Button(visible=not browser)

    p.method.change(
        with_field_params(select_method, ["method", *names], request=False),
        [p.state, p.method, *boxes], [*boxes, p.browser_group, p.connect], api_name="select_method",
    )  # fmt: skip

    def connect(ui: UISession | None, method: str, *rest: Any) -> tuple[Any, ...]:
        *values, request = rest
        return h.connect(ui, method, names, values, request)

    p.connect.click(
        friendly(with_field_params(connect, ["method", *names], request=True)),
        [p.state, p.method, *boxes], [p.state, *connection], api_name="connect",
    ).then(list_apps_after, [p.state, p.app], apps, api_name="list_apps_after_connect", api_visibility="undocumented")  # fmt: skip

    def begin_browser(ui: UISession | None, *values: Any) -> tuple[Any, ...]:
        return h.begin_browser(ui, names, values)

    waiting = p.begin_browser.click(
        friendly(with_field_params(begin_browser, names, request=False)),
        [p.state, *boxes], [p.state, p.authorize], api_name="begin_browser",
    ).then(friendly(h.wait_browser), p.state, [p.state, p.waiting, *connection], api_name="wait_browser")  # fmt: skip
    waiting.then(list_apps_after, [p.state, p.app], apps, api_name="list_apps_after_sign_in", api_visibility="undocumented")  # fmt: skip
    # A pasted URL, or a new sign-in, ends the page's wait for the previous one (the engine ignores
    # a superseded sign-in, so a late timeout never undoes the connection).
    p.begin_browser.click(None, cancels=[waiting], api_visibility="private")
    p.complete_browser.click(
        friendly(h.complete_browser), [p.state, p.paste_url], [p.state, p.waiting, *connection],
        api_name="complete_browser", cancels=[waiting],
    ).then(list_apps_after, [p.state, p.app], apps, api_name="list_apps_after_paste", api_visibility="undocumented")  # fmt: skip
    revealed = [p.revealed, p.revealed_group]
    p.reveal.click(friendly(h.reveal_token), p.state, revealed, api_name="reveal_token")
    p.hide.click(lambda: ("", gr.Group(visible=False)), None, revealed, api_name="hide_token")


def _discovery_events(p: Panes, h: Handlers) -> None:
    endpoint_outputs = [p.state, p.endpoints, p.endpoints_data, p.listing]
    p.refresh_apps.click(
        friendly(h.list_apps),
        [p.state, p.app],
        [p.state, p.app, p.apps_notice, p.apps_data],
        api_name="list_apps",
    )
    p.app.change(
        friendly(h.pick_app), [p.state, p.app, p.app_url], [p.state, p.app_url, p.app_card], api_name="pick_app"
    ).then(
        friendly(h.list_endpoints_if_url), [p.state, p.app_url, p.endpoint_filter], endpoint_outputs,
        api_name="list_endpoints_after_pick", api_visibility="undocumented",
    )  # fmt: skip
    p.app_url.submit(
        friendly(h.list_endpoints), [p.state, p.app_url, p.endpoint_filter], endpoint_outputs,
        api_name="list_endpoints",
    )  # fmt: skip
    p.endpoint_filter.change(
        friendly(h.filter_endpoints), [p.state, p.endpoint_filter], [p.state, p.endpoints, p.endpoints_data],
        api_name="filter_endpoints", show_progress="hidden",
    )  # fmt: skip
    p.endpoints.select(
        friendly(h.pick_endpoint), [p.state, p.app_url], p.tab_view(), api_name="pick_endpoint"
    )
    p.endpoints.select(
        friendly(h.toggle_endpoint_group), [p.state, p.endpoint_filter], [p.state, p.endpoints, p.endpoints_data],
        api_name="toggle_endpoint_group", show_progress="hidden",
    )  # fmt: skip
    p.endpoint_filter.submit(
        friendly(h.open_first_endpoint), [p.state, p.app_url, p.endpoint_filter], p.tab_view(),
        api_name="open_first_endpoint",
    )  # fmt: skip


def snippet_highlighting(language: str) -> Any:
    """The Code pane's highlighter for a snippet language (set apart, so `snippet` returns plain text)."""
    return gr.Code(language="shell" if language == "curl" else "python")


def with_form(fn: Callable[..., Any], extra: list[str], request: bool) -> Callable[..., Any]:
    """`fn(ui, form, *extra[, request])` shown to Gradio as `(ui, method, url, …, *extra[, request])`:
    the request form's fields are declared once (forms.FORM_PARAMS, panes.REQUEST_FORM)."""
    size = len(FORM_PARAMS)

    if inspect.isgeneratorfunction(fn):

        def call(ui: Any, *rest: Any) -> Any:
            yield from fn(ui, RequestForm.from_values(rest[:size]), *rest[size:])

    else:

        def call(ui: Any, *rest: Any) -> Any:
            return fn(ui, RequestForm.from_values(rest[:size]), *rest[size:])

    call.__name__ = fn.__name__
    return with_field_params(call, [*FORM_PARAMS, *extra], request=request)


def processed_here(fn: Callable[..., Any], inputs: list[Any], outputs: list[Any]) -> Callable[..., Any]:
    """`fn` with its inputs' `preprocess` and outputs' `postprocess` run in its own thread: wire it
    with `preprocess=False, postprocess=False`.

    Gradio runs each input's preprocess and each output's postprocess as a task of its own in a
    worker thread: a thread hop each, ~0.1 ms of server CPU, 26 per send. The components' own
    methods, called here, give the same values with none (docs/BENCH.md, "CPU per send").
    They are the components as built, not a session's copy with updated properties: an input whose
    choices a session changes must allow custom values (Send as does)."""
    from gradio.utils import is_prop_update

    def preprocessed(args: tuple[Any, ...]) -> tuple[Any, ...]:
        values = list(args)
        for i, block in enumerate(inputs):
            if block.stateful or values[i] is None:
                continue  # Gradio hands a State its session value itself, whatever the flag
            model = getattr(block, "data_model", None)
            value = model.model_validate(values[i], context={"validate_meta": True}) if model else values[i]
            values[i] = block.preprocess(value)
        return tuple(values)

    def wire(block: Any, value: Any) -> Any:
        if block.stateful:
            return value  # Gradio stores it as it is
        if isinstance(value, gr.blocks.Block):  # a component as an update, as Gradio reads one
            value = {**value.constructor_args, "__type__": "update"}
        if is_prop_update(value):
            if "value" not in value:
                return value
            value = dict(value)
            value["value"] = postprocessed_value(block, value["value"])
            return value
        return postprocessed_value(block, value)

    def postprocessed(result: Any) -> Any:
        if len(outputs) == 1:
            return wire(outputs[0], result)
        return tuple(wire(block, value) for block, value in zip(outputs, result, strict=True))

    if inspect.isgeneratorfunction(fn):

        @functools.wraps(fn)
        def streaming(*args: Any) -> Iterator[Any]:
            for result in fn(*preprocessed(args)):
                yield postprocessed(result)

        return streaming

    @functools.wraps(fn)
    def plain(*args: Any) -> Any:
        return postprocessed(fn(*preprocessed(args)))

    return plain


def postprocessed_value(block: Any, value: Any) -> Any:
    """What `block.postprocess(value)` sends the page, as plain data.

    A table given as `{"headers", "data"}` lists (the shape the explorer's tables come in) is
    passed as gr.Dataframe itself passes it, without its probe for polars on every call (a failed
    `importlib.util.find_spec`, a walk over sys.path, twice a table); tests compare the two."""
    if isinstance(block, gr.Dataframe) and isinstance(value, dict) and isinstance(value.get("data"), list):
        headers = list(value.get("headers") or block.headers or [])
        data = value["data"]
        if not data:
            return {"headers": headers, "data": [], "metadata": None}
        width = len(data[0])
        headers = headers[:width] + [str(i) for i in range(len(headers) + 1, width + 1)]
        return {"headers": headers, "data": data, "metadata": value.get("metadata")}
    dump = getattr(value := block.postprocess(value), "model_dump", None)
    return dump() if callable(dump) else value


def _tab_events(p: Panes, h: Handlers) -> None:
    """Request tabs: switch, open, close; typing marks a tab unsaved; the path-variable table."""
    form, view = p.request_form(), p.tab_view()
    p.tabstrip.input(
        friendly(with_form(h.switch_tab, ["tab"], request=False)), [p.state, *form, p.tabstrip], view,
        api_name="switch_tab",
    )  # fmt: skip
    p.new_tab.click(
        friendly(with_form(h.new_tab, [], request=False)), [p.state, *form], view, api_name="new_tab"
    )
    p.close_tab.click(
        friendly(with_form(h.close_tab, [], request=False)), [p.state, *form], view, api_name="close_tab"
    )
    edit = friendly(with_form(h.edit_form, [], request=False))
    boxes = {"method": p.http_method, "url": p.url, "params": p.params, "headers": p.headers, "body": p.body}
    for name, box in boxes.items():
        box.input(
            edit, [p.state, *form], view, api_name=f"edit_{name}",
            api_visibility="public" if name == "url" else "undocumented",  # edit_url: paste a curl command
            show_progress="hidden", trigger_mode="always_last",
        )  # fmt: skip
    p.path_table.input(
        friendly(h.edit_path), [p.state, p.path_table], p.state, api_name="edit_path", show_progress="hidden"
    )


def _request_events(p: Panes, h: Handlers) -> None:
    form = p.request_form()
    send_inputs = [p.state, *form, p.snippet_language, p.export_format]
    # One event a send, one update (handlers.send; a stream's answer comes after its follower); the
    # page shows "Sending…" itself (theme.py) and ends that when the event ends, answered or not
    # (the JS-only step after it: no server call).
    send_outputs = [
        p.state, *(getattr(p, n) for n in ANSWER_CHROME), *(getattr(p, n) for n in SEND_PANE), p.snippet, p.history,
    ]  # fmt: skip
    send = processed_here(
        friendly(with_form(h.send, ["snippet_language", "export_format"], request=True)),
        send_inputs,
        send_outputs,
    )
    for trigger, name in ((p.send.click, "send"), (p.url.submit, "send_on_enter")):
        # "multiple": a send from another tab while one runs is never dropped (Gradio's default "once" would).
        trigger(
            send, send_inputs, send_outputs, api_name=name, show_progress="hidden", trigger_mode="multiple",
            preprocess=False, postprocess=False,
        ).then(
            None, None, None, js=SENT_JS, api_name=f"sent_{name}", api_visibility="undocumented",
            show_progress="hidden", queue=False,
        )  # fmt: skip
    # A send's stream as it arrives, into its own pane part (the status line's script presses the
    # hidden button once a send shows "Sending…"): an event apart from `send`, see handlers.follow_stream.
    # Then the answer of the send that handed its stream over (handlers.finish_stream).
    p.follow_stream.click(
        friendly(h.follow_stream), p.state, p.stream_live, api_name="follow_stream", api_visibility="undocumented",
        show_progress="hidden", trigger_mode="multiple", concurrency_limit=None,
    ).then(
        friendly(h.finish_stream), [p.state, p.snippet_language], send_outputs, api_name="finish_stream",
        api_visibility="undocumented", show_progress="hidden", concurrency_limit=None,
    )  # fmt: skip
    names, boxes = list(p.fields), list(p.fields.values())

    def apply_fix(ui: UISession | None, fix_index: str, method: str, *rest: Any) -> tuple[Any, ...]:
        *values, request = rest
        return h.apply_fix(
            ui,
            fix_index,
            method,
            names,
            values[: len(names)],
            RequestForm.from_values(values[len(names) :]),
            request,
        )

    p.apply_fix.click(
        friendly(with_field_params(apply_fix, ["fix_index", "auth_method", *names, *FORM_PARAMS], request=True)),
        [p.state, p.fix_index, p.method, *boxes, *form],
        [p.state, p.method, *boxes, p.connection, p.connection_data, p.credentials, p.http_method, p.url, p.timeout],
        api_name="apply_fix",
    ).then(friendly(h.list_apps_if_connected), [p.state, p.app], [p.state, p.app, p.apps_notice, p.apps_data],
           api_name="list_apps_after_fix", api_visibility="undocumented")  # fmt: skip
    p.cancel.click(friendly(h.cancel), p.state, p.state, api_name="cancel")
    p.fetch_full.click(
        friendly(h.fetch_full),
        p.state,
        [p.state, p.full_download, p.full_note],
        api_name="download_full_response",
    )
    p.send_json.click(
        friendly(with_form(h.send_json, [], request=True)), [p.state, *form], [p.state, p.summary],
        api_name="send_json",
    )  # fmt: skip
    snippet = friendly(with_form(h.snippet, ["snippet_language"], request=False))
    snippet_inputs = [p.state, *form, p.snippet_language]
    p.snippet_language.change(
        snippet_highlighting, p.snippet_language, p.snippet, queue=False,
        api_name="snippet_highlighting", api_visibility="undocumented",
    ).then(snippet, snippet_inputs, [p.state, p.snippet], api_name="snippet")  # fmt: skip
    p.code_tab.select(snippet, snippet_inputs, [p.state, p.snippet], api_name="snippet_on_tab")


def _history_events(p: Panes, h: Handlers) -> None:
    p.history_pane.select(friendly(h.history), p.state, [p.state, p.history], api_name="history")
    for pane, name in ((p.endpoints_pane, "endpoints"), (p.collections_pane, "collections")):
        pane.select(
            friendly(h.history_closed), p.state, p.state, api_name=f"history_closed_by_{name}",
            api_visibility="undocumented", show_progress="hidden", queue=False,
        )  # fmt: skip
    p.history.select(friendly(h.show_exchange), p.state, p.tab_view(), api_name="show_exchange")
    export = [p.state, p.download, p.export_note]
    p.export.click(friendly(h.export_history), [p.state, p.export_format], export, api_name="export_history")
    p.export_format.change(
        friendly(h.export_stale), p.state, export, api_name="export_stale", api_visibility="undocumented",
        show_progress="hidden",
    )  # fmt: skip


def _collection_events(p: Panes, h: Handlers) -> None:
    """The Collections sidebar: open, filter, open a request in a tab, save, run with live rows."""
    c = CollectionHandlers(h)
    tree = [p.coll_tree, p.coll_tree_data]
    send_as = friendly(h.send_as_choices)
    p.coll_open.click(
        friendly(c.open_collection), [p.state, p.coll_location, p.coll_filter],
        [p.state, p.coll_title, p.coll_env, *tree], api_name="open_collection",
    ).then(send_as, p.state, p.send_as, api_name="send_as_after_open", api_visibility="undocumented")  # fmt: skip
    p.coll_location.submit(
        friendly(c.open_collection), [p.state, p.coll_location, p.coll_filter],
        [p.state, p.coll_title, p.coll_env, *tree], api_name="open_collection_on_enter",
        api_visibility="undocumented",
    ).then(send_as, p.state, p.send_as, api_name="send_as_after_enter", api_visibility="undocumented")  # fmt: skip
    p.coll_import.upload(
        friendly(c.import_file), [p.state, p.coll_import, p.coll_filter],
        [p.state, p.coll_title, p.coll_env, *tree], api_name="import_collection",
    ).then(send_as, p.state, p.send_as, api_name="send_as_after_import", api_visibility="undocumented")  # fmt: skip
    p.coll_filter.change(
        friendly(c.filter_tree), [p.state, p.coll_filter], [p.state, *tree], api_name="filter_collection",
        show_progress="hidden",
    )  # fmt: skip
    p.coll_env.input(
        friendly(c.pick_environment), [p.state, p.coll_env], p.state, api_name="pick_environment"
    )
    view = p.tab_view()
    p.coll_tree.select(
        friendly(c.pick_row), [p.state, p.coll_env], [*view, p.coll_run], api_name="open_collection_item"
    )

    form = p.request_form()
    saved = [p.state, p.save_notice, *tree, *view[1:]]
    for button, mode in ((p.save, "save"), (p.save_as, "save_as"), (p.rename, "rename")):

        def save(ui: UISession | None, form: RequestForm, name: str, mode: str = mode) -> tuple[Any, ...]:
            return c.save(ui, form, name, mode)

        button.click(
            friendly(with_form(save, ["name"], request=False)), [p.state, *form, p.save_name], saved,
            api_name=f"{mode}_request",
        )  # fmt: skip
    p.coll_delete.click(
        friendly(c.ask_delete), p.state, [p.state, p.delete_group, p.delete_question, p.delete_path],
        api_name="ask_delete",
    )  # fmt: skip
    p.delete_yes.click(
        friendly(c.delete), [p.state, p.delete_path, p.coll_filter],
        [p.state, p.delete_group, p.save_notice, p.coll_title, *tree, p.coll_run],
        api_name="delete_collection_item",
    )  # fmt: skip
    p.delete_no.click(lambda: gr.update(visible=False), None, p.delete_group, api_name="keep_collection_item")
    p.coll_run.click(
        friendly(c.run), [p.state, p.coll_env], [p.state, p.run_summary, p.run_table, p.run_data],
        api_name="run_collection", show_progress="hidden",
    ).then(friendly(h.history), p.state, [p.state, p.history], api_name="history_after_run", api_visibility="undocumented")  # fmt: skip
    p.run_table.select(friendly(c.open_result), p.state, view, api_name="open_run_result")


def _startup_events(blocks: gr.Blocks, p: Panes, h: Handlers) -> None:
    """Page load: offer `user` when deployed with a forwarded token; the demo connects and lists apps."""
    names, boxes = list(p.fields), list(p.fields.values())

    def startup(ui: UISession | None, method: str, *rest: Any) -> tuple[Any, ...]:
        *values, request = rest
        return h.startup(ui, method, names, values, request)

    blocks.load(
        friendly(with_field_params(startup, ["method", *names], request=True)), [p.state, p.method, *boxes],
        [p.state, p.method, p.connection, p.connection_data, p.credentials], api_name="startup",
    ).then(
        friendly(h.list_apps_if_connected), [p.state, p.app], [p.state, p.app, p.apps_notice, p.apps_data],
        api_name="list_apps_on_load", api_visibility="undocumented",
    ).then(
        friendly(h.send_as_choices), p.state, p.send_as, api_name="send_as_on_load", api_visibility="undocumented",
    )  # fmt: skip
    blocks.load(
        friendly(with_form(h.first_tab, [], request=False)), [p.state, *p.request_form()],
        [p.state, *(getattr(p, n) for n in TAB_CHROME)], api_name="first_tab", api_visibility="undocumented",
    )  # fmt: skip


def wire(blocks: gr.Blocks, p: Panes, config: UIConfig) -> None:
    h = Handlers(config)
    _connection_events(p, h, config)
    _discovery_events(p, h)
    _tab_events(p, h)
    _request_events(p, h)
    _history_events(p, h)
    _collection_events(p, h)
    _startup_events(blocks, p, h)

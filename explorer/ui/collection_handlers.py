"""The Collections sidebar's handlers: open a collection, open a request in a tab, save it, run.

Thin like handlers.py: files, variables and the runner are explorer.collection's; this module only
keeps the open collection in the session's UISession and formats with `present.collections`.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import gradio as gr

from explorer.collection.files import (
    CollectionError,
    delete_item,
    list_environments,
    load_collection,
    save_collection,
    save_request,
)
from explorer.collection.identities import Identities, simple_connector
from explorer.collection.model import Body, Collection, Pair, Request
from explorer.collection.runner import RequestResult, RunPlan, run
from explorer.collection.storage import FolderStorage, Storage, StorageError
from explorer.collection.variables import UndefinedVariable
from explorer.parse import parse_header_lines
from explorer.ui import present
from explorer.ui.forms import FormError, RequestForm
from explorer.ui.handlers import Handlers, request_form, tab_outputs
from explorer.ui.identities import page_environment
from explorer.ui.present import collections as view
from explorer.ui.state import UISession


@dataclass
class OpenCollection:
    """The collection a session has open, the rows its tree shows, and its latest run."""

    storage: Storage
    location: str
    collection: Collection
    environments: list[str]
    rows: list[view.TreeRow] = field(default_factory=list)
    results: list[RequestResult] = field(default_factory=list)
    selected_folder: str | None = None
    picked: view.TreeRow | None = None  # the tree row clicked last: what Delete… offers to delete
    env: str | None = None
    environ: dict[str, str] = field(default_factory=dict, repr=False)

    def request(self, path: str) -> Request | None:
        return next((r for _trail, r in self.collection.requests() if r.path == path), None)

    def resolve(self, form: RequestForm) -> RequestForm:
        """The form with its {{variables}} resolved by the collection's layers (the runner's Scope)."""
        try:
            scope = RunPlan.load(self.storage, env=self.env, environ=self.environ).scope
            texts = {
                k: scope.resolve(getattr(form, k), f"the request ({k})")
                for k in ("url", "params", "headers", "body")
            }
        except (CollectionError, StorageError, UndefinedVariable) as e:
            raise FormError(str(e)) from None
        return replace(form, **texts)


class CollectionHandlers:
    def __init__(self, handlers: Handlers) -> None:
        self.h = handlers

    def storage_for(self, ui: UISession, location: str) -> Storage:
        """A folder on this machine; deployed, only the workspace's files (the server's are not the user's)."""
        location = (location or "").strip()
        if not location:
            raise FormError("Type the collection's folder (e.g. examples/sandbox-demo), then Open.")
        if self.h.config.deployed or location.startswith("workspace:"):
            from explorer.collection.workspace_storage import WorkspaceStorage

            return WorkspaceStorage.from_session(ui.explorer, location.removeprefix("workspace:"))
        return FolderStorage(location)

    def open_collection(self, ui: UISession | None, location: str, query: str) -> tuple[Any, ...]:
        """Open a collection folder: its tree, its environments, its load errors (each once)."""
        ui = self.h.session(ui)
        try:
            storage = self.storage_for(ui, location)
            collection = load_collection(storage)
            environments = list_environments(storage)
        except (CollectionError, StorageError, OSError) as e:
            raise FormError(f"Cannot open {location!r}: {e}") from None
        env = environments[0] if environments else None
        ui.collection = OpenCollection(
            storage,
            location,
            collection,
            environments,
            env=env,
            environ=page_environment(ui, self.h.config.deployed),
        )
        return ui, _title(collection), gr.update(choices=environments, value=env), *self._tree(ui, query)

    def _tree(self, ui: UISession, query: str) -> tuple[Any, ...]:
        opened: OpenCollection | None = ui.collection
        if opened is None:
            return view.tree_frame([]), present.as_json([])
        opened.rows = view.tree_rows(opened.collection, query)
        data = [{"kind": r.kind, "path": r.path, "label": r.label, "method": r.method} for r in opened.rows]
        return view.tree_frame(opened.rows), present.as_json(data)

    def import_file(self, ui: UISession | None, file: Any, query: str) -> tuple[Any, ...]:
        """A Postman collection, an OpenAPI document or a HAR file: imported by explorer.collection's
        importers into a new collection folder (secrets left out), which is then opened."""
        ui = self.h.session(ui)
        path = getattr(file, "name", file)
        if not path:
            raise FormError("Choose a Postman, OpenAPI or HAR file to import.")
        try:
            text = Path(str(path)).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            raise FormError(f"Cannot read that file: {e}") from None
        result = _import_text(text, Path(str(path)).name)
        for secret in result.secrets:
            ui.explorer.redactor.add(secret)
        target = ui.export_path("collection-" + _slug(result.collection.name))
        target.mkdir(parents=True, exist_ok=True)
        storage = FolderStorage(target)
        try:
            save_collection(storage, result.collection, ui.explorer.redactor, result.environments)
            for name, body in result.files.items():
                storage.write_text(name, body)
        except (CollectionError, StorageError, OSError) as e:
            raise FormError(f"Imported, but not written: {e}") from None
        return self.open_collection(ui, str(target), query)

    def pick_environment(self, ui: UISession | None, env: str | None) -> UISession:
        ui = self.h.session(ui)
        if ui.collection is not None:
            ui.collection.env = env or None
        return ui

    def filter_tree(self, ui: UISession | None, query: str) -> tuple[Any, ...]:
        ui = self.h.session(ui)
        return ui, *self._tree(ui, query)

    def pick_row(self, ui: UISession | None, env: str | None, evt: gr.SelectData) -> tuple[Any, ...]:
        """A tree row clicked: a request opens in a tab (with its notes); a folder becomes what Run runs."""
        ui = self.h.session(ui)
        index = evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index
        return self.open_row(ui, int(index), env)

    def open_row(self, ui: UISession | None, index: int, env: str | None = None) -> tuple[Any, ...]:
        ui = self.h.session(ui)
        opened: OpenCollection | None = ui.collection
        if opened is None or not 0 <= index < len(opened.rows):
            raise FormError("Open a collection first, then click one of its requests.")
        row = opened.rows[index]
        opened.picked = row
        if row.kind == "folder":
            opened.selected_folder = row.path
            return *self.skip_tab(ui), gr.update(value=f"Run folder {row.label}")
        request = opened.request(row.path)
        if request is None:
            raise FormError(f"{row.path} is no longer in the collection: open it again.")
        opened.selected_folder = None
        existing = next((t for t in ui.tabs if t.source == row.path), None)
        if existing is not None:
            ui.active = existing.id
            return *tab_outputs(ui, existing), gr.update(value="Run collection")
        form = request_form(request, "")
        tab = ui.open_tab(form, reuse=True, name=request.name, notes=request.description, source=row.path)
        return *tab_outputs(ui, tab), gr.update(value="Run collection")

    @staticmethod
    def skip_tab(ui: UISession) -> tuple[Any, ...]:
        from explorer.ui.handlers import skipped_tab_outputs

        return skipped_tab_outputs(ui)

    # --- saving -----------------------------------------------------------------------------------

    def save(self, ui: UISession | None, form: RequestForm, new_name: str, mode: str) -> tuple[Any, ...]:
        """Save the active tab to its file; "save_as" writes a new file named `new_name`; "rename" renames it."""
        ui = self.h.session(ui)
        opened: OpenCollection | None = ui.collection
        if opened is None:
            raise FormError("Open a collection first: the request is saved into it.")
        tab = ui.tab()
        tab.form = form
        base = opened.request(tab.source) if tab.source else None
        name = (new_name or "").strip() or (base.name if base else "") or tab.name
        if mode in ("save_as", "rename") and not (new_name or "").strip():
            raise FormError("Type the request's name first.")
        if not name:
            raise FormError("Name the request (the box beside Save as), then save it.")
        request = _request_from_form(form, base, name)
        path = tab.source if (mode != "save_as" and tab.source) else None
        if path is None:
            folder = base.path.rsplit("/", 1)[0] + "/" if base and "/" in base.path else ""
            from explorer.collection.files import request_file_name

            path = folder + request_file_name(name)
        try:
            result = save_request(opened.storage, request, ui.explorer.redactor, path=path)
        except (CollectionError, StorageError, OSError) as e:
            raise FormError(f"Not saved: {e}") from None
        tab.source, tab.name, tab.baseline = path, name, replace(form)
        opened.collection = load_collection(opened.storage)
        notices = "".join(
            f'<div class="muted small">{present.rich_text(str(n))}</div>' for n in result.notices
        )
        saved = f'<div class="muted small">Saved {present.code_html(path)}</div>{notices}'
        return ui, saved, *self._tree(ui, ""), *tab_outputs(ui, tab)[1:]

    # --- deleting ---------------------------------------------------------------------------------

    def ask_delete(self, ui: UISession | None) -> tuple[Any, ...]:
        """Delete…: what would go (the row clicked last, else the active tab's file), asked before anything is deleted.

        Outputs: state, the confirmation group, its question, the path it asks about."""
        ui = self.h.session(ui)
        opened: OpenCollection | None = ui.collection
        if opened is None:
            raise FormError("Open a collection first, then click the request or folder to delete.")
        row = opened.picked
        if row is None and ui.tab().source:
            row = next((r for r in opened.rows if r.path == ui.tab().source), None)
        if row is None:
            raise FormError("Click the request or the folder to delete in the tree first.")
        question = view.delete_question(row, opened.collection)
        return ui, gr.update(visible=True), question, row.path

    def delete(self, ui: UISession | None, path: str, query: str) -> tuple[Any, ...]:
        """The confirmed delete, through explorer.collection.files (only the collection's own items).

        Outputs: state, the confirmation group (hidden), the notice, the title, the tree and its JSON twin, Run."""
        ui = self.h.session(ui)
        opened: OpenCollection | None = ui.collection
        if opened is None:
            raise FormError("Open a collection first.")
        path = (path or "").strip()
        try:
            delete_item(opened.storage, path)
            opened.collection = load_collection(opened.storage)
        except (CollectionError, StorageError, OSError) as e:
            raise FormError(f"Not deleted: {e}") from None
        for tab in ui.tabs:  # its tabs stay open, no longer tied to a file: Save as writes it anew
            if tab.source and (tab.source == path or tab.source.startswith(path + "/")):
                tab.source = None
        opened.picked = None
        if opened.selected_folder and (opened.selected_folder + "/").startswith(path + "/"):
            opened.selected_folder = None
        notice = f'<div class="muted small">Deleted {present.code_html(path)}</div>'
        run = gr.skip() if opened.selected_folder else gr.update(value="Run collection")
        return ui, gr.update(visible=False), notice, _title(opened.collection), *self._tree(ui, query), run

    # --- running ----------------------------------------------------------------------------------

    def run(self, ui: UISession | None, env: str | None) -> Iterator[tuple[Any, ...]]:
        """Run the collection (or the picked folder) with the explorer's runner; rows appear as each
        request finishes. The default identity is this page's connection."""
        ui = self.h.session(ui)
        opened: OpenCollection | None = ui.collection
        if opened is None:
            raise FormError("Open a collection first, then Run.")
        opened.env, opened.environ = env or None, page_environment(ui, self.h.config.deployed)
        try:
            plan = RunPlan.load(
                opened.storage, env=opened.env, environ=opened.environ, folder=opened.selected_folder
            )
            total = len(plan.requests())
        except (CollectionError, StorageError, UndefinedVariable) as e:
            raise FormError(f"Cannot run: {e}") from None
        identities = Identities(ui.explorer, simple_connector(plan.dotenv))
        if ui.explorer.connection is not None and ui.explorer.connection.ok:
            identities.preset_default(ui.explorer.connection)
        arrived: queue.Queue[RequestResult | None] = queue.Queue()
        outcome: dict[str, Any] = {}

        def work() -> None:
            try:
                outcome["report"] = run(plan, identities, on_result=arrived.put)
            except Exception as e:  # re-raised in the handler, where it becomes a message
                outcome["error"] = e
            finally:
                arrived.put(None)

        opened.results = []
        started = time.monotonic()
        threading.Thread(target=work, name="ui: collection run", daemon=True).start()
        yield ui, view.run_summary([], total, False, 0.0), view.run_frame([]), present.as_json([])
        while True:
            item = arrived.get()
            if item is None:
                break
            opened.results.append(item)
            rows = view.run_frame(opened.results)
            summary = view.run_summary(opened.results, total, False, time.monotonic() - started)
            yield ui, summary, rows, present.as_json(view.run_results_summary(opened.results))
        identities.close()
        if "error" in outcome:
            error = outcome["error"]
            if isinstance(error, (CollectionError, UndefinedVariable)):
                raise FormError(f"Cannot run: {error}")
            raise error
        seconds = time.monotonic() - started
        yield (
            ui,
            view.run_summary(opened.results, total, True, seconds),
            view.run_frame(opened.results),
            present.as_json(view.run_results_summary(opened.results)),
        )

    def open_result(self, ui: UISession | None, evt: gr.SelectData) -> tuple[Any, ...]:
        """A run row clicked: its exchange (request and response together) in a tab."""
        ui = self.h.session(ui)
        index = evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index
        return self.open_result_at(ui, int(index))

    def open_result_at(self, ui: UISession | None, index: int) -> tuple[Any, ...]:
        ui = self.h.session(ui)
        opened: OpenCollection | None = ui.collection
        results = opened.results if opened is not None else []
        if not 0 <= index < len(results) or results[index].exchange is None:
            raise FormError("That request was not sent in the last run: nothing to show.")
        result = results[index]
        exchange = result.exchange
        tab = ui.tab_with(exchange)
        if tab is None:
            from explorer.ui.forms import form_from_spec

            tab = ui.open_tab(form_from_spec(exchange.request), reuse=True, name=result.full_name)
            tab.exchange = exchange
        ui.active = tab.id
        return tab_outputs(ui, tab)


def _title(collection: Collection) -> str:
    """The collection's name, its request count, its load errors (each once)."""
    notice = "".join(
        f'<div class="muted small">⚠ {present.code_html(err.path)} {present.rich_text(err.message)}</div>'
        for err in collection.errors
    )
    count = len(collection.requests())
    return (
        f'<div class="coll-title"><b>{present.rich_text(collection.name)}</b> '
        f'<span class="muted small">{count} requests</span></div>{notice}'
    )


def _request_from_form(form: RequestForm, base: Request | None, name: str) -> Request:
    """The form as a collection Request: what the file had (assertions, notes, auth) plus the form's edits."""
    params = []
    for line in form.params.splitlines():
        text = line.strip()
        if not text:
            continue
        enabled = not text.startswith("#")
        key, _, value = text.lstrip("#").strip().partition("=")
        params.append(Pair(key.strip(), value.strip(), enabled))
    active = "\n".join(x for x in form.headers.splitlines() if x.strip() and not x.lstrip().startswith("#"))
    headers = [Pair(k, v) for k, v in parse_header_lines(active)]
    body = None
    if form.body.strip():
        kind = base.body.content_type if base and base.body and base.body.content_type else "application/json"
        body = Body(content=form.body, content_type=kind)
    request = replace(base) if base is not None else Request(name=name)
    return replace(
        request,
        name=name,
        method=form.method.upper(),
        url=form.url,
        params=params,
        headers=headers,
        body=body,
        timeout=form.timeout if form.timeout != 30.0 or (base and base.timeout) else None,
    )


def _slug(name: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in name.lower()).strip("-")[:40] or "import"


def _import_text(text: str, filename: str) -> Any:
    """The ImportResult for a file's text: HAR (`log`), Postman (`info` + `item`) or OpenAPI (`openapi`/`swagger`)."""
    import json

    import yaml

    from explorer.collection.importers import ImportError_
    from explorer.collection.importers.har import from_har
    from explorer.collection.importers.openapi import from_openapi
    from explorer.collection.importers.postman import from_postman

    try:
        data = json.loads(text) if filename.lower().endswith((".json", ".har")) else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as e:
        raise FormError(f"{filename} is neither JSON nor YAML: {str(e)[:120]}") from None
    if not isinstance(data, dict):
        raise FormError(f"{filename} is not a Postman collection, an OpenAPI document or a HAR file.")
    try:
        if "log" in data:
            return from_har(text, filename)
        if "info" in data and "item" in data:
            return from_postman(text)
        if "openapi" in data or "swagger" in data:
            return from_openapi(data, filename)
    except ImportError_ as e:
        raise FormError(f"{filename}: {e}") from None
    raise FormError(f"{filename} is not a Postman collection, an OpenAPI document or a HAR file.")

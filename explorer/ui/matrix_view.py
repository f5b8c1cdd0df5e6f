"""The Matrix view: requests × identities, side by side (explorer.collection.matrix does the work).

    matrix_view(p, config)    # inside the page's Blocks; wires its own events (api_name matrix_*)

Identities: the collection folder's `identities/*.yaml`, this page's own connection, no token, and
deployed "this app" (the app's service principal) and "me" (the signed-in user's forwarded token).
Requests: the whole collection, a folder, one request, or every app of the workspace (a row per
app, one path). Run fills the grid as cells finish; a cell click opens that exchange in a request
tab (which then sends as that cell's identity: Send repeats the cell); two cells compare (status, headers, a JSON diff of the bodies); the grid exports as Markdown,
CSV and an SVG picture. Secrets stay server-side: identity sessions' secrets join this page's
redactor, so whatever is shown or exported is scrubbed of them.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import gradio as gr

from explorer.collection.compare import compare
from explorer.collection.files import CollectionError, list_environments, load_collection
from explorer.collection.matrix import Cell, Identity, Matrix, grid_csv, grid_markdown, grid_svg, run_matrix
from explorer.collection.matrix_apps import DEFAULT_PATH, ME, THIS_APP, apps_plan
from explorer.collection.model import Folder
from explorer.collection.runner import RunPlan
from explorer.collection.storage import Storage, StorageError
from explorer.parse import InputError
from explorer.ui import identities as who
from explorer.ui.config import UIConfig
from explorer.ui.forms import THIS_CONNECTION, FormError, form_from_spec
from explorer.ui.handlers import Handlers, friendly, skipped_tab_outputs, tab_outputs
from explorer.ui.panes import Panes
from explorer.ui.present import as_json
from explorer.ui.present import matrix as view
from explorer.ui.state import UISession

SESSION = THIS_CONNECTION  # the page's own connection, as a column
NONE = who.NONE
ALL, APPS = "all", "apps"
BUILTIN = {THIS_APP: "the app's service principal", ME: "you, signed in (forwarded token)"}


@dataclass
class MatrixRun:
    """The page's latest matrix: the grid (cells hold their exchanges) and when it ran."""

    matrix: Matrix | None = None
    running: bool = False
    started: float = field(default_factory=time.monotonic)
    seconds: float = 0.0
    selected: set[str] = field(default_factory=set)
    source: tuple[str, str | None] = ("", None)  # the collection folder and environment it ran with


def matrix_view(p: Panes, config: UIConfig) -> None:
    """The Identity matrix accordion and its events."""
    with gr.Accordion("Identity matrix: who may call what", open=False, elem_id="matrix-view") as accordion:
        gr.Markdown(
            "Send requests as **several identities at once**, side by side: the workspace predicts "
            "each cell from the app's state, its permissions and the token's scopes, and a cell that "
            "disagrees is a **surprise**. A click on a cell opens that exchange in a request tab."
        )
        with gr.Row():
            location = gr.Textbox(
                config.matrix_path if not config.deployed else "",
                label="Collection folder (empty: the one open in Collections)",
                placeholder="examples/access-audit",
                elem_id="matrix-location",
                scale=3,
            )
            environment = gr.Dropdown([], label="Environment", allow_custom_value=True, elem_id="matrix-env")
            load = gr.Button("Load identities", elem_id="matrix-load", scale=0)
        identities = gr.CheckboxGroup([], label="Identities (columns)", elem_id="matrix-identities")
        with gr.Row():
            requests = gr.Dropdown(
                [("The whole collection", ALL)], value=ALL, label="Requests (rows)", elem_id="matrix-requests"
            )
            app_path = gr.Textbox(
                DEFAULT_PATH, label="Path on every app (for “every app” rows)", elem_id="matrix-app-path"
            )
        run = gr.Button("Run matrix", variant="primary", elem_id="matrix-run")
        summary = gr.HTML("", elem_id="matrix-summary")
        grid = gr.HTML(view.grid_html(None), elem_id="matrix-grid")
        pick = gr.Textbox(label="matrix_pick", visible="hidden", elem_id="matrix-pick")
        open_cell = gr.Button("matrix_open", visible="hidden", elem_id="matrix-open")
        with gr.Row():
            left = gr.Dropdown([], label="Compare", elem_id="matrix-left")
            right = gr.Dropdown([], label="with", elem_id="matrix-right")
            compare_button = gr.Button("Compare", elem_id="matrix-compare", scale=0)
        comparison = gr.HTML("", elem_id="matrix-comparison")
        exports = gr.File(
            label="Export (Markdown, CSV, SVG picture)", file_count="multiple", elem_id="matrix-exports"
        )
        data = gr.Textbox(label="matrix_data", visible="hidden", elem_id="matrix-data")  # the grid as JSON
        run_state = gr.State(None)

    m = MatrixHandlers(Handlers(config))
    choices = [p.state, identities, environment, requests, summary]
    for trigger, name in ((load.click, "matrix_load"), (accordion.expand, "matrix_load_on_open")):
        trigger(
            friendly(m.load), [p.state, location, environment], choices, api_name=name,
            api_visibility="public" if name == "matrix_load" else "undocumented",
        )  # fmt: skip
    run.click(
        friendly(m.run), [p.state, run_state, location, environment, identities, requests, app_path],
        [p.state, run_state, summary, grid, left, right, exports, data], api_name="matrix_run",
        show_progress="hidden",
    )  # fmt: skip
    open_cell.click(friendly(m.open_cell), [p.state, run_state, pick], p.tab_view(), api_name="matrix_open")
    compare_button.click(
        friendly(m.compare), [p.state, run_state, left, right], [p.state, run_state, comparison, grid],
        api_name="matrix_compare",
    )  # fmt: skip


class MatrixHandlers:
    def __init__(self, handlers: Handlers) -> None:
        self.h = handlers

    @property
    def deployed(self) -> bool:
        return self.h.config.deployed

    def storage(self, ui: UISession, location: str) -> Storage | None:
        """The typed folder (local only), else the collection open in the sidebar, else none."""
        return who.identity_storage(ui, location, self.deployed)

    def load(
        self, ui: UISession | None, location: str, environment: str | None, request: gr.Request | None = None
    ) -> tuple[Any, ...]:
        """The identities and requests to choose from (the folder's, the page's, the platform's)."""
        ui = self.h.session(ui, request)
        names: list[tuple[str, str]] = []
        rows: list[tuple[str, str]] = [("The whole collection", ALL)]
        environments: list[str] = []
        note = ""
        storage = self.storage(ui, location)
        file_names: list[str] = []
        if storage is not None:
            try:
                collection = load_collection(storage)
                environments = list_environments(storage)
                file_names = who.identity_files(storage)
            except (CollectionError, StorageError, OSError) as e:
                raise FormError(f"Cannot open {location!r}: {e}") from None
            rows += _folder_choices(collection.root)
            rows += [(f"Request: {r.name}", f"request:{r.path}") for _t, r in collection.requests()]
            note = f"{collection.name}: {len(collection.requests())} request(s), {len(file_names)} identity file(s)"
        else:
            rows = []
            note = "No collection: type a folder, or open one in Collections; every app's row works without."
        rows.append(("Every app in the workspace (a row per app)", APPS))
        names += who.offered(ui, file_names, self.deployed)
        names.append(("none (no token)", NONE))
        wanted_env = (
            environment if environment in environments else (environments[0] if environments else None)
        )
        preselected = [v for _l, v in names if v not in (SESSION,)]
        return (
            ui,
            gr.update(choices=names, value=preselected),
            gr.update(choices=environments, value=wanted_env),
            gr.update(choices=rows, value=rows[0][1]),
            view.summary_html(None, False, 0, note),
        )

    def plan(
        self, ui: UISession, location: str, environment: str | None, rows: str, app_path: str
    ) -> tuple[RunPlan, RunPlan]:
        """(the plan whose requests are the rows, the plan the identity files come from)."""
        storage = self.storage(ui, location)
        files: RunPlan | None = None
        if storage is not None:
            files = who.identity_plan(ui, storage, environment, self.deployed, self.h.identity_env())
        if rows == APPS:
            apps = ui.apps or ui.explorer.list_apps()[0]
            try:
                plan = apps_plan(apps, app_path)
            except InputError as e:
                raise FormError(str(e)) from None
            return plan, files or plan
        if files is None:
            raise FormError("Type a collection folder (or open one in Collections), or pick every app's row.")
        if rows and rows.startswith("folder:"):
            files.folder = rows.removeprefix("folder:")
        elif rows and rows.startswith("request:"):
            path = rows.removeprefix("request:")
            picked = [r for _t, r in files.collection.requests() if r.path == path]
            if not picked:
                raise FormError("That request is no longer in the collection: Load identities again.")
            files.collection.root = Folder("", items=list(picked))
        return files, files

    def connect(self, ui: UISession, names: list[str], plan: RunPlan, files: RunPlan) -> dict[str, Identity]:
        """Every chosen identity, connected once (the page's own connection as it is)."""
        return who.connect_identities(ui, names, plan, files, self.deployed)

    def run(
        self,
        ui: UISession | None,
        state: MatrixRun | None,
        location: str,
        environment: str | None,
        names: list[str] | None,
        rows: str | None,
        app_path: str,
        request: gr.Request | None = None,
    ) -> Iterator[tuple[Any, ...]]:
        """Connect the identities, send every cell (in parallel), and show each as it finishes."""
        ui = self.h.session(ui, request)
        names = list(names or [])
        if not names:
            raise FormError("Pick at least one identity (Load identities first).")
        plan, files = self.plan(ui, location, environment, rows or ALL, app_path)
        state = MatrixRun(running=True, source=((location or "").strip(), environment or None))
        skip = (gr.skip(),) * 5
        yield ui, state, view.summary_html(None, True, 0, "Connecting the identities…"), *skip
        identities = self.connect(ui, names, plan, files)
        arrived: queue.Queue[Cell | Matrix | None] = queue.Queue()
        outcome: dict[str, Any] = {}

        def work() -> None:
            try:
                outcome["matrix"] = run_matrix(
                    plan, names, given=identities, on_start=arrived.put, on_cell=arrived.put,
                    timeout=ui.explorer.timeout,
                )  # fmt: skip
            except Exception as e:  # re-raised in the handler, where it becomes a message
                outcome["error"] = e
            finally:
                arrived.put(None)

        state.started = time.monotonic()
        threading.Thread(target=work, name="ui: identity matrix", daemon=True).start()
        try:
            while True:
                item = arrived.get()
                if item is None:
                    break
                if isinstance(item, Matrix):
                    state.matrix = item
                seconds = time.monotonic() - state.started
                yield (
                    ui, state, view.summary_html(state.matrix, True, seconds), self.grid(state),
                    gr.skip(), gr.skip(), gr.skip(), gr.skip(),
                )  # fmt: skip
        finally:
            who.close_identities(identities, ui)
        if "error" in outcome:
            state.running = False
            raise outcome["error"]
        state.matrix, state.running = outcome["matrix"], False
        state.seconds = time.monotonic() - state.started
        choices = view.cell_choices(state.matrix)
        first, second = (choices[0][1], choices[1][1]) if len(choices) > 1 else (None, None)
        yield (
            ui,
            state,
            view.summary_html(state.matrix, False, state.seconds),
            self.grid(state),
            gr.update(choices=choices, value=first),
            gr.update(choices=choices, value=second),
            self.export(ui, state.matrix),
            ui.explorer.redactor.scrub(as_json(view.matrix_summary(state.matrix))),
        )

    def grid(self, state: MatrixRun) -> str:
        return view.grid_html(state.matrix, state.selected, BUILTIN)

    def export(self, ui: UISession, matrix: Matrix) -> list[str]:
        """Markdown, CSV and SVG of the grid, scrubbed by the page's redactor, in the session's folder."""
        scrub = ui.explorer.redactor.scrub
        files = []
        for filename, text in (
            ("identity-matrix.md", grid_markdown(matrix)),
            ("identity-matrix.csv", grid_csv(matrix)),
            ("identity-matrix.svg", grid_svg(matrix)),
        ):
            path = ui.export_path(filename)
            path.write_text(scrub(text), encoding="utf-8")
            files.append(str(path))
        return files

    def cell(self, state: MatrixRun | None, key: str | None) -> tuple[Cell, str]:
        where = view.parse_cell_key(key or "")
        matrix = state.matrix if state is not None else None
        if matrix is None or where is None:
            raise FormError("Run the matrix first, then pick a cell.")
        r, c = where
        if not (0 <= r < len(matrix.requests) and 0 <= c < len(matrix.identities)):
            raise FormError("That cell belongs to an earlier matrix: run it again.")
        return matrix.cells[r][c], f"{matrix.requests[r]} × {matrix.identities[c]}"

    def open_cell(self, ui: UISession | None, state: MatrixRun | None, key: str) -> tuple[Any, ...]:
        """A cell clicked: its request and answer in a request tab (the tab it is already in, if any)."""
        ui = self.h.session(ui)
        cell, _label = self.cell(state, key)
        exchange = cell.exchange
        if exchange is None:
            if cell.error:
                raise FormError(f"Nothing was sent for that cell: {cell.error}")
            return skipped_tab_outputs(ui)
        tab = ui.tab_with(exchange)
        if tab is None:
            tab = ui.open_tab(form_from_spec(exchange.request), reuse=True)
            tab.name = f"{cell.request} × {cell.identity}"
            tab.exchange = exchange
        # Send repeats the cell: as its identity, from the matrix's collection.
        tab.form.send_as = cell.identity
        tab.identity_from = state.source if state is not None and cell.identity != SESSION else None
        ui.active = tab.id
        ui.last = exchange
        return tab_outputs(ui, tab)

    def compare(
        self, ui: UISession | None, state: MatrixRun | None, left: str | None, right: str | None
    ) -> tuple[Any, ...]:
        """Two cells side by side: status, headers, and a JSON diff of the bodies."""
        ui = self.h.session(ui)
        a, a_label = self.cell(state, left)
        b, b_label = self.cell(state, right)
        assert state is not None
        state.selected = {left or "", right or ""}
        result = compare((a_label, a.exchange), (b_label, b.exchange), ui.explorer.redactor)
        return ui, state, view.comparison_html(result), self.grid(state)


def _folder_choices(folder: Folder, trail: str = "") -> list[tuple[str, str]]:
    found = []
    for item in folder.items:
        if isinstance(item, Folder):
            path = f"{trail}/{item.name}" if trail else item.name
            found.append((f"Folder: {path}", f"folder:{path}"))
            found += _folder_choices(item, path)
    return found

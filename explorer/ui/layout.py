"""The page: sidebar (connection, app, endpoints) and main pane (request, response, history).

`build_ui(config)` builds the Blocks and wires them (events.py). Serve the result with
`blocks.launch(**theme.page_options())` or `gr.mount_gradio_app(app, blocks, "/", **theme.page_options())`.
"""

from __future__ import annotations

import importlib.util
import os
import sys

import gradio as gr

from explorer.ui import events
from explorer.ui.config import UIConfig
from explorer.ui.load_view import load_view
from explorer.ui.main_pane import main_pane
from explorer.ui.matrix_view import matrix_view
from explorer.ui.panes import Panes
from explorer.ui.sidebar import sidebar

CONCURRENCY = 32  # events of different sessions run in parallel: one user's slow call never queues another's
# Gradio's queue keeps the last N events' timings for its monitoring dashboard and, by default,
# summarises all of them with pandas after every event: ~40 % of an event's CPU here, growing with
# uptime. The explorer has no use for the dashboard: summarise rarely, keep fewer (env overrides).
# The wide queue is set the same way: Blocks() makes its queue (and its app) at once, and a later
# `blocks.queue(...)` would build the whole FastAPI app again (~0.1 s of start-up).
QUEUE_SETTINGS = {
    "GRADIO_ANALYTICS_CACHE_FREQUENCY": "1000",
    "GRADIO_ANALYTICS_MAX_EVENTS": "1000",
    "GRADIO_DEFAULT_CONCURRENCY_LIMIT": str(CONCURRENCY),
}
# Gradio's queue looks for new events every 1 ms and for progress updates every 10 ms, busy or
# idle: ~60 ms of CPU a second here (each wake-up of the event loop ~75 µs), which 16 sends at once
# share under the GIL. Every 5 ms (an event waits 2.5 ms on average to start) and, as the explorer
# reports no gr.Progress, every 100 ms: ~20 ms a second (docs/BENCH.md, "CPU per send").
QUEUE_POLL_SECONDS = 0.005
PROGRESS_POLL_SECONDS = 0.1
# Optional libraries Gradio looks for on every event when they are not installed: matplotlib
# (imported, to pin its backend, before and after each event) and polars (each table's
# postprocess). A failed import walks sys.path each time (~45 µs here); marked absent in
# sys.modules, the same import fails at once, as Python's import system defines.
PROBED_ON_EVERY_EVENT = ("matplotlib", "polars")


def mark_absent_modules(names: tuple[str, ...] = PROBED_ON_EVERY_EVENT) -> list[str]:
    """Mark the libraries of `names` that are not installed as absent (see PROBED_ON_EVERY_EVENT);
    an installed one is left alone. Returns the names marked."""
    marked = []
    for name in names:
        if name not in sys.modules and importlib.util.find_spec(name) is None:
            sys.modules[name] = None  # type: ignore[assignment]  # `import name` raises ImportError at once
            marked.append(name)
    return marked


def build_ui(config: UIConfig | None = None) -> gr.Blocks:
    """The explorer's Blocks: per-session state (one ExplorerSession each), named events, a wide queue."""
    config = config or UIConfig()
    mark_absent_modules()
    for name, value in QUEUE_SETTINGS.items():
        os.environ.setdefault(name, value)  # read when the Blocks' queue is made
    p = Panes()
    with gr.Blocks(
        title=config.title,
        fill_width=True,
        analytics_enabled=False,
        delete_cache=(3600, 3600),  # export files are copied into Gradio's cache when built: prune hourly
    ) as blocks:
        # time_to_live: idle expiry (Gradio counts from the last store: handlers.friendly re-stores
        # an active session's state now and then; see UISession.keep_alive).
        p.state = gr.State(None, delete_callback=events.close_session, time_to_live=config.idle_seconds)
        sidebar(p, config)
        main_pane(p, config)
        load_view(p.state, config)  # self-contained: its own components and events (load_*)
        matrix_view(p, config)  # its own components and events (matrix_*); a cell opens in a tab
        events.wire(blocks, p, config)
    queue = blocks._queue  # made by Blocks(); its intervals are plain attributes, read on each turn
    queue.sleep_when_free = QUEUE_POLL_SECONDS
    queue.progress_update_sleep_when_free = PROGRESS_POLL_SECONDS
    return blocks

"""The page: sidebar (connection, app, endpoints) and main pane (request, response, history).

`build_ui(config)` builds the Blocks and wires them (events.py). Serve the result with
`blocks.launch(**theme.page_options())` or `gr.mount_gradio_app(app, blocks, "/", **theme.page_options())`.
"""

from __future__ import annotations

import gradio as gr

from explorer.ui import events
from explorer.ui.config import UIConfig
from explorer.ui.load_view import load_view
from explorer.ui.main_pane import main_pane
from explorer.ui.matrix_view import matrix_view
from explorer.ui.panes import Panes
from explorer.ui.sidebar import sidebar

CONCURRENCY = 32  # events of different sessions run in parallel: one user's slow call never queues another's


def build_ui(config: UIConfig | None = None) -> gr.Blocks:
    """The explorer's Blocks: per-session state (one ExplorerSession each), named events, a wide queue."""
    config = config or UIConfig()
    p = Panes()
    with gr.Blocks(
        title=config.title,
        fill_width=True,
        analytics_enabled=False,
        delete_cache=(3600, 3600),  # exports are copied into Gradio's cache on every send: prune hourly
    ) as blocks:
        p.state = gr.State(None, delete_callback=events.close_session)
        sidebar(p, config)
        main_pane(p, config)
        load_view(p.state, config)  # self-contained: its own components and events (load_*)
        matrix_view(p, config)  # its own components and events (matrix_*); a cell opens in a tab
        events.wire(blocks, p, config)
    blocks.queue(default_concurrency_limit=CONCURRENCY)
    return blocks

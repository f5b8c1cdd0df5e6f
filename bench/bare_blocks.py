"""The start-up baseline: the smallest Gradio app, `python bench/bare_blocks.py [--explorer-import] PORT`.

With `--explorer-import` it imports Gradio as the explorer does (explorer.ui first, which skips
Gradio's type-stub writer: explorer/ui/gradio_import.py), for a like-for-like comparison.
"""

from __future__ import annotations

import sys
import threading

if "--explorer-import" in sys.argv:
    import explorer.ui  # noqa: F401

import gradio as gr

with gr.Blocks(analytics_enabled=False) as blocks:
    gr.Markdown("Hello")
blocks.launch(server_name="127.0.0.1", server_port=int(sys.argv[-1]), prevent_thread_lock=True, quiet=True)
threading.Event().wait()

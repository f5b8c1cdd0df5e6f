"""The start-up baseline: the smallest Gradio app, `python bench/bare_blocks.py PORT`."""

from __future__ import annotations

import sys
import threading

import gradio as gr

with gr.Blocks(analytics_enabled=False) as blocks:
    gr.Markdown("Hello")
blocks.launch(server_name="127.0.0.1", server_port=int(sys.argv[1]), prevent_thread_lock=True, quiet=True)
threading.Event().wait()

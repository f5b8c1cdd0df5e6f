"""The Gradio UI: layout and thin handlers over the engine (explorer.session)."""

from explorer.ui import gradio_import

gradio_import.install()  # before any module here imports Gradio: half of its import time

"""The UI's queue as built: sessions' events run side by side (the concurrency is set through
Gradio's own variable, read when Blocks() makes its queue, so the app is built once)."""

from __future__ import annotations

from explorer.ui.config import UIConfig
from explorer.ui.layout import CONCURRENCY, build_ui


def test_the_queue_runs_sessions_side_by_side() -> None:
    blocks = build_ui(UIConfig())
    assert CONCURRENCY > 1
    assert blocks._queue.default_concurrency_limit == CONCURRENCY  # Gradio keeps it there
    send = next(fn for fn in blocks.fns.values() if fn.api_name == "send")
    assert send.concurrency_limit in ("default", CONCURRENCY)  # "default": the queue's limit applies
    assert send.preprocess is False and send.postprocess is False  # done in the handler's thread

"""The UI's queue as built: sessions' events run side by side (the concurrency is set through
Gradio's own variable, read when Blocks() makes its queue, so the app is built once)."""

from __future__ import annotations

from explorer.ui.config import UIConfig
from explorer.ui.layout import CONCURRENCY, PROGRESS_POLL_SECONDS, QUEUE_POLL_SECONDS, build_ui


def test_the_queue_runs_sessions_side_by_side() -> None:
    blocks = build_ui(UIConfig())
    assert CONCURRENCY > 1
    assert blocks._queue.default_concurrency_limit == CONCURRENCY  # Gradio keeps it there
    send = next(fn for fn in blocks.fns.values() if fn.api_name == "send")
    assert send.concurrency_limit in ("default", CONCURRENCY)  # "default": the queue's limit applies
    assert send.preprocess is False and send.postprocess is False  # done in the handler's thread


def test_the_queue_does_not_poll_every_millisecond() -> None:
    """Gradio's queue looks for work on a clock; the UI slows the clock (idle CPU, CPU per send).
    If a Gradio upgrade renames these attributes, this fails instead of the setting going unseen."""
    queue = build_ui(UIConfig())._queue
    assert queue.sleep_when_free == QUEUE_POLL_SECONDS >= 0.005
    assert queue.progress_update_sleep_when_free == PROGRESS_POLL_SECONDS
    assert QUEUE_POLL_SECONDS <= 0.01  # an event waits half of it on average to start

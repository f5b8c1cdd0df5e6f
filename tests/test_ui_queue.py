"""The UI's queue as built: sessions' events run side by side (the concurrency is set through
Gradio's own variable, read when Blocks() makes its queue, so the app is built once), on a slower
clock than Gradio's, and optional libraries Gradio probes for on every event fail at once when absent."""

from __future__ import annotations

import importlib
import sys

import pytest

from explorer.ui.config import UIConfig
from explorer.ui.layout import (
    CONCURRENCY,
    PROBED_ON_EVERY_EVENT,
    PROGRESS_POLL_SECONDS,
    QUEUE_POLL_SECONDS,
    build_ui,
    mark_absent_modules,
)


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


def test_a_library_that_is_not_installed_fails_to_import_at_once() -> None:
    """Gradio imports matplotlib around every event and probes for polars on every table: when
    they are absent they are marked so, and an installed library is left as it is."""
    missing = "explorer_test_surely_not_installed"
    try:
        assert mark_absent_modules((missing, "json")) == [missing]
        assert "json" in sys.modules and sys.modules["json"] is not None
        with pytest.raises(ImportError):
            importlib.import_module(missing)
        assert importlib.util.find_spec(missing) is None  # what Gradio's polars probe asks
        assert mark_absent_modules((missing,)) == []  # marked once
    finally:
        sys.modules.pop(missing, None)
    assert set(PROBED_ON_EVERY_EVENT) == {"matplotlib", "polars"}

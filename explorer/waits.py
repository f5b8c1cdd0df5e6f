"""Bounded waits: run a call that may block for longer than we are willing to wait.

Parts of the SDK (OIDC discovery, token requests) use HTTP clients whose waits we cannot
configure; `run_bounded` gives every such call a deadline of our own.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


def run_bounded(fn: Callable[[], T], timeout: float, what: str) -> T:
    """`fn()` in a daemon thread, waiting at most `timeout` s; TimeoutError past that.

    A daemon thread left behind never blocks the program's exit. The caller's context variables
    travel with the call (the transport's per-exchange watch and the deployed trust use them).
    """
    outcome: dict[str, Any] = {}
    context = contextvars.copy_context()

    def target() -> None:
        try:
            outcome["value"] = context.run(fn)
        except BaseException as error:
            outcome["error"] = error

    thread = threading.Thread(target=target, name=f"bounded: {what}", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        raise TimeoutError(f"{what} did not finish within {timeout:g} s")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]

"""`python -m explorer --demo` for browser tests (as the README runs it), and Chromium around it.

from support.demo_page import browser_context, demo_url  # noqa: F401  (pytest fixtures)
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from support.browser import ARTIFACTS, CHROMIUM_ARGS, chromium_or_skip, save_shot
from support.ports import free_port

REPO = Path(__file__).resolve().parents[2]
VIEWPORT = {"width": 1366, "height": 768}
WAIT_MS = 60_000  # a loaded 2-core CI machine runs two browsers, the sandbox and the UIs at once


@pytest.fixture(scope="module")
def demo_url() -> Iterator[str]:
    """`python -m explorer --demo` on a free port, exactly as the README runs it; Ctrl-C stops it."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "explorer", "--demo", "--port", str(port)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "GRADIO_ANALYTICS_ENABLED": "false"},
    )
    url = _wait_for_url(proc)
    try:
        yield url
    finally:
        proc.send_signal(signal.SIGINT)  # what Ctrl-C does: the UI and the sandbox stop
        try:
            assert proc.wait(timeout=20) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def _wait_for_url(proc: subprocess.Popen[str], timeout: float = 90.0) -> str:
    """The URL the demo prints; its output keeps being drained so the pipe never fills up."""
    printed = threading.Event()
    lines: list[str] = []

    def drain() -> None:
        for line in proc.stdout or []:
            lines.append(line)
            if "open http" in line:
                printed.set()

    threading.Thread(target=drain, daemon=True).start()
    deadline = time.monotonic() + timeout
    while not printed.wait(0.2) and proc.poll() is None and time.monotonic() < deadline:
        pass
    match = next((m for m in (re.search(r"open (http://\S+)", x) for x in lines) if m), None)
    if match is None:
        proc.kill()
        pytest.fail("the demo did not print its URL:\n" + "".join(lines[-20:]))
    return match.group(1)


@pytest.fixture(scope="module")
def browser_context() -> Iterator[object]:
    executable = chromium_or_skip()
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p, tempfile.TemporaryDirectory() as profile:
        context = p.chromium.launch_persistent_context(
            profile, executable_path=executable, args=CHROMIUM_ARGS, viewport=VIEWPORT, accept_downloads=True
        )
        try:
            yield context
        finally:
            context.close()


def shot(page: object, name: str) -> None:
    """test-artifacts/ui-<name>.png, indexed with its story (support.browser.save_shot)."""
    save_shot(page, f"ui-{name}")

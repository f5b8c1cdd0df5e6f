"""`--demo` runs its sandbox as a child process (started beside Gradio's import): it answers, and it
stops with the explorer, whether the explorer is stopped with Ctrl-C, SIGTERM or killed outright."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import psutil
import pytest
import requests
from support.demo_page import _wait_for_url
from support.ports import free_port

REPO = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


def _start_demo() -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "explorer", "--demo", "--port", str(free_port())],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "GRADIO_ANALYTICS_ENABLED": "false"},
    )
    return proc, _wait_for_url(proc)


def _sandbox_children(proc: subprocess.Popen[str]) -> list[psutil.Process]:
    return [c for c in psutil.Process(proc.pid).children() if "sandbox" in " ".join(c.cmdline())]


def _gone(processes: list[psutil.Process], timeout: float = 20) -> bool:
    _gone_now, alive = psutil.wait_procs(processes, timeout=timeout)
    return not alive


@pytest.mark.parametrize("how", ["SIGINT", "SIGTERM", "SIGKILL"])
def test_the_demo_sandbox_is_a_child_that_stops_with_the_explorer(how: str) -> None:
    proc, url = _start_demo()
    try:
        children = _sandbox_children(proc)
        assert len(children) == 1, "the demo's sandbox runs as one child process"
        info_files = [a for a in children[0].cmdline() if a.endswith("info.json")]
        info = json.loads(Path(info_files[0]).read_text(encoding="utf-8"))
        assert requests.get(info["host"] + "/.well-known/databricks-config", timeout=10).ok
        assert requests.get(url, timeout=10).status_code == 200
        proc.send_signal(getattr(signal, how))
        if how != "SIGKILL":
            assert proc.wait(timeout=30) == 0  # a clean stop
            assert not Path(info_files[0]).exists()  # its private files went with it
        assert _gone(children), f"the sandbox outlived the explorer ({how})"
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)

"""`--demo`'s sandbox in a child process, started before Gradio is imported so the two overlap.

Gradio's import takes seconds; the sandbox needs about one of its own. In one process they would
take turns on the GIL; as two processes they run side by side on two cores, and the page is served
sooner. The child is `python -m explorer sandbox --port 0 --info FILE` (the documented command);
its credentials travel only in that private file. It stops with the explorer: on Ctrl-C and
SIGTERM (the explorer's `finally`), and on Linux also if the explorer dies outright (PDEATHSIG).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

START_TIMEOUT = 60.0


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass  # not Linux: the explorer's own `finally` stops the child


class SandboxProcess:
    """The sandbox as a child process; `info` waits for it to be up (the sandbox's info document)."""

    def __init__(self) -> None:
        self._dir = Path(tempfile.mkdtemp(prefix="explorer-demo-"))
        self._info_path = self._dir / "info.json"
        self._log = (self._dir / "sandbox.log").open("wb")
        self._process = subprocess.Popen(
            [sys.executable, "-m", "explorer", "sandbox", "--port", "0", "--info", str(self._info_path)],
            stdout=subprocess.DEVNULL,
            stderr=self._log,
            start_new_session=True,  # its own process group: stop() ends it and anything it started
            preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
        )
        self._info: dict[str, Any] | None = None

    @property
    def info(self) -> dict[str, Any]:
        if self._info is None:
            self._info = self._wait_for_info()
        return self._info

    def _wait_for_info(self) -> dict[str, Any]:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"the demo sandbox did not start: {self._log_tail() or 'no reason given'}")
            try:
                text = self._info_path.read_text(encoding="utf-8")
                if text.strip():
                    return json.loads(text)
            except (FileNotFoundError, ValueError):
                pass  # not written yet, or half-written
            time.sleep(0.02)
        raise RuntimeError(f"the demo sandbox did not start within {START_TIMEOUT:.0f} s")

    def _log_tail(self) -> str:
        self._log.flush()
        lines = (self._dir / "sandbox.log").read_text(encoding="utf-8", errors="replace").strip().splitlines()
        return lines[-1] if lines else ""

    def stop(self) -> None:
        """SIGTERM the child's group (the sandbox stops its apps), then SIGKILL; the files go."""
        if self._process.poll() is None:
            try:
                os.killpg(self._process.pid, signal.SIGTERM)
                self._process.wait(10)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                try:
                    os.killpg(self._process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self._process.wait(5)
        self._log.close()
        shutil.rmtree(self._dir, ignore_errors=True)

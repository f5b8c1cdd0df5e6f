"""A `source` app's process: started in its own process group, watched, and stopped with its children."""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

log = logging.getLogger(__name__)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def port_accepts(port: int, host: str = "127.0.0.1", timeout: float = 0.2) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


class SourceProcess:
    def __init__(
        self, name: str, command: list[str], cwd: Path, env: dict[str, str], port: int, log_path: Path
    ):
        self.name, self.command, self.cwd, self.port, self.log_path = name, command, cwd, port, log_path
        self._env = env
        self._proc: subprocess.Popen[bytes] | None = None

    def __repr__(self) -> str:  # never shows the env: it holds the app's client secret
        return f"SourceProcess(name={self.name!r}, port={self.port}, pid={self.pid})"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def start(self) -> None:
        with open(self.log_path, "ab") as log_file:
            self._proc = subprocess.Popen(
                self.command,
                cwd=self.cwd,
                env=self._env,
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, so stop() reaches its children too
            )
        log.info("started app %s (pid %s) on port %s", self.name, self._proc.pid, self.port)

    def exit_code(self) -> int | None:
        """None while running (or not started); the exit status once it has ended."""
        return None if self._proc is None else self._proc.poll()

    def wait_ready(self, timeout: float) -> str | None:
        """Wait until the app accepts connections; a readable reason when it does not."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            code = self.exit_code()
            if code is not None:
                return f"the process exited with status {code} before listening on port {self.port}"
            if port_accepts(self.port):
                return None
            time.sleep(0.05)
        return f"the app did not listen on port {self.port} within {timeout:g} s"

    def log_tail(self, lines: int = 15) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self, grace: float = 5.0) -> None:
        proc = self._proc
        if proc is None or proc.poll() is not None:
            return
        for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
            try:
                os.killpg(proc.pid, sig)
            except (ProcessLookupError, PermissionError):
                pass
            try:
                proc.wait(timeout=wait)
                break
            except subprocess.TimeoutExpired:
                continue
        # The leader may be gone while children it spawned linger in the group.
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        log.info("stopped app %s", self.name)

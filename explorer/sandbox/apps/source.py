"""`source` apps: the command and environment the platform gives them, and their watched process.

The process runs in its own process group, so stopping it reaches the children it started too.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from explorer.sandbox.apps.app_yaml import read_app_yaml
from explorer.sandbox.apps.runtime import AppRuntime
from explorer.sandbox.net import LOOPBACK, free_port, port_accepts

log = logging.getLogger(__name__)

# Inherited variables that would make the SDK inside the app pick the wrong identity.
_DROPPED_ENV_PREFIXES = ("DATABRICKS_", "ARM_", "AZURE_", "GOOGLE_CREDENTIALS")
_PORT_VAR = re.compile(r"\$\{DATABRICKS_APP_PORT\}|\$DATABRICKS_APP_PORT\b")


def build_command(command: list[str], port: int) -> list[str]:
    """Substitute only DATABRICKS_APP_PORT, and run `python`/console scripts from this interpreter's env."""
    args = [_PORT_VAR.sub(str(port), arg) for arg in command]
    program = args[0]
    if program in ("python", "python3"):
        args[0] = sys.executable
    elif "/" not in program:
        # `uvicorn`, `streamlit`, ... live beside the interpreter in a venv that is not on PATH.
        beside = Path(sys.executable).parent / program
        args[0] = str(beside) if beside.is_file() else (shutil.which(program) or program)
    return args


def build_env(
    *,
    base: dict[str, str],
    app_name: str,
    port: int,
    host: str,
    workspace_id: str,
    client_id: str,
    client_secret: str,
    app_url: str,
    extra: dict[str, str],
) -> dict[str, str]:
    """The environment the platform (and the Databricks CLI's local runner) gives an app."""
    env = {k: v for k, v in base.items() if not k.startswith(_DROPPED_ENV_PREFIXES)}
    env.update(
        {
            "DATABRICKS_APP_NAME": app_name,
            "DATABRICKS_APP_PORT": str(port),
            # The platform may give the host without a scheme; the sandbox serves plain http only.
            "DATABRICKS_HOST": host,
            "DATABRICKS_WORKSPACE_ID": workspace_id,
            "DATABRICKS_CLIENT_ID": client_id,
            "DATABRICKS_CLIENT_SECRET": client_secret,
            "DATABRICKS_APP_URL": app_url,
            # The gateway reaches the app on the loopback address; an app listening on every
            # interface could be called around the gateway and its sign-in, so it is told not to.
            "UVICORN_PORT": str(port),
            "UVICORN_HOST": LOOPBACK,
            "GRADIO_SERVER_PORT": str(port),
            "GRADIO_SERVER_NAME": LOOPBACK,
            "GRADIO_ANALYTICS_ENABLED": "false",
            "STREAMLIT_SERVER_PORT": str(port),
            "STREAMLIT_SERVER_ADDRESS": LOOPBACK,
            "FLASK_RUN_PORT": str(port),
            "FLASK_RUN_HOST": LOOPBACK,
            "PORT": str(port),
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(extra)
    return env


def start_source_app(runtime: AppRuntime, host: str, workspace_id: str, log_dir: Path) -> SourceProcess:
    """Start a `source` app's `app.yaml` command on a free port with the platform's variables."""
    spec = runtime.spec
    assert spec.source is not None
    app_yaml = read_app_yaml(spec.source)
    for warning in app_yaml.warnings:
        log.warning("app %s: %s", spec.name, warning)
    port = free_port()
    env = build_env(
        base=dict(os.environ),
        app_name=spec.name,
        port=port,
        host=host,
        workspace_id=workspace_id,
        client_id=spec.service_principal.application_id,
        client_secret=spec.service_principal.secret,
        app_url=runtime.gateway_url,
        extra={**app_yaml.env, **spec.env},
    )
    process = SourceProcess(
        spec.name, build_command(app_yaml.command, port), spec.source, env, port, log_dir / f"{spec.name}.log"
    )
    process.start()
    return process


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

"""`Sandbox`: the stand-in workspace, its apps and their gateways, started and stopped as one.

    with Sandbox() as sb:                       # embedded default config, free ports
        print(sb.host, sb.info["apps"]["hello"]["url"])

All servers run in background threads (uvicorn on pre-bound sockets); `source` apps are child
processes in their own process groups. `stop()` ends all of it and is idempotent.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import shutil
import socket
import tempfile
import threading
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from explorer.sandbox.app_yaml import build_command, build_env, read_app_yaml
from explorer.sandbox.authority import Authority
from explorer.sandbox.config import load_config
from explorer.sandbox.gateway import Gateway
from explorer.sandbox.idp import StandInIdP
from explorer.sandbox.oidc import AppClient
from explorer.sandbox.runner import SourceProcess, free_port, port_accepts
from explorer.sandbox.runtime import AppRuntime
from explorer.sandbox.sample_app import create_sample_app
from explorer.sandbox.servers import ServerThread, bind_socket, url_host
from explorer.sandbox.workspace import build_workspace_app

log = logging.getLogger(__name__)


class SandboxError(RuntimeError):
    """The sandbox could not start (a port in use, an app that would not start, ...)."""


class Sandbox:
    def __init__(
        self, config: str | Path | dict[str, Any] | None = None, port: int = 0, host: str = "127.0.0.1"
    ):
        self.config = load_config(config)  # ConfigError (a ValueError) here, before anything starts
        self._bind_host, self._port = host, port
        self.host = ""
        self.apps: dict[str, AppRuntime] = {spec.name: AppRuntime(spec) for spec in self.config.apps}
        self._servers: list[ServerThread] = []
        self._log_dir: Path | None = None
        self._idp: StandInIdP | None = None
        self._lock = threading.Lock()
        self._started = self._stopped = False

    def __repr__(self) -> str:
        return f"Sandbox(host={self.host or '(not started)'!r}, apps={sorted(self.apps)})"

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    # --- lifecycle -----------------------------------------------------------------------
    def start(self) -> Sandbox:
        """Start everything; returns once every listener is up and RUNNING apps respond."""
        with self._lock:
            if self._started:
                raise SandboxError("this sandbox was already started; create a new Sandbox")
            self._started = True
        atexit.register(self.stop)
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        workspace_sock = self._bind(self._port, "workspace")
        self.host = f"http://{url_host(self._bind_host)}:{workspace_sock.getsockname()[1]}"
        authority = Authority(self.config, self.host)
        self._idp = StandInIdP(self.host, self.config.token_ttl_seconds)
        gateway_socks = {}
        for name, runtime in self.apps.items():
            gateway_socks[name] = self._bind(runtime.spec.port, f"app '{name}' gateway")
            runtime.gateway_url = f"http://{url_host(self._bind_host)}:{gateway_socks[name].getsockname()[1]}"
        clients = {
            rt.spec.oauth2_app_client_id: AppClient(rt.name, gateway_socks[rt.name].getsockname()[1])
            for rt in self.apps.values()
        }
        self._serve(
            build_workspace_app(authority, self._idp, self.apps, lambda: clients), workspace_sock, "workspace"
        )
        for name, runtime in self.apps.items():
            self._serve(Gateway(authority, runtime).asgi_app(), gateway_socks[name], f"{name}-gateway")
        running = [rt for rt in self.apps.values() if rt.spec.state == "RUNNING"]
        for runtime in running:
            self._start_app(runtime)
        for runtime in running:
            self._await_app(runtime)
        log.info("sandbox workspace at %s with %d app(s)", self.host, len(self.apps))

    def _bind(self, port: int, what: str) -> socket.socket:
        try:
            return bind_socket(self._bind_host, port)
        except OSError as exc:
            raise SandboxError(
                f"cannot listen on {self._bind_host}:{port} for the {what}: {exc.strerror or exc}"
            ) from None

    def _serve(self, app: Any, sock: socket.socket, name: str) -> None:
        server = ServerThread(app, sock, name)
        self._servers.append(server)
        server.start()

    def _start_app(self, runtime: AppRuntime) -> None:
        spec = runtime.spec
        if spec.kind == "sample":
            sock = bind_socket("127.0.0.1", 0)
            runtime.upstream_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
            self._serve(create_sample_app(spec.name), sock, f"{spec.name}-app")
        elif spec.kind == "upstream":
            runtime.upstream_url = spec.upstream
        else:
            runtime.process = self._spawn(runtime)
            runtime.upstream_url = f"http://127.0.0.1:{runtime.process.port}"

    def _spawn(self, runtime: AppRuntime) -> SourceProcess:
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
            host=self.host,
            workspace_id=self.config.workspace_id,
            client_id=spec.service_principal.application_id,
            client_secret=spec.service_principal.secret,
            app_url=runtime.gateway_url,
            extra={**app_yaml.env, **spec.env},
        )
        if self._log_dir is None:
            self._log_dir = Path(tempfile.mkdtemp(prefix="sandbox-apps-"))
        process = SourceProcess(
            spec.name,
            build_command(app_yaml.command, port),
            spec.source,
            env,
            port,
            self._log_dir / f"{spec.name}.log",
        )
        process.start()
        return process

    def _await_app(self, runtime: AppRuntime) -> None:
        spec = runtime.spec
        if spec.kind == "upstream":
            parts = urlsplit(spec.upstream or "")
            port = parts.port or (443 if parts.scheme == "https" else 80)
            if not port_accepts(port, parts.hostname or "127.0.0.1", timeout=1.0):
                log.warning(
                    "app %s: upstream %s is not reachable (the gateway answers 502)", spec.name, spec.upstream
                )
        elif runtime.process is not None:
            problem = runtime.process.wait_ready(spec.start_timeout_seconds)
            if problem:
                runtime.process.stop(grace=1.0)
                runtime.start_error = f"{problem}; see its log {runtime.process.log_path}"
                log.warning("app %s did not start: %s", spec.name, runtime.start_error)

    def stop(self) -> None:
        """Stop servers and app processes; safe to call twice or before start()."""
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
        atexit.unregister(self.stop)
        for runtime in self.apps.values():
            if runtime.process is not None:
                _quietly(runtime.process.stop)
        for server in reversed(self._servers):
            _quietly(server.stop)
        if self._log_dir is not None:
            shutil.rmtree(self._log_dir, ignore_errors=True)

    # --- what tests and scripts read -----------------------------------------------------
    @property
    def info(self) -> dict[str, Any]:
        """SPEC §3.5: the only place the sandbox's secrets appear."""
        if not self.host or self._idp is None:
            raise SandboxError("the sandbox is not started")
        return {
            "host": self.host,
            "workspace_id": self.config.workspace_id,
            "apps": {
                name: {
                    "url": rt.gateway_url,
                    "state": rt.state,
                    "service_principal": {
                        "client_id": rt.spec.service_principal.application_id,
                        "client_secret": rt.spec.service_principal.secret,
                    },
                }
                for name, rt in self.apps.items()
            },
            "service_principals": {
                sp.name: {"client_id": sp.application_id, "client_secret": sp.secret}
                for sp in self.config.service_principals
            },
            "users": {u.email: {"pat": u.pats[0] if u.pats else None} for u in self.config.users},
            "idp": {"issuer": self._idp.issuer, "token_endpoint": self._idp.token_endpoint},
        }

    def write_info(self, path: str | Path) -> None:
        """Write `info` as JSON, readable by the owner only (0600)."""
        text = json.dumps(self.info, indent=2)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.fchmod(fd, 0o600)  # the file may have existed with a wider mode
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text + "\n")

    def app_log(self, name: str) -> str:
        """The captured output of a `source` app (empty for other kinds)."""
        process = self.apps[name].process
        return process.log_tail(200) if process else ""


def _quietly(action: Any) -> None:
    try:
        action()
    except Exception as exc:  # stopping must carry on with the rest
        log.warning("while stopping the sandbox: %s", exc)

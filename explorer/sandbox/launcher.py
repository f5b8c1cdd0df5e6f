"""`Sandbox`: the stand-in workspace, its apps and their gateways, started and stopped as one.

    with Sandbox() as sb:                       # embedded default config, free ports
        print(sb.host, sb.info["apps"]["hello"]["url"])

Every server runs with uvicorn in a background thread, on a socket bound before it starts (so
every URL is known up front); `source` apps are child processes in their own process groups.
`stop()` ends all of it and is idempotent.
"""

from __future__ import annotations

import atexit
import importlib.util
import json
import logging
import os
import shutil
import socket
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import uvicorn

from explorer.sandbox.apps.runtime import AppRuntime
from explorer.sandbox.apps.sample import create_sample_app
from explorer.sandbox.apps.source import start_source_app
from explorer.sandbox.apps.upstream import upstream_reachable
from explorer.sandbox.config import load_config
from explorer.sandbox.gateway.app_gateway import Gateway
from explorer.sandbox.host_app import build_workspace_app
from explorer.sandbox.identity.authority import Authority
from explorer.sandbox.identity.idp import StandInIdP
from explorer.sandbox.identity.oidc import AppClient
from explorer.sandbox.net import LOOPBACK, bind_socket, is_loopback, url_host

log = logging.getLogger(__name__)


class SandboxError(RuntimeError):
    """The sandbox could not start (a port in use, an app that would not start, ...)."""


class AutoApproveExposed(SandboxError):
    """`auto_approve` on an address other machines can reach: tokens for anyone, for the asking."""

    def __init__(self, bind_host: str):
        shown = bind_host or "every interface"
        super().__init__(
            f"refusing to listen on {shown} with auto_approve on: anyone on the network could get a "
            "token for any sandbox user by naming them (login_hint), without signing in. Listen on "
            "127.0.0.1, or set auto_approve: false in a --config file"
        )


class Sandbox:
    def __init__(
        self,
        config: str | Path | dict[str, Any] | None = None,
        port: int = 0,
        host: str = LOOPBACK,
        *,
        allow_network_auto_approve: bool = False,
    ):
        """Load the config (ConfigError, a ValueError, before anything starts) and check the bind.

        `auto_approve` with a `host` other than a loopback address raises AutoApproveExposed unless
        `allow_network_auto_approve` says that is intended.
        """
        self.config = load_config(config)
        if self.config.auto_approve and not is_loopback(host) and not allow_network_auto_approve:
            raise AutoApproveExposed(host)
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
            sock = bind_socket(LOOPBACK, 0)
            runtime.upstream_url = f"http://{LOOPBACK}:{sock.getsockname()[1]}"
            self._serve(create_sample_app(spec.name), sock, f"{spec.name}-app")
        elif spec.kind == "upstream":
            runtime.upstream_url = spec.upstream
        else:
            if self._log_dir is None:
                self._log_dir = Path(tempfile.mkdtemp(prefix="sandbox-apps-"))
            runtime.process = start_source_app(runtime, self.host, self.config.workspace_id, self._log_dir)
            runtime.upstream_url = f"http://{LOOPBACK}:{runtime.process.port}"

    def _await_app(self, runtime: AppRuntime) -> None:
        spec = runtime.spec
        if spec.kind == "upstream":
            if not upstream_reachable(spec):
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
        servers = list(reversed(self._servers))
        for server in servers:  # all at once: the stop takes one server's shutdown, not their sum
            _quietly(server.request_exit)
        for server in servers:
            _quietly(server.stop)
        if self._log_dir is not None:
            shutil.rmtree(self._log_dir, ignore_errors=True)

    # --- what tests and scripts read -----------------------------------------------------
    @property
    def info(self) -> dict[str, Any]:
        """The info document: the only place the sandbox's secrets appear."""
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


def _ws_implementation() -> str:
    return "websockets-sansio" if importlib.util.find_spec("websockets") else "none"


class ServerThread:
    """One ASGI app served by uvicorn in a daemon thread, on an already-bound socket."""

    def __init__(self, app: Any, sock: socket.socket, name: str):
        self.name = name
        self.sock = sock
        self.port: int = sock.getsockname()[1]
        config = uvicorn.Config(
            app,
            log_level="warning",
            access_log=False,  # access logs would record query strings (authorization codes)
            lifespan="on",
            ws=_ws_implementation(),
            timeout_graceful_shutdown=2,
            server_header=False,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._run, name=f"sandbox-{name}", daemon=True)
        self._error: BaseException | None = None

    def _run(self) -> None:
        try:
            self._server.run(sockets=[self.sock])
        except BaseException as exc:  # reported by start()
            self._error = exc

    def start(self, timeout: float = 15.0) -> None:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the {self.name} server did not start: {self._error or 'timeout'}")
            time.sleep(0.01)

    def request_exit(self) -> None:
        """Ask the server to shut down (what it serves gets its graceful timeout); `stop` waits."""
        self._server.should_exit = True

    def stop(self, timeout: float = 5.0) -> None:
        if not self._thread.is_alive():
            self.sock.close()
            return
        self._server.should_exit = True
        self._thread.join(timeout)
        if self._thread.is_alive():
            self._server.force_exit = True
            self._thread.join(timeout)
        self.sock.close()

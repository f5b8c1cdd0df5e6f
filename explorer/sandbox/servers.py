"""Run an ASGI app with uvicorn in a background thread, on a socket bound before it starts."""

from __future__ import annotations

import importlib.util
import logging
import socket
import threading
import time
from typing import Any

import uvicorn

log = logging.getLogger(__name__)


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening socket; port 0 picks a free one. Bound early so every URL is known up front."""
    # proto=IPPROTO_TCP matters: asyncio sets TCP_NODELAY on accepted sockets only when it is
    # explicit, and without it every small response waits ~40 ms for a delayed ACK.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.listen(2048)
    sock.set_inheritable(False)
    return sock


def url_host(bind_host: str) -> str:
    """The host to put in URLs: a wildcard bind is reached through the loopback address."""
    return "127.0.0.1" if bind_host in ("0.0.0.0", "") else bind_host


def _ws_implementation() -> str:
    return "websockets-sansio" if importlib.util.find_spec("websockets") else "none"


class ServerThread:
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

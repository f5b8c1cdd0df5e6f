"""The connection layer under `requests`: one watch per exchange, at the urllib3 connection.

`requests`' timeouts are per socket operation: a server that trickles one byte a second never
trips them. An exchange's `Watch` knows the connection its request runs on, and a deadline timer
shuts that socket down when the exchange's wall-clock budget (connect to last byte) is spent,
so whatever read is blocked returns at once. `requests` stays the one HTTP stack; this only
swaps the connection classes its adapter's pools create.
"""

from __future__ import annotations

import contextvars
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

_current: contextvars.ContextVar[Watch | None] = contextvars.ContextVar("explorer_watch", default=None)


class Watch:
    """One exchange's view of its connection: the deadline that closes it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._connection: HTTPConnection | None = None
        self._timer: threading.Timer | None = None
        self.expired = False  # the deadline closed the connection

    def attach(self, connection: HTTPConnection) -> None:
        with self._lock:
            self._connection = connection
            if self.expired:
                _shut(connection)

    def start(self, seconds: float) -> None:
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True
        self._timer.start()

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            if self._connection is not None:
                _shut(self._connection)

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()


def _shut(connection: HTTPConnection) -> None:
    sock = getattr(connection, "sock", None)
    if sock is None:
        return
    try:
        sock.shutdown(socket.SHUT_RDWR)  # wakes a blocked recv in another thread, unlike close()
    except OSError:
        pass


@contextmanager
def watched(deadline_seconds: float) -> Iterator[Watch]:
    """Run one exchange under a Watch whose deadline closes its connection after `deadline_seconds`."""
    watch = Watch()
    token = _current.set(watch)
    watch.start(deadline_seconds)
    try:
        yield watch
    finally:
        watch.stop()
        _current.reset(token)


class _Watched:
    """Mixed into urllib3's connection classes: each request tells the current Watch its connection."""

    def request(self, *args: Any, **kwargs: Any) -> Any:
        watch = _current.get()
        if watch is not None:
            watch.attach(self)  # type: ignore[arg-type]
        return super().request(*args, **kwargs)  # type: ignore[misc]

    def connect(self) -> None:
        super().connect()  # type: ignore[misc]
        watch = _current.get()
        if watch is not None and watch.expired:
            _shut(self)  # type: ignore[arg-type]


class WatchedHTTPConnection(_Watched, HTTPConnection):
    pass


class WatchedHTTPSConnection(_Watched, HTTPSConnection):
    pass


class _WatchedHTTPPool(HTTPConnectionPool):
    ConnectionCls = WatchedHTTPConnection


class _WatchedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = WatchedHTTPSConnection


_POOLS = {"http": _WatchedHTTPPool, "https": _WatchedHTTPSPool}


class WatchedAdapter(HTTPAdapter):
    """An HTTPAdapter whose pools (direct and proxied) use the watched connection classes."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = dict(_POOLS)

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        manager.pool_classes_by_scheme = dict(_POOLS)
        return manager

"""The connection layer under `requests`: one watch per exchange, at the urllib3 connection.

`requests`' timeouts are per socket operation: a server that trickles one byte a second never
trips them. An exchange's `Watch` knows the connection its request runs on, and a deadline timer
shuts that socket down when the exchange's wall-clock budget (connect to last byte) is spent,
so whatever read is blocked returns at once. The same connection classes time the phases of the
exchange where they happen (DNS, TCP connect, TLS, sending, waiting for the first byte) and say
when a kept-alive connection was reused. `requests` stays the one HTTP stack; this only swaps
the connection classes its adapter's pools create.
"""

from __future__ import annotations

import contextvars
import heapq
import ipaddress
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from explorer.model import Timings

_current: contextvars.ContextVar[Watch | None] = contextvars.ContextVar("explorer_watch", default=None)


class Watch:
    """One exchange's view of its connection: the deadline that closes it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._connection: HTTPConnection | None = None
        self._done = False
        self.expired = False  # the deadline closed the connection
        self.phases: dict[str, float] = {}  # ms per phase, as measured on the connection
        self.connected = False  # a new connection was made for this exchange (else: reused)
        self.cancelled = False  # closed because the user cancelled, not because time ran out

    def attach(self, connection: HTTPConnection) -> None:
        with self._lock:
            self._connection = connection
            if self.expired:
                _shut(connection)

    def expire(self) -> None:
        with self._lock:
            if self._done:
                return
            self.expired = True
            if self._connection is not None:
                _shut(self._connection)

    def cancel(self) -> None:
        """The user stopped the exchange: close its connection now (the upstream sees it go)."""
        self.cancelled = True
        self.expire()

    def stop(self) -> None:
        with self._lock:
            self._done = True


class _Watchdog:
    """One thread for every exchange's deadline (a Timer thread per send would cost more than the
    engine's own work): a heap of (deadline, watch), woken when an earlier deadline arrives."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Watch]] = []
        self._wake = threading.Condition()
        self._count = 0
        self._thread: threading.Thread | None = None

    def watch(self, watch: Watch, seconds: float) -> None:
        with self._wake:
            self._count += 1
            heapq.heappush(self._heap, (time.monotonic() + seconds, self._count, watch))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="exchange deadlines", daemon=True)
                self._thread.start()
            self._wake.notify()

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._heap:
                    self._wake.wait()
                deadline, _, watch = self._heap[0]
                left = deadline - time.monotonic()
                if left > 0 and not watch._done:
                    self._wake.wait(left)
                    continue
                heapq.heappop(self._heap)
            if left <= 0:
                watch.expire()


_WATCHDOG = _Watchdog()


def _shut(connection: HTTPConnection) -> None:
    sock = getattr(connection, "sock", None)
    if sock is None:
        return
    try:
        sock.shutdown(socket.SHUT_RDWR)  # wakes a blocked recv in another thread, unlike close()
    except OSError:
        pass


class Cancel:
    """A handle to stop an exchange from another thread (the UI's Cancel, Ctrl-C); safe to set early."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._watch: Watch | None = None
        self.requested = False

    def attach(self, watch: Watch) -> None:
        with self._lock:
            self._watch = watch
            requested = self.requested
        if requested:
            watch.cancel()

    def set(self) -> None:
        with self._lock:
            self.requested = True
            watch = self._watch
        if watch is not None:
            watch.cancel()


@contextmanager
def watched(deadline_seconds: float) -> Iterator[Watch]:
    """Run one exchange under a Watch whose deadline closes its connection after `deadline_seconds`."""
    watch = Watch()
    token = _current.set(watch)
    _WATCHDOG.watch(watch, deadline_seconds)
    try:
        yield watch
    finally:
        watch.stop()
        _current.reset(token)


class _Watched:
    """Mixed into urllib3's connection classes: each request tells the current Watch its connection,
    and each phase of the exchange is timed where it happens."""

    _dns_host: str
    port: int

    def request(self, *args: Any, **kwargs: Any) -> Any:
        watch = _current.get()
        if watch is None:
            return super().request(*args, **kwargs)  # type: ignore[misc]
        watch.attach(self)  # type: ignore[arg-type]
        started = time.perf_counter()
        watch.phases["request_at"] = started
        try:
            return super().request(*args, **kwargs)  # type: ignore[misc]
        finally:  # over http, connecting happens inside request(): its phases are not sending
            spent = (time.perf_counter() - started) * 1000
            watch.phases["send"] = max(0.0, spent - watch.phases.get("connect_in_request", 0.0))
            watch.phases["sent_at"] = time.perf_counter()

    def getresponse(self, *args: Any, **kwargs: Any) -> Any:
        response = super().getresponse(*args, **kwargs)  # type: ignore[misc]
        watch = _current.get()
        if watch is not None and "sent_at" in watch.phases:
            watch.phases["headers_at"] = time.perf_counter()
            watch.phases["wait"] = (watch.phases["headers_at"] - watch.phases["sent_at"]) * 1000
        return response

    def connect(self) -> None:
        watch = _current.get()
        started = time.perf_counter()
        super().connect()  # type: ignore[misc]
        if watch is None:
            return
        watch.connected = True
        total = (time.perf_counter() - started) * 1000
        if "request_at" in watch.phases:
            watch.phases["connect_in_request"] = total
        if isinstance(self, HTTPSConnection):
            opened = watch.phases.get("dns", 0.0) + watch.phases.get("connect", 0.0)
            watch.phases["tls"] = max(0.0, total - opened)
        if watch.expired:
            _shut(self)  # type: ignore[arg-type]

    def _new_conn(self) -> socket.socket:
        """DNS timed apart from the TCP connect: resolve, then connect to the first address (the
        resolver's own fallbacks still apply when that address fails)."""
        watch = _current.get()
        host = self._dns_host
        if watch is None or _is_ip(host):
            started = time.perf_counter()
            sock = super()._new_conn()  # type: ignore[misc]
            if watch is not None:
                watch.phases["connect"] = (time.perf_counter() - started) * 1000
            return sock
        started = time.perf_counter()
        try:
            address = socket.getaddrinfo(host, self.port, 0, socket.SOCK_STREAM)[0][4][0]
        except (socket.gaierror, IndexError):
            return super()._new_conn()  # type: ignore[misc]  # urllib3 reports the failure its way
        resolved = time.perf_counter()
        watch.phases["dns"] = (resolved - started) * 1000
        self._dns_host = str(address)
        try:
            sock = super()._new_conn()  # type: ignore[misc]
        except OSError:
            self._dns_host = host
            sock = super()._new_conn()  # type: ignore[misc]
        finally:
            self._dns_host = host
        watch.phases["connect"] = (time.perf_counter() - resolved) * 1000
        return sock


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def timings_of(watch: Watch, body_done_at: float) -> Timings:
    """The exchange's Timings from what its connection measured (receive: headers to last byte)."""
    phases = watch.phases
    receive = (body_done_at - phases["headers_at"]) * 1000 if "headers_at" in phases else None
    return Timings(
        dns_ms=phases.get("dns") if watch.connected else None,
        connect_ms=phases.get("connect") if watch.connected else None,
        tls_ms=phases.get("tls") if watch.connected else None,
        send_ms=phases.get("send"),
        wait_ms=phases.get("wait"),
        receive_ms=receive,
        reused=not watch.connected,
    )


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

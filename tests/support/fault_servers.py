"""Small misbehaving servers on loopback, for fault tests: each does one bad thing for real.

    with scripted_server(answer_with(503, retry_after="7")) as url: ...   # a status + Retry-After
    with scripted_server(trickle_body()) as url: ...                       # headers, then a crawl
    with scripted_server(reset_mid_body()) as url: ...                     # RST after part of the body
    with tls_server() as url: ...                                          # self-signed HTTPS
    with tcp_forwarder("127.0.0.1", port) as fwd: fwd.stop()               # a host that goes down

Every server runs in daemon threads on a free port and is stopped (sockets closed, threads
joined) when its `with` block ends, also when the test fails.
"""

from __future__ import annotations

import contextlib
import datetime
import ipaddress
import socket
import ssl
import struct
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

Behaviour = Callable[[socket.socket, threading.Event], None]


def read_request(conn: socket.socket) -> bytes:
    """The request head (and whatever body bytes came with it): enough to answer."""
    data = b""
    conn.settimeout(5)
    while b"\r\n\r\n" not in data:
        try:
            chunk = conn.recv(65536)
        except (TimeoutError, ConnectionError):
            break
        if not chunk:
            break
        data += chunk
    return data


def _head(status: int, reason: str, headers: dict[str, str]) -> bytes:
    lines = [f"HTTP/1.1 {status} {reason}", *(f"{k}: {v}" for k, v in headers.items()), "", ""]
    return "\r\n".join(lines).encode()


def answer_with(status: int, reason: str = "", retry_after: str | None = None) -> Behaviour:
    """A JSON error body with `status` (and `Retry-After` when given)."""
    body = b'{"error": "injected fault"}'

    def behave(conn: socket.socket, _stop: threading.Event) -> None:
        read_request(conn)
        headers = {
            "Content-Type": "application/json",
            "Content-Length": str(len(body)),
            "Connection": "close",
        }
        if retry_after is not None:
            headers["Retry-After"] = retry_after
        conn.sendall(_head(status, reason or "Injected", headers) + body)

    return behave


def trickle_body(interval: float = 0.2) -> Behaviour:
    """Prompt headers, then one byte of a never-ending JSON array every `interval` seconds."""

    def behave(conn: socket.socket, stop: threading.Event) -> None:
        read_request(conn)
        conn.sendall(
            _head(200, "OK", {"Content-Type": "application/json", "Transfer-Encoding": "chunked"})
            + b"1\r\n[\r\n"
        )
        while not stop.wait(interval):
            conn.sendall(b"2\r\n1,\r\n")

    return behave


def trickle_headers(interval: float = 0.2) -> Behaviour:
    """A status line, then one header line every `interval` seconds, never finishing the headers."""

    def behave(conn: socket.socket, stop: threading.Event) -> None:
        read_request(conn)
        conn.sendall(b"HTTP/1.1 200 OK\r\n")
        count = 0
        while not stop.wait(interval):
            count += 1
            conn.sendall(f"X-Slow-{count}: x\r\n".encode())

    return behave


def trickle_bytes(interval: float = 0.2, promised: int = 1_000_000) -> Behaviour:
    """Headers promising `promised` bytes, then one byte every `interval` seconds (no chunking:
    a client reading 64 KB at a time sees every socket read succeed)."""

    def behave(conn: socket.socket, stop: threading.Event) -> None:
        read_request(conn)
        conn.sendall(_head(200, "OK", {"Content-Type": "text/plain", "Content-Length": str(promised)}))
        while not stop.wait(interval):
            conn.sendall(b"x")

    return behave


def many_headers(count: int = 10_000) -> Behaviour:
    """A response with `count` header lines (http.client gives up after 100)."""

    def behave(conn: socket.socket, _stop: threading.Event) -> None:
        read_request(conn)
        lines = "".join(f"X-H{i}: v\r\n" for i in range(count))
        conn.sendall(f"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n{lines}\r\n".encode())

    return behave


def terminal_escapes(conn: socket.socket, _stop: threading.Event) -> None:
    """Escape sequences in the reason phrase, a header and the body: title, clear screen, OSC 52."""
    read_request(conn)
    body = b"before \x1b[2J\x1b]52;c;ZXZpbA==\x07 after \xc2\x9b31m"
    head = (
        b"HTTP/1.1 418 Tea\x1b]0;pwned\x07pot\r\nContent-Type: text/plain\r\n"
        b"X-Note: \x1b[31mred\r\nConnection: close\r\nContent-Length: "
        + str(len(body)).encode()
        + b"\r\n\r\n"
    )
    conn.sendall(head + body)


def keep_alive(delay: float = 0.05) -> Behaviour:
    """Answers GETs on one kept-alive connection, each after `delay` s, with a Server-Timing header."""

    def behave(conn: socket.socket, stop: threading.Event) -> None:
        body = b'{"ok": true}'
        headers = {
            "Content-Type": "application/json",
            "Content-Length": str(len(body)),
            "Server-Timing": 'db;dur=12.5;desc="Database", cache;desc=miss',
        }
        while not stop.is_set() and read_request(conn):
            stop.wait(delay)
            conn.sendall(_head(200, "OK", headers) + body)

    return behave


def silent(conn: socket.socket, stop: threading.Event) -> None:
    """Accepts the request and never answers (until the server stops)."""
    read_request(conn)
    stop.wait(30)


def reset_mid_body(sent: int = 4096, promised: int = 1_000_000) -> Behaviour:
    """Headers promising `promised` bytes, `sent` of them, then a TCP reset (SO_LINGER 0)."""

    def behave(conn: socket.socket, _stop: threading.Event) -> None:
        read_request(conn)
        head = _head(200, "OK", {"Content-Type": "application/json", "Content-Length": str(promised)})
        conn.sendall(head + b"[" + b"1," * ((sent - 1) // 2))
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))

    return behave


def in_turn(*behaviours: Behaviour) -> Behaviour:
    """One behaviour per connection, in order; the last one serves every later connection."""
    pending = list(behaviours)
    lock = threading.Lock()

    def behave(conn: socket.socket, stop: threading.Event) -> None:
        with lock:
            behaviour = pending.pop(0) if len(pending) > 1 else pending[0]
        behaviour(conn, stop)

    return behave


def healthy(conn: socket.socket, _stop: threading.Event) -> None:
    """A normal small JSON answer (then the connection closes, so the server stops at once)."""
    read_request(conn)
    body = b'{"ok": true}'
    headers = {"Content-Type": "application/json", "Content-Length": str(len(body)), "Connection": "close"}
    conn.sendall(_head(200, "OK", headers) + body)


@dataclass
class _Server:
    sock: socket.socket
    behaviour: Behaviour
    wrap: Callable[[socket.socket], socket.socket] | None = None
    stop: threading.Event = field(default_factory=threading.Event)
    threads: list[threading.Thread] = field(default_factory=list)

    def serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            thread = threading.Thread(target=self.handle, args=(conn,), daemon=True)
            self.threads.append(thread)
            thread.start()

    def handle(self, conn: socket.socket) -> None:
        with contextlib.suppress(OSError, ssl.SSLError), conn:
            if self.wrap is not None:
                conn = self.wrap(conn)
            self.behaviour(conn, self.stop)


@contextlib.contextmanager
def scripted_server(
    behaviour: Behaviour, wrap: Callable[[socket.socket], socket.socket] | None = None, scheme: str = "http"
) -> Iterator[str]:
    """Serve `behaviour` for every connection; yields the base URL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    server = _Server(sock, behaviour, wrap)
    acceptor = threading.Thread(target=server.serve, daemon=True)
    acceptor.start()
    try:
        yield f"{scheme}://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.stop.set()
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)  # wakes the accept() below; close() alone would not
        sock.close()
        acceptor.join(5)
        for thread in server.threads:
            thread.join(5)


def self_signed_context(directory: Path) -> ssl.SSLContext:
    """A server TLS context with a fresh self-signed certificate for 127.0.0.1 and localhost."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    return context


@contextlib.contextmanager
def tls_server(behaviour: Behaviour | None = None) -> Iterator[str]:
    """HTTPS with a self-signed certificate (the handshake fails for a verifying client)."""
    with tempfile.TemporaryDirectory(prefix="fault-tls-") as tmp:
        context = self_signed_context(Path(tmp))

        def wrap(conn: socket.socket) -> socket.socket:
            conn.settimeout(5)
            return context.wrap_socket(conn, server_side=True)

        with scripted_server(behaviour or answer_with(200, "OK"), wrap, scheme="https") as url:
            yield url


class Forwarder:
    """A TCP forwarder to `target`: the host the explorer knows, which can go down on demand."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self._open: list[socket.socket] = []
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._accept, daemon=True)]
        self._threads[0].start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.sock.accept()
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                return
            with self._lock:
                self._open += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                thread = threading.Thread(target=self._pump, args=(a, b), daemon=True)
                self._threads.append(thread)
                thread.start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)

    def stop(self) -> None:
        """The host goes down: no new connections, open ones cut."""
        # shutdown() first: close() alone leaves a socket blocked in accept() listening on Linux.
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()
        with self._lock:
            for conn in self._open:
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
                conn.close()
        for thread in self._threads:
            thread.join(5)


@contextlib.contextmanager
def tcp_forwarder(target_host: str, target_port: int) -> Iterator[Forwarder]:
    forwarder = Forwarder(target_host, target_port)
    try:
        yield forwarder
    finally:
        forwarder.stop()

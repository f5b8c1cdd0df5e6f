"""Sockets: listeners bound before their server starts, free ports, reachability, loopback checks."""

from __future__ import annotations

import ipaddress
import socket

LOOPBACK = "127.0.0.1"


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
    return LOOPBACK if bind_host in ("0.0.0.0", "") else bind_host


def free_port(host: str = LOOPBACK) -> int:
    """A port nothing listens on right now (the probe socket is closed again)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def port_accepts(port: int, host: str = LOOPBACK, timeout: float = 0.2) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def is_loopback(host: str) -> bool:
    """Whether listening on `host` reaches this machine only (a wildcard or unknown name does not)."""
    if host.strip("[]").lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        pass
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except (OSError, UnicodeError):
        return False
    return bool(addresses) and all(ipaddress.ip_address(a.split("%")[0]).is_loopback for a in addresses)

"""`upstream` apps: the gateway in front of a server that already runs somewhere else."""

from __future__ import annotations

from urllib.parse import urlsplit

from explorer.sandbox.config.schema import AppSpec
from explorer.sandbox.net import port_accepts


def upstream_reachable(spec: AppSpec, timeout: float = 1.0) -> bool:
    """Whether the app's upstream URL accepts connections (when not, its gateway answers 502)."""
    parts = urlsplit(spec.upstream or "")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return port_accepts(port, parts.hostname or "127.0.0.1", timeout=timeout)

"""Outbound allowlist: where a deployed explorer may send credentials (docs/DEPLOY.md#threat-model).

Deployed, the explorer holds its service principal's credentials and the signed-in user's
token, so it must not become a proxy that hands them to any host someone types in. The default
allows the Apps domain family (`databricksapps.com` and every subdomain) and the workspace host;
`EXPLORER_ALLOWED_HOSTS` adds more.

Entries: "host", "host:port", "*.domain" (any subdomain, at any depth, not the domain itself),
or a URL (its host and, when given, port). Matching is on the host name, case-insensitive and
label-exact: "evil-databricksapps.com" and "databricksapps.com.evil.io" never match.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from explorer.parse import InputError, excerpt

APPS_DOMAIN = "databricksapps.com"
DEFAULT_PATTERNS = (APPS_DOMAIN, f"*.{APPS_DOMAIN}")
ENV_VAR = "EXPLORER_ALLOWED_HOSTS"
_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}  # a WebSocket is HTTP upgraded
_HOST_CHARS = re.compile(r"[a-z0-9._-]+|[0-9a-f:.]+")  # names (after IDNA) and IP literals


@dataclass(frozen=True)
class _Rule:
    host: str  # lower-case, IDNA, no trailing dot; for wildcards the domain after "*."
    wildcard: bool
    port: int | None

    def matches(self, host: str, port: int | None) -> bool:
        if self.port is not None and self.port != port:
            return False
        return host.endswith("." + self.host) if self.wildcard else host == self.host


class Allowlist:
    """A set of host patterns; `allows(url)` says whether credentials may go to `url`."""

    def __init__(self, patterns: list[str]) -> None:
        self.patterns = [p.strip() for p in patterns if p and p.strip()]
        self._rules = [_parse_entry(p) for p in self.patterns]

    def __repr__(self) -> str:
        return f"Allowlist({self.patterns!r})"

    @classmethod
    def for_deployment(cls, workspace_host: str | None, extra: str | None = None) -> Allowlist:
        """The default family, the workspace host, and comma-separated `extra` entries."""
        patterns = list(DEFAULT_PATTERNS)
        if workspace_host and workspace_host.strip():
            patterns.append(workspace_host.strip())
        patterns.extend(e.strip() for e in (extra or "").split(",") if e.strip())
        return cls(patterns)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Allowlist:
        """`for_deployment` from `DATABRICKS_HOST` and `EXPLORER_ALLOWED_HOSTS` (default: os.environ)."""
        env = os.environ if env is None else env
        return cls.for_deployment(env.get("DATABRICKS_HOST"), env.get(ENV_VAR))

    def allows(self, url: str) -> bool:
        """True when `url` is http(s) and its host (and port, for entries with one) is listed."""
        target = _target(url)
        return target is not None and any(rule.matches(*target) for rule in self._rules)

    def explain(self, url: str) -> str:
        """One line saying why `url` is refused (for the HOST_NOT_ALLOWED finding)."""
        target = _target(url)
        if target is None:
            return f"{excerpt(url)} is not an http(s) URL with a host"
        shown = ", ".join(self.patterns) or "nothing"
        return f"host {target[0]} is not in the allowed hosts ({shown}); add it to {ENV_VAR}"


def _target(url: str) -> tuple[str, int | None] | None:
    """(host, effective port) of an http(s) URL, or None when it has none."""
    try:
        parts = urlsplit(str(url).strip())
        port = parts.port
        host = _canonical_host(parts.hostname or "")
    except (ValueError, UnicodeError):
        return None
    scheme = parts.scheme.lower()
    # User info and odd host characters are how "allowed.com@evil.com"-style tricks start;
    # parsers disagree on them, so refuse rather than guess which host a client would contact.
    if scheme not in _DEFAULT_PORTS or "@" in parts.netloc or not _HOST_CHARS.fullmatch(host):
        return None
    return host, port if port is not None else _DEFAULT_PORTS[scheme]


def _parse_entry(entry: str) -> _Rule:
    text = entry.strip()
    wildcard = text.startswith("*.")
    if wildcard:
        text = text[2:]
    try:
        parts = urlsplit(text if "://" in text else "//" + text)
        port = parts.port
        host = _canonical_host(parts.hostname or "")
    except (ValueError, UnicodeError):
        raise InputError(
            f"Allowed-host entry {excerpt(entry)} is not a host, host:port, *.domain or URL"
        ) from None
    if not host or "*" in host or (parts.path not in ("", "/")):
        raise InputError(f"Allowed-host entry {excerpt(entry)} is not a host, host:port, *.domain or URL")
    if port is None and "://" in text:
        # A URL names one origin: without a port it means the scheme's default port.
        port = _DEFAULT_PORTS.get(parts.scheme.lower())
    return _Rule(host=host, wildcard=wildcard, port=port)


def _canonical_host(host: str) -> str:
    host = host.strip().lower().rstrip(".")
    return host.encode("idna").decode("ascii") if host and not host.isascii() else host

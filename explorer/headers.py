"""Response headers that explain themselves: `Server-Timing` and `WWW-Authenticate` (RFC 6750).

Both are untrusted text from the network: parsed leniently, never raising, values kept short.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from explorer.model import ServerTiming

_PARAM = re.compile(r'\s*([A-Za-z0-9_.+-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^,;\s]*)')
_MAX_VALUE = 300


def parse_server_timing(values: list[str]) -> list[ServerTiming]:
    """`db;dur=53.2;desc="Database", cache;desc=hit` -> metrics (at most 50, across header lines)."""
    metrics: list[ServerTiming] = []
    for value in values:
        for entry in _split_outside_quotes(value, ","):
            name, _, rest = entry.strip().partition(";")
            name = name.strip()
            if not name or not re.fullmatch(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+", name):
                continue
            params = {k.lower(): v for k, v in _params(rest, ";")}
            metrics.append(
                ServerTiming(name[:80], _number(params.get("dur")), params.get("desc", "")[:_MAX_VALUE])
            )
            if len(metrics) >= 50:
                return metrics
    return metrics


@dataclass
class Challenge:
    """One `WWW-Authenticate` challenge: its scheme and parameters (error, error_description, scope, realm)."""

    scheme: str
    params: dict[str, str] = field(default_factory=dict)

    @property
    def error(self) -> str | None:
        return self.params.get("error")

    @property
    def description(self) -> str | None:
        return self.params.get("error_description")

    @property
    def scopes(self) -> list[str]:
        return self.params.get("scope", "").split()


def parse_www_authenticate(value: str | None) -> list[Challenge]:
    """`Bearer realm="x", error="insufficient_scope", scope="sql files"` -> challenges."""
    challenges: list[Challenge] = []
    for match in re.finditer(
        r'([A-Za-z][A-Za-z0-9_-]*)((?:\s*,?\s*[A-Za-z0-9_.+-]+\s*=\s*(?:"(?:[^"\\]|\\.)*"|[^,\s]*))*)',
        value or "",
    ):
        scheme, rest = match.group(1), match.group(2)
        challenges.append(Challenge(scheme, {k.lower(): v for k, v in _params(rest, ",")}))
        if len(challenges) >= 10:
            break
    return [c for c in challenges if c.scheme.lower() not in ("realm", "error", "scope")]


def _params(text: str, separator: str) -> list[tuple[str, str]]:
    pairs = []
    for piece in _split_outside_quotes(text, separator):
        match = _PARAM.match(piece)
        if match:
            raw = match.group(2)
            if raw.startswith('"'):
                raw = re.sub(r"\\(.)", r"\1", raw[1:-1])
            pairs.append((match.group(1), raw[:_MAX_VALUE]))
    return pairs


def _split_outside_quotes(text: str, separator: str) -> list[str]:
    parts, current, quoted, escaped = [], [], False, False
    for ch in text:
        if escaped:
            current.append(ch)
            escaped = False
        elif ch == "\\" and quoted:
            current.append(ch)
            escaped = True
        elif ch == '"':
            quoted = not quoted
            current.append(ch)
        elif ch == separator and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return [p for p in parts if p.strip()]


def _number(text: str | None) -> float | None:
    try:
        value = float(text) if text is not None else None
    except ValueError:
        return None
    return value if value is not None and value == value and abs(value) < 1e12 else None

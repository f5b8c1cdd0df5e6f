"""Decode bearer tokens for display: kind, issuer, identity, expiry, granted vs required scopes.

Nothing here verifies a signature: the view is informational, and the
gateway is the one that accepts or refuses a token. `decode_token` never raises and never keeps
the token or its signature; only the masked form and the decoded claims are returned.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
import time
from collections.abc import Iterable
from typing import Any

from explorer.model import TokenInfo
from explorer.redact import PAT_PATTERN, mask

_WHITESPACE = re.compile(r"\s+")
_BEARER_PREFIX = re.compile(r"^bearer\s+", re.IGNORECASE)
_ENTRA_ISSUERS = ("login.microsoftonline.com", "sts.windows.net")
# Decoding a megabyte of base64 is cheap, but nothing real is that large; refuse to try.
MAX_TOKEN_LENGTH = 64 * 1024


def decode_token(token: str | bytes | None, required_scopes: list[str] | None = None) -> TokenInfo:
    """Classify and decode `token` (no verification). Never raises, whatever the input.

    kind: "none" (empty), "pat" (dapi…), "oauth" (JWT whose `iss` ends with /oidc), "entra"
    (Entra ID issuer), "foreign" (any other JWT), "opaque" (not a decodable JWT).
    """
    text = _as_text(token)
    required = _clean_scopes(required_scopes or [])
    if not text:
        return TokenInfo(masked="", kind="none", required_scopes=required, missing_scopes=list(required))
    info = TokenInfo(masked=mask(text), kind="opaque", required_scopes=required)
    if PAT_PATTERN.fullmatch(text):
        info.kind = "pat"
    else:
        decoded = _decode_jwt(text)
        if decoded is not None:
            _fill_from_jwt(info, *decoded)
    info.missing_scopes = missing_scopes(info.scopes, required)
    return info


def normalize_token(text: str) -> str:
    """A pasted token without the whitespace a wrapped terminal or an editor put into it.

    No bearer token (JWT, PAT, opaque OAuth token) contains whitespace, so a line break inside one
    is always an artefact of copying; left in, it breaks the header and its pieces escape redaction.
    """
    return _WHITESPACE.sub("", _BEARER_PREFIX.sub("", text.strip()))


# The same scope under its current and its legacy spelling (docs/PLATFORM.md#scope-names-and-their-drift).
SCOPE_ALIASES: tuple[tuple[str, str], ...] = (
    ("files", "files.files"),
    ("genie", "dashboards.genie"),
    ("model-serving", "serving.serving-endpoints"),
    ("catalog.tables:read", "catalog.tables.read"),
    ("iam.current-user:read", "iam.current-user.read"),
    ("iam.access-control:read", "iam.access-control.read"),
)


def scope_alias(scope: str) -> str | None:
    """The other spelling of `scope`, when it has one."""
    for current, legacy in SCOPE_ALIASES:
        if scope == current:
            return legacy
        if scope == legacy:
            return current
    return None


# Scopes the platform adds to every app's effective scopes; the gateway does not ask callers for them.
PLATFORM_SCOPES = ("iam.access-control:read", "iam.current-user:read")


def missing_scopes(granted: Iterable[str], required: Iterable[str]) -> list[str]:
    """Required scopes the token lacks, in the order required, without duplicates: the one set the
    app card, the Token pane, the diagnosis and the matrix all show.

    Exact comparison on purpose (`all-apis` implies no user-authorization scope; another spelling
    is named by the diagnosis, not counted as granted); the platform's own additions are not
    required of a caller, as the gateway does not require them.
    """
    have = set(granted)
    return [s for s in dict.fromkeys(required) if s not in have and s not in PLATFORM_SCOPES]


def describe_expiry(info: TokenInfo, now: float | None = None) -> str:
    """Human expiry: "expires in 59 min", "expired 3 min ago", or "no expiry"."""
    left = info.seconds_left(time.time() if now is None else now)
    if left is None:
        return "no expiry"
    if left >= 0:
        return f"expires in {_duration(left)}"
    return f"expired {_duration(-left)} ago"


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds} s"
    minutes, hours, days = seconds // 60, seconds // 3600, seconds // 86400
    if seconds < 3600:
        return f"{minutes} min"
    if seconds < 86400:
        rest = minutes % 60
        return f"{hours} h {rest} min" if rest else f"{hours} h"
    rest = hours % 24
    return f"{days} d {rest} h" if rest else f"{days} d"


def _as_text(token: object) -> str:
    if token is None:
        return ""
    if isinstance(token, (bytes, bytearray, memoryview)):
        text = bytes(token).decode("utf-8", errors="replace")
    else:
        text = token if isinstance(token, str) else str(token)
    return _BEARER_PREFIX.sub("", text.strip()).strip()


def _decode_jwt(text: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """(header, claims) of a compact JWS, or None when `text` is not one."""
    if len(text) > MAX_TOKEN_LENGTH or text.count(".") != 2:
        return None
    header_b64, claims_b64, _signature = text.split(".")
    header, claims = _b64_json(header_b64), _b64_json(claims_b64)
    if not isinstance(header, dict) or not isinstance(claims, dict):
        return None
    return header, claims


def _b64_json(segment: str) -> Any:
    try:
        raw = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
        return json.loads(raw.decode("utf-8"))
    except (binascii.Error, ValueError, RecursionError):
        # ValueError covers bad UTF-8, bad JSON and non-ASCII characters in the segment.
        return None


def _fill_from_jwt(info: TokenInfo, header: dict[str, Any], claims: dict[str, Any]) -> None:
    info.claims = claims
    info.token_type = _str(header.get("typ"))
    info.issuer = _str(claims.get("iss"))
    info.audience = _audience(claims.get("aud"))
    info.subject = _str(claims.get("sub"))
    info.client_id = next(
        (v for v in map(_str, (claims.get(k) for k in ("client_id", "appid", "azp"))) if v), None
    )
    info.issued_at = _epoch(claims.get("iat"))
    info.expires_at = _epoch(claims.get("exp"))
    info.scopes = _scopes(claims.get("scope")) or _scopes(claims.get("scp"))
    info.kind = _issuer_kind(info.issuer)


def _issuer_kind(issuer: str | None) -> str:
    lowered = (issuer or "").lower()
    if any(host in lowered for host in _ENTRA_ISSUERS):
        return "entra"
    if lowered.rstrip("/").endswith("/oidc"):
        return "oauth"
    return "foreign"


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _audience(value: Any) -> str | list[str] | None:
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)] or None
    return _str(value)


def _epoch(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        number = float(value)
    except OverflowError:  # an absurd integer claim
        return None
    return number if math.isfinite(number) else None


def _scopes(value: Any) -> list[str]:
    if isinstance(value, str):
        return _clean_scopes(value.split())
    if isinstance(value, list):
        return _clean_scopes(v for v in value if isinstance(v, str))
    return []


def _clean_scopes(scopes: Iterable[str]) -> list[str]:
    stripped = (str(scope).strip() for scope in scopes)
    return list(dict.fromkeys(scope for scope in stripped if scope))

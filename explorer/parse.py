"""Parsing what the user types: URLs, hosts, header lines, query parameters, JSON bodies, scopes.

Every function either returns a clean value or raises `InputError` whose message is one short
line the UI and the CLI can show as is (it never echoes more than a short excerpt of the input).
"""

from __future__ import annotations

import ipaddress
import json
import math
import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import SplitResult, quote, unquote, unquote_plus, urlencode, urlsplit, urlunsplit

MAX_MESSAGE = 200
_EXCERPT = 40
_SCHEMES = ("http", "https")
_URL_SCHEMES = (*_SCHEMES, "ws", "wss")  # what a request may target (WebSockets included)
# RFC 9110 token characters: what a header name may contain.
_HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# RFC 6749 §3.3 scope-token characters.
_SCOPE = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]+")
_HAS_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")  # at the start only: a query may hold a URL
_SCHEME_ONLY = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):(?![0-9]|$)")
_HOST_LABELS = re.compile(
    r"[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?)*\.?"
)


class InputError(ValueError):
    """Bad user input. `str(error)` is one short line, ready to show."""

    def __init__(self, message: str) -> None:
        super().__init__(_one_line(message))


def _one_line(message: str) -> str:
    """Collapse `message` to a single printable line of bounded length."""
    cleaned = "".join(ch if ch.isprintable() else " " for ch in str(message))
    cleaned = " ".join(cleaned.split())
    return cleaned if len(cleaned) <= MAX_MESSAGE else cleaned[: MAX_MESSAGE - 1] + "…"


def excerpt(text: object) -> str:
    """A short quoted, escaped excerpt of user input for error messages."""
    text = str(text)
    shown = text if len(text) <= _EXCERPT else text[:_EXCERPT] + "…"
    return repr(shown)


# --- URLs and hosts ---------------------------------------------------------------------------


def normalize_url(text: str, base: str | None = None) -> str:
    """An absolute http(s) URL from what the user typed.

    Accepts a full URL, a host-and-path without scheme (https:// is added), or a path
    ("/api/x", or "api/x" when `base` is given) joined to the origin of `base` (the path
    replaces the base's path). The fragment is dropped: it is never sent.
    """
    text = _required_text(text, "Enter a URL, or a path such as /api/hello")
    _reject_blanks(text, "URL")
    if text.startswith("//"):
        raise InputError(f"{excerpt(text)} is not a path: a path starts with a single /")
    if not _HAS_SCHEME.match(text) and not _looks_like_host(text):
        if base is None:
            raise InputError(
                f"{excerpt(text)} is a path: enter a full URL such as https://<app-url>{_slash(text)}"
            )
        origin = _split_checked(normalize_url(base))
        path, _mark, query = _slash(text).split("#")[0].partition("?")
        return urlunsplit((origin.scheme, origin.netloc, path, query, ""))
    parts = _split_checked(_with_scheme(text))
    return urlunsplit((parts.scheme, parts.netloc, parts.path, parts.query, ""))


def normalize_host(text: str) -> str:
    """The origin (scheme://host[:port]) of a workspace host; https:// added when no scheme.

    A path, query or fragment is dropped, so a URL copied from the browser's address bar works.
    """
    text = _required_text(text, "Enter the workspace host, e.g. https://adb-123.4.azuredatabricks.net")
    _reject_blanks(text, "Host")
    parts = _split_checked(_with_scheme(text))
    if parts.scheme not in _SCHEMES:  # a workspace is reached over HTTP(S), never a WebSocket
        raise InputError(f"Unsupported scheme {excerpt(parts.scheme)} for a workspace: use https://")
    return urlunsplit((parts.scheme, parts.netloc, "", "", ""))


def is_web_link(url: object) -> bool:
    """True for an http(s) URL with a host: the only links taken from the network and shown or
    followed (an apps API entry or OIDC metadata may carry `javascript:` or worse)."""
    if not isinstance(url, str) or any(ch.isspace() or not ch.isprintable() for ch in url):
        return False
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises for a malformed port
    except ValueError:
        return False
    return parts.scheme.lower() in _SCHEMES and bool(parts.hostname)


def origin(url: str) -> str:
    """scheme://host[:port] of `url` as written, for messages (the URL itself when it has no host)."""
    parts = urlsplit(str(url))
    return f"{parts.scheme}://{parts.netloc}" if parts.netloc else str(url)


def origin_key(url: str) -> str:
    """The origin to compare by: scheme and host lower-cased, the port explicit. Never raises."""
    text = str(url)
    parts = urlsplit(text if "://" in text else "https://" + text)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    port = port or (443 if scheme == "https" else 80)
    return f"{scheme}://{(parts.hostname or '').lower()}:{port}"


def url_with_params(url: str, params: Iterable[tuple[str, str]] = ()) -> str:
    """`url` with `params` appended to its query string (percent-encoded as requests does)."""
    params = list(params)
    if not params:
        return url
    base, _hash, _fragment = url.partition("#")
    separator = "&" if "?" in base else "?"
    if "?" in base and base.endswith(("?", "&")):  # "/a&b" without a query is a path, not a query
        separator = ""
    return base + separator + urlencode(params, quote_via=quote)


def _with_scheme(text: str) -> str:
    """`text` with https:// in front when it has no scheme (docs/PLATFORM.md#app-runtime-environment: DATABRICKS_HOST may lack it)."""
    if _HAS_SCHEME.match(text):
        return text
    other_scheme = _SCHEME_ONLY.match(text)  # "mailto:x", "javascript:…" but not "host:8080"
    if other_scheme:
        raise InputError(f"Unsupported scheme {excerpt(other_scheme.group(1))}: use http:// or https://")
    return "https://" + text


def _slash(path: str) -> str:
    return path if path.startswith("/") else "/" + path


def _looks_like_host(text: str) -> bool:
    """True for "host.tld/…", "host:8080/…", "localhost/…", "[::1]/…" typed without a scheme."""
    if text.startswith("/"):
        return False
    first = re.split(r"[/?#]", text, maxsplit=1)[0]
    return "." in first or ":" in first or first.lower() == "localhost" or first.startswith("[")


def _required_text(text: Any, empty_message: str) -> str:
    if text is None:
        raise InputError(empty_message)
    if not isinstance(text, str):
        raise InputError(f"Expected text, got {type(text).__name__}")
    text = text.strip()
    if not text:
        raise InputError(empty_message)
    return text


def _reject_blanks(text: str, what: str) -> None:
    for position, ch in enumerate(text, start=1):
        if ch.isspace() or unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Zl", "Zp"):
            kind = "a space" if ch == " " else f"the character {ch!r}"
            raise InputError(f"{what} contains {kind} at position {position}; encode it (a space is %20)")


def _split_checked(text: str) -> SplitResult:
    """urlsplit plus the checks the sender relies on: scheme, host, port, no user info."""
    try:
        parts = urlsplit(text)
    except ValueError as error:  # e.g. an unbalanced "[" in the host
        raise InputError(f"Malformed URL {excerpt(text)}: {error}") from None
    scheme = parts.scheme.lower()
    if scheme not in _URL_SCHEMES:
        raise InputError(
            f"Unsupported scheme {excerpt(parts.scheme)}: use http:// or https:// (ws:// or wss:// for a WebSocket)"
        )
    if "@" in parts.netloc:
        raise InputError("User name or password in the URL is not supported: pick an auth method instead")
    host = _checked_host(parts.hostname or "", text)
    try:
        port = parts.port
    except ValueError:
        raise InputError(f"Invalid port in {excerpt(text)}: use a number from 1 to 65535") from None
    if port == 0:
        raise InputError(f"Invalid port in {excerpt(text)}: use a number from 1 to 65535")
    netloc = host if port is None else f"{host}:{port}"
    return SplitResult(scheme, netloc, parts.path, parts.query, parts.fragment)


def _checked_host(host: str, text: str) -> str:
    if not host:
        raise InputError(f"No host in {excerpt(text)}")
    if ":" in host:  # an IPv6 literal (urlsplit strips the brackets)
        try:
            return f"[{ipaddress.IPv6Address(host.split('%')[0]).compressed}]"
        except ValueError:
            raise InputError(f"Invalid IPv6 address in {excerpt(text)}") from None
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            raise InputError(f"Invalid host name in {excerpt(text)}") from None
    if (
        len(host) > 253
        or not _HOST_LABELS.fullmatch(host)
        or any(len(label) > 63 for label in host.split("."))
    ):
        raise InputError(f"Invalid host name {excerpt(host)}")
    return host.lower()


# --- headers ----------------------------------------------------------------------------------


def parse_header_line(line: str) -> tuple[str, str]:
    """("Name", "value") from "Name: value". The value may be empty; the name may not."""
    if not isinstance(line, str):
        raise InputError(f"Expected a header line, got {type(line).__name__}")
    name, colon, value = line.strip().partition(":")
    if not colon:
        raise InputError(f"Header {excerpt(line.strip())} needs the form 'Name: value' (no ':' found)")
    name, value = name.strip(), value.strip()
    if not name:
        raise InputError(f"Header {excerpt(line.strip())} has no name before the ':'")
    if not _HEADER_NAME.fullmatch(name):
        raise InputError(f"Header name {excerpt(name)} may only contain letters, digits and -_.!#$%&'*+^`|~")
    bad = next((ch for ch in value if (not ch.isprintable() and ch != "\t")), None)
    if bad is not None:
        raise InputError(f"Header {name!r} value contains the control character {bad!r}")
    return name, value


def parse_header_lines(text: str | None) -> list[tuple[str, str]]:
    """Headers from multi-line text, one "Name: value" per line; blank lines are skipped."""
    if text is None:
        return []
    if not isinstance(text, str):
        raise InputError(f"Expected header lines as text, got {type(text).__name__}")
    headers = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            headers.append(parse_header_line(line))
        except InputError as error:
            raise InputError(f"line {number}: {error}") from None
    return headers


# --- query parameters -------------------------------------------------------------------------


def parse_query(value: Any) -> list[tuple[str, str]]:
    """Query parameters from text or from rows.

    Text: a pasted query string ("?a=1&b=x+y", percent- and plus-decoded as browsers encode
    them) or one "name=value" per line (percent-decoded; "+" stays "+"). Rows: a list of
    (name, value) pairs, a mapping, or a table with `.values` (a pandas DataFrame); empty rows
    are skipped.
    """
    if value is None:
        return []
    if isinstance(value, str):
        return _parse_query_text(value)
    if isinstance(value, Mapping):
        return _parse_query_rows(list(value.items()))
    if hasattr(value, "columns") and hasattr(value, "values"):
        return _parse_query_rows(value.values.tolist())
    if isinstance(value, Iterable):
        return _parse_query_rows(list(value))
    raise InputError(f"Expected query parameters as text or rows, got {type(value).__name__}")


def _parse_query_text(text: str) -> list[tuple[str, str]]:
    text = text.strip()
    pasted = text.startswith("?") or ("&" in text and "\n" not in text)
    decode = unquote_plus if pasted else unquote
    items = re.split(r"[&\n]", text[1:] if text.startswith("?") else text)
    params = []
    for item in (i.strip() for i in items):
        if not item:
            continue
        name, _eq, val = item.partition("=")
        if not name.strip():
            raise InputError(f"Query parameter {excerpt(item)} has no name before the '='")
        params.append((decode(name.strip()), decode(val.strip())))
    return params


def _parse_query_rows(rows: list[Any]) -> list[tuple[str, str]]:
    params = []
    for number, row in enumerate(rows, start=1):
        if isinstance(row, (str, bytes)) or not isinstance(row, Iterable):
            raise InputError(f"Query row {number} must be a (name, value) pair")
        cells = [_cell(c) for c in row]
        name, val = [*cells, "", ""][:2]
        if any(cells[2:]):
            raise InputError(f"Query row {number} has more than two cells")
        if not name and not val:
            continue
        if not name:
            raise InputError(f"Query row {number} has a value but no name")
        params.append((name, val))
    return params


def _cell(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value).strip()


# --- bodies and scopes ------------------------------------------------------------------------


def parse_json_body(text: str | None) -> Any:
    """The JSON value in `text`; None when it is empty. Strict JSON (no NaN or Infinity)."""
    if text is None or not str(text).strip():
        return None
    if not isinstance(text, str):
        raise InputError(f"Expected the body as text, got {type(text).__name__}")
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as error:
        raise InputError(f"Invalid JSON at line {error.lineno} col {error.colno}: {error.msg}") from None
    except RecursionError:
        raise InputError("Invalid JSON: nested too deeply") from None
    except ValueError as error:  # from _reject_constant, or an integer with too many digits
        raise InputError(f"Invalid JSON: {error}") from None


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed")


def parse_scopes(value: str | Iterable[str] | None) -> list[str]:
    """Scopes from "a b,c" (spaces and/or commas) or a list; de-duplicated, order kept."""
    if value is None:
        return []
    items = value.replace(",", " ").split() if isinstance(value, str) else _scope_items(value)
    for scope in items:
        if not _SCOPE.fullmatch(scope):
            raise InputError(
                f"Invalid scope {excerpt(scope)}: scopes are ASCII without quotes or backslashes"
            )
    return list(dict.fromkeys(items))


def _scope_items(value: Any) -> list[str]:
    if not isinstance(value, Iterable):
        raise InputError(f"Expected scopes as text or a list, got {type(value).__name__}")
    items: list[str] = []
    for entry in value:
        if not isinstance(entry, str):
            raise InputError(f"Expected scope names as text, got {type(entry).__name__}")
        items.extend(entry.replace(",", " ").split())
    return items

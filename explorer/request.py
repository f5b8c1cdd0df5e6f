"""What a person typed -> the RequestSpec to send: the one set of rules the UI and the CLI share.

The presenters only turn their own conventions into parts (the form's `#` comment lines, the
CLI's `-H` and `@file` bodies); every rule about what may be sent lives here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from explorer.model import RequestSpec
from explorer.parse import InputError, normalize_url, parse_json_body

HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
# Not an HTTP method: the URL (an http(s) one, or a path on the picked app) opened as a WebSocket.
WEBSOCKET = "WS"
REQUEST_METHODS = (*HTTP_METHODS, WEBSOCKET)
BODYLESS = ("GET", "HEAD")
_PATH_PARAM = re.compile(r"\{[^}/]+\}")


def build_spec(
    method: str,
    url: str,
    *,
    params: Iterable[tuple[str, str]] = (),
    headers: Iterable[tuple[str, str]] = (),
    body: str | None = None,
    base: str | None = None,
    timeout: float = 30.0,
) -> RequestSpec:
    """The RequestSpec for these parts; InputError says what to fix.

    A path is joined to `base` (the picked app); `{name}` path parameters must be filled in; GET and
    HEAD carry no body; a body without a Content-Type must be JSON (it is then labelled JSON), one
    with another Content-Type is sent as typed. For a ws:// or wss:// URL the body is the text
    frames to send, one per line; the method WS opens an http(s) URL as that WebSocket.
    """
    verb = (method or "GET").strip().upper()
    if verb not in REQUEST_METHODS:
        raise InputError(f"Unknown method {verb[:20]!r}: use one of {', '.join(REQUEST_METHODS)}.")
    target = normalize_url(url, base=base or None)
    if verb == WEBSOCKET:
        target = as_websocket_url(target)
        verb = "GET"  # the upgrade is a GET
    unfilled = _PATH_PARAM.search(target)
    if unfilled:
        raise InputError(f"Fill in the path parameter {unfilled.group(0)} in the URL.")
    header_list = list(headers)
    text = body if body is not None and body.strip() else None
    if text is not None and target.split(":", 1)[0] in ("ws", "wss"):
        # a WebSocket's "body" is the text frames to send, one per line: no method rule, no JSON label
        return RequestSpec(
            method="GET", url=target, params=list(params), headers=header_list, body=text, timeout=timeout
        )
    if text is not None:
        if verb in BODYLESS:
            raise InputError(f"{verb} requests carry no body: remove the body or use POST, PUT or PATCH.")
        header_list = _with_json_type(text, header_list)
    return RequestSpec(
        method=verb, url=target, params=list(params), headers=header_list, body=text, timeout=timeout
    )


def as_websocket_url(url: str) -> str:
    """http -> ws, https -> wss (a ws(s) URL stays as it is)."""
    scheme, sep, rest = url.partition("://")
    return {"http": "ws", "https": "wss"}.get(scheme.lower(), scheme) + sep + rest


def _with_json_type(body: str, headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Validate a JSON body before sending; label it JSON unless another content type was chosen."""
    content_type = next((v for k, v in headers if k.lower() == "content-type"), None)
    if content_type is not None and "json" not in content_type.lower():
        return headers  # another content type was asked for: the text goes as typed
    try:
        parse_json_body(body)
    except InputError as e:
        raise InputError(f"Body: {e}. Fix it, or set a Content-Type header to send it as text.") from None
    return headers if content_type else [*headers, ("Content-Type", "application/json")]

"""The request form (request bar and its tabs, as text) -> a RequestSpec, and endpoint -> form.

Parsing itself lives in explorer.parse; this module only adds the form's conventions: `#` comment
lines, paths under the picked app, and a JSON body validated (and labelled) before it is sent.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from explorer.model import Endpoint, RequestSpec
from explorer.parse import InputError, normalize_url, parse_header_lines, parse_json_body, parse_query

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
_BODYLESS = ("GET", "HEAD")
_PATH_PARAM = re.compile(r"\{[^}/]+\}")


class FormError(ValueError):
    """A one-line message about what the user typed (the form never holds secrets)."""


@dataclass
class RequestForm:
    """The request bar and its tabs, as the user left them."""

    method: str = "GET"
    url: str = ""  # absolute URL, or a path joined to app_url
    params: str = ""  # one `name=value` per line, `#` comments
    headers: str = ""  # one `Name: Value` per line, `#` comments
    body: str = ""
    app_url: str = ""
    timeout: float = 30.0


def _active_lines(text: str | None) -> str:
    """`text` without blank and `#` comment lines (commented lines are optional parameters)."""
    lines = (line for line in (text or "").splitlines() if line.strip())
    return "\n".join(line for line in lines if not line.lstrip().startswith("#"))


def _with_json_type(body: str, headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Validate a JSON body before sending; label it JSON unless the user chose a content type."""
    content_type = next((v for k, v in headers if k.lower() == "content-type"), None)
    if content_type is not None and "json" not in content_type.lower():
        return headers  # the user asked for another content type: send the text as typed
    try:
        parse_json_body(body)
    except InputError as e:
        raise FormError(f"Body: {e}. Fix it, or set a Content-Type header to send it as text.") from None
    return headers if content_type else [*headers, ("Content-Type", "application/json")]


def build_spec(form: RequestForm) -> RequestSpec:
    """The RequestSpec the form describes; FormError says what to fix."""
    method = (form.method or "GET").strip().upper()
    if method not in METHODS:
        raise FormError(f"Unknown method {method!r}: use one of {', '.join(METHODS)}.")
    try:
        url = normalize_url(form.url, base=form.app_url or None)
        headers = parse_header_lines(_active_lines(form.headers))
        params = parse_query(_active_lines(form.params))
    except InputError as e:
        raise FormError(str(e)) from None
    unfilled = _PATH_PARAM.search(url)
    if unfilled:
        raise FormError(f"Fill in the path parameter {unfilled.group(0)} in the URL.")
    body = form.body if (form.body or "").strip() else None
    if body is not None:
        if method in _BODYLESS:
            raise FormError(f"{method} requests carry no body: clear the Body tab or use POST, PUT or PATCH.")
        headers = _with_json_type(body, headers)
    return RequestSpec(
        method=method, url=url, params=params, headers=headers, body=body, timeout=form.timeout
    )


def params_skeleton(endpoint: Endpoint) -> str:
    """An endpoint's query parameters as lines: required ones active, optional ones commented out."""
    lines = []
    for p in endpoint.parameters:
        if p.get("in") != "query":
            continue
        line = f"{p.get('name')}={_query_text((p.get('schema') or {}).get('default'))}"
        lines.append(line if p.get("required") else f"# {line}")
    return "\n".join(lines)


def _query_text(value: Any) -> str:
    """A schema default as it is written in a query string (JSON spelling: true, not True)."""
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value)


def endpoint_form(endpoint: Endpoint, app_url: str) -> RequestForm:
    """What picking an endpoint puts in the request bar ({path} parameters are left to fill in)."""
    url = app_url.rstrip("/") + endpoint.path if app_url else endpoint.path
    return RequestForm(
        method=endpoint.method.upper(),
        url=url,
        params=params_skeleton(endpoint),
        body=endpoint.body_example or "",
        app_url=app_url,
    )

"""The request form (request bar and its tabs, as text) -> a RequestSpec, and endpoint -> form.

The rules live in explorer.request (shared with the CLI); this module only adds the form's
conventions: `#` comment lines and paths under the picked app.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from explorer import request
from explorer.model import Endpoint, RequestSpec
from explorer.parse import InputError, parse_header_lines, parse_query

METHODS = request.HTTP_METHODS


class FormError(ValueError):
    """A one-line message about what the user typed (the form never holds secrets)."""


# The form's fields as handlers and scripts name them (gradio_client keeps `headers` for HTTP
# headers, so the header lines are `header_lines`), in the order of panes.REQUEST_FORM.
FORM_PARAMS = ("method", "url", "params", "header_lines", "body", "timeout", "app_url")


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

    @classmethod
    def from_values(cls, values: Sequence[Any]) -> RequestForm:
        """The form from its components' values, in FORM_PARAMS order."""
        method, url, params, header_lines, body, timeout, app_url = values
        try:
            seconds = float(timeout or 30)
        except (TypeError, ValueError):
            raise FormError(f"Timeout {str(timeout)[:20]!r} is not a number of seconds.") from None
        return cls(
            method or "GET", url or "", params or "", header_lines or "", body or "", app_url or "", seconds
        )


def _active_lines(text: str | None) -> str:
    """`text` without blank and `#` comment lines (commented lines are optional parameters)."""
    lines = (line for line in (text or "").splitlines() if line.strip())
    return "\n".join(line for line in lines if not line.lstrip().startswith("#"))


def build_spec(form: RequestForm) -> RequestSpec:
    """The RequestSpec the form describes (the engine's rules: explorer.request); FormError says what to fix."""
    try:
        return request.build_spec(
            form.method,
            form.url,
            params=parse_query(_active_lines(form.params)),
            headers=parse_header_lines(_active_lines(form.headers)),
            body=form.body,
            base=form.app_url or None,
            timeout=form.timeout,
        )
    except InputError as e:
        raise FormError(str(e)) from None


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

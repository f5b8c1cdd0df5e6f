"""The request form (request bar and its tabs, as text) -> a RequestSpec, and endpoint -> form.

The rules live in explorer.request (shared with the CLI); this module only adds the form's
conventions: `#` comment lines and paths under the picked app.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from explorer import request
from explorer.model import Endpoint, RequestSpec
from explorer.parse import InputError, parse_header_lines, parse_query

METHODS = request.REQUEST_METHODS  # the HTTP methods, and WS: the URL as a WebSocket


class FormError(ValueError):
    """A one-line message about what the user typed (the form never holds secrets)."""


# The form's fields as handlers and scripts name them (gradio_client keeps `headers` for HTTP
# headers, so the header lines are `header_lines`), in the order of panes.REQUEST_FORM.
# `send_as`: who the tab sends as (ui.identities: this connection, an identity file, "this app", "me").
FORM_PARAMS = ("method", "url", "params", "header_lines", "body", "timeout", "app_url", "send_as")
THIS_CONNECTION = "this connection"  # the page's own connection (the default: a new tab sends with it)


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
    send_as: str = THIS_CONNECTION  # not part of the request: who sends it (kept per tab, never saved)

    @classmethod
    def from_values(cls, values: Sequence[Any]) -> RequestForm:
        """The form from its components' values, in FORM_PARAMS order."""
        method, url, params, header_lines, body, timeout, app_url, *rest = values
        send_as = str(rest[0] or "").strip() if rest else ""
        try:
            seconds = float(timeout or 30)
        except (TypeError, ValueError):
            raise FormError(f"Timeout {str(timeout)[:20]!r} is not a number of seconds.") from None
        return cls(
            method or "GET", url or "", params or "", header_lines or "", body or "", app_url or "", seconds,
            send_as or THIS_CONNECTION,
        )  # fmt: skip


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


def form_from_spec(spec: RequestSpec, app_url: str = "") -> RequestForm:
    """The form that sends `spec` again (a history row reopened): query and headers as lines.

    The Authorization header is the connection's (redacted in history), so it is left out."""
    headers = [(k, v) for k, v in spec.headers if k.lower() != "authorization"]
    return RequestForm(
        method=spec.method.upper(),
        url=spec.url,
        params="\n".join(f"{k}={v}" for k, v in spec.params),
        headers="\n".join(f"{k}: {v}" for k, v in headers),
        body=spec.body or "",
        app_url=app_url,
        timeout=spec.timeout,
    )


_PATH_VARIABLE = re.compile(r"\{([^{}/]+)\}")


def path_names(url: str) -> list[str]:
    """The `{name}` path parameters of a URL template, in order, once each (`{{var}}` is a variable)."""
    names: list[str] = []
    for match in _PATH_VARIABLE.finditer(url or ""):
        start = match.start()
        if (url[start - 1 : start] == "{") or url[match.end() : match.end() + 1] == "}":
            continue  # {{collection variable}}
        if match.group(1) not in names:
            names.append(match.group(1))
    return names


@dataclass(frozen=True)
class PathParam:
    """One row of the path-variable table: the value typed, and what the OpenAPI document says."""

    name: str
    value: str = ""
    type: str = ""
    required: bool = True  # path parameters always are (OpenAPI 3)
    description: str = ""


def path_params(url: str, values: dict[str, str], endpoint: Endpoint | None = None) -> list[PathParam]:
    """The table's rows for `url`: each `{name}` with its value and its declaration, if any."""
    declared = {p.get("name"): p for p in (endpoint.parameters if endpoint else []) if p.get("in") == "path"}
    rows = []
    for name in path_names(url):
        spec = declared.get(name) or {}
        schema = spec.get("schema") or {}
        kind = str(schema.get("type") or "") + (f" ({schema['format']})" if schema.get("format") else "")
        rows.append(PathParam(name, values.get(name, ""), kind, True, str(spec.get("description") or "")))
    return rows


def fill_path(url: str, values: dict[str, str]) -> str:
    """`url` with each `{name}` replaced by its value (percent-encoded); FormError names an empty one."""
    for name in path_names(url):
        value = (values.get(name) or "").strip()
        if not value:
            raise FormError(f"Fill in the path parameter {{{name}}} (in the Path table under Params).")
        url = url.replace("{" + name + "}", quote(value, safe=""))
    return url


def values_from_rows(rows: Any) -> dict[str, str]:
    """{name: value} from the path table's rows as the page sends them back (a DataFrame or lists)."""
    records = rows.values.tolist() if hasattr(rows, "values") and hasattr(rows, "columns") else rows
    if isinstance(rows, dict):
        records = rows.get("data") or []
    values: dict[str, str] = {}
    for row in records or []:
        if isinstance(row, (list, tuple)) and len(row) >= 2 and row[0] not in (None, ""):
            values[str(row[0])] = "" if row[1] is None else str(row[1])
    return values

"""What an error body says, in one line: FastAPI/Pydantic validation errors, Databricks errors,
the common `detail` / `message` / `error` shapes, and the workspace's sign-in page.

Bodies are untrusted: every summary is cut short and quoted, never interpreted.
"""

from __future__ import annotations

import re
from typing import Any

from explorer.model import Response

_MAX = 240
# The framework's own answer for a route it does not have (FastAPI/Starlette, Flask, Express).
_ROUTE_UNKNOWN = {
    "not found",
    "not found.",
    "cannot get",
    "404 not found",
    "the requested url was not found on the server.",
}
_SIGN_IN_MARKERS = ("sign in", "signin", "log in", "login", "/oidc/", "authorize")


def error_summary(response: Response) -> str | None:
    """The app's own words about a failure, as one short line; None when the body says nothing."""
    body = response.json if response.kind == "json" else None
    if isinstance(body, dict):
        validation = _validation(body.get("detail"))
        if validation:
            return validation
        if isinstance(body.get("error_code"), str) or isinstance(body.get("message"), str):
            code = body.get("error_code")
            message = _text(body.get("message"))
            return _cut(f"{code}: {message}" if code and message else (message or str(code)))
        for key in ("detail", "message", "error", "error_description", "title"):
            value = body.get(key)
            if isinstance(value, str) and value.strip():
                return _cut(value)
            if isinstance(value, dict) and isinstance(value.get("message"), str):
                return _cut(value["message"])
    return None


def route_unknown(response: Response) -> bool:
    """True when a 404 is the framework saying "no such route" (not the app saying "no such item")."""
    summary = error_summary(response)
    if summary is None:
        return True  # an empty or non-JSON 404 is no app's own answer
    return summary.strip().lower() in _ROUTE_UNKNOWN


def is_sign_in_page(response: Response) -> bool:
    """The workspace's (or an identity provider's) HTML sign-in page instead of an API answer."""
    if "html" not in response.content_type.lower() or response.kind != "text":
        return False
    text = response.text[:20_000].lower()
    return "<form" in text and any(marker in text for marker in _SIGN_IN_MARKERS)


def _validation(detail: Any) -> str | None:
    """FastAPI/Pydantic `detail: [{loc, msg, type}]` as `body.name: Field required; query.limit: …`."""
    if not isinstance(detail, list) or not detail:
        return None
    parts = []
    for item in detail[:5]:
        if not isinstance(item, dict) or "msg" not in item:
            return None
        loc = item.get("loc")
        where = ".".join(str(p) for p in loc) if isinstance(loc, list) else ""
        parts.append(f"{where}: {_text(item.get('msg'))}" if where else _text(item.get("msg")))
    more = f" (+{len(detail) - 5} more)" if len(detail) > 5 else ""
    return _cut("; ".join(parts) + more)


def _text(value: Any) -> str:
    return re.sub(r"\s+", " ", str(value)).strip()


def _cut(text: str) -> str:
    text = _text(text)
    return text if len(text) <= _MAX else text[: _MAX - 1] + "…"

"""A collection -> Postman Collection v2.1 JSON, without secrets.

Folders become item groups, requests items, variables `variable`. The `token` auth method
becomes bearer auth with the `{{variable}}` named by its `token_env` (Postman reads it from its
environment); other auth methods are the explorer's own and are left to the run (noted).
Assertions and extractions are the explorer's: they are not turned into Postman scripts.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from explorer.collection.model import Collection, Folder, Notice, Pair, Request
from explorer.collection.secret_guard import check_text, sanitize_request, sanitize_variables
from explorer.redact import Redactor

SCHEMA = "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"
_LANGUAGE = {
    "application/json": "json",
    "application/xml": "xml",
    "text/html": "html",
    "application/javascript": "javascript",
}


def to_postman(collection: Collection, redactor: Redactor | None = None) -> tuple[str, list[Notice]]:
    """(JSON text, notices). Every request passes the secret guard first."""
    redactor = redactor or Redactor()
    notices: list[Notice] = []
    variables, more = sanitize_variables(collection.variables, redactor, "collection variables")
    notices += more
    document: dict[str, Any] = {
        "info": {"_postman_id": str(uuid.uuid4()), "name": collection.name, "schema": SCHEMA},
        "item": _items(collection.root, redactor, notices),
    }
    if collection.description:
        document["info"]["description"] = collection.description
    if variables:
        document["variable"] = [{"key": k, "value": v, "type": "string"} for k, v in variables.items()]
    auth = _auth(collection.defaults.auth, None, "collection", notices)
    if auth is not None:
        document["auth"] = auth
    if collection.defaults.headers:
        notices.append(
            Notice("collection", "default headers are not exported (Postman has no collection-level headers)")
        )
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    check_text(text, redactor, "the Postman export")
    return text, notices


def _items(
    folder: Folder, redactor: Redactor, notices: list[Notice], defaults: list[Pair] | None = None
) -> list[dict[str, Any]]:
    items = []
    for item in folder.items:
        if isinstance(item, Folder):
            group: dict[str, Any] = {"name": item.name, "item": _items(item, redactor, notices)}
            if item.description:
                group["description"] = item.description
            items.append(group)
        else:
            clean, more = sanitize_request(item, redactor)
            notices += more
            items.append(_item(clean, notices))
    return items


def _pair(pair: Pair) -> dict[str, Any]:
    row: dict[str, Any] = {"key": pair.name, "value": pair.value}
    if not pair.enabled:
        row["disabled"] = True
    return row


def _url(request: Request) -> dict[str, Any]:
    query = [_pair(p) for p in request.params]
    raw = request.url
    enabled = [p for p in request.params if p.enabled]
    if enabled:
        raw += "?" + "&".join(f"{p.name}={p.value}" for p in enabled)
    url: dict[str, Any] = {"raw": raw}
    scheme, sep, rest = request.url.partition("://")
    host, _, path = (rest if sep else request.url).partition("/")
    if sep:
        url["protocol"] = scheme
    url["host"] = [host] if host.startswith("{{") else host.split(".")
    if path:
        url["path"] = path.split("/")
    if query:
        url["query"] = query
    return url


def _auth(ref: Any, basic: Any, where: str, notices: list[Notice]) -> dict[str, Any] | None:
    if basic is not None:
        if basic.type == "bearer_token":
            return {"type": "bearer", "bearer": [{"key": "token", "value": basic.token, "type": "string"}]}
        return {
            "type": "basic",
            "basic": [
                {"key": "username", "value": basic.username, "type": "string"},
                {"key": "password", "value": basic.password, "type": "string"},
            ],
        }
    if ref is None:
        return None
    if ref.method == "none":
        return {"type": "noauth"}
    if ref.method == "token" and ref.fields.get("token_env"):
        variable = ref.fields["token_env"]
        return {
            "type": "bearer",
            "bearer": [{"key": "token", "value": "{{" + variable + "}}", "type": "string"}],
        }
    if ref.method != "inherit":
        notices.append(
            Notice(where, f"auth method {ref.method!r} is the explorer's own: Postman gets no auth for it")
        )
    return None


def _item(request: Request, notices: list[Notice]) -> dict[str, Any]:
    data: dict[str, Any] = {
        "method": request.method,
        "header": [_pair(h) for h in request.headers],
        "url": _url(request),
    }
    if request.description:
        data["description"] = request.description
    body = request.body
    if body is not None:
        if body.form_data is not None and not body.content:
            data["body"] = {"mode": "urlencoded", "urlencoded": [_pair(p) for p in body.form_data]}
        elif body.content is not None:
            data["body"] = {"mode": "raw", "raw": body.content}
            language = _LANGUAGE.get((body.content_type or "").split(";")[0].strip().lower())
            if language:
                data["body"]["options"] = {"raw": {"language": language}}
    auth = _auth(request.auth_method, request.auth, request.name, notices)
    if auth is not None:
        data["auth"] = auth
    if request.assertions or request.extractions:
        notices.append(
            Notice(request.name, "assertions and extractions are not exported (Postman uses scripts)")
        )
    if request.timeout is not None:
        notices.append(Notice(request.name, "the timeout is not exported (Postman sets it globally)"))
    return {"name": request.name, "request": data, "response": []}

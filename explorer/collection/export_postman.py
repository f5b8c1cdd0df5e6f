"""A collection -> Postman Collection v2.1 JSON, without secrets.

Folders become item groups, requests items, variables `variable`. The `token` auth method
becomes bearer auth with the `{{variable}}` named by its `token_env` (Postman reads it from its
environment); other auth methods are the explorer's own and are left to the run (noted).
Assertions and extractions become a Postman test script (`pm.test`, `pm.collectionVariables.set`)
where Postman can express them; `openapi_schema` and `finding` checks are the explorer's own.
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
    script, skipped = test_script(request)
    item_events = (
        [{"listen": "test", "script": {"type": "text/javascript", "exec": script}}] if script else []
    )
    for text in skipped:
        notices.append(Notice(request.name, f"{text}: not expressible as a Postman test, left out"))
    if request.timeout is not None:
        notices.append(Notice(request.name, "the timeout is not exported (Postman sets it globally)"))
    item: dict[str, Any] = {"name": request.name, "request": data, "response": []}
    if item_events:
        item["event"] = item_events
    return item


# --- assertions and extractions as a Postman test script -------------------------------------------


def _js_path(path: str) -> str | None:
    """`$.a.b[0]` as a JavaScript accessor on `body`; None for wildcards and negative indexes."""
    from explorer.collection.extract import PathError, parse_path

    try:
        steps = parse_path(path)
    except PathError:
        return None
    accessor = "body"
    for step in steps:
        if step.key is None or (isinstance(step.key, int) and step.key < 0):
            return None
        if isinstance(step.key, int):
            accessor += f"[{step.key}]"
        elif step.key == "length":
            accessor += ".length"
        else:
            accessor += f"[{json.dumps(step.key)}]"
    return accessor


def _js_value(value: Any) -> str:
    """A JSON value as JavaScript; a string with {{variables}} is resolved by Postman at run time."""
    if isinstance(value, str) and "{{" in value:
        return f"pm.variables.replaceIn({json.dumps(value)})"
    return json.dumps(value)


def _status_check(expected: Any) -> str:
    options = expected if isinstance(expected, list) else [expected]
    tests = []
    for option in options:
        text = str(option).lower()
        if text.endswith("xx"):
            tests.append(f"Math.floor(pm.response.code / 100) === {int(text[0])}")
        else:
            tests.append(f"pm.response.code === {int(text)}")
    return " || ".join(tests)


_JS_TYPES = {
    "string": "typeof v === 'string'",
    "number": "typeof v === 'number'",
    "integer": "Number.isInteger(v)",
    "boolean": "typeof v === 'boolean'",
    "array": "Array.isArray(v)",
    "object": "v !== null && typeof v === 'object' && !Array.isArray(v)",
    "null": "v === null",
}


def _check(assertion: dict[str, Any]) -> str | None:
    """One assertion as a JavaScript boolean expression; None when Postman cannot express it."""
    if "status" in assertion:
        return _status_check(assertion["status"])
    if "elapsed_below_ms" in assertion:
        return f"pm.response.responseTime < {float(assertion['elapsed_below_ms'])!r}"
    if "body_matches" in assertion:
        return f"new RegExp({_js_value(str(assertion['body_matches']))}).test(pm.response.text())"
    if "header" in assertion:
        header = f"pm.response.headers.get({json.dumps(str(assertion['header']))})"
        if "matches" in assertion:
            return f"new RegExp({_js_value(str(assertion['matches']))}).test({header} || '')"
        if "equals" in assertion:
            return f"{header} === {_js_value(str(assertion['equals']))}"
        return f"({header} !== undefined) === {json.dumps(bool(assertion.get('exists', True)))}"
    if "json" in assertion:
        accessor = _js_path(str(assertion["json"]))
        if accessor is None:
            return None
        value = f"(function () {{ try {{ return {accessor}; }} catch (e) {{ return undefined; }} }})()"
        if "equals" in assertion:
            expected = assertion["equals"]
            if isinstance(expected, str):  # as the runner: "7" also equals the number 7
                same = "v === e || (typeof v !== 'string' && JSON.stringify(v) === e)"
                return f"(function (v, e) {{ return {same}; }})({value}, {_js_value(expected)})"
            return f"JSON.stringify({value}) === JSON.stringify({json.dumps(expected)})"
        if "exists" in assertion:
            return f"({value} !== undefined) === {json.dumps(bool(assertion['exists']))}"
        if "contains" in assertion:
            wanted = _js_value(assertion["contains"])
            return f"(function (v) {{ return v != null && typeof v.includes === 'function' && v.includes({wanted}); }})({value})"
        if "matches" in assertion:
            return f"new RegExp({_js_value(str(assertion['matches']))}).test(String({value}))"
        if "type" in assertion:
            return f"(function (v) {{ return {_JS_TYPES[assertion['type']]}; }})({value})"
    return None  # openapi_schema and finding checks are the explorer's own


def test_script(request: Request) -> tuple[list[str], list[str]]:
    """(script lines, checks left out) for a request's assertions and extractions."""
    from explorer.collection.assertions import describe

    lines: list[str] = []
    skipped: list[str] = []
    if any("json" in a for a in [*request.assertions, *request.extractions]):
        lines.append("let body; try { body = pm.response.json(); } catch (e) { body = undefined; }")
    for assertion in request.assertions:
        check = _check(assertion)
        if check is None:
            skipped.append(describe(assertion))
            continue
        lines.append(
            f"pm.test({json.dumps(describe(assertion))}, function () {{ pm.expect({check}).to.be.true; }});"
        )
    for extraction in request.extractions:
        variable = json.dumps(str(extraction["var"]))
        if extraction.get("status"):
            value = "String(pm.response.code)"
        elif "header" in extraction:
            value = f"pm.response.headers.get({json.dumps(str(extraction['header']))})"
        else:
            accessor = _js_path(str(extraction.get("json")))
            if accessor is None:
                skipped.append(f"extract {extraction['var']}")
                continue
            value = f"(function (v) {{ return typeof v === 'string' ? v : JSON.stringify(v); }})({accessor})"
        lines.append(f"pm.collectionVariables.set({variable}, {value});")
    return lines, skipped

"""Assertions on a response: status, JSON paths, headers, body, time, OpenAPI schema, findings.

    {status: 201} · {status: 2xx} · {status: [200, 204]}
    {json: $.name, equals: pen} · {json: $.tags, contains: tools} · {json: $.id, exists: true}
    {json: $.id, type: integer} · {json: $.name, matches: '^p'}
    {header: Content-Type, matches: json} · {header: X-Request-Id, exists: true} · {header: X, equals: v}
    {body_matches: 'Hello, .*!'} · {elapsed_below_ms: 500} · {openapi_schema: true}
    {finding: NO_CAN_USE}   (the engine's diagnosis includes that code)

`evaluate(assertion, exchange, openapi)` never raises: a malformed check or a broken response
is a failed `Outcome` saying what was expected and what came. Everything in a response is
untrusted text: values shown in messages are cut short and kept on one line.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from explorer.collection.extract import PathError, find
from explorer.model import Exchange

MAX_SHOWN = 120
_TYPES = {
    "string": lambda v: isinstance(v, str),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "array": lambda v: isinstance(v, list),
    "object": lambda v: isinstance(v, dict),
    "null": lambda v: v is None,
}


@dataclass
class Outcome:
    """One assertion's result: `text` says what was checked; a failure says what came instead."""

    text: str
    passed: bool
    detail: str = ""  # on failure: "expected …, got …"

    def __str__(self) -> str:
        return self.text if self.passed else f"{self.text}: {self.detail}"

    def as_dict(self) -> dict[str, Any]:
        return {"assertion": self.text, "passed": self.passed, "detail": self.detail}


def shown(value: Any) -> str:
    """A value for a message: JSON, one line, cut short."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    text = repr(text) if isinstance(value, str) else text
    text = "".join(ch if ch.isprintable() else " " for ch in text)
    return text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 1] + "…"


def describe(assertion: dict[str, Any]) -> str:
    """The assertion as one line of text."""
    if "status" in assertion:
        expected = assertion["status"]
        options = expected if isinstance(expected, list) else [expected]
        return "status is " + " or ".join(str(o) for o in options)
    if "json" in assertion:
        path = assertion["json"]
        for key in ("equals", "contains", "matches"):
            if key in assertion:
                return f"{path} {key} {shown(assertion[key])}"
        if "type" in assertion:
            return f"{path} is of type {assertion['type']}"
        return f"{path} {'exists' if assertion.get('exists', True) else 'does not exist'}"
    if "header" in assertion:
        name = assertion["header"]
        if "matches" in assertion:
            return f"header {name} matches {shown(assertion['matches'])}"
        if "equals" in assertion:
            return f"header {name} equals {shown(assertion['equals'])}"
        return f"header {name} {'is present' if assertion.get('exists', True) else 'is absent'}"
    if "body_matches" in assertion:
        return f"body matches {shown(assertion['body_matches'])}"
    if "elapsed_below_ms" in assertion:
        return f"time below {assertion['elapsed_below_ms']:g} ms"
    if "openapi_schema" in assertion:
        return "body conforms to the OpenAPI response schema"
    if "finding" in assertion:
        return f"diagnosis includes {assertion['finding']}"
    if "event_matches" in assertion:
        return f"a streamed event matches {shown(assertion['event_matches'])}"
    if "text_contains" in assertion:
        return f"the agent's answer contains {shown(assertion['text_contains'])}"
    return f"unknown assertion {shown(assertion)}"


def status_matches(expected: Any, status: int) -> bool:
    options = expected if isinstance(expected, list) else [expected]
    for option in options:
        text = str(option).lower()
        if text.endswith("xx") and len(text) == 3 and text[0] == str(status)[0]:
            return True
        if text.isdigit() and int(text) == status:
            return True
    return False


def evaluate(
    assertion: dict[str, Any], exchange: Exchange, openapi: OpenAPIDocument | None = None
) -> Outcome:
    text = describe(assertion)
    try:
        passed, detail = _check(assertion, exchange, openapi)
    except (PathError, re.error) as error:
        passed, detail = False, f"the assertion is malformed: {error}"
    return Outcome(text, passed, "" if passed else detail)


def _check(
    assertion: dict[str, Any], exchange: Exchange, openapi: OpenAPIDocument | None
) -> tuple[bool, str]:
    if "finding" in assertion:
        codes = [f.code for f in exchange.findings]
        return assertion[
            "finding"
        ] in codes, f"expected finding {assertion['finding']}, got {', '.join(codes) or 'none'}"
    response = exchange.response
    if response is None:
        return False, f"expected a response, got none ({exchange.error or 'no response'})"
    if "status" in assertion:
        ok = status_matches(assertion["status"], response.status)
        return ok, "" if ok else f"expected {describe(assertion)[10:]}, got {response.status}"
    if "elapsed_below_ms" in assertion:
        limit = float(assertion["elapsed_below_ms"])
        ok = response.elapsed_ms < limit
        return ok, "" if ok else f"expected below {limit:g} ms, took {response.elapsed_ms:.1f} ms"
    if "body_matches" in assertion:
        body = response.body.decode("utf-8", errors="replace")
        found = re.search(str(assertion["body_matches"]), body) is not None
        return found, f"expected the body to match {shown(assertion['body_matches'])}, got {shown(body)}"
    if "header" in assertion:
        return _check_header(assertion, response.header(str(assertion["header"])))
    if "json" in assertion:
        return _check_json(assertion, exchange)
    if "event_matches" in assertion:  # streams (SSE, NDJSON, WebSocket frames)
        pattern = re.compile(str(assertion["event_matches"]))
        found = any(pattern.search(e.data) or pattern.search(e.event or "") for e in response.events)
        seen = f"{response.events_total} events" if response.stream else "no stream"
        return found, f"expected an event matching {shown(assertion['event_matches'])}, got {seen}"
    if "text_contains" in assertion:  # an agent's assembled answer
        text = response.transcript.text if response.transcript is not None else None
        wanted = str(assertion["text_contains"])
        found = text is not None and wanted in text
        return (
            found,
            f"expected the answer to contain {shown(wanted)}, got {shown(text) if text is not None else 'no agent answer'}",
        )
    if "openapi_schema" in assertion:
        if openapi is None:
            return False, "expected an OpenAPI document, got none (set `openapi:` in collection.yaml)"
        return openapi.check(exchange)
    return False, "unknown assertion (see docs/COLLECTIONS.md)"


def _check_header(assertion: dict[str, Any], value: str | None) -> tuple[bool, str]:
    name = assertion["header"]
    if "matches" in assertion:
        if value is None:
            return False, f"expected header {name} matching {shown(assertion['matches'])}, got no such header"
        return re.search(
            str(assertion["matches"]), value
        ) is not None, f"expected a match, got {shown(value)}"
    if "equals" in assertion:
        return value == str(assertion["equals"]), f"expected {shown(assertion['equals'])}, got {shown(value)}"
    wanted = bool(assertion.get("exists", True))
    return (value is not None) == wanted, (
        "expected it, got no such header" if wanted else f"expected none, got {shown(value)}"
    )


def _check_json(assertion: dict[str, Any], exchange: Exchange) -> tuple[bool, str]:
    response = exchange.response
    assert response is not None
    path = assertion["json"]
    if response.json is None:
        if response.kind == "json" and response.truncated:
            return False, "expected a JSON body, got one too large to check (truncated)"
        if response.kind != "json":
            return (
                False,
                f"expected a JSON body, got {response.kind} ({response.content_type or 'no content type'})",
            )
    found, value = find(response.json, path)
    if "exists" in assertion and len(assertion) == 2:
        wanted = bool(assertion["exists"])
        return found == wanted, (
            f"expected {path} to exist, it does not" if wanted else f"expected no {path}, got {shown(value)}"
        )
    if not found:
        return False, f"expected {path} in the body, it is not there"
    if "equals" in assertion:
        ok = _equal(value, assertion["equals"])
        return ok, "" if ok else f"expected {shown(assertion['equals'])}, got {shown(value)}"
    if "contains" in assertion:
        wanted = assertion["contains"]
        if isinstance(value, str):
            ok = isinstance(wanted, str) and wanted in value
        elif isinstance(value, list):
            ok = any(_equal(item, wanted) for item in value)
        elif isinstance(value, dict):
            ok = (
                isinstance(wanted, dict)
                and all(k in value and _equal(value[k], v) for k, v in wanted.items())
            ) or (isinstance(wanted, str) and wanted in value)
        else:
            ok = False
        return ok, f"expected it to contain {shown(wanted)}, got {shown(value)}"
    if "type" in assertion:
        kind = assertion["type"]
        check = _TYPES.get(kind)
        actual = next((name for name, test in _TYPES.items() if name != "number" and test(value)), "number")
        return bool(check and check(value)), f"expected {kind}, got {actual} {shown(value)}"
    if "matches" in assertion:
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        return re.search(str(assertion["matches"]), text) is not None, f"expected a match, got {shown(value)}"
    return False, "unknown JSON check"


def _equal(actual: Any, expected: Any) -> bool:
    """Equal as JSON; an expected string also equals the same number or boolean written as text
    (values in YAML files and extracted variables are often strings)."""
    if actual == expected and type(actual) is type(expected):
        return True
    if (
        isinstance(actual, (int, float))
        and not isinstance(actual, bool)
        and isinstance(expected, (int, float))
    ):
        return actual == expected and not isinstance(expected, bool)
    if isinstance(expected, str) and not isinstance(actual, str):
        return json.dumps(actual, ensure_ascii=False) == expected
    return False


# --- OpenAPI response schemas -----------------------------------------------------------------


class OpenAPIDocument:
    """An app's OpenAPI document, to check responses against the schema of their operation."""

    def __init__(self, doc: dict[str, Any], source: str = "") -> None:
        self.doc = doc
        self.source = source
        self._routes = self._compile()
        self._validators: dict[tuple[str, str, str], Any] = {}

    def _compile(self) -> list[tuple[re.Pattern[str], int, str, dict[str, Any]]]:
        from explorer.discovery import _join_prefix, _server_prefix

        paths = self.doc.get("paths") if isinstance(self.doc.get("paths"), dict) else {}
        prefix = _server_prefix(self.doc)
        routes = []
        for template, item in paths.items():
            if not isinstance(template, str) or not isinstance(item, dict):
                continue
            full = _join_prefix(prefix, template)
            parts = re.split(r"(\{[^}/]+\})", full)
            pattern = "".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts)
            params = sum(1 for p in parts if p.startswith("{"))
            routes.append((re.compile(f"^{pattern}/?$"), params, template, item))
        return sorted(routes, key=lambda r: r[1])

    def operation(self, method: str, url: str) -> tuple[str, dict[str, Any]] | None:
        path = urlsplit(url).path or "/"
        for pattern, _params, template, item in self._routes:
            operation = item.get(method.lower())
            if pattern.match(path) and isinstance(operation, dict):
                return template, operation
        return None

    def response_schema(self, method: str, url: str, status: int) -> tuple[dict[str, Any] | None, str]:
        """(schema, what it is) or (None, why there is none)."""
        found = self.operation(method, url)
        if found is None:
            return None, f"the OpenAPI document has no operation {method} {urlsplit(url).path}"
        template, operation = found
        responses = operation.get("responses") if isinstance(operation.get("responses"), dict) else {}
        key = next(
            (
                k
                for k in (str(status), f"{str(status)[0]}XX", f"{str(status)[0]}xx", "default")
                if k in responses
            ),
            None,
        )
        if key is None:
            documented = ", ".join(map(str, responses)) or "none"
            return None, f"{method} {template} does not document status {status} (documented: {documented})"
        response = self._deref(responses[key])
        schema = None
        content = response.get("content")
        if isinstance(content, dict):
            media = next(
                (v for k, v in content.items() if "json" in str(k).lower() and isinstance(v, dict)), None
            )
            schema = media.get("schema") if media else None
        elif isinstance(response.get("schema"), dict):  # Swagger 2
            schema = response["schema"]
        if not isinstance(schema, dict):
            return {}, f"{method} {template} {key} (no JSON schema: anything conforms)"
        return schema, f"{method} {template} {key}"

    def _deref(self, node: Any) -> dict[str, Any]:
        from explorer.discovery import _resolve_node

        return _resolve_node(node, self.doc)

    def check(self, exchange: Exchange) -> tuple[bool, str]:
        response = exchange.response
        assert response is not None
        request = exchange.request
        schema, what = self.response_schema(request.method, request.url, response.status)
        if schema is None:
            return False, f"expected a documented response, got: {what}"
        if not schema:
            return True, ""
        if response.json is None and response.kind != "json":
            if response.status == 204 or not response.size:
                return True, ""
            return False, f"expected a JSON body for {what}, got {response.kind}"
        if response.json is None:
            return False, f"expected a JSON body for {what}, got one too large to check (truncated)"
        validator = self._validator(what, schema)
        errors = sorted(validator.iter_errors(response.json), key=lambda e: len(e.absolute_path))
        if not errors:
            return True, ""
        error = errors[0]
        location = "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
        message = error.message if len(error.message) <= MAX_SHOWN else error.message[: MAX_SHOWN - 1] + "…"
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        return False, f"expected the body to conform to {what}, got at {location}: {message}{more}"

    def _validator(self, what: str, schema: dict[str, Any]) -> Any:
        from jsonschema import Draft4Validator, Draft202012Validator

        cached = self._validators.get(("", what, ""))
        if cached is not None:
            return cached
        version = str(self.doc.get("openapi") or self.doc.get("swagger") or "3.1")
        root = _nullable(schema) if not version.startswith("3.1") else dict(schema)
        # Local $refs resolve against the document's components / definitions.
        for key in ("components", "definitions"):
            if key in self.doc and key not in root:
                root[key] = _nullable(self.doc[key]) if not version.startswith("3.1") else self.doc[key]
        cls = Draft202012Validator if version.startswith("3.1") else Draft4Validator
        validator = cls(root)
        self._validators[("", what, "")] = validator
        return validator


def _nullable(node: Any) -> Any:
    """OpenAPI 3.0 / Swagger 2 `nullable: true` as JSON Schema (`type: [t, "null"]`)."""
    if isinstance(node, list):
        return [_nullable(v) for v in node]
    if not isinstance(node, dict):
        return node
    result = {k: _nullable(v) for k, v in node.items() if k != "nullable"}
    if node.get("nullable") is True and isinstance(node.get("type"), str):
        result["type"] = [node["type"], "null"]
    return result

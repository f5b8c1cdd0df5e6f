"""An app's OpenAPI document → the endpoints the explorer can prefill (the pure part).

Fetching the document is the network engine's job; it tries `candidate_openapi_urls(app)` in
order (the Apps gateway only lets a token through on `/api/` paths, so `/api/openapi.json`
comes before FastAPI's default `/openapi.json`) and hands the parsed JSON to `parse_openapi`.

Documents come from apps we do not control, so nothing here trusts them: malformed entries
are skipped, `$ref` cycles are cut (`{"$ref": …, "x-recursive": true}`), and nesting and size
are bounded. Only a document that is not an OpenAPI object at all raises `DiscoveryError`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

from explorer.model import Endpoint
from explorer.parse import InputError, normalize_url

API_PREFIX = "/api/"
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
MAX_REF_DEPTH = 32  # JSON nesting levels kept when resolving a schema
MAX_NODES = 20_000  # schema nodes produced per resolve_refs call (fan-out of refs can explode)
MAX_DOC_NODES = 200_000  # schema nodes produced for a whole document
SKELETON_DEPTH = 10  # object/array levels in a body skeleton
MAX_ENDPOINTS = 2_000  # operations turned into endpoints per document; the rest are only counted
_FORMAT_SAMPLES = {
    "date-time": "2024-01-01T00:00:00Z",
    "date": "2024-01-01",
    "time": "00:00:00",
    "email": "user@example.com",
    "uuid": "00000000-0000-0000-0000-000000000000",
    "uri": "https://example.com",
}


class DiscoveryError(ValueError):
    """The document is not an OpenAPI/Swagger object. `str(error)` is one readable line."""


def candidate_openapi_urls(app_url: str) -> list[str]:
    """Where to look for an app's OpenAPI document, most likely first.

    A URL that already points at a .json/.yaml document is tried first, as given.
    """
    try:
        url = normalize_url(app_url)
    except InputError as error:
        raise DiscoveryError(str(error)) from None
    parts = urlsplit(url)
    origin = urlunsplit((parts.scheme, parts.netloc, "", "", ""))
    candidates = [f"{origin}/api/openapi.json", f"{origin}/openapi.json"]
    if parts.path.lower().endswith((".json", ".yaml", ".yml")) and url not in candidates:
        candidates.insert(0, url)
    return candidates


def parse_openapi(
    doc: Any, base_path_filter: str | None = None, limit: int | None = MAX_ENDPOINTS
) -> list[Endpoint]:
    """Endpoints of an OpenAPI 3.x or Swagger 2 document, sorted by path then method.

    All paths are returned by default (use `api_only` for the token-callable `/api/` ones);
    `base_path_filter="/api/"` keeps only paths starting with it. `doc` may be the parsed
    JSON or its text. At most `limit` endpoints are built (the first by path): a document with
    hundreds of thousands of operations must not take minutes (`count_operations` counts them all).
    """
    doc = _as_document(doc)
    prefix = _server_prefix(doc)
    resolver = _Resolver(doc, MAX_REF_DEPTH, MAX_DOC_NODES)
    endpoints: list[Endpoint] = []
    for path, item in _paths(doc, prefix, base_path_filter):
        if limit is not None and len(endpoints) >= limit:
            break
        endpoints.extend(_path_endpoints(resolver, path, _resolve_node(item, doc)))
    endpoints = endpoints[:limit] if limit is not None else endpoints
    return sorted(endpoints, key=lambda e: (e.path, HTTP_METHODS.index(e.method.lower())))


def count_operations(doc: Any, base_path_filter: str | None = None) -> int:
    """How many operations the document declares (cheap: nothing is resolved or built)."""
    doc = _as_document(doc)
    return sum(
        sum(1 for m in HTTP_METHODS if isinstance(item.get(m), dict))
        for _path, item in _paths(doc, _server_prefix(doc), base_path_filter)
        if isinstance(item, dict)
    )


def _paths(doc: dict[str, Any], prefix: str, base_path_filter: str | None) -> list[tuple[str, Any]]:
    paths = doc.get("paths")
    if not isinstance(paths, dict):
        return []
    selected = []
    for raw_path, item in paths.items():
        if not isinstance(raw_path, str) or not raw_path.startswith("/"):
            continue
        path = _join_prefix(prefix, raw_path)
        if not base_path_filter or path.startswith(base_path_filter):
            selected.append((path, item))
    return sorted(selected, key=lambda pair: pair[0])


def api_only(endpoints: list[Endpoint], prefix: str = API_PREFIX) -> list[Endpoint]:
    """The endpoints that accept a bearer token through the Apps gateway (`/api/…`)."""
    return [e for e in endpoints if e.path.startswith(prefix)]


def _as_document(doc: Any) -> dict[str, Any]:
    if isinstance(doc, (bytes, bytearray)):
        doc = bytes(doc).decode("utf-8", errors="replace")
    if isinstance(doc, str):
        try:
            doc = json.loads(doc)
        except json.JSONDecodeError as error:
            raise DiscoveryError(
                f"Not a JSON document (line {error.lineno} col {error.colno}: {error.msg})"
            ) from None
        except (ValueError, RecursionError):
            raise DiscoveryError("Not a JSON document") from None
    if not isinstance(doc, dict):
        raise DiscoveryError(f"Not an OpenAPI document: expected a JSON object, got {_json_type(doc)}")
    version = doc.get("openapi") or doc.get("swagger")
    if not isinstance(version, str) and "paths" not in doc:
        raise DiscoveryError("Not an OpenAPI document: no 'openapi' version and no 'paths'")
    if isinstance(version, str) and not version.startswith(("2", "3")):
        raise DiscoveryError(f"Unsupported OpenAPI version {version[:20]!r}: expected 2.x or 3.x")
    return doc


def _json_type(value: Any) -> str:
    names = {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}
    return next((n for t, n in names.items() if isinstance(value, t)), "a number")


def _server_prefix(doc: dict[str, Any]) -> str:
    """The path every operation path is relative to (OpenAPI `servers[0].url`, Swagger `basePath`)."""
    if isinstance(doc.get("basePath"), str):
        base = doc["basePath"]
    else:
        servers = doc.get("servers")
        first = servers[0] if isinstance(servers, list) and servers else None
        url = first.get("url") if isinstance(first, dict) else None
        if not isinstance(url, str) or "{" in url:
            return ""
        try:
            base = urlsplit(url).path
        except ValueError:
            return ""
    return base.rstrip("/") if base.startswith("/") else ""


def _join_prefix(prefix: str, path: str) -> str:
    return path if not prefix or path == prefix or path.startswith(prefix + "/") else prefix + path


def _path_endpoints(resolver: _Resolver, path: str, item: dict[str, Any]) -> list[Endpoint]:
    shared = _parameter_list(resolver, item.get("parameters"))
    endpoints = []
    for method in HTTP_METHODS:
        operation = item.get(method)
        if isinstance(operation, dict):
            endpoints.append(_endpoint(resolver, method, path, operation, shared))
    return endpoints


def _endpoint(
    resolver: _Resolver, method: str, path: str, operation: dict[str, Any], shared: list[dict[str, Any]]
) -> Endpoint:
    own = _parameter_list(resolver, operation.get("parameters"))
    merged = {(p["name"], p["in"]): p for p in [*shared, *own]}  # operation-level wins
    body_params = [p for p in merged.values() if p["in"] == "body"]
    parameters = [p for p in merged.values() if p["in"] != "body"]
    body_schema = _request_body_schema(resolver, operation, body_params)
    example = None
    if body_schema is not None:
        example = json.dumps(body_skeleton(body_schema), indent=2, ensure_ascii=False, default=str)
    return Endpoint(
        method=method.upper(),
        path=path,
        summary=_summary(operation),
        parameters=parameters,
        body_schema=body_schema,
        body_example=example,
        tags=[str(t)[:80] for t in operation.get("tags") or [] if isinstance(t, (str, int))][:5]
        if isinstance(operation.get("tags"), list)
        else [],
    )


def _summary(operation: dict[str, Any]) -> str:
    for key in ("summary", "description", "operationId"):
        value = operation.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip().splitlines()[0][:200]
    return ""


def _parameter_list(resolver: _Resolver, raw: Any) -> list[dict[str, Any]]:
    if not isinstance(raw, list):
        return []
    parameters = []
    for entry in raw:
        param = _resolve_node(entry, resolver.doc)
        name, where = param.get("name"), param.get("in")
        if not isinstance(name, str) or not isinstance(where, str):
            continue
        parameters.append(
            {
                "name": name,
                "in": where,
                "required": bool(param.get("required")) or where == "path",
                "schema": _parameter_schema(resolver, param),
                "description": param.get("description") if isinstance(param.get("description"), str) else "",
            }
        )
    return parameters


def _parameter_schema(resolver: _Resolver, param: dict[str, Any]) -> dict[str, Any]:
    if isinstance(param.get("schema"), dict):
        return resolver.schema(param["schema"])
    # Swagger 2 puts the schema keywords on the parameter itself.
    keys = ("type", "format", "items", "enum", "default", "minimum", "maximum", "pattern")
    return resolver.schema({k: param[k] for k in keys if k in param})


def _request_body_schema(
    resolver: _Resolver, operation: dict[str, Any], body_params: list[dict[str, Any]]
) -> dict[str, Any] | None:
    if body_params:  # Swagger 2: `in: body`
        schema = body_params[0]["schema"]
        return schema or None
    body = _resolve_node(operation.get("requestBody"), resolver.doc)
    content = body.get("content")
    if not isinstance(content, dict):
        return None
    media = _json_media(content)
    if media is None or not isinstance(media.get("schema"), dict):
        return None
    schema = resolver.schema(media["schema"])
    if "example" in media and "example" not in schema:
        schema = {**schema, "example": media["example"]}
    return schema


def _json_media(content: dict[str, Any]) -> dict[str, Any] | None:
    json_types = [t for t in content if isinstance(t, str) and _is_json_type(t)]
    json_types.sort(key=lambda t: not t.lower().startswith("application/json"))
    for media_type in json_types:
        if isinstance(content[media_type], dict):
            return content[media_type]
    return None


def _is_json_type(media_type: str) -> bool:
    lowered = media_type.lower().split(";")[0].strip()
    return lowered == "application/json" or lowered.endswith("+json") or lowered == "*/*"


# --- $ref resolution -------------------------------------------------------------------------


def _resolve_node(node: Any, doc: dict[str, Any]) -> dict[str, Any]:
    """A parameter or request body, following $refs (bounded); {} when it is not an object."""
    seen: set[str] = set()
    while isinstance(node, dict) and isinstance(node.get("$ref"), str) and node["$ref"] not in seen:
        seen.add(node["$ref"])
        node = _pointer(doc, node["$ref"])
    return node if isinstance(node, dict) and "$ref" not in node else {}


def resolve_refs(schema: Any, doc: Any, max_depth: int = MAX_REF_DEPTH) -> Any:
    """`schema` with local `$ref`s replaced by their targets.

    A ref to a schema already being expanded becomes `{"$ref": ref, "x-recursive": true}`; an
    unresolvable one `{"$ref": ref, "x-unresolved": true}`; anything deeper than `max_depth`
    or past the node budget `{"x-truncated": true}`. Never raises, never loops.
    """
    return _Resolver(doc if isinstance(doc, dict) else {}, max_depth, MAX_NODES).resolve(schema, (), 0)


@dataclass
class _Resolver:
    """Resolves schemas of one document; the node budget is shared by all of them."""

    doc: dict[str, Any]
    max_depth: int
    max_nodes: int
    nodes: int = 0

    def schema(self, node: Any) -> Any:
        resolved = self.resolve(node, (), 0)
        return resolved if isinstance(resolved, dict) else {}

    def resolve(self, node: Any, stack: tuple[str, ...], depth: int) -> Any:
        self.nodes += 1
        if depth > self.max_depth or self.nodes > self.max_nodes:
            return {"x-truncated": True}
        if isinstance(node, list):
            return [self.resolve(v, stack, depth + 1) for v in node]
        if not isinstance(node, dict):
            return node
        ref = node.get("$ref")
        if isinstance(ref, str):
            return self._follow(ref, node, stack, depth)
        return {k: self.resolve(v, stack, depth + 1) for k, v in node.items()}

    def _follow(self, ref: str, node: dict[str, Any], stack: tuple[str, ...], depth: int) -> Any:
        if ref in stack:
            return {"$ref": ref, "x-recursive": True}
        target = _pointer(self.doc, ref)
        if target is None:
            return {"$ref": ref, "x-unresolved": True}
        resolved = self.resolve(target, (*stack, ref), depth + 1)
        siblings = {k: self.resolve(v, stack, depth + 1) for k, v in node.items() if k != "$ref"}
        if siblings and isinstance(resolved, dict):
            return {**resolved, **siblings}  # OpenAPI 3.1 lets a $ref carry e.g. a description
        return resolved


def _pointer(doc: dict[str, Any], ref: str) -> Any:
    """The target of a local JSON pointer ("#/components/schemas/X"), or None."""
    if not ref.startswith("#"):
        return None  # remote documents are never fetched
    node: Any = doc
    for token in unquote(ref[1:]).split("/")[1:]:
        key = token.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and key in node:
            node = node[key]
        elif isinstance(node, list) and key.isdigit() and int(key) < len(node):
            node = node[int(key)]
        else:
            return None
    return node


# --- body skeletons ---------------------------------------------------------------------------


def body_skeleton(schema: Any, depth: int = 0) -> Any:
    """A sample JSON value for `schema`: its example/default/enum, else a typed placeholder.

    Objects list their required properties first, then the others; arrays hold one item;
    strings are "string" (or a sample for a known format). Depth is bounded.
    """
    if not isinstance(schema, dict) or depth > SKELETON_DEPTH or schema.get("x-recursive"):
        return None
    for key in ("example", "default", "const"):
        if key in schema:
            return schema[key]
    for key in ("examples", "enum"):
        if isinstance(schema.get(key), list) and schema[key]:
            return schema[key][0]
    if isinstance(schema.get("allOf"), list):
        return _merge_all_of(schema["allOf"], depth)
    for key in ("oneOf", "anyOf"):
        options = [o for o in schema.get(key) or [] if isinstance(o, dict) and o.get("type") != "null"]
        if isinstance(schema.get(key), list) and options:
            return body_skeleton(options[0], depth + 1)
    return _typed_skeleton(schema, _schema_type(schema), depth)


def _schema_type(schema: dict[str, Any]) -> str | None:
    kind = schema.get("type")
    if isinstance(kind, list):  # OpenAPI 3.1: ["string", "null"]
        kind = next((k for k in kind if k != "null"), None)
    if isinstance(kind, str):
        return kind
    if isinstance(schema.get("properties"), dict):
        return "object"
    return "array" if "items" in schema else None


def _typed_skeleton(schema: dict[str, Any], kind: str | None, depth: int) -> Any:
    if kind == "object":
        properties = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
        required = [r for r in schema.get("required") or [] if isinstance(r, str) and r in properties]
        names = list(dict.fromkeys([*required, *properties]))
        return {name: body_skeleton(properties[name], depth + 1) for name in names}
    if kind == "array":
        item = body_skeleton(schema.get("items"), depth + 1)
        return [] if item is None and not isinstance(schema.get("items"), dict) else [item]
    if kind == "string":
        return _FORMAT_SAMPLES.get(str(schema.get("format")), "string")
    return {"integer": 0, "number": 0.0, "boolean": False}.get(kind or "")


def _merge_all_of(parts: list[Any], depth: int) -> Any:
    merged: dict[str, Any] = {}
    for part in parts:
        value = body_skeleton(part, depth + 1)
        if isinstance(value, dict):
            merged.update(value)
        elif value is not None and not merged:
            return value  # allOf of non-objects: the first concrete sample will do
    return merged

"""OpenAPI (3.x, Swagger 2) -> a collection: one request per operation, a folder per tag.

Parameters and bodies are prefilled from the schemas and examples (`explorer.discovery`), path
parameters become collection variables, and each request asserts a documented success status
and that its body conforms to the documented schema. The document comes from an app (through the
engine: `session.send`, the token of the connection), a URL, or a file.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import yaml

from explorer.collection.files import CollectionError
from explorer.collection.importers import ImportResult
from explorer.collection.model import Body, Collection, Folder, Notice, Pair, Request
from explorer.collection.storage import Storage
from explorer.discovery import (
    HTTP_METHODS,
    DiscoveryError,
    _as_document,
    _resolve_node,
    body_skeleton,
    candidate_openapi_urls,
    parse_openapi,
)
from explorer.model import RequestSpec
from explorer.session import ExplorerSession

DOCUMENT_TIMEOUT = 30.0
STREAM_TIMEOUT = 5.0  # seconds an imported event-stream request reads before it stops


def _parse(text: str, where: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except ValueError:
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError:
            raise CollectionError(f"{where}: neither JSON nor YAML") from None
    try:
        return _as_document(data)
    except DiscoveryError as error:
        raise CollectionError(f"{where}: {error}") from None


def load_document(
    location: str, session: ExplorerSession, storage: Storage | None = None
) -> tuple[dict[str, Any], str]:
    """(document, where it came from) from an app URL, a document URL or a file."""
    if re.match(r"https?://", location, re.IGNORECASE):
        try:
            candidates = candidate_openapi_urls(location)
        except DiscoveryError as error:
            raise CollectionError(str(error)) from None
        if urlsplit(location).path.lower().endswith((".json", ".yaml", ".yml")):
            candidates = [location]
        outcomes = []
        for url in candidates:
            exchange = session.send(
                RequestSpec("GET", url, headers=[("Accept", "application/json")], timeout=DOCUMENT_TIMEOUT)
            )
            response = exchange.response
            if response is None:
                codes = ", ".join(f.code for f in exchange.findings)
                raise CollectionError(f"{url}: no response ({exchange.error}; {codes})")
            if 200 <= response.status < 300:
                if response.truncated:
                    raise CollectionError(f"{url}: the document is too large ({response.size} bytes)")
                return _parse(response.body.decode("utf-8", errors="replace"), url), url
            codes = " ".join(f.code for f in exchange.findings)
            outcomes.append(f"{urlsplit(url).path} → {response.status}{' ' + codes if codes else ''}")
        raise CollectionError(f"no OpenAPI document at {location} ({'; '.join(outcomes)})")
    if storage is not None and not Path(location).is_absolute() and storage.exists(location):
        return _parse(storage.read_text(location), storage.describe(location)), storage.describe(location)
    path = Path(location)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise CollectionError(
            f"{location}: cannot read it: {getattr(error, 'strerror', None) or error}"
        ) from None
    return _parse(text, location), location


def _base_url(doc: dict[str, Any], source: str) -> str:
    if re.match(r"https?://", source, re.IGNORECASE):
        parts = urlsplit(source)
        return urlunsplit((parts.scheme, parts.netloc, "", "", ""))
    servers = doc.get("servers")
    first = (
        servers[0].get("url")
        if isinstance(servers, list) and servers and isinstance(servers[0], dict)
        else None
    )
    if isinstance(first, str) and re.match(r"https?://", first):
        parts = urlsplit(first)
        return urlunsplit((parts.scheme, parts.netloc, "", "", ""))
    host = doc.get("host")
    if isinstance(host, str) and host:
        scheme = (doc.get("schemes") or ["https"])[0]
        return f"{scheme}://{host}"
    return "http://localhost:8000"


def _sample(param: dict[str, Any]) -> str:
    schema = param.get("schema") or {}
    for key in ("example", "default"):
        if key in param:
            return _text(param[key])
    value = body_skeleton(schema)
    kind = schema.get("type")
    if kind == "integer" and not any(k in schema for k in ("example", "default", "enum", "const")):
        name = str(param.get("name", "")).lower()
        # e.g. /status/{code} wants a status code; ids start at 1
        value = 200 if name.endswith(("code", "status")) else max(1, int(schema.get("minimum", 1) or 1))
    return _text(value)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def from_openapi(doc: dict[str, Any], source: str, *, api_only: bool = True) -> ImportResult:
    """The collection for an OpenAPI document; `source` is where it came from."""
    endpoints = parse_openapi(doc, "/api/" if api_only else None)
    if api_only and not endpoints:
        endpoints = parse_openapi(doc)
    info = doc.get("info") if isinstance(doc.get("info"), dict) else {}
    title = str(info.get("title") or "OpenAPI import")[:200]
    base = _base_url(doc, source)
    collection = Collection(name=title, description=str(info.get("description") or ""))
    collection.variables["base_url"] = base
    files = {}
    if re.match(r"https?://", source, re.IGNORECASE):
        collection.openapi = "{{base_url}}" + (urlsplit(source).path or "/api/openapi.json")
    else:  # a file: the collection keeps its own copy, so it stays self-contained
        collection.openapi = "openapi.json"
        files["openapi.json"] = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    notices: list[Notice] = []
    folders: dict[str, Folder] = {}
    paths = doc.get("paths") if isinstance(doc.get("paths"), dict) else {}
    raw_paths = {p: _resolve_node(item, doc) for p, item in paths.items() if isinstance(p, str)}
    summaries: dict[str, int] = {}
    for endpoint in endpoints:
        summaries[endpoint.summary] = summaries.get(endpoint.summary, 0) + 1
    created: dict[tuple[str, str], Request] = {}
    for endpoint in endpoints:
        operation = _operation(raw_paths, endpoint.path, endpoint.method)
        request = _request(endpoint, operation, doc, collection.variables)
        created[(endpoint.method, endpoint.path)] = request
        if endpoint.summary and summaries[endpoint.summary] > 1:
            request.name = f"{request.name} ({endpoint.method})"
        tags = operation.get("tags") if isinstance(operation.get("tags"), list) else []
        tag = next((str(t) for t in tags if isinstance(t, str)), None)
        if tag is None:
            collection.root.items.append(request)
            continue
        if tag not in folders:
            folders[tag] = Folder(tag, description=_tag_description(doc, tag))
            collection.root.items.append(folders[tag])
        folders[tag].items.append(request)
    _chain_created_ids(endpoints, created, doc, raw_paths, notices)
    if not endpoints:
        notices.append(Notice(source, "the document lists no operations"))
    return ImportResult(collection, [], notices, files=files)


def _chain_created_ids(
    endpoints: list[Any],
    created: dict[tuple[str, str], Request],
    doc: dict[str, Any],
    raw_paths: dict[str, dict[str, Any]],
    notices: list[Notice],
) -> None:
    """`POST /things` answering `{id: …}` feeds `/things/{thing_id}`: an extraction on the create,
    so the requests after it read, change and delete what it made (create -> read -> delete)."""
    for endpoint in endpoints:
        match = re.fullmatch(r"(.*)/\{([^}/]+)\}(?:/.*)?", endpoint.path)
        if match is None:
            continue
        parent, param = match.group(1), match.group(2)
        create = created.get(("POST", parent))
        if create is None or any(e.get("var") == _variable(param) for e in create.extractions):
            continue
        schema = _success_schema(_operation(raw_paths, parent, "POST"), doc)
        properties = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
        key = param if param in properties else "id" if "id" in properties else None
        if key is not None:
            create.extractions.append({"var": _variable(param), "json": f"$.{key}"})
            notices.append(
                Notice(
                    create.name, f"its response's {key} feeds {{{{{_variable(param)}}}}} in later requests"
                )
            )


def _variable(param: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", param)


def _success_schema(operation: dict[str, Any], doc: dict[str, Any]) -> dict[str, Any]:
    from explorer.discovery import resolve_refs

    responses = operation.get("responses") if isinstance(operation.get("responses"), dict) else {}
    for code, response in responses.items():
        if not str(code).startswith("2"):
            continue
        response = _resolve_node(response, doc)
        content = response.get("content") if isinstance(response.get("content"), dict) else {}
        media = next(
            (v for k, v in content.items() if "json" in str(k).lower() and isinstance(v, dict)), None
        )
        schema = media.get("schema") if media else response.get("schema")
        if isinstance(schema, dict):
            resolved = resolve_refs(schema, doc)
            return resolved if isinstance(resolved, dict) else {}
    return {}


def _operation(raw_paths: dict[str, dict[str, Any]], path: str, method: str) -> dict[str, Any]:
    for raw, item in raw_paths.items():
        if path == raw or path.endswith(raw):
            operation = item.get(method.lower())
            if isinstance(operation, dict):
                return operation
    return {}


def _tag_description(doc: dict[str, Any], tag: str) -> str:
    tags = doc.get("tags")
    for entry in tags if isinstance(tags, list) else []:
        if isinstance(entry, dict) and entry.get("name") == tag and isinstance(entry.get("description"), str):
            return entry["description"]
    return ""


def _request(
    endpoint: Any, operation: dict[str, Any], doc: dict[str, Any], variables: dict[str, str]
) -> Request:
    name = endpoint.summary or operation.get("operationId") or f"{endpoint.method} {endpoint.path}"
    path = endpoint.path
    params, headers = [], []
    for param in endpoint.parameters:
        where, pname = param.get("in"), str(param.get("name"))
        if where == "path":
            variable = _variable(pname)
            variables.setdefault(variable, _sample(param))
            path = path.replace("{" + pname + "}", "{{" + variable + "}}")
        elif where == "query":
            params.append(Pair(pname, _sample(param), bool(param.get("required"))))
        elif where == "header":
            headers.append(Pair(pname, _sample(param), bool(param.get("required"))))
    body = None
    if endpoint.body_example is not None:
        body = Body(content=endpoint.body_example, content_type="application/json")
    description = str(operation.get("description") or "").strip()
    if endpoint.summary and description and description != endpoint.summary:
        description = f"{endpoint.summary}\n\n{description}"
    assertions: list[dict[str, Any]] = []
    success = _success_codes(operation)
    if success:
        assertions.append({"status": success[0] if len(success) == 1 else success})
        if _has_json_schema(operation, doc, success):
            assertions.append({"openapi_schema": True})
    timeout = None
    if _streams_only(operation, doc):  # a stream is read until it ends: an endless one, until the timeout
        timeout = STREAM_TIMEOUT
        description = (description + "\n\n" if description else "") + (
            f"The response is an event stream: it is read for at most {STREAM_TIMEOUT:g} s."
        )
    return Request(
        name=str(name)[:200],
        method=endpoint.method,
        url="{{base_url}}" + path,
        timeout=timeout,
        params=params,
        headers=headers,
        body=body,
        description=description,
        assertions=assertions,
    )


def _streams_only(operation: dict[str, Any], doc: dict[str, Any]) -> bool:
    """True when every documented success body is `text/event-stream`."""
    responses = operation.get("responses") if isinstance(operation.get("responses"), dict) else {}
    types = []
    for code, response in responses.items():
        if str(code).startswith("2"):
            content = _resolve_node(response, doc).get("content")
            types += [str(t).lower() for t in content] if isinstance(content, dict) else []
    return bool(types) and all(t.startswith("text/event-stream") for t in types)


def _success_codes(operation: dict[str, Any]) -> list[int | str]:
    responses = operation.get("responses") if isinstance(operation.get("responses"), dict) else {}
    codes: list[int | str] = []
    for key in responses:
        text = str(key)
        if text.isdigit() and text.startswith("2"):
            codes.append(int(text))
        elif text.upper() == "2XX":
            codes.append("2xx")
    return codes or (["2xx"] if "default" in responses else [])


def _has_json_schema(operation: dict[str, Any], doc: dict[str, Any], codes: list[int | str]) -> bool:
    responses = operation.get("responses") or {}
    for code in codes:
        response = _resolve_node(responses.get(str(code)), doc)
        content = response.get("content") if isinstance(response.get("content"), dict) else {}
        if any(
            "json" in str(k).lower() and isinstance(v, dict) and v.get("schema") for k, v in content.items()
        ):
            return True
        if isinstance(response.get("schema"), dict):
            return True
    return False


__all__ = ["HTTP_METHODS", "from_openapi", "load_document"]

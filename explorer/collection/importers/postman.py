"""Postman Collection v2.0 / v2.1 JSON (and Postman environments) -> a collection.

Folders, requests, headers, bodies (raw, JSON, urlencoded; form-data text fields as a urlencoded
form; GraphQL as its JSON), collection and environment variables. Bearer auth becomes the
`token` auth method reading an environment variable named after the Postman variable it used
(`{{token}}` -> `$token`); a literal token is never kept. Pre-request and test scripts are not
run: the notices list them per request, folder and collection.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from explorer.collection.importers import ImportError_, ImportResult
from explorer.collection.model import (
    AuthRef,
    BasicAuth,
    Body,
    Collection,
    Environment,
    Folder,
    Notice,
    Pair,
    Request,
)
from explorer.collection.secret_guard import DEFAULT_TOKEN_ENV
from explorer.collection.variables import VARIABLE
from explorer.redact import is_secret_field

SCHEMAS = ("v2.0.0", "v2.1.0")
_LANGUAGES = {
    "json": "application/json",
    "xml": "application/xml",
    "html": "text/html",
    "javascript": "application/javascript",
}
MAX_ITEMS = 10_000


def _description(value: Any) -> str:
    if isinstance(value, dict):
        value = value.get("content")
    return value if isinstance(value, str) else ""


def _pairs(rows: Any, key: str = "key") -> list[Pair]:
    pairs = []
    for row in rows if isinstance(rows, list) else []:
        if isinstance(row, dict) and isinstance(row.get(key), str) and row.get(key):
            pairs.append(
                Pair(
                    row[key],
                    "" if row.get("value") is None else str(row["value"]),
                    not row.get("disabled", False),
                )
            )
    return pairs


class _Importer:
    def __init__(self) -> None:
        self.notices: list[Notice] = []
        self.secrets: list[str] = []
        self.count = 0

    def note(self, where: str, message: str) -> None:
        self.notices.append(Notice(where, message))

    def scripts(self, where: str, events: Any) -> None:
        for event in events if isinstance(events, list) else []:
            if not isinstance(event, dict):
                continue
            script = event.get("script") if isinstance(event.get("script"), dict) else {}
            lines = script.get("exec")
            count = len(lines) if isinstance(lines, list) else len(str(lines or "").splitlines())
            if count == 0 or not any(
                str(line).strip() for line in (lines if isinstance(lines, list) else [lines])
            ):
                continue
            kind = {"prerequest": "pre-request script", "test": "test script"}.get(
                str(event.get("listen")), "script"
            )
            self.note(
                where,
                f"{kind} ({count} lines) not run: Postman scripts are not imported; use assertions and extractions",
            )

    def auth(self, where: str, auth: Any) -> tuple[AuthRef | None, BasicAuth | None]:
        """(auth_method, posting auth) for a Postman auth object."""
        if not isinstance(auth, dict):
            return None, None
        kind = auth.get("type")
        if kind == "noauth":
            return AuthRef("none"), None
        if kind == "inherit" or kind is None:
            return None, None
        if not isinstance(kind, str):
            self.note(where, "an auth entry without a type name was ignored")
            return None, None
        attributes = auth.get(kind)
        values: dict[str, str] = {}
        if isinstance(attributes, list):  # v2.1
            values = {str(a.get("key")): str(a.get("value", "")) for a in attributes if isinstance(a, dict)}
        elif isinstance(attributes, dict):  # v2.0
            values = {str(k): str(v) for k, v in attributes.items()}
        if kind == "bearer":
            token = values.get("token", "")
            names = [m.group(1) or m.group(2) for m in VARIABLE.finditer(token)]
            if names and VARIABLE.sub("", token).strip() == "":
                return AuthRef("token", {"token_env": names[0]}), None
            if token:
                self.secrets.append(token)
                self.note(
                    where, f"the bearer token was not stored: the request reads it from ${DEFAULT_TOKEN_ENV}"
                )
            return AuthRef("token", {"token_env": DEFAULT_TOKEN_ENV}), None
        if kind == "basic":
            password = values.get("password", "")
            if password and not VARIABLE.fullmatch(password.strip()):
                self.secrets.append(password)
                self.note(where, "the basic auth password was not stored: it is now {{password}}")
                password = "{{password}}"
            return None, BasicAuth("basic", username=values.get("username", ""), password=password)
        self.note(
            where, f"auth type {kind!r} is not imported: pick an auth method for it (see docs/COLLECTIONS.md)"
        )
        return None, None

    def url(self, value: Any) -> tuple[str, list[Pair]]:
        if isinstance(value, str):
            raw = value
            query: list[Pair] | None = None
        elif isinstance(value, dict):
            raw = value.get("raw") if isinstance(value.get("raw"), str) else _rebuild(value)
            query = _pairs(value.get("query")) if isinstance(value.get("query"), list) else None
            variables = value.get("variable")
            for variable in variables if isinstance(variables, list) else []:  # path variables :id
                if isinstance(variable, dict) and variable.get("key"):
                    replacement = str(variable.get("value") or "{{" + str(variable["key"]) + "}}")
                    raw = re.sub(rf"/:{re.escape(str(variable['key']))}(?=/|$|\?)", "/" + replacement, raw)
        else:
            return "", []
        base, _, query_text = raw.partition("?")
        base = base.split("#", 1)[0]
        if query is None:
            query = []
            for part in query_text.split("#", 1)[0].split("&") if query_text else []:
                name, _eq, val = part.partition("=")
                if name:
                    query.append(Pair(name, val))
        return base, query

    def body(self, where: str, body: Any, headers: list[Pair]) -> Body | None:
        if not isinstance(body, dict) or body.get("disabled"):
            return None
        mode = body.get("mode")
        if mode == "raw":
            raw = body.get("raw")
            if not isinstance(raw, str) or raw == "":
                return None
            options = body.get("options") if isinstance(body.get("options"), dict) else {}
            language = ((options.get("raw") or {}) if isinstance(options.get("raw"), dict) else {}).get(
                "language"
            )
            return Body(content=raw, content_type=_LANGUAGES.get(str(language)))
        if mode == "urlencoded":
            return Body(form_data=_pairs(body.get("urlencoded")))
        if mode == "formdata":
            formdata = body.get("formdata")
            rows = [r for r in formdata if isinstance(r, dict)] if isinstance(formdata, list) else []
            files = [str(r.get("key")) for r in rows if r.get("type") == "file"]
            if files:
                self.note(where, f"form-data file fields {', '.join(files)} are not imported")
            self.note(where, "multipart form-data is imported as a urlencoded form")
            return Body(form_data=_pairs([r for r in rows if r.get("type") != "file"]))
        if mode == "graphql":
            graphql = body.get("graphql") if isinstance(body.get("graphql"), dict) else {}
            document: dict[str, Any] = {"query": graphql.get("query", "")}
            variables = graphql.get("variables")
            if variables:
                try:
                    document["variables"] = json.loads(variables) if isinstance(variables, str) else variables
                except ValueError:
                    document["variables"] = variables
            return Body(
                content=json.dumps(document, indent=2, ensure_ascii=False), content_type="application/json"
            )
        if mode == "file":
            self.note(where, "a file body is not imported")
        return None

    def request(self, item: dict[str, Any], inherited: AuthRef | None) -> Request:
        name = str(item.get("name") or "request")[:200]
        data = item.get("request")
        if isinstance(data, str):
            data = {"url": data, "method": "GET"}
        if not isinstance(data, dict):
            data = {}
        url, params = self.url(data.get("url"))
        headers = _pairs(data.get("header")) if isinstance(data.get("header"), list) else []
        auth_method, auth = (
            self.auth(name, data.get("auth"))
            if "auth" in data and data.get("auth") is not None
            else (inherited, None)
        )
        self.scripts(name, item.get("event"))
        return Request(
            name=name,
            method=str(data.get("method") or "GET").upper(),
            url=url,
            params=params,
            headers=headers,
            body=self.body(name, data.get("body"), headers),
            description=_description(data.get("description")) or _description(item.get("description")),
            auth_method=auth_method,
            auth=auth,
        )

    def items(self, folder: Folder, items: Any, inherited: AuthRef | None) -> None:
        for item in items if isinstance(items, list) else []:
            if not isinstance(item, dict):
                continue
            self.count += 1
            if self.count > MAX_ITEMS:
                raise ImportError_(f"the collection has more than {MAX_ITEMS} items")
            name = str(item.get("name") or "folder")[:200]
            if isinstance(item.get("item"), list):
                sub = Folder(name, description=_description(item.get("description")))
                self.scripts(f"folder {name}", item.get("event"))
                own, _basic = (
                    self.auth(f"folder {name}", item.get("auth")) if item.get("auth") else (None, None)
                )
                self.items(sub, item["item"], own or inherited)
                folder.items.append(sub)
            else:
                folder.items.append(self.request(item, inherited))

    def variables(self, where: str, rows: Any, key: str = "key") -> dict[str, str]:
        values: dict[str, str] = {}
        for row in rows if isinstance(rows, list) else []:
            if not isinstance(row, dict) or not isinstance(row.get(key), str):
                continue
            name, value = row[key], "" if row.get("value") is None else str(row.get("value"))
            if row.get("type") == "secret" or (
                is_secret_field(name) and value and not VARIABLE.fullmatch(value)
            ):
                if value:
                    self.secrets.append(value)
                self.note(
                    where,
                    f"variable {name!r} is secret and was not stored: set it in .env or the environment",
                )
                continue
            if row.get("enabled") is False or row.get("disabled") is True:
                continue
            values[name] = value
        return values


def _rebuild(url: dict[str, Any]) -> str:
    protocol = url.get("protocol")
    host = url.get("host")
    host_text = ".".join(map(str, host)) if isinstance(host, list) else str(host or "")
    path = url.get("path")
    parts = (
        [p.get("value", "") if isinstance(p, dict) else str(p) for p in path]
        if isinstance(path, list)
        else [str(path or "")]
    )
    text = (f"{protocol}://" if protocol else "") + host_text
    if url.get("port"):
        text += f":{url['port']}"
    path_text = "/".join(p.strip("/") for p in parts if p is not None)
    return text + ("/" + path_text if path_text else "")


def from_postman(text: str, environments: Sequence[str] = ()) -> ImportResult:
    """The collection in a Postman v2.0/v2.1 export (and the Postman environments given)."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as error:
        raise ImportError_(f"not a Postman collection (not JSON: {str(error)[:80]})") from None
    info = data.get("info") if isinstance(data, dict) else None
    if not isinstance(info, dict) or not isinstance(data.get("item"), list):
        raise ImportError_("not a Postman collection v2.x: it needs `info` and `item`")
    schema = str(info.get("schema") or "")
    if schema and not any(version in schema for version in SCHEMAS):
        raise ImportError_(f"unsupported Postman schema {schema[:80]!r}: export as Collection v2.1")
    importer = _Importer()
    name = str(info.get("name") or "Postman import")[:200]
    collection = Collection(name=name, description=_description(info.get("description")))
    collection.variables = importer.variables("collection variables", data.get("variable"))
    collection.defaults.auth, basic = importer.auth("collection", data.get("auth"))
    if basic is not None:
        importer.note(
            "collection", "collection-level basic auth is applied to no request: set it per request"
        )
    importer.scripts("collection", data.get("event"))
    importer.items(collection.root, data["item"], None)
    result = ImportResult(collection, [], importer.notices, importer.secrets)
    for env_text in environments:
        result.environments.append(environment_from_postman(env_text, importer))
    return result


def environment_from_postman(text: str, importer: _Importer | None = None) -> Environment:
    importer = importer or _Importer()
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        raise ImportError_("not a Postman environment (not JSON)") from None
    if not isinstance(data, dict) or not isinstance(data.get("values"), list):
        raise ImportError_("not a Postman environment: it needs `values`")
    name = str(data.get("name") or "postman")
    return Environment(name=name, variables=importer.variables(f"environment {name}", data["values"]))

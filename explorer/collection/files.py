"""Reading and writing collection files (see docs/COLLECTIONS.md and schema.json).

    collection.yaml             name, description, order, openapi, defaults, variables
    01-hello.posting.yaml       one request (posting's format + auth_method, assertions, extractions)
    items/folder.yaml           optional: a folder's name, notes and order
    items/*.posting.yaml
    environments/dev.yaml       variables and auth of one environment
    .env                        secrets and local values (keep it out of git)

Every file is validated with `schema.json` on load. A broken file becomes one `LoadError` (its
path, the field, what is wrong) and the rest of the collection still loads. Every write goes
through `secret_guard`, so no secret reaches a file.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from explorer.collection.model import (
    AuthRef,
    BasicAuth,
    Body,
    Collection,
    Defaults,
    Environment,
    Folder,
    LoadError,
    Notice,
    Pair,
    Request,
)
from explorer.collection.secret_guard import (
    SecretRefused,
    check_text,
    sanitize_auth_ref,
    sanitize_request,
    sanitize_variables,
)
from explorer.collection.storage import Storage, StorageError, clean_path
from explorer.collection.validate import validate
from explorer.redact import Redactor

COLLECTION_FILE = "collection.yaml"
FOLDER_FILE = "folder.yaml"
ENVIRONMENTS = "environments"
DOTENV = ".env"
REQUEST_SUFFIXES = (".posting.yaml", ".posting.yml")
MAX_FILE = 2 * 1024 * 1024
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: ~10x faster
MAX_DEPTH = 16

__all__ = [
    "CollectionError",
    "SecretRefused",
    "delete_item",
    "list_environments",
    "load_collection",
    "load_dotenv",
    "load_environment",
    "request_file_name",
    "save_collection",
    "save_environment",
    "save_request",
]


class CollectionError(ValueError):
    """A collection (or an environment) that cannot be used at all; `str()` is one readable line."""


# --- loading ------------------------------------------------------------------------------------


def _read_yaml(storage: Storage, path: str) -> tuple[Any, LoadError | None]:
    try:
        text = storage.read_text(path)
    except StorageError as error:
        return None, LoadError(path, "", str(error).split(": ", 1)[-1])
    if len(text) > MAX_FILE:
        return None, LoadError(path, "", f"the file is larger than {MAX_FILE // 1024 // 1024} MB")
    try:
        return yaml.load(text, Loader=_LOADER), None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1} column {mark.column + 1}: " if mark else ""
        problem = getattr(error, "problem", None) or "not valid YAML"
        return None, LoadError(path, "", f"{where}{problem}")


def is_request_file(name: str) -> bool:
    return name.endswith(REQUEST_SUFFIXES)


def load_collection(storage: Storage) -> Collection:
    """The collection in `storage`. Raises CollectionError when there is no collection at all."""
    if not storage.is_dir():
        raise CollectionError(f"{storage.describe()}: no such folder")
    errors: list[LoadError] = []
    data: Any = {}
    if storage.exists(COLLECTION_FILE):
        data, error = _read_yaml(storage, COLLECTION_FILE)
        error = error or validate(data if data is not None else {}, "collection", COLLECTION_FILE)
        if error:
            errors.append(error)
            data = {}
    data = data or {}
    root_name = data.get("name") or _folder_name(storage.describe())
    defaults = data.get("defaults") or {}
    collection = Collection(
        name=str(root_name),
        description=str(data.get("description") or ""),
        defaults=Defaults(
            headers=_pairs(defaults.get("headers")),
            auth=_auth_ref(defaults.get("auth")),
            timeout=_number(defaults.get("timeout")),
        ),
        variables={k: _text(v) for k, v in (data.get("variables") or {}).items()},
        openapi=data.get("openapi"),
        errors=errors,
    )
    collection.root = _load_folder(storage, "", str(root_name), data.get("order"), errors, 0)
    if not storage.exists(COLLECTION_FILE) and not collection.requests() and not errors:
        raise CollectionError(
            f"{storage.describe()}: not a collection (no {COLLECTION_FILE} and no *.posting.yaml files)"
        )
    return collection


def _folder_name(description: str) -> str:
    return re.split(r"[\\/]", description.rstrip("/\\"))[-1] or "collection"


def _load_folder(
    storage: Storage, path: str, name: str, order: Any, errors: list[LoadError], depth: int
) -> Folder:
    folder = Folder(name=name, path=path)
    if depth > MAX_DEPTH:
        errors.append(LoadError(path, "", f"folders nest deeper than {MAX_DEPTH} levels"))
        return folder
    entries = {e.name: e for e in storage.list_dir(path)}
    if path and FOLDER_FILE in entries:
        file = _join(path, FOLDER_FILE)
        data, error = _read_yaml(storage, file)
        error = error or validate(data if data is not None else {}, "folder", file)
        if error:
            errors.append(error)
        else:
            data = data or {}
            folder.name = str(data.get("name") or name)
            folder.description = str(data.get("description") or "")
            order = data.get("order")
    usable = [
        e
        for e in entries.values()
        if not e.name.startswith(".")
        and ((e.is_dir and not (not path and e.name == ENVIRONMENTS)) or is_request_file(e.name))
    ]
    by_name = {e.name: e for e in usable}
    listed = [n for n in (order or []) if isinstance(n, str)]
    for missing in [n for n in listed if n not in by_name]:
        errors.append(
            LoadError(
                _join(path, FOLDER_FILE if path else COLLECTION_FILE),
                "order",
                f"lists {missing!r}, which does not exist",
            )
        )
    ordered = [by_name[n] for n in listed if n in by_name]
    ordered += sorted((e for e in usable if e.name not in listed), key=lambda e: e.name)
    for entry in ordered:
        child = _join(path, entry.name)
        if entry.is_dir:
            sub = _load_folder(storage, child, entry.name, None, errors, depth + 1)
            if sub.items or storage.exists(_join(child, FOLDER_FILE)):
                folder.items.append(sub)
        else:
            request = _load_request(storage, child, errors)
            if request is not None:
                folder.items.append(request)
    return folder


def _join(path: str, name: str) -> str:
    return f"{path}/{name}" if path else name


def _load_request(storage: Storage, path: str, errors: list[LoadError]) -> Request | None:
    data, error = _read_yaml(storage, path)
    error = error or validate(data, "request", path)
    if error:
        errors.append(error)
        return None
    return request_from_dict(data, path)


def request_from_dict(data: dict[str, Any], path: str = "") -> Request:
    """A Request from a (validated) request document."""
    body = data.get("body") or None
    auth = data.get("auth") or None
    return Request(
        name=str(data["name"]),
        method=str(data.get("method") or "GET").upper(),
        url=str(data.get("url") or ""),
        params=_pairs(data.get("params")),
        headers=_pairs(data.get("headers")),
        body=(
            Body(
                content=body.get("content"),
                content_type=body.get("content_type"),
                form_data=_pairs(body["form_data"]) if body.get("form_data") is not None else None,
            )
            if body
            else None
        ),
        description=str(data.get("description") or ""),
        timeout=_number((data.get("options") or {}).get("timeout")),
        auth_method=_auth_ref(data.get("auth_method")),
        auth=_basic(auth),
        assertions=list(data.get("assertions") or []),
        extractions=list(data.get("extractions") or []),
        expect=dict(data.get("expect") or {}),
        path=path,
    )


def _basic(auth: dict[str, Any] | None) -> BasicAuth | None:
    if not auth:
        return None
    kind = auth.get("type")
    if kind in ("basic", "digest"):
        part = auth.get(kind) or {}
        return BasicAuth(
            "basic", username=str(part.get("username", "")), password=str(part.get("password", ""))
        )
    if kind == "bearer_token":
        return BasicAuth("bearer_token", token=str((auth.get("bearer_token") or {}).get("token", "")))
    return None


def _pairs(rows: Any) -> list[Pair]:
    return [
        Pair(str(r["name"]), _text(r.get("value")), bool(r.get("enabled", True)))
        for r in rows or []
        if isinstance(r, dict)
    ]


def _auth_ref(value: Any) -> AuthRef | None:
    if value is None:
        return None
    if isinstance(value, str):
        return AuthRef(value)
    fields = {k: _text(v) for k, v in value.items() if k != "method"}
    return AuthRef(str(value["method"]), fields)


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def list_environments(storage: Storage, folder: str = "") -> list[str]:
    return [
        e.name.rsplit(".", 1)[0]
        for e in storage.list_dir(folder or ENVIRONMENTS)
        if not e.is_dir and e.name.endswith((".yaml", ".yml"))
    ]


def load_environment(storage: Storage, name: str, folder: str = "") -> Environment:
    """`environments/<name>.yaml` (or `<folder>/<name>.yaml`, e.g. identities: the same shape, an
    identity being an auth reference with its variables); raises CollectionError naming the file."""
    folder = folder or ENVIRONMENTS
    what = {ENVIRONMENTS: "environment", "identities": "identity"}.get(folder, folder)
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", name) or name.startswith("."):
        raise CollectionError(f"{what} {name!r}: names are letters, digits, _ . -")
    path = next(
        (f"{folder}/{name}{s}" for s in (".yaml", ".yml") if storage.exists(f"{folder}/{name}{s}")),
        None,
    )
    if path is None:
        known = ", ".join(list_environments(storage, folder)) or "none"
        raise CollectionError(f"no {what} {name!r} in {storage.describe(folder)} (known: {known})")
    data, error = _read_yaml(storage, path)
    error = error or validate(data if data is not None else {}, "environment", path)
    if error:
        raise CollectionError(str(error))
    data = data or {}
    return Environment(
        name=str(data.get("name") or name),
        variables={k: _text(v) for k, v in (data.get("variables") or {}).items()},
        auth=_auth_ref(data.get("auth")),
        description=str(data.get("description") or ""),
    )


def load_dotenv(storage: Storage) -> dict[str, str]:
    """The collection's `.env` (none: {})."""
    from explorer.collection.variables import parse_dotenv

    if not storage.exists(DOTENV):
        return {}
    try:
        return parse_dotenv(storage.read_text(DOTENV))
    except StorageError as error:
        raise CollectionError(str(error)) from None


# --- writing ------------------------------------------------------------------------------------


class _Dumper(yaml.SafeDumper):
    """Block style for multi-line strings (bodies, notes), so files diff well."""


def _str(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    lines = data.split("\n")
    if len(lines) > 1 and all(line == line.rstrip() and line.isprintable() for line in lines):
        return dumper.represent_scalar(
            "tag:yaml.org,2002:str", data, style="|"
        )  # exact, trailing newline kept
    return dumper.represent_scalar("tag:yaml.org,2002:str", data)


_Dumper.add_representer(str, _str)


def dump_yaml(data: Any) -> str:
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)


def request_file_name(name: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-").lower()[:60] or "request"
    return slug + REQUEST_SUFFIXES[0]


def request_to_dict(request: Request) -> dict[str, Any]:
    data: dict[str, Any] = {"name": request.name}
    if request.description:
        data["description"] = request.description
    data["method"] = request.method
    data["url"] = request.url
    if request.params:
        data["params"] = [_pair_dict(p) for p in request.params]
    if request.headers:
        data["headers"] = [_pair_dict(p) for p in request.headers]
    if request.body is not None:
        body: dict[str, Any] = {}
        if request.body.content is not None:
            body["content"] = request.body.content
        if request.body.content_type:
            body["content_type"] = request.body.content_type
        if request.body.form_data is not None:
            body["form_data"] = [_pair_dict(p) for p in request.body.form_data]
        data["body"] = body
    if request.auth is not None:
        if request.auth.type == "bearer_token":
            data["auth"] = {"type": "bearer_token", "bearer_token": {"token": request.auth.token}}
        else:
            data["auth"] = {
                "type": "basic",
                "basic": {"username": request.auth.username, "password": request.auth.password},
            }
    if request.timeout is not None:
        data["options"] = {"timeout": request.timeout}
    if request.auth_method is not None:
        data["auth_method"] = auth_ref_to_yaml(request.auth_method)
    if request.assertions:
        data["assertions"] = request.assertions
    if request.extractions:
        data["extractions"] = request.extractions
    if request.expect:
        data["expect"] = request.expect
    return data


def _pair_dict(pair: Pair) -> dict[str, Any]:
    data: dict[str, Any] = {"name": pair.name, "value": pair.value}
    if not pair.enabled:
        data["enabled"] = False
    return data


def auth_ref_to_yaml(ref: AuthRef) -> Any:
    return {"method": ref.method, **ref.fields} if ref.fields else ref.method


@dataclass
class SaveResult:
    """What a save wrote and changed."""

    written: list[str]
    notices: list[Notice]


def save_request(
    storage: Storage, request: Request, redactor: Redactor | None = None, path: str | None = None
) -> SaveResult:
    """Write one request file (secrets turned into references first); returns notices."""
    redactor = redactor or Redactor()
    clean, notices = sanitize_request(request, redactor)
    target = path or clean.path or request_file_name(clean.name)
    text = dump_yaml(request_to_dict(clean))
    error = validate(yaml.safe_load(text), "request", target)
    if error:
        raise CollectionError(str(error))
    check_text(text, redactor, storage.describe(target))
    storage.write_text(target, text)
    return SaveResult([target], notices)


def save_environment(
    storage: Storage, environment: Environment, redactor: Redactor | None = None
) -> SaveResult:
    redactor = redactor or Redactor()
    where = f"environment {environment.name}"
    variables, notices = sanitize_variables(environment.variables, redactor, where)
    data: dict[str, Any] = {"name": environment.name}
    if environment.description:
        data["description"] = environment.description
    data["variables"] = variables
    if environment.auth is not None:
        auth = sanitize_auth_ref(environment.auth, lambda m: notices.append(Notice(where, m)))
        data["auth"] = auth_ref_to_yaml(auth) if auth else None
    target = f"{ENVIRONMENTS}/{request_file_name(environment.name).removesuffix(REQUEST_SUFFIXES[0])}.yaml"
    text = dump_yaml(data)
    check_text(text, redactor, storage.describe(target))
    storage.write_text(target, text)
    return SaveResult([target], notices)


def save_collection(
    storage: Storage,
    collection: Collection,
    redactor: Redactor | None = None,
    environments: Sequence[Environment] = (),
) -> SaveResult:
    """Write the whole collection: collection.yaml, folder.yaml files, every request, environments."""
    redactor = redactor or Redactor()
    result = SaveResult([], [])
    variables, notices = sanitize_variables(collection.variables, redactor, COLLECTION_FILE)
    result.notices += notices
    data: dict[str, Any] = {"name": collection.name, "version": 1}
    if collection.description:
        data["description"] = collection.description
    if collection.openapi:
        data["openapi"] = collection.openapi
    defaults: dict[str, Any] = {}
    if collection.defaults.headers:
        headers, notices = sanitize_request(
            Request("collection defaults", headers=collection.defaults.headers), redactor
        )
        result.notices += notices
        defaults["headers"] = [_pair_dict(p) for p in headers.headers]
    if collection.defaults.auth is not None:
        auth = sanitize_auth_ref(
            collection.defaults.auth, lambda m: result.notices.append(Notice(COLLECTION_FILE, m))
        )
        if auth is not None:
            defaults["auth"] = auth_ref_to_yaml(auth)
    if collection.defaults.timeout is not None:
        defaults["timeout"] = collection.defaults.timeout
    if defaults:
        data["defaults"] = defaults
    if variables:
        data["variables"] = variables
    data["order"] = _write_folder(storage, collection.root, "", redactor, result)
    text = dump_yaml(data)
    check_text(text, redactor, storage.describe(COLLECTION_FILE))
    storage.write_text(COLLECTION_FILE, text)
    result.written.append(COLLECTION_FILE)
    if not storage.exists(".gitignore"):  # .env holds this collection's secrets: never in git
        storage.write_text(
            ".gitignore", "# Secrets and local values (tokens, client secrets): never in git.\n.env\n"
        )
        result.written.append(".gitignore")
    for environment in environments:
        saved = save_environment(storage, environment, redactor)
        result.written += saved.written
        result.notices += saved.notices
    return result


def _write_folder(
    storage: Storage, folder: Folder, path: str, redactor: Redactor, result: SaveResult
) -> list[str]:
    """Writes the folder's items; returns their entry names in order (unique per folder)."""
    order: list[str] = []
    taken: set[str] = set()
    for item in folder.items:
        if isinstance(item, Folder):
            entry = _unique(re.sub(r"[^A-Za-z0-9._-]+", "-", item.name).strip("-").lower() or "folder", taken)
            child = _join(path, entry)
            sub_order = _write_folder(storage, item, child, redactor, result)
            meta = {"name": item.name, **({"description": item.description} if item.description else {})}
            meta["order"] = sub_order
            text = dump_yaml(meta)
            check_text(text, redactor, storage.describe(_join(child, FOLDER_FILE)))
            storage.write_text(_join(child, FOLDER_FILE), text)
            result.written.append(_join(child, FOLDER_FILE))
        else:
            entry = _unique(request_file_name(item.name), taken)
            saved = save_request(storage, item, redactor, _join(path, entry))
            result.written += saved.written
            result.notices += saved.notices
        order.append(entry)
    return order


def _unique(name: str, taken: set[str]) -> str:
    candidate, number = name, 2
    while candidate in taken:
        stem, dot, suffix = name.partition(".")
        candidate = f"{stem}-{number}{dot}{suffix}"
        number += 1
    taken.add(candidate)
    return candidate


# --- deleting -----------------------------------------------------------------------------------


def delete_item(storage: Storage, path: str) -> list[str]:
    """Delete one request file or one folder (with everything in it) of the collection in `storage`.

    Only what the collection lists as a request or a folder is deleted: not its collection.yaml, its
    environments, its .env, nor any path outside it (`..`, an absolute path, a link leading out:
    the storage refuses those). The entry leaves its parent's `order` too, so the collection still
    loads without an error. Returns the files changed besides the deleted item.
    Raises CollectionError (one readable line) when the path is not an item of the collection.
    """
    try:
        relative = clean_path(path)
    except StorageError as error:
        raise CollectionError(str(error)) from None
    collection = load_collection(storage)
    requests = {r.path for _trail, r in collection.requests()}
    folders = {f.path for f in _folders(collection.root) if f.path}
    if relative not in requests and relative not in folders:
        raise CollectionError(
            f"{storage.describe(relative or '')}: not a request or a folder of this collection"
        )
    storage.delete(relative)
    parent, _, entry = relative.rpartition("/")
    order_file = _join(parent, FOLDER_FILE) if parent else COLLECTION_FILE
    if not storage.exists(order_file):
        return []
    data, error = _read_yaml(storage, order_file)
    if error or not isinstance(data, dict) or entry not in (data.get("order") or []):
        return []
    data["order"] = [n for n in data["order"] if n != entry]
    storage.write_text(order_file, dump_yaml(data))
    return [order_file]


def _folders(folder: Folder) -> list[Folder]:
    found = [folder]
    for item in folder.items:
        if isinstance(item, Folder):
            found += _folders(item)
    return found

"""Validation of collection files with the shipped JSON Schema (`schema.json`, via `jsonschema`).

`validate(data, kind, path)` gives None or one `LoadError`: the file, the field (`assertions[1].json`)
and what is wrong in one line, taken from the branch of a `oneOf` the author meant.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from explorer.collection.model import LoadError


@cache
def schema() -> dict[str, Any]:
    """The JSON Schema of the collection files (shipped as package data)."""
    text = resources.files("explorer.collection").joinpath("schema.json").read_text(encoding="utf-8")
    return json.loads(text)


@cache
def _validator(kind: str) -> Any:
    from jsonschema import Draft202012Validator

    document = {**schema(), "$ref": f"#/$defs/{kind}"}
    return Draft202012Validator(document)


def _odd_key(data: Any, location: tuple[Any, ...] = (), depth: int = 0) -> tuple[tuple[Any, ...], Any] | None:
    """(where, key) of the first mapping key that is not text (YAML allows `? [1]: x`, `1: x`)."""
    if depth > 64:
        return None
    if isinstance(data, dict):
        for key, value in data.items():
            if not isinstance(key, str):
                return location, key
            found = _odd_key(value, (*location, key), depth + 1)
            if found:
                return found
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found = _odd_key(value, (*location, index), depth + 1)
            if found:
                return found
    return None


def validate(data: Any, kind: str, path: str) -> LoadError | None:
    """None when `data` is a valid `kind` ("request", "collection", "folder", "environment")."""
    odd = _odd_key(data)
    if odd is not None:
        return LoadError(path, _field(odd[0]), f"keys must be text, not {_short(odd[1])}")
    errors = sorted(_validator(kind).iter_errors(data), key=lambda e: (len(e.absolute_path), e.path))
    if not errors:
        return None
    error = errors[0]
    extra, message = _explain(error)
    return LoadError(path, _field([*error.absolute_path, *extra]), message)


def _field(location: Any) -> str:
    text = ""
    for part in location:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _explain(error: Any) -> tuple[list[Any], str]:
    """(where below the error's location, one line saying what is wrong); for a oneOf, from the
    branch the author meant (the one whose required key the value has)."""
    if error.validator in ("oneOf", "anyOf") and error.context:
        instance = error.instance
        branches: dict[int, list[Any]] = {}
        for sub in error.context:
            branches.setdefault(sub.schema_path[0], []).append(sub)
        for subs in branches.values():
            if not any(s.validator == "required" for s in subs) and isinstance(instance, dict):
                best = min(subs, key=lambda s: len(s.absolute_path))
                inner, message = _explain(best)
                return [*best.relative_path, *inner], message
        if isinstance(instance, dict):
            return [], f"{_short(instance)} is not a known form: see docs/COLLECTIONS.md"
        if list(error.absolute_path)[-1:] == ["status"]:
            return (
                [],
                f"{_short(instance)} is not a status: use a code (200), a class (2xx) or a list of them",
            )
        return [], f"{_short(instance)} is not valid here"
    return [], _message(error)


def _message(error: Any) -> str:
    if error.validator == "additionalProperties":
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        return f"unknown key {', '.join(map(repr, extra))}"
    if error.validator == "type" and not list(error.absolute_path):
        kind = type(error.instance).__name__.replace("NoneType", "nothing").replace("str", "text")
        return f"the file must hold a mapping of keys (name:, url: …), not {kind}"
    if error.validator == "required":
        return error.message.replace("is a required property", "is required")
    if error.validator == "pattern" and error.validator_value == "^\\$":
        return f"{_short(error.instance)} is not a JSON path (it must start with $)"
    if error.validator in ("minProperties", "maxProperties"):
        if isinstance(error.instance, dict) and "var" in error.instance:
            return f"{_short(error.instance)} needs exactly one of json, header or status: true"
        return f"{_short(error.instance)} needs exactly one check besides its subject"
    return error.message if len(error.message) < 200 else error.message[:199] + "…"


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 60 else text[:59] + "…"

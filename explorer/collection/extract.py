"""JSON paths into response bodies, and extractions: response values -> variables for later requests.

JSON paths are the common subset every tool understands: `$`, `$.a.b`, `$.items[0].id`,
`$.items[-1]`, `$['odd key']`, `$.items[*].id` (a list of every match) and `$.items.length`
(the length of an array, object or string).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from explorer.model import Exchange

_MISSING = object()
_TOKEN = re.compile(
    r"\.([A-Za-z_$][\w$-]*)|\[(-?\d+)\]|\[\*\]|\[\s*'((?:[^'\\]|\\.)*)'\s*\]|\[\s*\"((?:[^\"\\]|\\.)*)\"\s*\]"
)


class PathError(ValueError):
    """A JSON path that is not well formed."""


@dataclass(frozen=True)
class Step:
    key: str | int | None  # None: every element ([*])


def parse_path(path: str) -> list[Step]:
    if not isinstance(path, str) or not path.startswith("$"):
        raise PathError(f"JSON path {path!r} must start with $")
    steps: list[Step] = []
    position = 1
    while position < len(path):
        match = _TOKEN.match(path, position)
        if match is None:
            raise PathError(f"JSON path {path!r}: cannot read it from {path[position:][:20]!r}")
        name, index, single, double = match.groups()
        if name is not None:
            steps.append(Step(name))
        elif index is not None:
            steps.append(Step(int(index)))
        elif single is not None or double is not None:
            steps.append(
                Step((single if single is not None else double).replace("\\'", "'").replace('\\"', '"'))
            )
        else:
            steps.append(Step(None))
        position = match.end()
    return steps


def find(value: Any, path: str) -> tuple[bool, Any]:
    """(found, value) of `path` in `value`; a `[*]` step yields a list of every match."""
    result = _walk(value, parse_path(path))
    return (result is not _MISSING), (None if result is _MISSING else result)


def _walk(value: Any, steps: list[Step]) -> Any:
    for position, step in enumerate(steps):
        if step.key is None:
            if not isinstance(value, list):
                return _MISSING
            found = [_walk(item, steps[position + 1 :]) for item in value]
            return [item for item in found if item is not _MISSING]
        if isinstance(step.key, int):
            if not isinstance(value, list) or not -len(value) <= step.key < len(value):
                return _MISSING
            value = value[step.key]
        elif isinstance(value, dict) and step.key in value:
            value = value[step.key]
        elif step.key == "length" and isinstance(value, (list, dict, str)):
            value = len(value)
        else:
            return _MISSING
    return value


def as_text(value: Any) -> str:
    """How an extracted value goes into a variable: strings as is, the rest as JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


class ExtractionFailed(ValueError):
    """An extraction found nothing; `str()` says what was looked for and what came."""


def extract(spec: dict[str, Any], exchange: Exchange) -> tuple[str, str]:
    """(variable, value) for one extraction from a response; raises ExtractionFailed."""
    name = str(spec["var"])
    response = exchange.response
    if response is None:
        raise ExtractionFailed(f"{name}: no response to extract from")
    if spec.get("status"):
        return name, str(response.status)
    if "header" in spec:
        value = response.header(str(spec["header"]))
        if value is None:
            raise ExtractionFailed(f"{name}: the response has no {spec['header']} header")
        return name, value
    path = str(spec.get("json"))
    if response.json is None and response.kind != "json":
        raise ExtractionFailed(f"{name}: {path} needs a JSON body, the response is {response.kind}")
    found, value = find(response.json, path)
    if not found:
        raise ExtractionFailed(f"{name}: {path} is not in the response body")
    return name, as_text(value)

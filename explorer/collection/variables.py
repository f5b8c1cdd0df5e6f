"""`{{name}}` variables: layered scopes, built-ins, and resolution that names what is missing.

Resolution order, lowest first: collection < environment < `.env` < command line `--var` <
values extracted earlier in the same run. Built-ins: `{{$uuid}}`, `{{$timestamp}}` (epoch
seconds), `{{$randomInt}}` (0–1000), `{{$env.NAME}}` (a process environment variable, or one
from `.env`). posting's `${name}` is read too, so its files resolve the same way.
"""

from __future__ import annotations

import os
import random
import re
import time
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

# {{ name }} (Postman, Bruno) and ${name} (posting). Names: letters, digits, _ . - and a leading $.
VARIABLE = re.compile(r"\{\{\s*(\$?[A-Za-z_][A-Za-z0-9_.-]*)\s*\}\}|\$\{([A-Za-z_][A-Za-z0-9_.-]*)\}")
BUILTINS = ("$uuid", "$timestamp", "$randomInt")
MAX_DEPTH = 10  # a variable whose value refers to another, and so on


class UndefinedVariable(ValueError):
    """A `{{name}}` no scope defines. `str()` names the variable and where it was used."""

    def __init__(self, name: str, where: str = "") -> None:
        self.name, self.where = name, where
        at = f" in {where}" if where else ""
        super().__init__(
            f"undefined variable {{{{{name}}}}}{at}: define it in the collection, the environment, "
            f".env or with --var {name}=VALUE"
        )


class Scope:
    """Variables in layers; later layers win. Lookups see built-ins and `$env.NAME` too."""

    def __init__(
        self,
        layers: Iterable[Mapping[str, Any]] = (),
        *,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.layers: list[dict[str, str]] = [_strings(layer) for layer in layers]
        self.environ = environ if environ is not None else os.environ

    def with_layer(self, layer: Mapping[str, Any]) -> Scope:
        scope = Scope(environ=self.environ)
        scope.layers = [*self.layers, _strings(layer)]
        return scope

    def set(self, name: str, value: str) -> None:
        """Set in the top layer (extracted values)."""
        if not self.layers:
            self.layers.append({})
        self.layers[-1][name] = value

    def names(self) -> set[str]:
        return {name for layer in self.layers for name in layer}

    def lookup(self, name: str) -> str | None:
        if name.startswith("$"):
            return builtin(name, self.environ)
        for layer in reversed(self.layers):
            if name in layer:
                return layer[name]
        return None

    def defines(self, name: str) -> bool:
        return self.lookup(name) is not None if name.startswith("$") else name in self.names()

    def resolve(self, text: str, where: str = "") -> str:
        """`text` with every variable replaced; raises UndefinedVariable."""
        return resolve(text, self, where)


def builtin(name: str, environ: Mapping[str, str]) -> str | None:
    if name == "$uuid":
        return str(uuid.uuid4())
    if name == "$timestamp":
        return str(int(time.time()))
    if name == "$randomInt":
        return str(random.randint(0, 1000))
    if name.startswith("$env."):
        return environ.get(name[len("$env.") :])
    return None


def resolve(text: str, scope: Scope, where: str = "", depth: int = 0) -> str:
    if not text or ("{{" not in text and "${" not in text):
        return text

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        value = scope.lookup(name)
        if value is None:
            raise UndefinedVariable(name, where)
        if depth < MAX_DEPTH and ("{{" in value or "${" in value):
            return resolve(value, scope, where, depth + 1)
        return value

    return VARIABLE.sub(substitute, text)


def references(text: str | None) -> list[str]:
    """The variable names `text` uses, in order, without duplicates."""
    if not text:
        return []
    return list(dict.fromkeys(m.group(1) or m.group(2) for m in VARIABLE.finditer(text)))


def is_reference(text: str) -> bool:
    """True when `text` is nothing but variable references (and spaces / an auth scheme word)."""
    stripped = VARIABLE.sub("", text).strip()
    return bool(references(text)) and stripped.lower() in ("", "bearer", "basic", "token")


def var_name(hint: str) -> str:
    """A variable name made from a header, field or parameter name: `X-Api-Key` -> `x_api_key`."""
    name = re.sub(r"[^A-Za-z0-9_]+", "_", hint).strip("_").lower()
    if not name or not (name[0].isalpha() or name[0] == "_"):
        name = f"v_{name}"
    return name


def parse_assignment(text: str) -> tuple[str, str]:
    """`NAME=VALUE` (from --var) -> (name, value); raises ValueError with a clear message."""
    name, eq, value = text.partition("=")
    name = name.strip()
    if not eq or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.-]*", name):
        raise ValueError(f"--var {text[:40]!r}: expected NAME=VALUE (letters, digits, _ . - in NAME)")
    return name, value


def parse_dotenv(text: str) -> dict[str, str]:
    """A `.env` file: `KEY=VALUE` lines, `export` allowed, quotes stripped, `#` comments skipped."""
    values: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[len("export ") :].lstrip()
        key, eq, value = line.partition("=")
        key, value = key.strip(), value.strip()
        if not eq or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.-]*", key):
            continue
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        elif " #" in value:
            value = value.split(" #", 1)[0].rstrip()
        values[key] = value
    return values


def _strings(layer: Mapping[str, Any]) -> dict[str, str]:
    return {str(k): _text(v) for k, v in layer.items() if v is not None}


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)

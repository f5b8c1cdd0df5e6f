"""The building blocks of the config schema: strict field types, a model base that names unknown
keys, and the translation of a pydantic validation error into one readable line with its key path
(`apps[1].permissions[0].user_name: unknown user 'x'`)."""

from __future__ import annotations

import math
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError, model_validator
from pydantic_core import PydanticCustomError

_OWN_ERROR = "sandbox_config"


class ConfigError(ValueError):
    """A readable, one-line description of what is wrong in the sandbox configuration."""


def invalid(message: str, *keys: str | int) -> PydanticCustomError:
    """A validation error with our own message; `keys` continue the failing object's key path."""
    return PydanticCustomError(_OWN_ERROR, "{message}", {"message": message, "keys": keys})


def _text(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise invalid(f"expected a string, got {type(value).__name__}")
    return str(value)


def _non_empty_text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise invalid(f"expected a non-empty string, got {value!r}")
    return value.strip()


def _integer(value: Any) -> int:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or int(value) != value
    ):
        raise invalid(f"expected an integer, got {value!r}")
    return int(value)


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise invalid(f"expected a number, got {value!r}")
    return float(value)


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise invalid(f"expected true or false, got {value!r}")
    return value


# YAML scalars as the config means them: numbers are accepted where text is expected (an id
# written without quotes), never the other way round; booleans are never text or numbers.
Text = Annotated[str, BeforeValidator(_text)]
NonEmptyText = Annotated[str, BeforeValidator(_non_empty_text)]
Integer = Annotated[int, BeforeValidator(_integer)]
Number = Annotated[float, BeforeValidator(_number)]
Flag = Annotated[bool, BeforeValidator(_flag)]


class ConfigModel(BaseModel):
    """A mapping of the config: unknown keys are named with the allowed ones; `null` means absent."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _known_keys(cls, data: Any) -> Any:
        if isinstance(data, BaseModel):
            return data
        if not isinstance(data, dict):
            raise invalid(f"expected a mapping, got {type(data).__name__}")
        allowed = sorted(field.alias or name for name, field in cls.model_fields.items())
        unknown = sorted(str(key) for key in data if key not in allowed)
        if unknown:
            raise invalid(f"unknown key(s) {', '.join(unknown)}; allowed: {', '.join(allowed)}")
        return {key: value for key, value in data.items() if value is not None}


def readable(exc: ValidationError) -> ConfigError:
    """The first problem of a validation error as one line: `<key path>: <what is wrong>`."""
    error = exc.errors(include_url=False)[0]
    context = error.get("ctx") or {}
    if isinstance(context.get("error"), ConfigError):  # raised as-is by a cross-reference check
        return context["error"]
    loc, kind, value = list(error["loc"]), error["type"], error.get("input")
    if kind == _OWN_ERROR:
        return ConfigError(f"{key_path([*loc, *context.get('keys', ())])}: {context['message']}")
    if kind == "missing":
        return ConfigError(f"{key_path(loc[:-1])}: missing required key '{loc[-1]}'")
    if kind in ("greater_than_equal", "greater_than"):
        bound = context.get("ge", context.get("gt"))
        return ConfigError(f"{key_path(loc)}: must be at least {bound}, got {value}")
    if kind == "list_type":
        return ConfigError(f"{key_path(loc)}: expected a list, got {type(value).__name__}")
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return ConfigError(f"{key_path(loc)}: expected a mapping, got {type(value).__name__}")
    if kind == "extra_forbidden":
        return ConfigError(f"{key_path(loc[:-1])}: unknown key {loc[-1]}")
    return ConfigError(f"{key_path(loc)}: {error['msg']}")


def key_path(loc: list[Any]) -> str:
    """`config` for the whole document, `config.apps` for a top-level key, `apps[1].name` below."""
    if not loc:
        return "config"
    if len(loc) == 1:
        return f"config.{loc[0]}"
    path = str(loc[0])
    for part in loc[1:]:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path

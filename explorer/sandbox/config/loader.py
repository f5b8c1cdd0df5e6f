"""Load the sandbox configuration: the embedded default, a YAML file, or an already-parsed dict."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from explorer.sandbox.config.fields import ConfigError, readable
from explorer.sandbox.config.schema import SandboxConfig

DEFAULT_CONFIG_PATH = Path(__file__).with_name("default.yaml")


def load_config(source: str | Path | dict[str, Any] | None) -> SandboxConfig:
    """Load and validate a config: None (embedded default), a YAML file path, or a parsed dict."""
    if source is None:
        return parse_config(_read_yaml(DEFAULT_CONFIG_PATH), DEFAULT_CONFIG_PATH.parent)
    if isinstance(source, dict):
        return parse_config(source, Path.cwd())
    path = Path(source)
    return parse_config(_read_yaml(path), path.resolve().parent)


def parse_config(data: dict[str, Any], base_dir: Path) -> SandboxConfig:
    """Validate a parsed config; relative `source` directories resolve against `base_dir`."""
    try:
        return SandboxConfig.model_validate(data, context={"base_dir": base_dir})
    except ValidationError as exc:
        raise readable(exc) from None


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror or exc}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise ConfigError(f"{path} is not valid YAML{where}: {getattr(exc, 'problem', exc)}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level, got {type(data).__name__}")
    return data

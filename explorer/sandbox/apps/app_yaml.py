"""Read a `source` app's `app.yaml` the way Databricks Apps does: its `command` and `env`."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml


class AppYamlError(ValueError):
    """An `app.yaml` the sandbox cannot run."""


@dataclass
class AppYaml:
    command: list[str]
    env: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def read_app_yaml(source_dir: Path) -> AppYaml:
    """Parse `app.yaml` (or `app.yml`); without one, run `python <first .py>` as the platform does."""
    path = next((source_dir / n for n in ("app.yaml", "app.yml") if (source_dir / n).is_file()), None)
    if path is None:
        return AppYaml(command=default_command(source_dir))
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise AppYamlError(f"cannot read {path.name}: {exc}") from None
    if not isinstance(data, dict):
        raise AppYamlError(f"{path.name}: expected a mapping at the top level")
    command = data.get("command")
    if command is None:
        return _with_env(AppYaml(command=default_command(source_dir)), data.get("env"), path.name)
    if (
        not isinstance(command, list)
        or not command
        or not all(isinstance(c, str | int | float) for c in command)
    ):
        raise AppYamlError(
            f"{path.name}: 'command' must be a non-empty list of strings (it is not run in a shell)"
        )
    return _with_env(AppYaml(command=[str(c) for c in command]), data.get("env"), path.name)


def default_command(source_dir: Path) -> list[str]:
    first_py = sorted(p.name for p in source_dir.glob("*.py"))
    if not first_py:
        raise AppYamlError(f"no 'command' in app.yaml and no .py file in {source_dir}")
    return ["python", first_py[0]]


def _with_env(spec: AppYaml, raw_env: object, filename: str) -> AppYaml:
    if raw_env is None:
        return spec
    if not isinstance(raw_env, list):
        raise AppYamlError(f"{filename}: 'env' must be a list of {{name, value}} entries")
    for i, entry in enumerate(raw_env):
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            raise AppYamlError(f"{filename}: env[{i}] needs a 'name'")
        if "value" in entry:
            spec.env[entry["name"]] = "" if entry["value"] is None else str(entry["value"])
        elif "valueFrom" in entry:
            # App resources (secrets, warehouses, ...) do not exist in the sandbox.
            spec.warnings.append(
                f"env {entry['name']}: valueFrom is not supported by the sandbox; left unset"
            )
    return spec

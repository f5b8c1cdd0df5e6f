"""Start a `source` app the way Databricks Apps does: its `app.yaml` command and the platform env vars."""

from __future__ import annotations

import re
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

import yaml

# Inherited variables that would make the SDK inside the app pick the wrong identity.
_DROPPED_ENV_PREFIXES = ("DATABRICKS_", "ARM_", "AZURE_", "GOOGLE_CREDENTIALS")
_PORT_VAR = re.compile(r"\$\{DATABRICKS_APP_PORT\}|\$DATABRICKS_APP_PORT\b")


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


def build_command(command: list[str], port: int) -> list[str]:
    """Substitute only DATABRICKS_APP_PORT, and run `python`/console scripts from this interpreter's env."""
    args = [_PORT_VAR.sub(str(port), arg) for arg in command]
    program = args[0]
    if program in ("python", "python3"):
        args[0] = sys.executable
    elif "/" not in program:
        # `uvicorn`, `streamlit`, ... live beside the interpreter in a venv that is not on PATH.
        beside = Path(sys.executable).parent / program
        args[0] = str(beside) if beside.is_file() else (shutil.which(program) or program)
    return args


def build_env(
    *,
    base: dict[str, str],
    app_name: str,
    port: int,
    host: str,
    workspace_id: str,
    client_id: str,
    client_secret: str,
    app_url: str,
    extra: dict[str, str],
) -> dict[str, str]:
    """The environment the platform (and the Databricks CLI's local runner) gives an app."""
    env = {k: v for k, v in base.items() if not k.startswith(_DROPPED_ENV_PREFIXES)}
    env.update(
        {
            "DATABRICKS_APP_NAME": app_name,
            "DATABRICKS_APP_PORT": str(port),
            # The platform may give the host without a scheme; the sandbox serves plain http only.
            "DATABRICKS_HOST": host,
            "DATABRICKS_WORKSPACE_ID": workspace_id,
            "DATABRICKS_CLIENT_ID": client_id,
            "DATABRICKS_CLIENT_SECRET": client_secret,
            "DATABRICKS_APP_URL": app_url,
            "UVICORN_PORT": str(port),
            "UVICORN_HOST": "0.0.0.0",
            "GRADIO_SERVER_PORT": str(port),
            "GRADIO_SERVER_NAME": "0.0.0.0",
            "GRADIO_ANALYTICS_ENABLED": "false",
            "STREAMLIT_SERVER_PORT": str(port),
            "STREAMLIT_SERVER_ADDRESS": "0.0.0.0",
            "FLASK_RUN_PORT": str(port),
            "FLASK_RUN_HOST": "0.0.0.0",
            "PORT": str(port),
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(extra)
    return env

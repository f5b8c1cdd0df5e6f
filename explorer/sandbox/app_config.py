"""The `apps:` section of the sandbox config: kinds, states, scopes, permissions, own service principal."""

from __future__ import annotations

import hashlib
import re
import uuid
from pathlib import Path
from typing import Any

from explorer.sandbox.app_yaml import AppYamlError, read_app_yaml
from explorer.sandbox.config_model import (
    APP_KINDS,
    APP_NAME_PATTERN,
    APP_STATES,
    ID_NAMESPACE,
    PERMISSION_LEVELS,
    AppSpec,
    ConfigError,
    Grant,
    Section,
    ServicePrincipal,
    User,
    derived_application_id,
    find_sp,
    new_sp_secret,
    numeric_id,
)

_APP_KEYS = {
    "name",
    "kind",
    "description",
    "upstream",
    "source",
    "state",
    "user_api_scopes",
    "permissions",
    "service_principal",
    "env",
    "start_timeout_seconds",
    "port",
}


def parse_apps(
    items: list[Any], workspace_id: str, users: list[User], sps: list[ServicePrincipal], base_dir: Path
) -> list[AppSpec]:
    """Parse every app; apps without `service_principal` get a generated one appended to `sps`."""
    apps: list[AppSpec] = []
    for i, item in enumerate(items):
        app = _parse_app(Section(item, f"apps[{i}]", _APP_KEYS), workspace_id, sps, base_dir)
        if any(a.name == app.name for a in apps):
            raise ConfigError(f"apps[{i}].name: duplicate app name {app.name!r}")
        apps.append(app)
    # Permissions may name any service principal, including another app's, so resolve them last.
    for i, (item, app) in enumerate(zip(items, apps, strict=True)):
        sec = Section(item, f"apps[{i}]", _APP_KEYS)
        app.permissions = [
            _parse_grant(g, f"apps[{i}].permissions[{j}]", users, sps)
            for j, g in enumerate(sec.items("permissions"))
        ]
    return apps


def _parse_app(sec: Section, workspace_id: str, sps: list[ServicePrincipal], base_dir: Path) -> AppSpec:
    where = sec.where
    name = sec.text("name")
    if not APP_NAME_PATTERN.match(name):
        raise ConfigError(
            f"{where}.name: {name!r} is not a valid app name (2-30 lowercase letters, digits or dashes)"
        )
    kind = sec.text("kind", "sample")
    if kind not in APP_KINDS:
        raise ConfigError(f"{where}.kind: unknown kind {kind!r} (expected {', '.join(APP_KINDS)})")
    state = sec.text("state", "RUNNING").upper()
    if state not in APP_STATES:
        raise ConfigError(f"{where}.state: unknown state {state!r} (expected {' or '.join(APP_STATES)})")
    app = AppSpec(
        name=name,
        kind=kind,
        state=state,
        service_principal=_app_service_principal(sec, name, workspace_id, sps),
        oauth2_app_client_id=str(uuid.uuid5(ID_NAMESPACE, f"{workspace_id}/app-client/{name}")),
        id=str(uuid.uuid5(ID_NAMESPACE, f"{workspace_id}/app/{name}")),
        description=sec.text("description", ""),
        user_api_scopes=sec.texts("user_api_scopes"),
        env=_parse_env(sec),
        start_timeout_seconds=sec.number("start_timeout_seconds", 60.0, 0.1),
        port=sec.integer("port", 0, 0),
    )
    if kind == "upstream":
        app.upstream = sec.text("upstream")
        if not re.match(r"^https?://[^/\s]+", app.upstream):
            raise ConfigError(f"{where}.upstream: expected an http(s) URL, got {app.upstream!r}")
    elif sec.data.get("upstream") is not None:
        raise ConfigError(f"{where}.upstream: only apps of kind 'upstream' take an upstream URL")
    if kind == "source":
        app.source = _source_dir(sec, base_dir)
    elif sec.data.get("source") is not None:
        raise ConfigError(f"{where}.source: only apps of kind 'source' take a source directory")
    return app


def _app_service_principal(
    sec: Section, app_name: str, workspace_id: str, sps: list[ServicePrincipal]
) -> ServicePrincipal:
    ref = sec.text("service_principal", None)
    if ref:
        sp = find_sp(sps, ref)
        if sp is None:
            raise ConfigError(f"{sec.where}.service_principal: unknown service principal {ref!r}")
        return sp
    # As on Databricks: every app gets its own service principal named "app-xxxxxx <app name>".
    suffix = hashlib.sha256(f"{workspace_id}/{app_name}".encode()).hexdigest()[:6]
    name = f"app-{suffix} {app_name}"
    app_id = derived_application_id(workspace_id, name)
    sp = ServicePrincipal(
        name=name, application_id=app_id, id=numeric_id("sp", app_id), secret=new_sp_secret()
    )
    sps.append(sp)
    return sp


def _parse_env(sec: Section) -> dict[str, str]:
    raw = sec.data.get("env") or {}
    if isinstance(raw, list):  # app.yaml style: [{name, value}]
        pairs = {}
        for j, entry in enumerate(raw):
            item = Section(entry, f"{sec.where}.env[{j}]", {"name", "value"})
            pairs[item.text("name")] = item.text("value", "")
        return pairs
    if not isinstance(raw, dict):
        raise ConfigError(f"{sec.where}.env: expected a mapping of NAME: value or a list of {{name, value}}")
    return {str(k): "" if v is None else str(v) for k, v in raw.items()}


def _source_dir(sec: Section, base_dir: Path) -> Path:
    raw = sec.text("source")
    path = Path(raw).expanduser()
    path = path if path.is_absolute() else (base_dir / path)
    if not path.is_dir():
        raise ConfigError(f"{sec.where}.source: directory {raw!r} does not exist (relative to {base_dir})")
    try:
        read_app_yaml(path)
    except AppYamlError as exc:
        raise ConfigError(f"{sec.where}.source: {exc}") from None
    return path.resolve()


def _parse_grant(item: Any, where: str, users: list[User], sps: list[ServicePrincipal]) -> Grant:
    sec = Section(item, where, {"user_name", "service_principal_name", "permission_level"})
    level = sec.text("permission_level").upper()
    if level not in PERMISSION_LEVELS:
        raise ConfigError(
            f"{where}.permission_level: unknown level {level!r} (expected {' or '.join(PERMISSION_LEVELS)})"
        )
    user_name, sp_ref = sec.text("user_name", None), sec.text("service_principal_name", None)
    if bool(user_name) == bool(sp_ref):
        raise ConfigError(f"{where}: give exactly one of user_name or service_principal_name")
    if user_name:
        if not any(u.email == user_name for u in users):
            raise ConfigError(f"{where}.user_name: unknown user {user_name!r}")
        return Grant(kind="user", principal=user_name, level=level)
    sp = find_sp(sps, sp_ref)
    if sp is None:
        raise ConfigError(f"{where}.service_principal_name: unknown service principal {sp_ref!r}")
    return Grant(kind="service_principal", principal=sp.application_id, level=level)

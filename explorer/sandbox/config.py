"""Load the sandbox configuration: the embedded default, a YAML file, or an already-parsed dict."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from explorer.sandbox.app_config import parse_apps
from explorer.sandbox.config_model import (
    SANDBOX_IDP,
    ConfigError,
    FederationPolicy,
    SandboxConfig,
    Section,
    ServicePrincipal,
    User,
    derived_application_id,
    find_sp,
    new_pat,
    new_sp_secret,
    numeric_id,
)

DEFAULT_CONFIG_PATH = Path(__file__).with_name("default.yaml")


def load_config(source: str | Path | dict[str, Any] | None) -> SandboxConfig:
    """Load and validate a config: None (embedded default), a YAML file path, or a parsed dict."""
    if source is None:
        return parse_config(_read_yaml(DEFAULT_CONFIG_PATH), DEFAULT_CONFIG_PATH.parent)
    if isinstance(source, dict):
        return parse_config(source, Path.cwd())
    path = Path(source)
    return parse_config(_read_yaml(path), path.resolve().parent)


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


_TOP_KEYS = {
    "workspace_id",
    "token_ttl_seconds",
    "refresh_token_ttl_seconds",
    "session_ttl_seconds",
    "auto_approve",
    "users",
    "service_principals",
    "apps",
    "federation_policies",
}


def parse_config(data: dict[str, Any], base_dir: Path) -> SandboxConfig:
    """Validate a parsed config; relative `source` directories resolve against `base_dir`."""
    top = Section(data, "config", _TOP_KEYS)
    workspace_id = top.text("workspace_id", "1234567890123456")
    if not re.fullmatch(r"\d{1,20}", workspace_id):
        raise ConfigError(f"config.workspace_id: expected digits, got {workspace_id!r}")
    users = [_parse_user(item, f"users[{i}]") for i, item in enumerate(top.items("users"))]
    _check_unique([u.email for u in users], "users", "email")
    sps = [
        _parse_sp(item, f"service_principals[{i}]", workspace_id)
        for i, item in enumerate(top.items("service_principals"))
    ]
    _check_unique([s.name for s in sps], "service_principals", "name")
    _check_unique([s.application_id for s in sps], "service_principals", "application_id")
    apps = parse_apps(top.items("apps"), workspace_id, users, sps, base_dir)
    policies = [
        _parse_policy(item, f"federation_policies[{i}]", sps)
        for i, item in enumerate(top.items("federation_policies"))
    ]
    return SandboxConfig(
        workspace_id=workspace_id,
        token_ttl_seconds=top.integer("token_ttl_seconds", 3600, 1),
        refresh_token_ttl_seconds=top.integer("refresh_token_ttl_seconds", 7 * 24 * 3600, 1),
        session_ttl_seconds=top.integer("session_ttl_seconds", 8 * 3600, 1),
        auto_approve=top.flag("auto_approve", False),
        users=users,
        service_principals=sps,
        apps=apps,
        federation_policies=policies,
    )


def _check_unique(values: list[str], where: str, key: str) -> None:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise ConfigError(f"{where}: duplicate {key} {value!r}")
        seen.add(value)


def _parse_user(item: Any, where: str) -> User:
    sec = Section(item, where, {"email", "display_name", "pats"})
    email = sec.text("email")
    if "@" not in email:
        raise ConfigError(f"{where}.email: expected an email address, got {email!r}")
    pats = sec.texts("pats") if "pats" in sec.data else [new_pat()]
    for i, pat in enumerate(pats):
        if not pat.startswith("dapi") or len(pat) < 12:
            raise ConfigError(f"{where}.pats[{i}]: a personal access token must start with 'dapi'")
    display = sec.text("display_name", email.split("@")[0])
    return User(email=email, display_name=display, id=numeric_id("user", email), pats=pats)


def _parse_sp(item: Any, where: str, workspace_id: str) -> ServicePrincipal:
    sec = Section(item, where, {"name", "application_id", "secret"})
    name = sec.text("name")
    app_id = sec.text("application_id", None) or derived_application_id(workspace_id, name)
    secret = sec.text("secret", None) or new_sp_secret()
    return ServicePrincipal(name=name, application_id=app_id, id=numeric_id("sp", app_id), secret=secret)


def _parse_policy(item: Any, where: str, sps: list[ServicePrincipal]) -> FederationPolicy:
    keys = {"issuer", "audiences", "subject_claim", "subject", "service_principal", "jwks_uri"}
    sec = Section(item, where, keys)
    issuer = sec.text("issuer")
    if issuer != SANDBOX_IDP and not re.match(r"^https?://", issuer):
        raise ConfigError(f"{where}.issuer: expected '{SANDBOX_IDP}' or an http(s) URL, got {issuer!r}")
    audiences = sec.texts("audiences")
    if not audiences:
        raise ConfigError(f"{where}.audiences: give at least one audience")
    sp_ref = sec.text("service_principal", None)
    sp = find_sp(sps, sp_ref) if sp_ref else None
    if sp_ref and sp is None:
        raise ConfigError(f"{where}.service_principal: unknown service principal {sp_ref!r}")
    subject = sec.text("subject", None)
    if sp is not None and not subject:
        raise ConfigError(f"{where}.subject: required when the policy names a service principal")
    return FederationPolicy(
        issuer=issuer,
        audiences=audiences,
        subject_claim=sec.text("subject_claim", "sub"),
        subject=subject,
        service_principal=sp.application_id if sp else None,
        jwks_uri=sec.text("jwks_uri", None),
    )

"""The sandbox configuration model: validated dataclasses, the config error, and a small reader.

Secrets (PATs, service-principal secrets) are generated at load time unless the config gives
them, so no secret is a constant in the repository. Identifiers that are not secret (application
ids, numeric ids) are derived deterministically so a restarted sandbox keeps the same ones.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

SANDBOX_IDP = "sandbox-idp"  # a federation policy issuer meaning "the built-in stand-in IdP"
APP_KINDS = ("sample", "upstream", "source")
APP_STATES = ("RUNNING", "STOPPED")
PERMISSION_LEVELS = ("CAN_USE", "CAN_MANAGE")
APP_NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{1,29}$")
ID_NAMESPACE = uuid.UUID("5a7c1d0e-9b1f-4f53-8d6e-3c2b1a0f9e8d")

PrincipalKind = Literal["user", "service_principal"]


class ConfigError(ValueError):
    """A readable, one-line description of what is wrong in the sandbox configuration."""


@dataclass
class User:
    email: str
    display_name: str
    id: str
    pats: list[str] = field(default_factory=list, repr=False)


@dataclass
class ServicePrincipal:
    name: str
    application_id: str
    id: str
    secret: str = field(repr=False)


@dataclass(frozen=True)
class Grant:
    """One permission entry; `principal` is a user email or a service principal application id."""

    kind: PrincipalKind
    principal: str
    level: str


@dataclass
class AppSpec:
    name: str
    kind: str
    state: str
    service_principal: ServicePrincipal
    oauth2_app_client_id: str
    id: str
    description: str = ""
    upstream: str | None = None
    source: Path | None = None
    user_api_scopes: list[str] = field(default_factory=list)
    permissions: list[Grant] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict, repr=False)
    start_timeout_seconds: float = 60.0
    port: int = 0  # the gateway's port; 0 = any free port


@dataclass
class FederationPolicy:
    issuer: str  # SANDBOX_IDP or a real issuer URL
    audiences: list[str]
    subject_claim: str
    subject: str | None  # None: account-wide federation, the claim value is a user email
    service_principal: str | None  # application id
    jwks_uri: str | None = None


@dataclass
class SandboxConfig:
    workspace_id: str
    token_ttl_seconds: int
    refresh_token_ttl_seconds: int
    session_ttl_seconds: int
    auto_approve: bool
    users: list[User]
    service_principals: list[ServicePrincipal]
    apps: list[AppSpec]
    federation_policies: list[FederationPolicy]

    def app(self, name: str) -> AppSpec | None:
        return next((a for a in self.apps if a.name == name), None)


class Section:
    """A mapping from the config with a location (`apps[1]`) for error messages."""

    def __init__(self, data: Any, where: str, allowed: set[str]):
        if not isinstance(data, dict):
            raise ConfigError(f"{where}: expected a mapping, got {type(data).__name__}")
        unknown = sorted(set(data) - allowed)
        if unknown:
            raise ConfigError(
                f"{where}: unknown key(s) {', '.join(map(str, unknown))}; allowed: {', '.join(sorted(allowed))}"
            )
        self.data, self.where = data, where

    def text(self, key: str, default: Any = ...) -> Any:
        value = self.data.get(key)
        if value is None:
            if default is ...:
                raise ConfigError(f"{self.where}: missing required key '{key}'")
            return default
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise ConfigError(f"{self.where}.{key}: expected a string, got {type(value).__name__}")
        return str(value)

    def integer(self, key: str, default: int, minimum: int) -> int:
        value = self.data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or int(value) != value:
            raise ConfigError(f"{self.where}.{key}: expected an integer, got {value!r}")
        if value < minimum:
            raise ConfigError(f"{self.where}.{key}: must be at least {minimum}, got {value}")
        return int(value)

    def number(self, key: str, default: float, minimum: float) -> float:
        value = self.data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or value < minimum:
            raise ConfigError(f"{self.where}.{key}: expected a number of at least {minimum}, got {value!r}")
        return float(value)

    def flag(self, key: str, default: bool) -> bool:
        value = self.data.get(key, default)
        if not isinstance(value, bool):
            raise ConfigError(f"{self.where}.{key}: expected true or false, got {value!r}")
        return value

    def items(self, key: str) -> list[Any]:
        value = self.data.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            raise ConfigError(f"{self.where}.{key}: expected a list, got {type(value).__name__}")
        return value

    def texts(self, key: str) -> list[str]:
        items = self.items(key)
        for i, item in enumerate(items):
            if not isinstance(item, str) or not item.strip():
                raise ConfigError(f"{self.where}.{key}[{i}]: expected a non-empty string, got {item!r}")
        return [s.strip() for s in items]


def numeric_id(kind: str, key: str) -> str:
    """A stable 15-digit id, like the numeric ids Databricks gives users and service principals."""
    digest = hashlib.sha256(f"{kind}:{key}".encode()).digest()
    return str(10**14 + int.from_bytes(digest[:8], "big") % (9 * 10**14))


def new_pat() -> str:
    return "dapi" + secrets.token_hex(16)


def new_sp_secret() -> str:
    return "dose" + secrets.token_hex(20)


def derived_application_id(workspace_id: str, name: str) -> str:
    return str(uuid.uuid5(ID_NAMESPACE, f"{workspace_id}/{name}"))


def find_sp(sps: list[ServicePrincipal], ref: str) -> ServicePrincipal | None:
    """A service principal by application id (as Databricks names it in ACLs) or by name."""
    return next((s for s in sps if s.application_id == ref), None) or next(
        (s for s in sps if s.name == ref), None
    )

"""The sandbox configuration: typed pydantic models, each YAML key declared once, with its checks.

Secrets (PATs, service-principal secrets) are generated at load time unless the config gives
them, so no secret is a constant in the repository. Identifiers that are not secret (application
ids, numeric ids) are derived deterministically so a restarted sandbox keeps the same ones.
Cross-references (a permission naming a user, an app naming its service principal) are resolved
after the shapes are valid, by `SandboxConfig`.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, PrivateAttr, ValidationInfo, field_validator, model_validator

from explorer.sandbox.apps.app_yaml import AppYamlError, read_app_yaml
from explorer.sandbox.config.fields import (
    ConfigError,
    ConfigModel,
    Flag,
    Integer,
    NonEmptyText,
    Number,
    Text,
    invalid,
)

SANDBOX_IDP = "sandbox-idp"  # a federation policy issuer meaning "the built-in stand-in IdP"
APP_KINDS = ("sample", "upstream", "source")
APP_STATES = ("RUNNING", "STOPPED")
PERMISSION_LEVELS = ("CAN_USE", "CAN_MANAGE")
APP_NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{1,29}$")
ID_NAMESPACE = uuid.UUID("5a7c1d0e-9b1f-4f53-8d6e-3c2b1a0f9e8d")
# Databricks adds these to every app's user authorization scopes.
FORCED_USER_SCOPES = ("iam.access-control:read", "iam.current-user:read")
# Where an app's gateway accepts bearer tokens unless its `token_paths` say otherwise.
DEFAULT_TOKEN_PATHS = ("/api/",)

PrincipalKind = Literal["user", "service_principal"]


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


def _pat(value: Any) -> str:
    if not isinstance(value, str) or not value.startswith("dapi") or len(value) < 12:
        raise invalid("a personal access token must start with 'dapi'")
    return value


class User(ConfigModel):
    email: Text
    display_name: Text = ""  # default: the part of the email before the @
    pats: list[Annotated[str, BeforeValidator(_pat)]] = Field(default_factory=lambda: [new_pat()], repr=False)

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        if "@" not in value:
            raise invalid(f"expected an email address, got {value!r}")
        return value

    @model_validator(mode="after")
    def _display_name(self) -> User:
        self.display_name = self.display_name or self.email.split("@")[0]
        return self

    @property
    def id(self) -> str:
        return numeric_id("user", self.email)


class ServicePrincipal(ConfigModel):
    name: Text
    application_id: Text = ""  # default: derived from the workspace id and the name
    secret: Text = Field(default_factory=new_sp_secret, repr=False)

    @property
    def id(self) -> str:
        return numeric_id("sp", self.application_id)


class Permission(ConfigModel):
    """One entry of an app's access list; a service principal is named by its application id
    (as on Databricks) or its name, and resolved to the application id."""

    user_name: Text | None = None
    service_principal_name: Text | None = None
    permission_level: Text

    @field_validator("permission_level")
    @classmethod
    def _level(cls, value: str) -> str:
        level = value.upper()
        if level not in PERMISSION_LEVELS:
            raise invalid(f"unknown level {level!r} (expected {' or '.join(PERMISSION_LEVELS)})")
        return level

    @model_validator(mode="after")
    def _one_principal(self) -> Permission:
        if bool(self.user_name) == bool(self.service_principal_name):
            raise invalid("give exactly one of user_name or service_principal_name")
        return self

    @property
    def kind(self) -> PrincipalKind:
        return "user" if self.user_name else "service_principal"

    @property
    def principal(self) -> str:
        """The user's email or the service principal's application id."""
        return self.user_name or self.service_principal_name or ""

    @property
    def level(self) -> str:
        return self.permission_level


def _token_path(value: Any) -> str:
    if not isinstance(value, str) or not value.startswith("/") or any(c.isspace() for c in value):
        raise invalid(f"expected a path prefix starting with '/', got {value!r}")
    if any(segment in (".", "..") for segment in value.split("/")):
        raise invalid(f"a path prefix cannot contain '.' or '..' segments, got {value!r}")
    return value


def _env(value: Any) -> dict[str, str]:
    """`{NAME: value}`, or app.yaml's `[{name, value}]`; every value as text."""
    if isinstance(value, dict):
        return {str(k): "" if v is None else str(v) for k, v in value.items()}
    if not isinstance(value, list):
        raise invalid("expected a mapping of NAME: value or a list of {name, value}")
    pairs: dict[str, str] = {}
    for j, entry in enumerate(value):
        if not isinstance(entry, dict):
            raise invalid(f"expected a mapping, got {type(entry).__name__}", j)
        unknown = sorted(str(k) for k in entry if k not in ("name", "value"))
        if unknown:
            raise invalid(f"unknown key(s) {', '.join(unknown)}; allowed: name, value", j)
        if entry.get("name") is None:
            raise invalid("missing required key 'name'", j)
        pairs[_text_of(entry["name"], j, "name")] = _text_of(entry.get("value", ""), j, "value")
    return pairs


def _text_of(value: Any, *keys: str | int) -> str:
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise invalid(f"expected a string, got {type(value).__name__}", *keys)
    return str(value)


class AppSpec(ConfigModel):
    name: Text
    kind: Text = "sample"
    state: Text = "RUNNING"
    description: Text = ""
    upstream: Text | None = None
    source: Path | None = None  # a directory, relative to the config file
    user_api_scopes: list[NonEmptyText] = []
    permissions: list[Permission] = []
    service_principal_ref: Text | None = Field(None, alias="service_principal")
    env: Annotated[dict[str, str], BeforeValidator(_env)] = Field(default_factory=dict, repr=False)
    start_timeout_seconds: Number = Field(60.0, ge=0.1)
    port: Integer = Field(0, ge=0)  # the gateway's port; 0 = any free port
    # Path prefixes where the gateway accepts a bearer token (elsewhere only a browser session).
    token_paths: list[Annotated[str, BeforeValidator(_token_path)]] = Field(
        default_factory=lambda: list(DEFAULT_TOKEN_PATHS)
    )

    _service_principal: ServicePrincipal | None = PrivateAttr(None)
    _workspace_id: str = PrivateAttr("")

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not APP_NAME_PATTERN.match(value):
            raise invalid(f"{value!r} is not a valid app name (2-30 lowercase letters, digits or dashes)")
        return value

    @field_validator("kind")
    @classmethod
    def _kind(cls, value: str) -> str:
        if value not in APP_KINDS:
            raise invalid(f"unknown kind {value!r} (expected {', '.join(APP_KINDS)})")
        return value

    @field_validator("state")
    @classmethod
    def _state(cls, value: str) -> str:
        if value.upper() not in APP_STATES:
            raise invalid(f"unknown state {value.upper()!r} (expected {' or '.join(APP_STATES)})")
        return value.upper()

    @field_validator("upstream")
    @classmethod
    def _upstream(cls, value: str, info: ValidationInfo) -> str:
        if info.data.get("kind", "upstream") != "upstream":
            raise invalid("only apps of kind 'upstream' take an upstream URL")
        if not re.match(r"^https?://[^/\s]+", value):
            raise invalid(f"expected an http(s) URL, got {value!r}")
        return value

    @field_validator("source", mode="before")
    @classmethod
    def _source(cls, value: Any, info: ValidationInfo) -> Path:
        if info.data.get("kind", "source") != "source":
            raise invalid("only apps of kind 'source' take a source directory")
        raw = _text_of(value)
        base_dir = Path((info.context or {}).get("base_dir") or Path.cwd())
        path = Path(raw).expanduser()
        path = path if path.is_absolute() else base_dir / path
        if not path.is_dir():
            raise invalid(f"directory {raw!r} does not exist (relative to {base_dir})")
        try:
            read_app_yaml(path)
        except AppYamlError as exc:
            raise invalid(str(exc)) from None
        return path.resolve()

    @model_validator(mode="after")
    def _kind_needs(self) -> AppSpec:
        if self.kind == "upstream" and self.upstream is None:
            raise invalid("missing required key 'upstream'")
        if self.kind == "source" and self.source is None:
            raise invalid("missing required key 'source'")
        return self

    # --- derived once the whole config is known (see SandboxConfig._resolve) ---------------
    @property
    def service_principal(self) -> ServicePrincipal:
        """The app's own service principal: the one `service_principal` names, else a generated one."""
        if self._service_principal is None:
            raise RuntimeError(f"app {self.name!r} is not part of a validated SandboxConfig")
        return self._service_principal

    @property
    def id(self) -> str:
        return str(uuid.uuid5(ID_NAMESPACE, f"{self._workspace_id}/app/{self.name}"))

    @property
    def oauth2_app_client_id(self) -> str:
        return str(uuid.uuid5(ID_NAMESPACE, f"{self._workspace_id}/app-client/{self.name}"))

    def accepts_token_on(self, path: str) -> bool:
        """Whether the gateway takes a bearer token for `path` (a `token_paths` prefix matches it).

        `/api/` (or `/api`) matches `/api` and everything below it, not `/apix`; a path with `.`
        or `..` segments never matches, so it cannot climb out of a prefix on the app's side.
        """
        segments = path.split("/")
        if any(s in (".", "..") for s in segments):
            return False
        for prefix in self.token_paths:
            base = prefix.rstrip("/")
            if not base or path == base or path.startswith(base + "/"):
                return True
        return False

    @property
    def effective_user_api_scopes(self) -> list[str]:
        """The scopes a forwarded user token carries (none when the app has no user authorization)."""
        if not self.user_api_scopes:
            return []
        return list(dict.fromkeys([*self.user_api_scopes, *FORCED_USER_SCOPES]))


class FederationPolicy(ConfigModel):
    issuer: Text  # SANDBOX_IDP or a real issuer URL
    audiences: list[NonEmptyText] = []
    subject_claim: Text = "sub"
    subject: Text | None = None  # None: account-wide federation, the claim value is a user email
    service_principal: Text | None = None  # a name or application id, resolved to the application id
    jwks_uri: Text | None = None

    @field_validator("issuer")
    @classmethod
    def _issuer(cls, value: str) -> str:
        if value != SANDBOX_IDP and not re.match(r"^https?://", value):
            raise invalid(f"expected '{SANDBOX_IDP}' or an http(s) URL, got {value!r}")
        return value

    @model_validator(mode="after")
    def _complete(self) -> FederationPolicy:
        if not self.audiences:
            raise invalid("give at least one audience", "audiences")
        if self.service_principal and not self.subject:
            raise invalid("required when the policy names a service principal", "subject")
        return self


class SandboxConfig(ConfigModel):
    workspace_id: Text = "1234567890123456"
    token_ttl_seconds: Integer = Field(3600, ge=1)
    refresh_token_ttl_seconds: Integer = Field(7 * 24 * 3600, ge=1)
    session_ttl_seconds: Integer = Field(8 * 3600, ge=1)
    auto_approve: Flag = False  # with login_hint=<email> the sign-in page approves at once
    users: list[User] = []
    service_principals: list[ServicePrincipal] = []
    apps: list[AppSpec] = []
    federation_policies: list[FederationPolicy] = []

    @field_validator("workspace_id")
    @classmethod
    def _workspace_id(cls, value: str) -> str:
        if not re.fullmatch(r"\d{1,20}", value):
            raise invalid(f"expected digits, got {value!r}")
        return value

    def app(self, name: str) -> AppSpec | None:
        return next((a for a in self.apps if a.name == name), None)

    def find_sp(self, ref: str) -> ServicePrincipal | None:
        """A service principal by application id (as Databricks names it in ACLs) or by name."""
        sps = self.service_principals
        return next((s for s in sps if s.application_id == ref), None) or next(
            (s for s in sps if s.name == ref), None
        )

    @model_validator(mode="after")
    def _resolve(self) -> SandboxConfig:
        """Check uniqueness and resolve every reference; apps without a service principal get one."""
        _check_unique([u.email for u in self.users], "users", "email")
        for sp in self.service_principals:
            sp.application_id = sp.application_id or derived_application_id(self.workspace_id, sp.name)
        _check_unique([s.name for s in self.service_principals], "service_principals", "name")
        _check_unique(
            [s.application_id for s in self.service_principals], "service_principals", "application_id"
        )
        for i, app in enumerate(self.apps):
            if any(a.name == app.name for a in self.apps[:i]):
                raise ConfigError(f"apps[{i}].name: duplicate app name {app.name!r}")
            app._workspace_id = self.workspace_id
            app._service_principal = self._app_service_principal(app, f"apps[{i}]")
        # Permissions may name any service principal, including another app's, so resolve them last.
        emails = {u.email for u in self.users}
        for i, app in enumerate(self.apps):
            for j, grant in enumerate(app.permissions):
                where = f"apps[{i}].permissions[{j}]"
                if grant.user_name and grant.user_name not in emails:
                    raise ConfigError(f"{where}.user_name: unknown user {grant.user_name!r}")
                if grant.service_principal_name:
                    grant.service_principal_name = self._sp_id(
                        grant.service_principal_name, f"{where}.service_principal_name"
                    )
        for i, policy in enumerate(self.federation_policies):
            if policy.service_principal:
                policy.service_principal = self._sp_id(
                    policy.service_principal, f"federation_policies[{i}].service_principal"
                )
        return self

    def _sp_id(self, ref: str, where: str) -> str:
        sp = self.find_sp(ref)
        if sp is None:
            raise ConfigError(f"{where}: unknown service principal {ref!r}")
        return sp.application_id

    def _app_service_principal(self, app: AppSpec, where: str) -> ServicePrincipal:
        if app.service_principal_ref:
            sp = self.find_sp(app.service_principal_ref)
            if sp is None:
                raise ConfigError(
                    f"{where}.service_principal: unknown service principal {app.service_principal_ref!r}"
                )
            return sp
        # As on Databricks: every app gets its own service principal named "app-xxxxxx <app name>".
        suffix = hashlib.sha256(f"{self.workspace_id}/{app.name}".encode()).hexdigest()[:6]
        name = f"app-{suffix} {app.name}"
        sp = ServicePrincipal(name=name, application_id=derived_application_id(self.workspace_id, name))
        self.service_principals.append(sp)
        return sp


def _check_unique(values: list[str], where: str, key: str) -> None:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise ConfigError(f"{where}: duplicate {key} {value!r}")
        seen.add(value)

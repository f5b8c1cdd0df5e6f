"""The auth-method interface: fields, inputs, credentials, and the failure every resolver raises.

A method is data (`AuthMethod`: its fields and what it is) plus one resolver function; the
registry (`explorer.auth.registry`) lists them in detection order, like the SDK's default
credentials chain.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from explorer.auth.timeline import TokenLog
from explorer.failures import auth_failed
from explorer.model import AuthEvent, AuthInfo, Finding
from explorer.parse import InputError, normalize_host, parse_scopes
from explorer.tokens import normalize_token
from explorer.trust import Trust
from explorer.waits import run_bounded

if TYPE_CHECKING:  # the SDK (~0.8 s to import) loads on first use, so the UI and the CLI start without it
    from databricks.sdk.config import Config

DEFAULT_TIMEOUT = 10.0
log = logging.getLogger("explorer.auth")
# What a field makes the process read besides the value typed: an env var it names, or a file.
Reach = Literal["env", "file"]
# How a generated snippet authenticates for a method (explorer.snippets).
SnippetAuth = Literal["profile", "m2m", "env-token"]


@dataclass(frozen=True)
class Field:
    """One input an auth method needs. `secret` values are masked everywhere and never logged.

    `env_var` is the variable the value falls back to (locally); `reaches` marks a field whose
    value names something on this machine (an env var, a file): deployed, such fields are refused.
    """

    name: str
    label: str
    secret: bool = False
    required: bool = False
    env_var: str | None = None
    help: str = ""
    env_only: bool = False  # read from the environment only (never from a form or a flag)
    reaches: Reach | None = None
    cli: str | None = None  # the CLI flag when not derived from the name; "" for none
    cli_help: str = ""

    @property
    def flag(self) -> str:
        """The CLI flag (`--client-id`). Secrets have none unless declared: tokens never come from argv."""
        if self.cli is not None:
            return self.cli
        return "" if self.secret or self.env_only else "--" + self.name.replace("_", "-")

    @property
    def on_command_line(self) -> bool:
        return bool(self.flag)


class AuthFailed(Exception):
    """No credentials could be obtained; `findings` say why and what to do (no secrets inside);
    `auth_events` the token calls that were made on the way (the auth timeline)."""

    def __init__(self, findings: list[Finding], auth_events: list[AuthEvent] | None = None) -> None:
        self.findings = findings
        self.auth_events = list(auth_events or [])
        super().__init__(findings[0].message if findings else "Authentication failed")


@dataclass(eq=False)
class Credentials:
    """Resolved credentials. `headers()` is fresh on every call, so SDK refreshes apply."""

    info: AuthInfo
    header_factory: Callable[[], dict[str, str]] = field(repr=False)
    config_factory: Callable[[], Config] | None = field(default=None, repr=False)
    known_secrets: tuple[str, ...] = field(default=(), repr=False)
    refresh_token_source: Callable[[], str | None] | None = field(default=None, repr=False)
    timeout: float = field(default=DEFAULT_TIMEOUT, repr=False)
    token_log: TokenLog | None = field(default=None, repr=False)  # the auth timeline
    refresher: Callable[[Credentials], None] | None = field(default=None, repr=False)
    static: bool = False  # a bearer token that never changes (token, user): the workspace needs no SDK

    def __post_init__(self) -> None:
        self._config: Config | None = None
        self._lock = threading.Lock()

    @property
    def can_refresh(self) -> bool:
        return self.refresher is not None

    def refresh(self) -> None:
        """Force a fresh token for the next `headers()` (a 401 may mean the cached one was revoked)."""
        if self.refresher is not None:
            run_bounded(lambda: self.refresher(self), self.timeout + 2, "refreshing the token")  # type: ignore[misc]

    def use_config(self, cfg: Config) -> None:
        """Sign with `cfg` from now on (a rebuilt Config: its first call fetches a new token)."""
        with self._lock:
            self.header_factory = cfg.authenticate
            self.config_factory = lambda: cfg
            self._config = cfg

    def events_since(self, count: int) -> list[AuthEvent]:
        return self.token_log.since(count) if self.token_log is not None else []

    def events_count(self) -> int:
        return len(self.token_log) if self.token_log is not None else 0

    def headers(self) -> dict[str, str]:
        return dict(self.header_factory())

    @property
    def token(self) -> str | None:
        """The current bearer token (for decoding and snippets' env vars; never shown in full)."""
        _scheme, _, token = self.headers().get("Authorization", "").partition(" ")
        return token.strip() or None

    @property
    def config(self) -> Config | None:
        """The SDK Config for workspace API calls (built on first use, bounded); None without a host."""
        with self._lock:
            if self._config is None and self.config_factory is not None:
                self._config = run_bounded(self.config_factory, self.timeout, "connecting to the workspace")
            return self._config

    def secrets(self) -> list[str]:
        """Every secret value these credentials involve, for the redactor."""
        values = list(self.known_secrets)
        try:
            values.append(self.token or "")
            if self.refresh_token_source is not None:
                values.append(self.refresh_token_source() or "")
        except Exception:  # a failing refresh must not break redaction of what we already know
            log.debug("collecting the credentials' secrets for redaction failed", exc_info=True)
            pass
        return [v for v in values if v]


@dataclass(frozen=True)
class BrowserPrompt:
    """How the `browser` method talks to the person signing in (the CLI implements it)."""

    show_url: Callable[[str], None]
    read_redirect: Callable[[], str] | None = None  # set: paste-back mode instead of the listener
    wait_seconds: float = 300.0


Resolver = Callable[["Inputs", float, "BrowserPrompt | None"], Credentials]


@dataclass(frozen=True)
class AuthMethod:
    """One way to get credentials: what it is, its fields, and its resolver.

    Everything the presenters used to guess from the method's name is declared here:
    `interactive` (a person signs in in a browser), `forwarded` (the token comes from the platform's
    header on each request, deployed), `platform` (the server's own credentials: deployed, only this
    method may use them), `local_only` (reads this machine's files: never offered deployed),
    `snippet` (how generated code authenticates), `refreshes` (a 401 can be retried with a fresh
    token) and `detect(env)` (does this method apply here, for auto-detection).
    """

    name: str
    label: str
    description: str
    fields: tuple[Field, ...]
    resolver: Resolver = field(repr=False)
    failure_fix: str = ""
    snippet: SnippetAuth = "env-token"
    interactive: bool = False
    forwarded: bool = False
    platform: bool = False
    local_only: bool = False
    refreshes: bool = False
    implied_by: tuple[str, ...] = ()  # fields whose presence means this method (CLI auto-detection)
    detect: Callable[[Mapping[str, str]], bool] | None = field(default=None, repr=False)

    def field(self, name: str) -> Field | None:
        return next((f for f in self.fields if f.name == name), None)

    def form_fields(self) -> tuple[Field, ...]:
        """The fields a person fills in (the UI form, the CLI flags): not env-only, not forwarded."""
        return tuple(f for f in self.fields if not f.env_only and not (self.forwarded and f.secret))

    def offered(self, trust: Trust, forwarded_token: bool = False) -> bool:
        """Whether a session under `trust` may use this method at all."""
        if trust.deployed:
            return not self.local_only and (not self.forwarded or forwarded_token)
        return not self.forwarded

    def resolve(
        self,
        values: Mapping[str, Any] | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        prompt: BrowserPrompt | None = None,
        trust: Trust | None = None,
    ) -> Credentials:
        """Credentials for `values` (locally, missing ones come from each field's env var).

        Raises AuthFailed with findings; never hangs past about `timeout` seconds (the browser
        sign-in waits `prompt.wait_seconds` for the person instead).
        """
        from explorer.auth.resolve import resolve_with

        return resolve_with(self, Inputs(self, values or {}, trust or Trust()), timeout, prompt)


class Inputs:
    """Field values as given, falling back (locally) to each field's env var; remembers the source.

    Under a deployed `Trust`, nothing here reads the process environment: fallbacks come from the
    platform's identity for the `app` method and from nowhere for the others, and fields that
    would name an env var or a file are refused before anything is read.
    """

    def __init__(self, method: AuthMethod, values: Mapping[str, Any], trust: Trust) -> None:
        self.method = method
        self.trust = trust
        self._env = trust.environment(method.platform)
        cleaned = {k: str(v).strip() for k, v in values.items() if v is not None and str(v).strip()}
        for spec in method.fields:  # a pasted token wrapped by a terminal keeps no line breaks
            if spec.secret and spec.name in cleaned:
                cleaned[spec.name] = normalize_token(cleaned[spec.name])
        self._values = cleaned
        self.token_log = TokenLog()  # every token call this resolution makes, once endpoints are known
        self._refuse_server_reach()

    def _refuse_server_reach(self) -> None:
        if not self.trust.deployed:
            return
        if self.method.local_only:
            raise AuthFailed(
                [
                    auth_failed(
                        f"{self.method.label} reads this server's files, which a deployed explorer never "
                        "does for a signed-in user",
                        "Use the browser sign-in, a pasted token, or this app's service principal (app).",
                    )
                ]
            )
        for spec in self.method.fields:
            if spec.reaches and self._values.get(spec.name):
                what = "environment variables" if spec.reaches == "env" else "files"
                raise AuthFailed(
                    [
                        auth_failed(
                            f"{spec.label}: a deployed explorer never reads the server's {what} for a "
                            "signed-in user",
                            "Paste the value itself instead.",
                        )
                    ]
                )

    def given(self, name: str) -> str | None:
        """The value typed in, without any fallback."""
        return self._values.get(name)

    def get(self, name: str) -> str | None:
        spec = self.method.field(name)
        if spec is None or not spec.env_only:
            given = self._values.get(name)
            if given:
                return given
        env_var = spec.env_var if spec else None
        value = (self._env.get(env_var) or "").strip() if env_var else ""
        if value and spec is not None and spec.secret:
            value = normalize_token(value)
        return value or None

    def source(self, name: str) -> str:
        spec = self.method.field(name)
        if self._values.get(name) and not (spec and spec.env_only):
            return "given directly"
        return f"from ${spec.env_var}" if spec and spec.env_var else "default"

    def require(self, name: str) -> str:
        value = self.get(name)
        if value:
            return value
        spec = self.method.field(name)
        label = spec.label if spec else name
        if spec is not None and (self.trust.deployed and not self.method.platform):
            where = "fill it in"
        else:
            where = f"set ${spec.env_var}" if spec and spec.env_var else "fill it in"
        flag = f" or pass {spec.flag}" if spec and spec.on_command_line and not self.trust.deployed else ""
        raise AuthFailed(
            [
                auth_failed(
                    f"{self.method.label} needs {label}", f"{where[0].upper()}{where[1:]}{flag}.", field=name
                )
            ]
        )

    def host(self, required: bool = True) -> str | None:
        """The workspace host, normalised and checked against the allowlist before anyone contacts it."""
        value = self.require("host") if required else self.get("host")
        if not value:
            return None
        try:
            host = normalize_host(value)
        except InputError as error:
            fix = "Correct the value; a workspace URL looks like https://<workspace>.cloud.databricks.com."
            raise AuthFailed([auth_failed(str(error), fix, field="host")]) from None
        self.check(host, "the workspace")
        return host

    def check(self, url: str, what: str) -> None:
        """AuthFailed(HOST_NOT_ALLOWED) unless the trust allows contacting `url`."""
        refused = self.trust.refusal(url, what)
        if refused is not None:
            raise AuthFailed([refused])

    def scopes(self) -> list[str]:
        try:
            return parse_scopes(self.get("scopes"))
        except InputError as error:
            fix = "Separate scopes with spaces, e.g. all-apis sql."
            raise AuthFailed([auth_failed(str(error), fix, field="scopes")]) from None

    def token_from_env_var(self) -> tuple[str | None, str]:
        """(token, "$VAR") from the env var named by the `token_env` field (locally only)."""
        var = self._values.get("token_env")
        if not var or self.trust.deployed:
            return None, ""
        return normalize_token((self._env.get(var) or "").strip()) or None, f"from ${var}"

    def env(self, name: str) -> str | None:
        """A variable of the environment this resolution may read (none deployed, but `app`'s)."""
        return (self._env.get(name) or "").strip() or None

    def method_values(self) -> dict[str, str]:
        """The values as given (no env fallback), to hand to a helper that re-reads them."""
        return dict(self._values)

    def secret_values(self) -> list[str]:
        values = [self.get(f.name) for f in self.method.fields if f.secret]
        values.append(self.token_from_env_var()[0])
        return [v for v in values if v]

"""Auth methods: one declarative registry; each resolves to request headers plus their source.

Each `AuthMethod` names its fields (secrets marked, each with its env var): the UI form, the CLI
flags and the redaction list all derive from that one declaration. `resolve(values)` goes
through databricks-sdk wherever the SDK supports the flow, bounds every wait (an unreachable
workspace fails within about `timeout` seconds, not the SDK's 300) and turns every failure into
`AuthFailed(findings)` whose messages hold no secret.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import requests

from explorer.diagnose import auth_failed, finding_for_error, is_network_error, proxy_findings
from explorer.model import AuthInfo, Finding
from explorer.parse import InputError, normalize_host, parse_scopes
from explorer.redact import Redactor
from explorer.tokens import decode_token

if TYPE_CHECKING:  # the SDK (~0.8 s to import) loads on first use, so the UI starts without it
    from databricks.sdk.config import Config

    from explorer import oauth

DEFAULT_TIMEOUT = 10.0
DEFAULT_CONFIG_FILE = "~/.databrickscfg"
T = TypeVar("T")


@dataclass(frozen=True)
class Field:
    """One input an auth method needs. `secret` values are masked everywhere and never logged."""

    name: str
    label: str
    secret: bool = False
    required: bool = False
    env_var: str | None = None
    help: str = ""
    env_only: bool = False  # read from the environment only (never from a form or a flag)


class AuthFailed(Exception):
    """No credentials could be obtained; `findings` say why and what to do (no secrets inside)."""

    def __init__(self, findings: list[Finding]) -> None:
        self.findings = findings
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

    def __post_init__(self) -> None:
        self._config: Config | None = None
        self._lock = threading.Lock()

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
    """One way to get credentials: its fields and its resolver."""

    name: str
    label: str
    description: str
    fields: tuple[Field, ...]
    resolver: Resolver = field(repr=False)
    failure_fix: str = ""

    def field(self, name: str) -> Field | None:
        return next((f for f in self.fields if f.name == name), None)

    def resolve(
        self,
        values: Mapping[str, Any] | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        prompt: BrowserPrompt | None = None,
    ) -> Credentials:
        """Credentials for `values` (missing ones come from each field's env var).

        Raises AuthFailed with findings; never hangs past about `timeout` seconds (the browser
        sign-in waits `prompt.wait_seconds` for the person instead).
        """
        from explorer import oauth  # imports the SDK: on first use, not at start-up

        inputs = Inputs(self, values or {})
        redactor = Redactor(inputs.secret_values())
        try:
            credentials = self.resolver(inputs, timeout, prompt)
            token = run_bounded(lambda: credentials.token, timeout, "getting a token")
        except AuthFailed:
            raise
        except InputError as error:
            fix = "Correct the value; a workspace URL looks like https://<workspace>.cloud.databricks.com."
            raise AuthFailed([auth_failed(redactor.scrub(str(error)), fix)]) from None
        except oauth.SignInError as error:
            raise AuthFailed([auth_failed(redactor.scrub(str(error)), self.failure_fix)]) from None
        except Exception as error:
            raise AuthFailed(self.failure_findings(error, inputs.get("host"), timeout, redactor)) from None
        if credentials.info.identity is None and token:
            credentials.info.identity = decode_token(token).subject
        return credentials

    def failure_findings(
        self, error: BaseException, host: str | None, timeout: float, redactor: Redactor | None = None
    ) -> list[Finding]:
        """Findings for an unexpected error while resolving: NETWORK_* / TIMEOUT, else AUTH_FAILED."""
        target = host or "the workspace"
        if is_network_error(error):
            return [finding_for_error(error, target, timeout), *proxy_findings(target)]
        message = (redactor or Redactor()).scrub(_sdk_message(error))
        return [auth_failed(f"{self.label}: could not get a token: {message}", self.failure_fix)]


class Inputs:
    """Field values as given, falling back to each field's env var; remembers where each came from."""

    def __init__(self, method: AuthMethod, values: Mapping[str, Any]) -> None:
        self.method = method
        self._values = {k: str(v).strip() for k, v in values.items() if v is not None and str(v).strip()}

    def get(self, name: str) -> str | None:
        spec = self.method.field(name)
        if spec is None or not spec.env_only:
            given = self._values.get(name)
            if given:
                return given
        env_var = spec.env_var if spec else None
        return (os.environ.get(env_var) or "").strip() or None if env_var else None

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
        where = f"set ${spec.env_var}" if spec and spec.env_var else "fill it in"
        flag = (
            f" or pass --{name.replace('_', '-')}" if spec and not spec.env_only and not spec.secret else ""
        )
        raise AuthFailed(
            [auth_failed(f"{self.method.label} needs {label}", f"{where[0].upper()}{where[1:]}{flag}.")]
        )

    def host(self, required: bool = True) -> str | None:
        value = self.require("host") if required else self.get("host")
        return normalize_host(value) if value else None

    def scopes(self) -> list[str]:
        return parse_scopes(self.get("scopes"))

    def token_from_env_var(self) -> tuple[str | None, str]:
        """(token, "$VAR") from the env var named by the `token_env` field."""
        var = self._values.get("token_env")
        if not var:
            return None, ""
        return (os.environ.get(var) or "").strip() or None, f"from ${var}"

    def method_values(self) -> dict[str, str]:
        """The values as given (no env fallback), to hand to a helper that re-reads them."""
        return dict(self._values)

    def secret_values(self) -> list[str]:
        values = [self.get(f.name) for f in self.method.fields if f.secret]
        values.append(self.token_from_env_var()[0])
        return [v for v in values if v]


# --- bounded waits ----------------------------------------------------------------------------


def run_bounded(fn: Callable[[], T], timeout: float, what: str) -> T:
    """`fn()` in a daemon thread, waiting at most `timeout` s.

    Why: parts of the SDK (OIDC discovery, token requests) use HTTP clients whose waits we
    cannot configure; a daemon thread left behind never blocks the program's exit.
    """
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = fn()
        except BaseException as error:
            outcome["error"] = error

    thread = threading.Thread(target=target, name=f"bounded: {what}", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        raise TimeoutError(f"{what} did not finish within {timeout:g} s")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def sdk_bounds(timeout: float) -> dict[str, Any]:
    """Config kwargs that cap the SDK's retry budget and per-request timeout."""
    return {"retry_timeout_seconds": max(1, int(timeout)), "http_timeout_seconds": timeout}


def probe_workspace(host: str, timeout: float) -> None:
    """Fail fast with a NETWORK_* finding when the workspace cannot be reached at all."""
    try:
        requests.get(
            f"{host}/.well-known/databricks-config", timeout=(timeout, timeout), allow_redirects=False
        )
    except requests.RequestException as error:
        raise AuthFailed([finding_for_error(error, host, timeout), *proxy_findings(host)]) from None


def _bounded_config(timeout: float, **kwargs: Any) -> Config:
    from databricks.sdk.config import Config

    return run_bounded(
        lambda: Config(**kwargs, **sdk_bounds(timeout)), timeout + 2, "connecting to the workspace"
    )


def _sdk_message(error: BaseException) -> str:
    """The SDK's error text without its debug tail (which lists config attributes)."""
    text = str(error) or type(error).__name__
    for marker in (". Config:", ". Env:"):
        text = text.split(marker)[0]
    return text if len(text) <= 400 else text[:399] + "…"


def _from_config(cfg: Config, info: AuthInfo, inputs: Inputs, timeout: float) -> Credentials:
    return Credentials(
        info=info,
        header_factory=cfg.authenticate,
        config_factory=lambda: cfg,
        known_secrets=tuple(inputs.secret_values()),
        timeout=timeout,
    )


# --- the resolvers ----------------------------------------------------------------------------


def _resolve_profile(inputs: Inputs, timeout: float, _prompt: BrowserPrompt | None) -> Credentials:
    from explorer.profiles import ProfileError, list_profiles

    name = inputs.get("profile") or "DEFAULT"
    path = inputs.get("config_file") or DEFAULT_CONFIG_FILE
    try:
        profiles = list_profiles(os.path.expanduser(path))
    except ProfileError as error:
        raise AuthFailed(
            [auth_failed(str(error), f"Fix or recreate {path} (`databricks auth login`).")]
        ) from None
    profile = next((p for p in profiles if p.name == name), None)
    if profile is None:
        names = ", ".join(p.name for p in profiles) or "none"
        raise AuthFailed(
            [
                auth_failed(
                    f"No profile [{name}] in {path} (profiles there: {names})",
                    f"Run `databricks auth login --host <workspace-url> --profile {name}`, or pick one of "
                    "the listed profiles (--profile).",
                )
            ]
        )
    if profile.auth_type == "databricks-cli" and not databricks_cli_available():
        raise AuthFailed([_cli_missing(name, profile.host)])
    if profile.host:
        probe_workspace(normalize_host(profile.host), timeout)
    cfg = _bounded_config(timeout, profile=name, config_file=os.path.expanduser(path))
    source = f"profile [{name}] in {path} (auth type {cfg.auth_type})"
    return _from_config(
        cfg, AuthInfo("profile", source, host=cfg.host, details={"profile": name}), inputs, timeout
    )


def databricks_cli_available() -> bool:
    """True when the SDK will find a Databricks CLI to run (DATABRICKS_CLI_PATH or PATH)."""
    configured = os.environ.get("DATABRICKS_CLI_PATH")
    if configured and os.sep in configured:
        return os.access(configured, os.X_OK)
    return shutil.which(configured or "databricks") is not None


def _cli_missing(profile: str, host: str | None) -> Finding:
    return auth_failed(
        f"Profile [{profile}] uses the Databricks CLI (auth_type = databricks-cli), but no `databricks` "
        "CLI was found on PATH",
        f"Use `browser` instead: `--auth browser --host {host or '<workspace-url>'}` (same sign-in, "
        "no CLI needed), or install the Databricks CLI and run "
        f"`databricks auth login --profile {profile}`.",
    )


def _resolve_m2m(inputs: Inputs, timeout: float, _prompt: BrowserPrompt | None) -> Credentials:
    host = inputs.host()
    assert host is not None
    client_id, secret = inputs.require("client_id"), inputs.require("client_secret")
    source = f"service principal {client_id} (client secret {inputs.source('client_secret')})"
    return _service_principal("m2m", host, client_id, secret, inputs, source, timeout)


def _resolve_app(inputs: Inputs, timeout: float, _prompt: BrowserPrompt | None) -> Credentials:
    if not (inputs.get("client_id") and inputs.get("client_secret") and inputs.get("host")):
        raise AuthFailed(
            [
                auth_failed(
                    "Not running as a Databricks App: DATABRICKS_HOST, DATABRICKS_CLIENT_ID and "
                    "DATABRICKS_CLIENT_SECRET are not all set",
                    "The Apps platform sets them for a deployed app; on a laptop use `--auth m2m` with a "
                    "service principal's client id and secret.",
                )
            ]
        )
    host = inputs.host()
    assert host is not None
    client_id = inputs.require("client_id")
    source = f"this app's service principal {client_id} (DATABRICKS_CLIENT_ID/SECRET from the platform)"
    return _service_principal(
        "app", host, client_id, inputs.require("client_secret"), inputs, source, timeout
    )


def _service_principal(
    method: str, host: str, client_id: str, secret: str, inputs: Inputs, source: str, timeout: float
) -> Credentials:
    scopes = inputs.scopes() or None
    probe_workspace(host, timeout)
    # One Config per connection: the SDK caches the token, so many sends make one token request.
    cfg = _bounded_config(
        timeout, host=host, client_id=client_id, client_secret=secret, scopes=scopes, auth_type="oauth-m2m"
    )
    details = {"client_id": client_id, "scopes": " ".join(scopes or ["all-apis"])}
    info = AuthInfo(method, source, host=host, identity=client_id, details=details)
    return _from_config(cfg, info, inputs, timeout)


def _resolve_token(inputs: Inputs, timeout: float, _prompt: BrowserPrompt | None) -> Credentials:
    token, source = inputs.get("token"), "given directly"
    if not token:
        token, source = inputs.token_from_env_var()
    if not token and os.environ.get("DATABRICKS_TOKEN"):
        token, source = os.environ["DATABRICKS_TOKEN"].strip(), "from $DATABRICKS_TOKEN"
    if not token:
        raise AuthFailed([_no_token()])
    return _bearer("token", token, source, inputs.host(required=False), inputs, timeout)


def _resolve_user(inputs: Inputs, timeout: float, _prompt: BrowserPrompt | None) -> Credentials:
    token = inputs.get("token")
    if not token:
        raise AuthFailed(
            [
                Finding(
                    "TOKEN_MISSING",
                    "error",
                    "No signed-in user token: the platform did not forward X-Forwarded-Access-Token",
                    "Enable user authorization for this app (Databricks UI → Compute → Apps → <app> → "
                    "Edit → User authorization) and add the scopes it needs; or use the `app` method.",
                )
            ]
        )
    source = "the signed-in user's token (X-Forwarded-Access-Token)"
    return _bearer("user", token, source, inputs.host(required=False), inputs, timeout)


def _no_token() -> Finding:
    return Finding(
        "TOKEN_MISSING",
        "error",
        "No token given",
        "Put the token in an environment variable and pass its name: `--token-env MY_TOKEN` (tokens "
        "are never read from the command line); `databricks auth token --profile <p>` prints one.",
    )


def _bearer(
    method: str, token: str, source: str, host: str | None, inputs: Inputs, timeout: float
) -> Credentials:
    """Static bearer credentials; the workspace host comes from the token's issuer when not given."""
    info = decode_token(token)
    host = host or (normalize_host(info.workspace_host) if info.workspace_host else None)
    if host is None and os.environ.get("DATABRICKS_HOST"):
        host = normalize_host(os.environ["DATABRICKS_HOST"])
    kind = {"pat": "personal access token", "oauth": "OAuth token"}.get(info.kind, f"{info.kind} token")
    described = f"{kind} {info.masked} ({source})"
    headers = {"Authorization": f"Bearer {token}"}

    def config() -> Config:
        from databricks.sdk.config import Config

        return Config(host=host, token=token, auth_type="pat", **sdk_bounds(timeout))

    return Credentials(
        info=AuthInfo(method, described, host=host, identity=info.subject),
        header_factory=lambda: headers,
        config_factory=config if host else None,
        known_secrets=(token, *inputs.secret_values()),
        timeout=timeout,
    )


def _resolve_federated(inputs: Inputs, timeout: float, _prompt: BrowserPrompt | None) -> Credentials:
    from explorer import oauth

    host = inputs.host()
    assert host is not None
    subject, source = _subject_token(inputs)
    client_id, scopes = inputs.get("client_id"), inputs.scopes() or None
    probe_workspace(host, timeout)
    cfg = _bounded_config(
        timeout,
        host=host,
        client_id=client_id,
        scopes=scopes,
        auth_type="federated",
        credentials_strategy=oauth.federation_strategy(subject),
    )
    issuer = decode_token(subject).issuer or "an external identity provider"
    who = f" for service principal {client_id}" if client_id else " (account-wide federation policy)"
    info = AuthInfo("federated", f"token from {issuer} ({source}) exchanged{who}", host=host)
    credentials = _from_config(cfg, info, inputs, timeout)
    credentials.known_secrets = (subject, *credentials.known_secrets)
    return credentials


def _subject_token(inputs: Inputs) -> tuple[str, str]:
    token = inputs.get("subject_token")
    if token:
        return token, "given directly"
    path = inputs.get("subject_token_file")
    if path:
        try:
            with open(os.path.expanduser(path), encoding="utf-8") as handle:
                token = handle.read().strip()
        except OSError as error:
            raise AuthFailed(
                [
                    auth_failed(
                        f"Cannot read the subject token file {path}: {error.strerror}", "Check the path."
                    )
                ]
            ) from None
        if token:
            return token, f"from file {path}"
    token, source = inputs.token_from_env_var()
    if token:
        return token, source
    raise AuthFailed(
        [
            auth_failed(
                "Federation needs the external IdP's token (the subject token)",
                "Pass --subject-token-file FILE or --token-env VAR holding the IdP's JWT (e.g. an Entra ID "
                "token from `az account get-access-token`).",
            )
        ]
    )


def _resolve_browser(inputs: Inputs, timeout: float, prompt: BrowserPrompt | None) -> Credentials:
    if prompt is None:
        raise AuthFailed(
            [
                auth_failed(
                    "Browser sign-in needs someone to open the sign-in page",
                    "Start it from the UI's Sign in button, or the CLI with `--auth browser`.",
                )
            ]
        )
    login = start_browser_login(inputs.method_values(), timeout, listen=prompt.read_redirect is None)
    try:
        prompt.show_url(login.begin())
        if prompt.read_redirect is not None:
            session = login.complete(prompt.read_redirect())
        else:
            session = login.wait(prompt.wait_seconds)
    finally:
        login.close()
    return browser_credentials(login, session, timeout)


def start_browser_login(values: Mapping[str, Any], timeout: float, *, listen: bool) -> oauth.BrowserLogin:
    """A PKCE sign-in for the `browser` method's field values; the caller calls `.begin()`.

    Raises AuthFailed (bad input, unreachable workspace) or oauth.SignInError (cannot listen).
    """
    from databricks.sdk.config import Config

    from explorer import oauth

    method = METHODS["browser"]
    inputs = Inputs(method, values)
    try:
        host = inputs.host()
        port = int(inputs.get("port") or oauth.DEFAULT_PORT)
    except (InputError, ValueError) as error:
        raise AuthFailed(
            [auth_failed(f"Browser sign-in: {error}", "Check the workspace URL and the port.")]
        ) from None
    scopes, client_id, hint = inputs.scopes(), inputs.get("client_id"), inputs.get("login_hint")

    def make() -> oauth.BrowserLogin:
        cfg = Config(
            host=host, credentials_strategy=oauth.NO_CREDENTIALS, auth_type="none", **sdk_bounds(timeout)
        )
        return oauth.BrowserLogin(
            cfg,
            scopes=scopes,
            client_id=client_id or oauth.DEFAULT_CLIENT_ID,
            port=port,
            login_hint=hint,
            listen=listen,
        )

    assert host is not None
    probe_workspace(host, timeout)
    try:
        return run_bounded(make, timeout + 2, "discovering the workspace's sign-in endpoints")
    except oauth.SignInError:
        raise
    except Exception as error:
        raise AuthFailed(method.failure_findings(error, host, timeout)) from None


def browser_credentials(login: oauth.BrowserLogin, session: Any, timeout: float) -> Credentials:
    """Credentials from a completed sign-in; the SDK refreshes the token with the refresh token."""
    from explorer import oauth

    strategy = oauth.session_strategy(session)
    try:
        cfg = _bounded_config(timeout, host=login.host, credentials_strategy=strategy, auth_type="oauth-u2m")
    except Exception as error:
        raise AuthFailed(METHODS["browser"].failure_findings(error, login.host, timeout)) from None
    scopes = " ".join(login.scopes)
    info = AuthInfo(
        "browser", f"browser sign-in (PKCE) as client {login.client_id}, scopes {scopes}", host=cfg.host
    )
    info.details = {"scopes": scopes, "client_id": login.client_id}
    token = decode_token(session.token().access_token)
    info.identity = token.subject
    return Credentials(
        info=info,
        header_factory=lambda: {"Authorization": f"Bearer {session.token().access_token}"},
        config_factory=lambda: cfg,
        refresh_token_source=lambda: session.token().refresh_token,
        timeout=timeout,
    )


# --- the registry -----------------------------------------------------------------------------

HOST = Field(
    "host", "Workspace URL", env_var="DATABRICKS_HOST", help="https://<workspace>.cloud.databricks.com"
)
SCOPES = Field("scopes", "Scopes", help="space-separated, e.g. all-apis sql (default all-apis)")
TOKEN_ENV = Field("token_env", "Token env var", help="name of an environment variable holding the token")

METHODS: dict[str, AuthMethod] = {
    m.name: m
    for m in (
        AuthMethod(
            "profile",
            "Profile",
            "A ~/.databrickscfg profile, through the SDK (runs the Databricks CLI for databricks-cli profiles)",
            (
                Field("profile", "Profile", env_var="DATABRICKS_CONFIG_PROFILE", help="e.g. DEFAULT"),
                Field(
                    "config_file", "Config file", env_var="DATABRICKS_CONFIG_FILE", help=DEFAULT_CONFIG_FILE
                ),
            ),
            _resolve_profile,
            "Check the profile with `databricks auth describe --profile <p>`; re-run `databricks auth login "
            "--profile <p>` if its login expired.",
        ),
        AuthMethod(
            "m2m",
            "Service principal (M2M)",
            "A service principal's OAuth client id and secret (client credentials)",
            (
                Field(**{**HOST.__dict__, "required": True}),
                Field("client_id", "Client id", required=True, env_var="DATABRICKS_CLIENT_ID"),
                Field(
                    "client_secret",
                    "Client secret",
                    secret=True,
                    required=True,
                    env_var="DATABRICKS_CLIENT_SECRET",
                ),
                SCOPES,
            ),
            _resolve_m2m,
            "Check DATABRICKS_CLIENT_ID/SECRET: the secret must belong to that service principal and not be "
            "expired (workspace settings → Identity and access → Service principals → Secrets).",
        ),
        AuthMethod(
            "app",
            "This app's service principal",
            "The credentials the Apps platform injects into a deployed app",
            (
                Field("host", "Workspace URL", env_var="DATABRICKS_HOST", env_only=True),
                Field("client_id", "Client id", env_var="DATABRICKS_CLIENT_ID", env_only=True),
                Field(
                    "client_secret",
                    "Client secret",
                    secret=True,
                    env_var="DATABRICKS_CLIENT_SECRET",
                    env_only=True,
                ),
                SCOPES,
            ),
            _resolve_app,
            "Check the app's service principal still exists and has a valid secret (redeploy the app).",
        ),
        AuthMethod(
            "user",
            "Signed-in user (on behalf of)",
            "The signed-in user's token forwarded by the Apps platform (X-Forwarded-Access-Token)",
            (
                Field("token", "Forwarded user token", secret=True),
                Field("host", "Workspace URL", env_var="DATABRICKS_HOST", env_only=True),
            ),
            _resolve_user,
            "Reload the page so the platform forwards a fresh token.",
        ),
        AuthMethod(
            "browser",
            "Browser sign-in (U2M, custom scopes)",
            "Authorization code + PKCE in a browser, with the scopes you choose",
            (
                Field(**{**HOST.__dict__, "required": True}),
                SCOPES,
                # The defaults of oauth.py, spelled out: importing it here would load the SDK at start-up.
                Field("client_id", "OAuth client id", help="default databricks-cli"),
                Field("port", "Callback port", help="local listener port, default 8020"),
                Field("login_hint", "Account email", help="optional: preselects the account to sign in with"),
            ),
            _resolve_browser,
            "Sign in again; check the workspace URL and that the OAuth client allows the redirect URL.",
        ),
        AuthMethod(
            "token",
            "Bearer token",
            "A token you paste (or read from an env var); the workspace is taken from its issuer",
            (Field("token", "Token", secret=True), TOKEN_ENV, Field("host", "Workspace URL (optional)")),
            _resolve_token,
            "Paste a fresh OAuth token: `databricks auth token --profile <p>` prints one.",
        ),
        AuthMethod(
            "federated",
            "Token federation (exchange an IdP token)",
            "Exchange an external IdP's JWT (e.g. Entra ID) for a Databricks token (RFC 8693)",
            (
                Field(**{**HOST.__dict__, "required": True}),
                Field("subject_token", "IdP token", secret=True),
                Field("subject_token_file", "IdP token file"),
                TOKEN_ENV,
                Field(
                    "client_id", "Service principal application id", help="for workload identity federation"
                ),
                SCOPES,
            ),
            _resolve_federated,
            "Check the workspace's federation policy trusts the token's issuer and audience, and that the "
            "service principal (--client-id) has a federation policy for its subject.",
        ),
    )
}


def secret_env_vars() -> list[str]:
    """Env vars whose values are secrets in some method (for the redactor)."""
    return sorted({f.env_var for m in METHODS.values() for f in m.fields if f.secret and f.env_var})

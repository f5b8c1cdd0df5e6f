"""The auth-method registry: every method declared once, in the order people pick them.

The UI form, the CLI flags, snippet auth, redaction and auto-detection all derive from these
declarations. `DETECTION_ORDER` is the chain `choose_method` walks, like the SDK's default
credentials: first a method whose own fields were given, then one the environment offers.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, replace

from explorer.auth.base import AuthMethod, Field
from explorer.auth.bearer import resolve_token, resolve_user
from explorer.auth.browser import resolve_browser
from explorer.auth.federated import resolve_federated
from explorer.auth.profile import DEFAULT_CONFIG_FILE, resolve_profile
from explorer.auth.service_principal import resolve_app, resolve_m2m
from explorer.model import AuthEvent, Finding

HOST = Field(
    "host",
    "Workspace URL",
    env_var="DATABRICKS_HOST",
    help="https://<name>.cloud.databricks.com",
    required=True,
    cli_help="workspace URL",
)
SCOPES = Field(
    "scopes",
    "Scopes",
    help="space-separated, e.g. all-apis sql (default all-apis)",
    cli_help='OAuth scopes, e.g. "all-apis sql"',
)
TOKEN_ENV = Field(
    "token_env",
    "Token env var",
    help="env var holding the token",
    reaches="env",
    cli_help="env var holding the token (auth token/federated)",
)
CLIENT_ID = Field(
    "client_id",
    "Client id",
    required=True,
    env_var="DATABRICKS_CLIENT_ID",
    cli_help="service principal / OAuth client id",
)
CLIENT_SECRET = Field(
    "client_secret",
    "Client secret",
    secret=True,
    required=True,
    env_var="DATABRICKS_CLIENT_SECRET",
    cli="--client-secret",
    cli_help="discouraged: prefer DATABRICKS_CLIENT_SECRET",
)


def _platform_app(env: Mapping[str, str]) -> bool:
    return bool(env.get("DATABRICKS_APP_NAME") and env.get("DATABRICKS_CLIENT_ID"))


def _service_principal_env(env: Mapping[str, str]) -> bool:
    return bool(env.get("DATABRICKS_CLIENT_ID") and env.get("DATABRICKS_CLIENT_SECRET"))


METHODS: dict[str, AuthMethod] = {
    m.name: m
    for m in (
        AuthMethod(
            "profile",
            "Profile",
            "A ~/.databrickscfg profile, through the SDK (runs the Databricks CLI for databricks-cli profiles)",
            (
                Field(
                    "profile",
                    "Profile",
                    env_var="DATABRICKS_CONFIG_PROFILE",
                    help="e.g. DEFAULT",
                    cli_help="~/.databrickscfg profile (auth profile)",
                ),
                Field(
                    "config_file",
                    "Config file",
                    env_var="DATABRICKS_CONFIG_FILE",
                    help=DEFAULT_CONFIG_FILE,
                    reaches="file",
                    cli="",
                ),
            ),
            resolve_profile,
            "Check the profile with `databricks auth describe --profile <p>`; re-run `databricks auth login "
            "--profile <p>` if its login expired.",
            snippet="profile",
            local_only=True,
            refreshes=True,
            implied_by=("profile",),
        ),
        AuthMethod(
            "m2m",
            "Service principal (M2M)",
            "A service principal's OAuth client id and secret (client credentials)",
            (HOST, CLIENT_ID, CLIENT_SECRET, SCOPES),
            resolve_m2m,
            "Check DATABRICKS_CLIENT_ID/SECRET: the secret must belong to that service principal and not be "
            "expired (workspace settings → Identity and access → Service principals → Secrets).",
            snippet="m2m",
            refreshes=True,
            implied_by=("client_id", "client_secret"),
            detect=_service_principal_env,
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
            resolve_app,
            "Check the app's service principal still exists and has a valid secret (redeploy the app).",
            snippet="m2m",
            platform=True,
            refreshes=True,
            detect=_platform_app,
        ),
        AuthMethod(
            "user",
            "Signed-in user (on behalf of)",
            "The signed-in user's token forwarded by the Apps platform (X-Forwarded-Access-Token)",
            (
                Field("token", "Forwarded user token", secret=True),
                Field("host", "Workspace URL", env_var="DATABRICKS_HOST", env_only=True),
            ),
            resolve_user,
            "Reload the page so the platform forwards a fresh token.",
            forwarded=True,
        ),
        AuthMethod(
            "browser",
            "Browser sign-in (U2M, custom scopes)",
            "Authorization code + PKCE in a browser, with the scopes you choose",
            (
                HOST,
                SCOPES,
                # The defaults of oauth.py, spelled out: importing it here would load the SDK at start-up.
                Field("client_id", "OAuth client id", help="default databricks-cli"),
                Field(
                    "port",
                    "Callback port",
                    help="local listener port, default 8020",
                    cli="--browser-port",
                    cli_help="local sign-in callback port (default 8020; 0 = any)",
                ),
                Field(
                    "login_hint",
                    "Account email",
                    help="preselects the account at sign-in",
                    cli_help="account to preselect at sign-in",
                ),
            ),
            resolve_browser,
            "Sign in again; check the workspace URL and that the OAuth client allows the redirect URL.",
            interactive=True,
            refreshes=True,
        ),
        AuthMethod(
            "token",
            "Bearer token",
            "A token you paste (or read from an env var); the workspace is taken from its issuer",
            (
                Field("token", "Token", secret=True, env_var="DATABRICKS_TOKEN"),
                TOKEN_ENV,
                Field("host", "Workspace URL", help="default: the token's issuer"),
            ),
            resolve_token,
            "Paste a fresh OAuth token: `databricks auth token --profile <p>` prints one.",
            implied_by=("token_env",),
        ),
        AuthMethod(
            "federated",
            "Token federation (exchange an IdP token)",
            "Exchange an external IdP's JWT (e.g. Entra ID) for a Databricks token (RFC 8693)",
            (
                HOST,
                Field("subject_token", "IdP token", secret=True),
                Field(
                    "subject_token_file",
                    "IdP token file",
                    reaches="file",
                    cli_help="IdP token to exchange (auth federated)",
                ),
                TOKEN_ENV,
                Field(
                    "client_id",
                    "Service principal application id",
                    help="for workload identity federation",
                ),
                SCOPES,
            ),
            resolve_federated,
            "Check the workspace's federation policy trusts the token's issuer and audience, and that the "
            "service principal (--client-id) has a federation policy for its subject.",
            implied_by=("subject_token_file",),
        ),
    )
}

DETECTION_ORDER = ("token", "federated", "app", "m2m", "profile")


def choose_method(given: Mapping[str, object], env: Mapping[str, str]) -> str | None:
    """The method the given field values imply, else the one the environment offers, else None."""
    chain = [METHODS[name] for name in DETECTION_ORDER]
    for method in chain:
        if any(given.get(name) for name in method.implied_by):
            return method.name
    for method in chain:
        if method.detect is not None and method.detect(env):
            return method.name
    return None


def secret_env_vars() -> list[str]:
    """Env vars whose values are secrets in some method (for the redactor)."""
    return sorted({f.env_var for m in METHODS.values() for f in m.fields if f.secret and f.env_var})


def cli_fields() -> dict[str, Field]:
    """Every field with a CLI flag, by name (first declaration wins: methods share `host`, `scopes`…)."""
    fields: dict[str, Field] = {}
    for method in METHODS.values():
        for f in method.fields:
            if f.on_command_line:
                fields.setdefault(f.name, f)
    return fields


# --- which field a failed Connect is about ------------------------------------------------------


@dataclass(frozen=True)
class Blame:
    """Findings with one of `codes` (and, when set, a token call answered `oauth_error`; for
    `methods` only) are about the first of `fields` that was filled in, else the first on the form."""

    fields: tuple[str, ...]
    codes: tuple[str, ...] = ("AUTH_FAILED",)
    oauth_error: str | None = None
    methods: tuple[str, ...] | None = None


_UNREACHABLE = (
    "NETWORK_DNS",
    "NETWORK_CONNECT",
    "NETWORK_TLS",
    "NETWORK_PROXY",
    "TIMEOUT",
    "HOST_NOT_ALLOWED",
)
_TOKEN_CODES = ("TOKEN_INVALID", "TOKEN_NOT_OAUTH", "TOKEN_EXPIRED", "TOKEN_NEEDS_EXCHANGE", "TOKEN_MISSING")
# First match wins. A resolver that knows the field sets `Finding.field` itself (a missing value,
# a malformed workspace URL): those are kept as they are.
FIELD_AT_FAULT: tuple[Blame, ...] = (
    Blame(("host", "token"), _UNREACHABLE, methods=("token",)),
    Blame(("profile",), _UNREACHABLE, methods=("profile",)),
    Blame(("host",), (*_UNREACHABLE, "WORKSPACE_UNKNOWN")),
    Blame(("scopes",), oauth_error="invalid_scope"),
    # The token endpoint says invalid_client for a wrong id and a wrong secret alike: the secret is
    # the usual culprit (expired, or another principal's); the message says "client id or secret".
    Blame(("client_secret",), oauth_error="invalid_client", methods=("m2m",)),
    Blame(("client_id",), oauth_error="invalid_client", methods=("federated",)),
    Blame(
        ("subject_token", "subject_token_file", "token_env"),
        oauth_error="invalid_grant",
        methods=("federated",),
    ),
    Blame(("token", "token_env"), (*_TOKEN_CODES, "AUTH_FAILED"), methods=("token",)),
    Blame(("profile",), methods=("profile",)),
)


def blame_fields(
    method: str, findings: Iterable[Finding], events: Iterable[AuthEvent] = (), filled: Collection[str] = ()
) -> list[Finding]:
    """`findings` with `field` set where FIELD_AT_FAULT (or the resolver) names the form field at fault.

    Only fields the method's form shows are named; `filled`: the fields the user filled in."""
    spec = METHODS.get(method)
    on_form = [f.name for f in spec.form_fields()] if spec is not None else []
    errors = {e.error for e in events if e.error}
    blamed = []
    for finding in findings:
        name = finding.field if finding.field in on_form else None
        for rule in FIELD_AT_FAULT if name is None else ():
            if (
                finding.code in rule.codes
                and (rule.methods is None or method in rule.methods)
                and (rule.oauth_error is None or rule.oauth_error in errors)
            ):
                candidates = [f for f in rule.fields if f in on_form]
                name = next((f for f in candidates if f in filled), candidates[0] if candidates else None)
                if name is not None:
                    break
        blamed.append(finding if name == finding.field else replace(finding, field=name))
    return blamed

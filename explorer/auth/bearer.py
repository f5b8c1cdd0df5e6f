"""Static bearer tokens: `token` (pasted, or from an env var locally) and `user` (forwarded).

The workspace host comes from the token's issuer when not given; like any host, it is checked
against the allowlist before the workspace is asked anything with the token.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from explorer.auth.base import AuthFailed, BrowserPrompt, Credentials, Inputs
from explorer.auth.sdk import new_config
from explorer.model import AuthInfo, Finding
from explorer.parse import normalize_host
from explorer.tokens import decode_token

if TYPE_CHECKING:
    from databricks.sdk.config import Config


def resolve_token(inputs: Inputs, timeout: float, _prompt: BrowserPrompt | None) -> Credentials:
    token, source = inputs.given("token"), "given directly"
    if not token:
        token, source = inputs.token_from_env_var()
    if not token:
        token, source = inputs.get("token"), inputs.source("token")  # $DATABRICKS_TOKEN, locally
    if not token:
        raise AuthFailed([_no_token(inputs)])
    return bearer("token", token, source, inputs, timeout)


def resolve_user(inputs: Inputs, timeout: float, _prompt: BrowserPrompt | None) -> Credentials:
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
    return bearer("user", token, source, inputs, timeout)


def _no_token(inputs: Inputs) -> Finding:
    fix = (
        "Paste the token into the Token field."
        if inputs.trust.deployed
        else "Put the token in an environment variable and pass its name: `--token-env MY_TOKEN` (tokens "
        "are never read from the command line); `databricks auth token --profile <p>` prints one."
    )
    return Finding("TOKEN_MISSING", "error", "No token given", fix)


def bearer(method: str, token: str, source: str, inputs: Inputs, timeout: float) -> Credentials:
    """Static bearer credentials; the workspace host comes from the token's issuer when not given."""
    info = decode_token(token)
    host = inputs.get("host") or info.workspace_host or inputs.env("DATABRICKS_HOST")
    host = normalize_host(host) if host else None
    if host:
        inputs.check(host, "the token's workspace")
    kind = {"pat": "personal access token", "oauth": "OAuth token"}.get(info.kind, f"{info.kind} token")
    described = f"{kind} {info.masked} ({source})"
    headers = {"Authorization": f"Bearer {token}"}

    def config() -> Config:
        return new_config(inputs.trust, timeout, bounded=False, host=host, token=token, auth_type="pat")

    return Credentials(
        info=AuthInfo(method, described, host=host, identity=info.subject),
        header_factory=lambda: headers,
        config_factory=config if host else None,
        known_secrets=(token, *inputs.secret_values()),
        timeout=timeout,
        static=True,
    )

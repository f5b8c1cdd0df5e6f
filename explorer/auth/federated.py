"""Token federation: exchange an external IdP's JWT for a Databricks token (RFC 8693), via the SDK.

The subject token is pasted, or (locally only) read from a file or an env var the user names;
it is posted only to the token endpoint discovered and checked for the workspace.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from explorer.auth.base import AuthFailed, BrowserPrompt, Credentials, Inputs
from explorer.auth.endpoints import discover_endpoints
from explorer.auth.sdk import config_builder, credentials_from_config
from explorer.failures import auth_failed
from explorer.model import AuthInfo
from explorer.tokens import decode_token, normalize_token

if TYPE_CHECKING:
    pass

MAX_SUBJECT_TOKEN_FILE = 64 * 1024


def resolve_federated(inputs: Inputs, timeout: float, _prompt: BrowserPrompt | None) -> Credentials:
    from explorer import oauth

    host = inputs.host()
    assert host is not None
    subject, source = subject_token(inputs)
    client_id, scopes = inputs.get("client_id"), inputs.scopes() or None
    endpoints = discover_endpoints(inputs, host, timeout)

    build = config_builder(
        inputs,
        timeout,
        endpoints,
        host=host,
        client_id=client_id,
        scopes=scopes,
        auth_type="federated",
        credentials_strategy=oauth.federation_strategy(subject),
    )
    cfg = build()
    issuer = decode_token(subject).issuer or "an external identity provider"
    who = f" for service principal {client_id}" if client_id else " (account-wide federation policy)"
    info = AuthInfo("federated", f"token from {issuer} ({source}) exchanged{who}", host=host)
    credentials = credentials_from_config(cfg, info, inputs, timeout, build)
    credentials.known_secrets = (subject, *credentials.known_secrets)
    return credentials


def subject_token(inputs: Inputs) -> tuple[str, str]:
    token = inputs.get("subject_token")
    if token:
        return token, "given directly"
    path = inputs.given("subject_token_file")
    if path and inputs.trust.reads_files:  # deployed, Inputs refused the field before we got here
        token = _read_token_file(path)
        if token:
            return token, f"from file {path}"
    token, source = inputs.token_from_env_var()
    if token:
        return token, source
    raise AuthFailed(
        [
            auth_failed(
                "Federation needs the external IdP's token (the subject token)",
                "Paste the IdP's JWT into the IdP token field."
                if inputs.trust.deployed
                else "Pass --subject-token-file FILE or --token-env VAR holding the IdP's JWT (e.g. an "
                "Entra ID token from `az account get-access-token`).",
            )
        ]
    )


def _read_token_file(path: str) -> str:
    try:
        with open(os.path.expanduser(path), encoding="utf-8") as handle:
            return normalize_token(handle.read(MAX_SUBJECT_TOKEN_FILE))
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or "not a text file"
        raise AuthFailed(
            [auth_failed(f"Cannot read the subject token file {path}: {reason}", "Check the path.")]
        ) from None

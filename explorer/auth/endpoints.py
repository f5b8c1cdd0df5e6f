"""The workspace's OAuth endpoints, discovered and checked before any secret is sent.

Discovery follows the SDK (docs/PLATFORM.md#oauth-on-the-workspace): the host's
`/.well-known/databricks-config` names the `oidc_endpoint`, whose
`.well-known/oauth-authorization-server` names the authorize and token endpoints (without host
metadata: `<host>/oidc/...`). Every URL is checked before it is contacted: http(s) only, and on
the allowlist when one is on, so an allowed host's hostile metadata cannot send a client secret,
a subject token or a sign-in link anywhere else. Redirects are not followed.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import requests

from explorer.auth.base import AuthFailed, Inputs
from explorer.auth.timeline import watch_token_endpoint
from explorer.failures import auth_failed, finding_for_error, proxy_findings
from explorer.parse import excerpt

if TYPE_CHECKING:
    from databricks.sdk.oauth import OidcEndpoints

HOST_METADATA = "/.well-known/databricks-config"
OIDC_METADATA = "/.well-known/oauth-authorization-server"
_MAX_DOCUMENT = 256 * 1024


def probe_workspace(host: str, timeout: float) -> None:
    """Fail fast with a NETWORK_* finding when the workspace cannot be reached at all."""
    _get_json(host, HOST_METADATA, timeout, required=False)


def discover_endpoints(inputs: Inputs, host: str, timeout: float) -> OidcEndpoints:
    """The host's authorize and token endpoints, each checked by `inputs.check` (allowlist)."""
    from databricks.sdk.oauth import OidcEndpoints

    meta = _get_json(host, HOST_METADATA, timeout, required=False) or {}
    oidc = str(meta.get("oidc_endpoint") or f"{host}/oidc").rstrip("/")
    if "{account_id}" in oidc:
        oidc = oidc.replace("{account_id}", str(meta.get("account_id") or ""))
    _check_link(inputs, oidc, "the workspace's OIDC endpoint")
    document = _get_json(oidc, OIDC_METADATA, timeout, required=True) or {}
    endpoints = OidcEndpoints(
        authorization_endpoint=str(document.get("authorization_endpoint") or ""),
        token_endpoint=str(document.get("token_endpoint") or ""),
    )
    _check_link(inputs, endpoints.token_endpoint, "the token endpoint")
    _check_link(inputs, endpoints.authorization_endpoint, "the sign-in (authorize) endpoint")
    watch_token_endpoint(endpoints.token_endpoint, inputs.token_log)
    return endpoints


def _check_link(inputs: Inputs, url: str, what: str) -> None:
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise AuthFailed(
            [
                auth_failed(
                    f"The workspace's OAuth metadata names {what} {excerpt(url)}, which is not an http(s) URL",
                    "This host does not look like a Databricks workspace: check the workspace URL.",
                    field="host",
                )
            ]
        )
    inputs.check(url, what)


def _get_json(base: str, path: str, timeout: float, *, required: bool) -> dict[str, Any] | None:
    url = base.rstrip("/") + path
    try:
        response = requests.get(url, timeout=(timeout, timeout), allow_redirects=False, stream=True)
        with response:
            raw = response.raw.read(_MAX_DOCUMENT + 1, decode_content=True) if response.raw else b""
    except requests.RequestException as error:
        raise AuthFailed([finding_for_error(error, base, timeout), *proxy_findings(base)]) from None
    if response.status_code == 200 and len(raw) <= _MAX_DOCUMENT:
        try:
            document = json.loads(raw or b"null")
        except ValueError:
            document = None
        if isinstance(document, dict):
            return document
    if not required:
        return None
    raise AuthFailed(
        [
            auth_failed(
                f"{base} does not offer OAuth: {path} answered {response.status_code} without usable metadata",
                "Check the workspace URL (https://<workspace>.cloud.databricks.com); OAuth must be enabled.",
                field="host",
            )
        ]
    )

"""Service principals: `m2m` (a client id and secret you give) and `app` (the deployed app's own).

Both go through the SDK's `oauth-m2m` provider with endpoints discovered and checked first
(explorer.auth.endpoints), so the secret is only ever posted to an allowed token endpoint.
One Config per connection: the SDK caches the token, so many sends make one token request.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from explorer.auth.base import AuthFailed, BrowserPrompt, Credentials, Inputs
from explorer.auth.endpoints import discover_endpoints
from explorer.auth.sdk import config_builder, credentials_from_config
from explorer.failures import auth_failed
from explorer.model import AuthInfo

if TYPE_CHECKING:
    pass


def resolve_m2m(inputs: Inputs, timeout: float, _prompt: BrowserPrompt | None) -> Credentials:
    host = inputs.host()
    assert host is not None
    client_id, secret = inputs.require("client_id"), inputs.require("client_secret")
    source = f"service principal {client_id} (client secret {inputs.source('client_secret')})"
    return service_principal("m2m", host, client_id, secret, inputs, source, timeout)


def resolve_app(inputs: Inputs, timeout: float, _prompt: BrowserPrompt | None) -> Credentials:
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
    return service_principal("app", host, client_id, inputs.require("client_secret"), inputs, source, timeout)


def service_principal(
    method: str, host: str, client_id: str, secret: str, inputs: Inputs, source: str, timeout: float
) -> Credentials:
    scopes = inputs.scopes() or None
    endpoints = discover_endpoints(inputs, host, timeout)

    build = config_builder(
        inputs,
        timeout,
        endpoints,
        host=host,
        client_id=client_id,
        client_secret=secret,
        scopes=scopes,
        auth_type="oauth-m2m",
    )
    cfg = build()
    details = {"client_id": client_id, "scopes": " ".join(scopes or ["all-apis"])}
    info = AuthInfo(method, source, host=host, identity=client_id, details=details)
    return credentials_from_config(cfg, info, inputs, timeout, build)

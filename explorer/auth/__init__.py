"""Auth methods: one declarative registry; each resolves to request headers plus their source.

    explorer/auth/
      base.py               Field, AuthMethod, Inputs, Credentials, AuthFailed (the interface)
      registry.py           METHODS (declared once), the detection chain, FIELD_AT_FAULT
      resolve.py            one bounded resolution; every failure becomes findings
      endpoints.py          OAuth endpoint discovery, checked before any secret is sent
      sdk.py                the SDK Config: sealed (deployed) and with pinned endpoints
      profile.py  service_principal.py  bearer.py  federated.py  browser.py   one per family

Resolution goes through databricks-sdk wherever the SDK supports the flow, bounds every wait and
turns every failure into `AuthFailed(findings)` whose messages hold no secret. What a resolution
may read (the environment, files) and contact (the allowlist) is decided by `explorer.trust.Trust`.
"""

from explorer.auth.base import (
    DEFAULT_TIMEOUT,
    AuthFailed,
    AuthMethod,
    BrowserPrompt,
    Credentials,
    Field,
    Inputs,
)
from explorer.auth.browser import browser_credentials, start_browser_login
from explorer.auth.profile import DEFAULT_CONFIG_FILE, databricks_cli_available
from explorer.auth.registry import (
    FIELD_AT_FAULT,
    METHODS,
    blame_fields,
    choose_method,
    cli_fields,
    secret_env_vars,
)

__all__ = [
    "DEFAULT_CONFIG_FILE",
    "DEFAULT_TIMEOUT",
    "FIELD_AT_FAULT",
    "METHODS",
    "AuthFailed",
    "AuthMethod",
    "BrowserPrompt",
    "Credentials",
    "Field",
    "Inputs",
    "blame_fields",
    "browser_credentials",
    "choose_method",
    "cli_fields",
    "databricks_cli_available",
    "secret_env_vars",
    "start_browser_login",
]

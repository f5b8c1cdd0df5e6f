"""Who the explorer trusts with what: the rule every auth method and every outbound call obeys.

Locally the person at the keyboard owns the process: its environment variables, its files
(`~/.databrickscfg`, a token file) and its network. Forms may fall back to environment variables,
name files, and the SDK may read its usual environment and config file.

Deployed as a Databricks App, every signed-in user is untrusted with the server's environment,
files and credentials (docs/DEPLOY.md#threat-model):

- the server's own credentials (`DATABRICKS_CLIENT_ID/SECRET`, the platform's host) belong to the
  `app` method alone; they are kept in `platform`, not read from the environment by anyone else;
- form-driven methods see only what the user typed: no environment fallback, no files the user
  names, and the SDK gets a sealed view without the inherited `DATABRICKS_*` variables;
- every URL an auth flow or a send will contact is checked against the allowlist first.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from explorer.model import Finding
from explorer.parse import InputError, excerpt, normalize_host

if TYPE_CHECKING:
    from explorer.guard import Allowlist

# The platform's variables that make up the app's own identity (docs/PLATFORM.md#app-runtime-environment).
PLATFORM_VARIABLES = ("DATABRICKS_HOST", "DATABRICKS_CLIENT_ID", "DATABRICKS_CLIENT_SECRET")


@dataclass(frozen=True)
class Trust:
    """What a resolution or a send may reach. `Trust()` is the local default (everything the user's)."""

    deployed: bool = False
    allowlist: Allowlist | None = None
    platform: Mapping[str, str] = field(default_factory=dict, repr=False)  # deployed: the app's identity

    @classmethod
    def local(cls, allowlist: Allowlist | None = None) -> Trust:
        return cls(deployed=False, allowlist=allowlist)

    @classmethod
    def for_deployment(cls, allowlist: Allowlist, environ: Mapping[str, str] | None = None) -> Trust:
        """Deployed: the platform's credentials are captured here, for the `app` method only."""
        env = os.environ if environ is None else environ
        platform = {k: env[k].strip() for k in PLATFORM_VARIABLES if (env.get(k) or "").strip()}
        return cls(deployed=True, allowlist=allowlist, platform=platform)

    def environment(self, platform_method: bool) -> Mapping[str, str]:
        """The variables a method's fields may fall back to: locally the process's, deployed none
        (the `app` method: the platform's identity)."""
        if not self.deployed:
            return os.environ
        return self.platform if platform_method else {}

    @property
    def reads_files(self) -> bool:
        """May a form name files on this machine (a config file, a token file)? Only locally."""
        return not self.deployed

    def platform_secrets(self) -> list[str]:
        secret = self.platform.get("DATABRICKS_CLIENT_SECRET")
        return [secret] if secret else []

    def refusal(self, url: str | None, what: str) -> Finding | None:
        """HOST_NOT_ALLOWED when the allowlist is on and `url` (a host or URL) is not on it."""
        if self.allowlist is None or not url:
            return None
        target = url
        if "://" not in target:
            try:
                target = normalize_host(target)
            except InputError:
                target = url
        if self.allowlist.allows(target):
            return None
        return host_not_allowed(target, what, self.allowlist.explain(target))


def host_not_allowed(url: str, what: str, why: str) -> Finding:
    return Finding(
        "HOST_NOT_ALLOWED",
        "error",
        f"Refused to contact {what} {excerpt(url)}: {why}",
        "Deployed, the explorer talks only to its own workspace, Databricks Apps URLs and the hosts an "
        "operator allows with the EXPLORER_ALLOWED_HOSTS setting in app.yaml.",
    )


def seal_environment(environ: dict[str, str] | os._Environ[str]) -> dict[str, str]:
    """Deployed start-up: move the platform's client secret out of the process environment.

    The `app` method keeps its copy in `Trust.platform`; nothing else in the process (the SDK's
    environment loader, a library, a form) can then read it from `os.environ`. Returns what was moved.
    """
    moved = {}
    for name in ("DATABRICKS_CLIENT_SECRET", "DATABRICKS_TOKEN"):
        value = environ.pop(name, None)
        if value:
            moved[name] = value
    return moved

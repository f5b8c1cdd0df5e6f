"""`profile`: a `~/.databrickscfg` profile through the SDK (runs the Databricks CLI for
`databricks-cli` profiles). It reads this machine's files, so it is offered locally only."""

from __future__ import annotations

import os
import shutil
from typing import TYPE_CHECKING

from explorer.auth.base import AuthFailed, BrowserPrompt, Credentials, Inputs
from explorer.auth.endpoints import discover_endpoints, probe_workspace
from explorer.auth.sdk import config_builder, credentials_from_config
from explorer.failures import auth_failed
from explorer.model import AuthInfo, Finding
from explorer.parse import normalize_host

if TYPE_CHECKING:
    pass

DEFAULT_CONFIG_FILE = "~/.databrickscfg"


def resolve_profile(inputs: Inputs, timeout: float, _prompt: BrowserPrompt | None) -> Credentials:
    from explorer.profiles import ProfileError, list_profiles

    name = inputs.get("profile") or "DEFAULT"
    path = inputs.get("config_file") or DEFAULT_CONFIG_FILE
    try:
        profiles = list_profiles(os.path.expanduser(path))
    except ProfileError as error:
        raise AuthFailed(
            [
                auth_failed(
                    str(error), f"Fix or recreate {path} (`databricks auth login`).", field="config_file"
                )
            ]
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
                    field="profile",
                )
            ]
        )
    if profile.auth_type == "databricks-cli" and not databricks_cli_available():
        raise AuthFailed([_cli_missing(name, profile.host)])
    endpoints = None
    if profile.host:
        host = normalize_host(profile.host)
        inputs.check(host, f"profile [{name}]'s workspace")  # before anything is sent there
        if inputs.trust.allowlist is not None:
            endpoints = discover_endpoints(inputs, host, timeout)
        else:
            probe_workspace(host, timeout)

    build = config_builder(inputs, timeout, endpoints, profile=name, config_file=os.path.expanduser(path))
    cfg = build()
    source = f"profile [{name}] in {path} (auth type {cfg.auth_type})"
    info = AuthInfo("profile", source, host=cfg.host, details={"profile": name})
    return credentials_from_config(cfg, info, inputs, timeout, build)


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

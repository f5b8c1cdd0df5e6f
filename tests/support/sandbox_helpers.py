"""Helpers for tests that talk to the sandbox: configs, tokens, a headless U2M flow, CLI profiles.

Every helper goes through the sandbox's real HTTP endpoints (and the real databricks-sdk where a
user would use it); none reaches into the sandbox's internals.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import requests
import yaml
from databricks.sdk.oauth import OAuthClient, SessionCredentials

from explorer.sandbox.config import DEFAULT_CONFIG_PATH

STAND_IN_CLI = Path(__file__).with_name("databricks")
LOCAL_REDIRECT = "http://localhost:8020"


def default_config(**overrides: Any) -> dict[str, Any]:
    """The embedded default config as a dict (a fresh copy), with top-level keys replaced."""
    config = yaml.safe_load(DEFAULT_CONFIG_PATH.read_text(encoding="utf-8"))
    config = copy.deepcopy(config)
    config.update(overrides)
    return config


def demo_sp_fields(info: dict[str, Any]) -> dict[str, str]:
    """The m2m fields of the sandbox's demo service principal (host, client id and secret)."""
    sp = info["service_principals"]["demo-sp"]
    return {"host": info["host"], "client_id": sp["client_id"], "client_secret": sp["client_secret"]}


def m2m_token(info: dict[str, Any], sp: str = "demo-sp", scope: str = "all-apis") -> str:
    """A client-credentials token for a service principal named in the info file."""
    creds = info["service_principals"][sp]
    response = requests.post(
        f"{info['host']}/oidc/v1/token",
        data={"grant_type": "client_credentials", "scope": scope},
        auth=(creds["client_id"], creds["client_secret"]),
        timeout=10,
    )
    response.raise_for_status()
    return response.json()["access_token"]


def headless_consent(
    host: str, user: str, scopes: list[str], redirect_url: str = LOCAL_REDIRECT
) -> SessionCredentials:
    """The SDK's authorization-code + PKCE flow, with the browser step done by `login_hint`.

    Needs `auto_approve: true` in the sandbox config (the default has it).
    """
    client = OAuthClient.from_host(host, client_id="databricks-cli", redirect_url=redirect_url, scopes=scopes)
    consent = client.initiate_consent()
    response = requests.get(
        consent.authorization_url, params={"login_hint": user}, allow_redirects=False, timeout=10
    )
    if response.status_code != 302:
        raise AssertionError(f"authorize did not redirect: {response.status_code} {response.text[:200]}")
    query = dict(parse_qsl(urlsplit(response.headers["location"]).query))
    return consent.exchange_callback_parameters(query)


def user_token(host: str, user: str, scopes: list[str]) -> str:
    return headless_consent(host, user, scopes).token().access_token


def idp_token(info: dict[str, Any], subject: str, audience: str = "databricks") -> str:
    """A JWT from the sandbox's stand-in external identity provider."""
    response = requests.post(
        info["idp"]["token_endpoint"], data={"subject": subject, "audience": audience}, timeout=10
    )
    response.raise_for_status()
    return response.json()["access_token"]


def write_cli_profile(directory: Path, profile: str, host: str, refresh_token: str) -> tuple[Path, Path]:
    """Add an `auth_type = databricks-cli` profile to `directory/databrickscfg`, and its refresh
    token to the stand-in CLI's cache `directory/token-cache.json`; returns both paths."""
    config_file = directory / "databrickscfg"
    with config_file.open("a", encoding="utf-8") as handle:
        handle.write(f"\n[{profile}]\nhost = {host}\nauth_type = databricks-cli\n")
    cache_file = directory / "token-cache.json"
    cache = (
        json.loads(cache_file.read_text(encoding="utf-8"))
        if cache_file.exists()
        else {"version": 1, "tokens": {}}
    )
    cache["tokens"][profile] = {"refresh_token": refresh_token, "client_id": "databricks-cli"}
    cache_file.write_text(json.dumps(cache), encoding="utf-8")
    cache_file.chmod(0o600)
    return config_file, cache_file

"""Tokens and secrets never reach the sandbox's logs, even at DEBUG level."""

from __future__ import annotations

import logging
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
from support.sandbox_helpers import default_config, headless_consent, idp_token, m2m_token


def test_sandbox_logs_hold_no_secret(start_sandbox, caplog: pytest.LogCaptureFixture):
    caplog.set_level(logging.DEBUG)
    sb = start_sandbox(default_config())
    info = sb.info
    secrets_seen: list[str] = [sp["client_secret"] for sp in info["service_principals"].values()]
    secrets_seen += [u["pat"] for u in info["users"].values()]

    sp_token = m2m_token(info, scope="sql files.files")
    credentials = headless_consent(info["host"], "alice@example.com", ["all-apis", "offline_access"])
    first, refreshed = credentials.token(), credentials.refresh()
    exchanged = requests.post(
        f"{info['host']}/oidc/v1/token",
        data={
            "grant_type": "urn:ietf:params:oauth:grant-type:token-exchange",
            "subject_token": idp_token(info, "ci-pipeline@idp"),
            "subject_token_type": "urn:ietf:params:oauth:token-type:jwt",
        },
        timeout=10,
    ).json()["access_token"]
    requests.post(
        f"{info['host']}/oidc/v1/token",
        data={"grant_type": "client_credentials"},
        auth=(info["service_principals"]["demo-sp"]["client_id"], "dose-wrong-secret-value"),
        timeout=10,
    )
    requests.get(
        f"{info['apps']['scoped']['url']}/api/whoami",
        headers={"Authorization": f"Bearer {sp_token}"},
        timeout=10,
    )
    requests.get(
        f"{info['host']}/api/2.0/apps",
        headers={"Authorization": f"Bearer {info['users']['bob@example.com']['pat']}"},
        timeout=10,
    )
    code = browser_sign_in(info)

    secrets_seen += [
        sp_token,
        first.access_token,
        first.refresh_token,
        refreshed.access_token,
        exchanged,
        code,
    ]
    secrets_seen.append("dose-wrong-secret-value")
    sandbox_records = [r for r in caplog.records if r.name.startswith(("explorer.sandbox", "uvicorn"))]
    assert any("issued a token" in r.getMessage() for r in sandbox_records)  # the logs did record the flows
    text = "\n".join(r.getMessage() for r in sandbox_records)
    assert [s for s in secrets_seen if s and s in text] == []


def browser_sign_in(info: dict) -> str:
    """Sign in to the hello app in a browser-like session; returns the authorization code it used."""
    browser = requests.Session()
    location = browser.get(info["apps"]["hello"]["url"] + "/", allow_redirects=False, timeout=10).headers[
        "location"
    ]
    form = dict(parse_qsl(urlsplit(location).query), user="alice@example.com")
    approved = browser.post(f"{info['host']}/oidc/v1/authorize", data=form, allow_redirects=False, timeout=10)
    code = dict(parse_qsl(urlsplit(approved.headers["location"]).query))["code"]
    browser.get(approved.headers["location"], timeout=10)
    return code

"""Garbage in gets a clear 4xx from the sandbox, never a 500 or a traceback (hypothesis)."""

from __future__ import annotations

import base64
import string

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
TEXT = st.text(max_size=60)
HEADER_TEXT = st.text(alphabet=string.printable.replace("\r", "").replace("\n", ""), max_size=80).map(
    str.strip
)
TOKEN_FIELDS = ["grant_type", "client_id", "client_secret", "code", "code_verifier", "redirect_uri", "refresh_token",
                "subject_token", "subject_token_type", "scope"]  # fmt: skip
AUTHORIZE_FIELDS = ["response_type", "client_id", "redirect_uri", "scope", "state", "code_challenge",
                    "code_challenge_method", "login_hint", "user"]  # fmt: skip


@pytest.fixture(scope="module")
def http() -> requests.Session:
    with requests.Session() as session:
        yield session


@pytest.fixture(scope="module")
def urls(sandbox_info) -> dict[str, str]:
    """Only URLs: hypothesis prints test arguments on failure, and the info document holds secrets."""
    return {"host": sandbox_info["host"], "hello": sandbox_info["apps"]["hello"]["url"]}


def assert_clean(response: requests.Response) -> None:
    assert response.status_code < 500, response.text[:200]
    assert "Traceback" not in response.text


@SETTINGS
@given(
    form=st.dictionaries(st.sampled_from(TOKEN_FIELDS), TEXT, max_size=6),
    basic=st.one_of(st.none(), st.binary(max_size=40).map(lambda b: "Basic " + base64.b64encode(b).decode())),
)
def test_token_endpoint_answers_garbage_with_oauth_errors(urls, http, form, basic):
    headers = {"Authorization": basic} if basic else {}

    response = http.post(f"{urls['host']}/oidc/v1/token", data=form, headers=headers, timeout=10)

    assert_clean(response)
    if response.status_code >= 400:
        assert set(response.json()) == {"error", "error_description"}


@SETTINGS
@given(params=st.dictionaries(st.sampled_from(AUTHORIZE_FIELDS), TEXT, max_size=8))
def test_authorize_answers_garbage_without_crashing(urls, http, params):
    url = f"{urls['host']}/oidc/v1/authorize"

    assert_clean(http.get(url, params=params, allow_redirects=False, timeout=10))
    assert_clean(http.post(url, data=params, allow_redirects=False, timeout=10))


@SETTINGS
@given(
    authorization=HEADER_TEXT,
    path=st.sampled_from(["/", "/api", "/api/hello", "/api/x", "/.auth/callback"]),
    value=st.text(alphabet=string.ascii_letters + string.digits + "-_.~%", max_size=30),
)
def test_gateway_and_workspace_answer_garbage_credentials_cleanly(urls, http, authorization, path, value):
    headers = {"Authorization": authorization, "Cookie": f"databricks-app-session-hello={value}"}
    gateway = urls["hello"] + path

    assert_clean(
        http.get(
            gateway,
            params={"state": value, "code": value},
            headers=headers,
            allow_redirects=False,
            timeout=10,
        )
    )
    workspace = f"{urls['host']}/api/2.0/apps"
    assert_clean(
        http.get(workspace, params={"page_size": value, "page_token": value}, headers=headers, timeout=10)
    )

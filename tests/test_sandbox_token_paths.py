"""Per-app `token_paths`: which path prefixes an app's gateway accepts bearer tokens on (default `/api/`)."""

from __future__ import annotations

import http.client
from urllib.parse import urlsplit

import pytest
import requests
from support.sandbox_helpers import default_config, m2m_token

from explorer.sandbox.config import ConfigError, load_config

DEMO_SP = "7b1f3c2a-5d4e-4f60-9a8b-1c2d3e4f5a6b"


def app(name: str, **extra: object) -> dict:
    return {
        "name": name,
        "kind": "sample",
        "permissions": [{"service_principal_name": DEMO_SP, "permission_level": "CAN_USE"}],
        **extra,
    }


@pytest.fixture(scope="module")
def gateways(tmp_path_factory: pytest.TempPathFactory):
    from explorer.sandbox import Sandbox

    config = default_config(
        apps=[
            app("plain"),
            app("agent", token_paths=["/api/", "/responses", "/mcp", "/logz/"]),
            app("everything", token_paths=["/"]),
            app("browser-only", token_paths=[]),
        ]
    )
    with Sandbox(config) as sb:
        yield sb.info, {"Authorization": f"Bearer {m2m_token(sb.info)}"}


def call(info: dict, name: str, path: str, auth: dict, method: str = "GET", **kwargs) -> requests.Response:
    url = info["apps"][name]["url"] + path
    return requests.request(method, url, headers=auth, allow_redirects=False, timeout=30, **kwargs)


def test_by_default_only_api_paths_take_a_token(gateways):
    info, auth = gateways

    assert call(info, "plain", "/api/hello", auth).status_code == 200
    refused = call(info, "plain", "/responses", auth, "POST", json={"input": "x"})
    assert refused.status_code == 302 and "/oidc/v1/authorize" in refused.headers["location"]


def test_listed_prefixes_take_a_token_and_reach_the_app(gateways):
    info, auth = gateways

    responses = call(info, "agent", "/responses", auth, "POST", json={"input": "from a token"})
    mcp = call(info, "agent", "/mcp", auth)  # the sample app has no /mcp: its own 404, not a sign-in
    logz = call(info, "agent", "/logz", auth)  # "/logz/" covers /logz itself, as "/api/" covers /api

    assert responses.status_code == 200 and responses.json()["status"] == "completed"
    assert (mcp.status_code, logz.status_code) == (404, 404)
    assert call(info, "agent", "/api/hello", auth).status_code == 200


@pytest.mark.parametrize("path", ["/", "/responsesx", "/mcpserver", "/api/../responses", "/api/%2e%2e/mcp"])
def test_other_paths_still_send_a_token_to_sign_in(gateways, path):
    info, auth = gateways
    # http.client sends the path as written (requests would resolve the dot segments first).
    connection = http.client.HTTPConnection(urlsplit(info["apps"]["agent"]["url"]).netloc, timeout=30)
    try:
        connection.request("GET", path, headers=auth)
        response = connection.getresponse()
        location = response.getheader("location") or ""
    finally:
        connection.close()

    assert response.status == 302, path
    assert "/oidc/v1/authorize" in location


def test_a_root_prefix_takes_tokens_everywhere_and_an_empty_list_nowhere(gateways):
    info, auth = gateways

    assert call(info, "everything", "/", auth).status_code == 200  # the sample app's home page
    assert call(info, "everything", "/responses", auth, "POST", json={"input": "x"}).status_code == 200
    assert call(info, "browser-only", "/api/hello", auth).status_code == 302


def test_token_paths_still_need_permission_and_a_valid_token(gateways):
    info, _ = gateways

    assert call(info, "agent", "/responses", {"Authorization": "Bearer not-a-jwt"}, "POST").status_code == 401


@pytest.mark.parametrize(
    ("paths", "message"),
    [
        (["api/"], "apps[0].token_paths[0]: expected a path prefix starting with '/', got 'api/'"),
        (["/api/../"], "apps[0].token_paths[0]: a path prefix cannot contain '.' or '..' segments"),
        ("/api/", "apps[0].token_paths: expected a list, got str"),
    ],
)
def test_bad_token_paths_name_the_key(paths, message):
    with pytest.raises(ConfigError) as caught:
        load_config({"apps": [{"name": "x1", "token_paths": paths}]})

    assert message in str(caught.value)


def test_the_default_is_api_only():
    assert load_config({"apps": [{"name": "x1"}]}).apps[0].token_paths == ["/api/"]

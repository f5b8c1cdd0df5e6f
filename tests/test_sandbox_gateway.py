"""The Apps gateway answers as docs/PLATFORM.md#calling-an-app says, and forwards what the platform forwards."""

from __future__ import annotations

import time
from urllib.parse import parse_qsl, urlsplit

import jwt
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa
from support.ports import free_port
from support.recording_server import recording_server
from support.sandbox_helpers import default_config, m2m_token, user_token
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect


def get(url: str, token: str | None = None, **kwargs) -> requests.Response:
    headers = kwargs.pop("headers", {})
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return requests.get(url, headers=headers, allow_redirects=False, timeout=10, **kwargs)


@pytest.fixture(scope="module")
def sp_token(sandbox_info) -> str:
    return m2m_token(sandbox_info)


@pytest.fixture(scope="module")
def hello(sandbox_info) -> str:
    return sandbox_info["apps"]["hello"]["url"]


def test_no_token_redirects_to_the_workspace_sign_in(sandbox_info, hello):
    response = get(f"{hello}/api/hello")

    assert response.status_code == 302
    location = response.headers["location"]
    assert location.startswith(f"{sandbox_info['host']}/oidc/v1/authorize?")
    assert dict(parse_qsl(urlsplit(location).query))["redirect_uri"] == f"{hello}/.auth/callback"


def test_a_pat_is_not_accepted_by_apps(sandbox_info, hello):
    response = get(f"{hello}/api/hello", token=sandbox_info["users"]["alice@example.com"]["pat"])

    assert response.status_code == 302


def test_a_valid_token_on_a_non_api_path_redirects(hello, sp_token):
    assert get(f"{hello}/", token=sp_token).status_code == 302


def test_service_principal_with_can_use_reaches_the_app_with_forwarded_identity(
    sandbox_info, hello, sp_token
):
    response = get(f"{hello}/api/echo?x=1&x=2", token=sp_token, headers={"X-Forwarded-User": "spoofed"})

    assert response.status_code == 200
    echo = response.json()
    sp = sandbox_info["service_principals"]["demo-sp"]["client_id"]
    headers = echo["headers"]
    assert "authorization" not in headers
    assert headers["x-forwarded-email"] == sp
    assert (
        headers["x-forwarded-user"].endswith("@1234567890123456")
        and "spoofed" not in headers["x-forwarded-user"]
    )
    assert headers["x-forwarded-host"] == urlsplit(hello).netloc
    assert {"x-forwarded-preferred-username", "x-real-ip", "x-request-id"} <= set(headers)
    assert "x-forwarded-access-token" not in headers  # hello has no user authorization
    assert echo["query"] == {"x": ["1", "2"]}


def test_methods_and_bodies_pass_through(hello, sp_token):
    response = requests.put(
        f"{hello}/api/echo", data=b'{"a": 1}', headers={"Authorization": f"Bearer {sp_token}"}, timeout=10
    )

    assert response.json()["method"] == "PUT" and response.json()["body"] == '{"a": 1}'


def test_user_without_can_use_is_forbidden(sandbox_info, hello):
    bob = user_token(sandbox_info["host"], "bob@example.com", ["all-apis"])

    response = get(f"{hello}/api/hello", token=bob)

    assert response.status_code == 403
    assert "CAN_USE" in response.json()["error_description"]


def test_user_with_can_manage_is_let_in(sandbox_info, hello):
    alice = user_token(sandbox_info["host"], "alice@example.com", ["all-apis"])

    assert get(f"{hello}/api/whoami", token=alice).json()["email"] == "alice@example.com"


def test_token_without_the_apps_scopes_is_insufficient_scope(sandbox_info, sp_token):
    response = get(f"{sandbox_info['apps']['scoped']['url']}/api/hello", token=sp_token)

    assert response.status_code == 403
    assert (
        response.headers["www-authenticate"] == 'Bearer error="insufficient_scope", scope="sql files.files"'
    )


def test_token_with_the_apps_scopes_gets_a_forwarded_user_token(sandbox_info):
    token = m2m_token(sandbox_info, scope="sql files.files")

    whoami = get(f"{sandbox_info['apps']['scoped']['url']}/api/whoami", token=token).json()

    assert whoami["access_token"].startswith("eyJ") and "…" in whoami["access_token"]
    assert whoami["authorization_seen"] is False


def test_token_signed_by_a_foreign_key_is_401(sandbox_info, hello, sp_token):
    claims = jwt.decode(sp_token, options={"verify_signature": False})
    forged = jwt.encode(
        claims, rsa.generate_private_key(public_exponent=65537, key_size=2048), algorithm="RS256"
    )

    response = get(f"{hello}/api/hello", token=forged)

    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith('Bearer error="invalid_token"')


def test_garbage_bearer_token_is_401(hello):
    assert get(f"{hello}/api/hello", token="not-a-jwt").status_code == 401


def test_stopped_app_is_404(sandbox_info, sp_token):
    assert get(f"{sandbox_info['apps']['stopped']['url']}/api/hello", token=sp_token).status_code == 404


def test_unknown_path_is_the_apps_own_404(hello, sp_token):
    response = get(f"{hello}/api/no/such/thing", token=sp_token)

    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found"}


def test_the_gateway_answers_healthz_itself(hello):
    response = get(f"{hello}/healthz")

    assert response.status_code == 200 and response.json()["app"] == "hello"


def test_expired_token_is_401(start_sandbox):
    sb = start_sandbox(default_config(token_ttl_seconds=1))
    token = m2m_token(sb.info)
    time.sleep(2.1)  # let the 1-second token expire

    response = get(f"{sb.info['apps']['hello']['url']}/api/hello", token=token)

    assert response.status_code == 401
    assert "expired" in response.json()["error_description"]


def test_browser_sign_in_ends_with_a_session_cookie_on_the_app(sandbox_info, hello):
    browser = requests.Session()
    to_sign_in = browser.get(f"{hello}/?tab=1", allow_redirects=False, timeout=10)
    sign_in_page = browser.get(to_sign_in.headers["location"], timeout=10)
    assert "Alice Analyst" in sign_in_page.text
    form = dict(parse_qsl(urlsplit(to_sign_in.headers["location"]).query), user="alice@example.com")

    # The form posts to the workspace, which redirects to the app's callback, which sets the cookie.
    landed = browser.post(f"{sandbox_info['host']}/oidc/v1/authorize", data=form, timeout=10)

    assert landed.status_code == 200 and "Sandbox sample app" in landed.text
    assert urlsplit(landed.url).path == "/" and urlsplit(landed.url).query == "tab=1"
    cookie = next(c for c in browser.cookies if c.name == "databricks-app-session-hello")
    assert cookie.has_nonstandard_attr("HttpOnly")
    echo = browser.get(f"{hello}/api/echo", timeout=10).json()
    assert echo["headers"]["x-forwarded-email"] == "alice@example.com"
    assert "databricks-app-session" not in echo["headers"].get("cookie", "")


def test_browser_user_without_can_use_is_forbidden_after_sign_in(sandbox_info, hello):
    browser = requests.Session()
    location = browser.get(f"{hello}/", allow_redirects=False, timeout=10).headers["location"]
    form = dict(parse_qsl(urlsplit(location).query), user="bob@example.com")

    landed = browser.post(f"{sandbox_info['host']}/oidc/v1/authorize", data=form, timeout=10)

    assert landed.status_code == 403


def test_server_sent_events_stream_through(hello, sp_token):
    with requests.get(
        f"{hello}/api/events",
        params={"count": 3, "interval_ms": 10},
        headers={"Authorization": f"Bearer {sp_token}"},
        stream=True,
        timeout=10,
    ) as response:
        events = [line for line in response.iter_lines() if line.startswith(b"data:")]

    assert response.headers["content-type"].startswith("text/event-stream")
    assert events == [b'data: {"n": 0}', b'data: {"n": 1}', b'data: {"n": 2}']


def test_websockets_are_proxied(hello, sp_token):
    ws_url = "ws" + hello[4:] + "/api/ws"

    with connect(ws_url, additional_headers={"Authorization": f"Bearer {sp_token}"}, open_timeout=10) as ws:
        ws.send("ping")
        assert ws.recv(timeout=10) == "echo: ping"


def test_websocket_without_credentials_is_refused(hello):
    with pytest.raises(InvalidStatus, match=r"HTTP 403"):
        connect("ws" + hello[4:] + "/api/ws", open_timeout=10)


def test_upstream_app_gets_exactly_what_the_platform_forwards(start_sandbox):
    with recording_server() as upstream:
        config = default_config(
            apps=[
                {
                    "name": "recorder",
                    "kind": "upstream",
                    "upstream": upstream.url,
                    "user_api_scopes": ["sql"],
                    "permissions": [{"service_principal_name": "demo-sp", "permission_level": "CAN_USE"}],
                }
            ]
        )
        sb = start_sandbox(config)
        token = m2m_token(sb.info, scope="sql")
        url = sb.info["apps"]["recorder"]["url"]

        response = get(
            f"{url}/api/thing?q=1",
            token=token,
            headers={"Cookie": "mine=1; databricks-app-session-other=stolen", "X-Real-Ip": "6.6.6.6"},
        )
        redirect = get(f"{url}/api/redirect", token=token)

    seen = upstream.requests[0]
    assert response.status_code == 200 and seen.path == "/api/thing?q=1"
    assert response.raw.headers.getlist("Set-Cookie") == ["a=1; Path=/", "b=2; Path=/"]
    assert seen.header("authorization") is None
    assert seen.header("cookie") == "mine=1"
    assert seen.header("x-real-ip") == "127.0.0.1"
    forwarded = jwt.decode(seen.header("x-forwarded-access-token"), options={"verify_signature": False})
    assert forwarded["scope"].split() == ["sql", "iam.access-control:read", "iam.current-user:read"]
    assert forwarded["sub"] == sb.info["service_principals"]["demo-sp"]["client_id"]
    assert redirect.status_code == 302 and redirect.headers["location"] == f"{url}/api/elsewhere"


def test_unreachable_upstream_is_502(start_sandbox):
    config = default_config(
        apps=[
            {
                "name": "gone",
                "kind": "upstream",
                "upstream": f"http://127.0.0.1:{free_port()}",
                "permissions": [{"service_principal_name": "demo-sp", "permission_level": "CAN_USE"}],
            }
        ]
    )
    sb = start_sandbox(config)

    response = get(f"{sb.info['apps']['gone']['url']}/api/x", token=m2m_token(sb.info))

    assert response.status_code == 502

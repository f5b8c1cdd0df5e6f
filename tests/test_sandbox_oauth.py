"""The sandbox's OAuth server refuses what a real one refuses, with the right OAuth error."""

from __future__ import annotations

import base64
import hashlib
import secrets
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlsplit

import jwt
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa
from support.sandbox_helpers import idp_token

REDIRECT = "http://localhost:8020"


def token_request(info: dict, data: dict, **kwargs) -> requests.Response:
    return requests.post(f"{info['host']}/oidc/v1/token", data=data, timeout=10, **kwargs)


def authorize(
    info: dict, verifier: str, scope: str = "all-apis offline_access", **extra: str
) -> requests.Response:
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    params = {
        "response_type": "code",
        "client_id": "databricks-cli",
        "redirect_uri": REDIRECT,
        "scope": scope,
        "state": "st4te",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        **extra,
    }
    return requests.get(f"{info['host']}/oidc/v1/authorize", params=params, allow_redirects=False, timeout=10)


def redirect_query(response: requests.Response) -> dict[str, str]:
    assert response.status_code in (302, 303), response.text[:200]
    return dict(parse_qsl(urlsplit(response.headers["location"]).query))


class _FormFields(HTMLParser):
    """The hidden inputs of the sign-in page's form, as a browser would submit them."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = dict(attrs)
        if tag == "input" and attr.get("type") == "hidden" and attr.get("name"):
            self.fields[attr["name"] or ""] = attr.get("value") or ""


def hidden_fields(page: str) -> dict[str, str]:
    parser = _FormFields()
    parser.feed(page)
    return parser.fields


def code_grant(info: dict, code: str, verifier: str) -> requests.Response:
    data = {
        "grant_type": "authorization_code",
        "client_id": "databricks-cli",
        "redirect_uri": REDIRECT,
        "code": code,
        "code_verifier": verifier,
    }
    return token_request(info, data)


def test_wrong_client_secret_is_invalid_client_401(sandbox_info):
    client_id = sandbox_info["service_principals"]["demo-sp"]["client_id"]
    wrong = "dose" + "f" * 40

    response = token_request(
        sandbox_info, {"grant_type": "client_credentials", "scope": "all-apis"}, auth=(client_id, wrong)
    )

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert wrong not in response.text


def test_client_secret_in_the_form_works_too(sandbox_info):
    creds = sandbox_info["service_principals"]["demo-sp"]
    data = {
        "grant_type": "client_credentials",
        "client_id": creds["client_id"],
        "client_secret": creds["client_secret"],
    }

    body = token_request(sandbox_info, data).json()

    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600 and body["scope"] == "all-apis"


def test_wrong_pkce_verifier_is_invalid_grant(sandbox_info):
    verifier = secrets.token_urlsafe(32)
    code = redirect_query(authorize(sandbox_info, verifier, login_hint="alice@example.com"))["code"]

    response = code_grant(sandbox_info, code, verifier + "x")

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
    assert "PKCE" in response.json()["error_description"]


def test_authorization_code_is_single_use(sandbox_info):
    verifier = secrets.token_urlsafe(32)
    code = redirect_query(authorize(sandbox_info, verifier, login_hint="alice@example.com"))["code"]

    first, second = code_grant(sandbox_info, code, verifier), code_grant(sandbox_info, code, verifier)

    assert first.status_code == 200 and first.json()["refresh_token"]
    assert second.status_code == 400 and second.json()["error"] == "invalid_grant"


def test_bad_refresh_token_is_invalid_grant(sandbox_info):
    response = token_request(
        sandbox_info, {"grant_type": "refresh_token", "client_id": "databricks-cli", "refresh_token": "nope"}
    )

    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"grant_type": "password", "username": "a", "password": "b"}, "unsupported_grant_type"),
        ({}, "invalid_request"),
        ({"grant_type": "authorization_code", "client_id": "databricks-cli"}, "invalid_request"),
        ({"grant_type": "urn:ietf:params:oauth:grant-type:token-exchange"}, "invalid_request"),
    ],
)
def test_malformed_token_requests_get_oauth_errors(sandbox_info, data, error):
    response = token_request(sandbox_info, data)

    assert response.status_code == 400
    assert response.json()["error"] == error


def test_json_body_is_refused_as_invalid_request(sandbox_info):
    response = requests.post(
        f"{sandbox_info['host']}/oidc/v1/token", json={"grant_type": "client_credentials"}, timeout=10
    )

    assert response.status_code == 400 and response.json()["error"] == "invalid_request"


def exchange(info: dict, subject_token: str, **extra: str) -> requests.Response:
    data = {
        "grant_type": "urn:ietf:params:oauth:grant-type:token-exchange",
        "subject_token": subject_token,
        "subject_token_type": "urn:ietf:params:oauth:token-type:jwt",
        "scope": "all-apis",
        **extra,
    }
    return token_request(info, data)


def test_token_exchange_gives_the_policy_service_principal(sandbox_info):
    response = exchange(sandbox_info, idp_token(sandbox_info, "ci-pipeline@idp", "databricks"))

    claims = jwt.decode(response.json()["access_token"], options={"verify_signature": False})
    assert claims["sub"] == sandbox_info["service_principals"]["demo-sp"]["client_id"]
    assert claims["scope"] == "all-apis"


@pytest.mark.parametrize(
    ("subject", "audience"), [("intruder@idp", "databricks"), ("ci-pipeline@idp", "elsewhere")]
)
def test_untrusted_subject_or_audience_is_access_denied(sandbox_info, subject, audience):
    response = exchange(sandbox_info, idp_token(sandbox_info, subject, audience))

    assert response.status_code == 400
    assert response.json()["error"] == "access_denied"


def signed_by_a_foreign_key(issuer: str) -> str:
    """An otherwise valid IdP token for the federation policy, signed by a key nobody published."""
    foreign_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    claims = {"iss": issuer, "sub": "ci-pipeline@idp", "aud": "databricks", "iat": 1, "exp": 4102444800}
    return jwt.encode(claims, foreign_key, algorithm="RS256")


def test_token_from_an_untrusted_issuer_is_invalid_grant(sandbox_info):
    forged = signed_by_a_foreign_key("https://evil.example.com")

    response = exchange(sandbox_info, forged)

    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


def test_idp_token_signed_by_another_key_is_invalid_grant(sandbox_info):
    forged = signed_by_a_foreign_key(sandbox_info["idp"]["issuer"])

    response = exchange(sandbox_info, forged)

    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


def test_sign_in_page_lists_users_and_a_button_click_returns_a_code(sandbox_info):
    verifier = secrets.token_urlsafe(32)
    page = authorize(sandbox_info, verifier)
    assert page.status_code == 200
    assert "Alice Analyst" in page.text and "bob@example.com" in page.text

    form = {**hidden_fields(page.text), "user": "bob@example.com"}
    clicked = requests.post(
        f"{sandbox_info['host']}/oidc/v1/authorize", data=form, allow_redirects=False, timeout=10
    )

    query = redirect_query(clicked)
    assert clicked.status_code == 303 and query["state"] == "st4te"
    token = code_grant(sandbox_info, query["code"], verifier).json()["access_token"]
    assert jwt.decode(token, options={"verify_signature": False})["sub"] == "bob@example.com"


def test_cancelled_sign_in_redirects_with_access_denied(sandbox_info):
    page = authorize(sandbox_info, secrets.token_urlsafe(32))
    form = {**hidden_fields(page.text), "user": ""}

    cancelled = requests.post(
        f"{sandbox_info['host']}/oidc/v1/authorize", data=form, allow_redirects=False, timeout=10
    )

    assert redirect_query(cancelled)["error"] == "access_denied"


@pytest.mark.parametrize(
    "override",
    [{"client_id": "who-knows"}, {"redirect_uri": "https://evil.example.com/cb"}, {"redirect_uri": ""}],
)
def test_authorize_never_redirects_to_an_unregistered_place(sandbox_info, override):
    response = authorize(sandbox_info, secrets.token_urlsafe(32), **override)

    assert response.status_code == 400
    assert "location" not in response.headers


def test_authorize_without_pkce_redirects_with_invalid_request(sandbox_info):
    params = {"response_type": "code", "client_id": "databricks-cli", "redirect_uri": REDIRECT, "state": "s"}

    response = requests.get(
        f"{sandbox_info['host']}/oidc/v1/authorize", params=params, allow_redirects=False, timeout=10
    )

    assert redirect_query(response)["error"] == "invalid_request"


def test_discovery_documents_match_what_the_sdk_reads(sandbox_info):
    host = sandbox_info["host"]
    meta = requests.get(f"{host}/.well-known/databricks-config", timeout=10).json()
    oidc = requests.get(f"{meta['oidc_endpoint']}/.well-known/oauth-authorization-server", timeout=10).json()

    assert meta == {"oidc_endpoint": f"{host}/oidc", "workspace_id": "1234567890123456", "cloud": "aws"}
    assert oidc["token_endpoint"] == f"{host}/oidc/v1/token"
    assert oidc["authorization_endpoint"] == f"{host}/oidc/v1/authorize"
    assert oidc["code_challenge_methods_supported"] == ["S256"]
    assert "urn:ietf:params:oauth:grant-type:token-exchange" in oidc["grant_types_supported"]


def test_stats_count_token_requests_by_grant(start_sandbox):
    sb = start_sandbox()
    info = sb.info
    creds = info["service_principals"]["demo-sp"]
    for _ in range(3):
        token_request(
            info, {"grant_type": "client_credentials"}, auth=(creds["client_id"], creds["client_secret"])
        )
    token_request(info, {"grant_type": "refresh_token", "refresh_token": "x"})

    stats = requests.get(f"{sb.host}/_sandbox/stats", timeout=10).json()

    assert stats == {
        "token_requests": 4,
        "token_requests_by_grant": {"client_credentials": 3, "refresh_token": 1},
    }

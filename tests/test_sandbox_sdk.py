"""The real databricks-sdk, unmodified, authenticates against the sandbox in every way docs/PLATFORM.md#token-grants lists."""

from __future__ import annotations

from pathlib import Path

import jwt
import pytest
import requests
from databricks.sdk import WorkspaceClient
from databricks.sdk.core import Config
from databricks.sdk.errors import PermissionDenied, Unauthenticated
from support.sandbox_helpers import headless_consent, idp_token, m2m_token

DEMO_SP = "demo-sp"


def sp_client(info: dict, name: str = DEMO_SP) -> WorkspaceClient:
    creds = info["service_principals"][name]
    return WorkspaceClient(
        host=info["host"], client_id=creds["client_id"], client_secret=creds["client_secret"]
    )


@pytest.mark.timeout(30)
def test_m2m_config_resolves_against_the_sandbox_host(sandbox_info, clean_databricks_env):
    creds = sandbox_info["service_principals"][DEMO_SP]
    config = Config(
        host=sandbox_info["host"], client_id=creds["client_id"], client_secret=creds["client_secret"]
    )

    assert config.auth_type == "oauth-m2m"
    assert config.workspace_id == "1234567890123456"
    assert config.authenticate()["Authorization"].startswith("Bearer ey")


def test_service_principal_lists_apps_and_reads_itself(sandbox_info, clean_databricks_env):
    wc = sp_client(sandbox_info)

    apps = {app.name: app for app in wc.apps.list()}

    assert set(apps) == {"hello", "scoped", "stopped"}
    assert apps["hello"].url == sandbox_info["apps"]["hello"]["url"]
    assert apps["hello"].app_status.state.value == "RUNNING"
    assert apps["stopped"].compute_status.state.value == "STOPPED"
    assert apps["scoped"].user_api_scopes == ["sql", "files.files"]
    assert apps["scoped"].effective_user_api_scopes == [
        "sql",
        "files.files",
        "iam.access-control:read",
        "iam.current-user:read",
    ]
    assert apps["hello"].effective_user_api_scopes is None
    assert (
        apps["hello"].service_principal_client_id
        == sandbox_info["apps"]["hello"]["service_principal"]["client_id"]
    )
    assert apps["hello"].service_principal_name.startswith("app-")
    assert wc.current_user.me().user_name == sandbox_info["service_principals"][DEMO_SP]["client_id"]


def test_apps_list_follows_pages_of_one(sandbox_info, clean_databricks_env):
    wc = sp_client(sandbox_info)
    token = m2m_token(sandbox_info)

    first_page = requests.get(
        f"{sandbox_info['host']}/api/2.0/apps",
        params={"page_size": 1},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    ).json()

    assert len(first_page["apps"]) == 1 and first_page["next_page_token"]
    assert [a.name for a in wc.apps.list(page_size=1)] == ["hello", "scoped", "stopped"]


def test_bad_page_token_is_a_clear_400(sandbox_info):
    response = requests.get(
        f"{sandbox_info['host']}/api/2.0/apps",
        params={"page_token": "garbage!"},
        headers={"Authorization": f"Bearer {m2m_token(sandbox_info)}"},
        timeout=10,
    )

    assert response.status_code == 400
    assert response.json()["error_code"] == "INVALID_PARAMETER_VALUE"


def test_pat_reads_current_user(sandbox_info, clean_databricks_env):
    wc = WorkspaceClient(host=sandbox_info["host"], token=sandbox_info["users"]["alice@example.com"]["pat"])

    me = wc.current_user.me()

    assert wc.config.auth_type == "pat"
    assert me.user_name == "alice@example.com"
    assert me.display_name == "Alice Analyst"


def test_workspace_refuses_missing_and_unknown_credentials(sandbox_info, clean_databricks_env):
    host = sandbox_info["host"]
    missing = requests.get(f"{host}/api/2.0/preview/scim/v2/Me", timeout=10)
    wc = WorkspaceClient(host=host, token="dapi" + "0" * 32)

    assert missing.status_code == 401
    assert set(missing.json()) == {"error_code", "message"}
    with pytest.raises(Unauthenticated):
        wc.current_user.me()


def test_permissions_need_can_manage(sandbox_info, clean_databricks_env):
    host = sandbox_info["host"]
    alice = WorkspaceClient(host=host, token=sandbox_info["users"]["alice@example.com"]["pat"])
    bob = WorkspaceClient(host=host, token=sandbox_info["users"]["bob@example.com"]["pat"])

    acl = alice.apps.get_permissions("hello").access_control_list
    levels = {
        (e.user_name or e.service_principal_name): e.all_permissions[0].permission_level.value
        for e in acl
        if not e.group_name
    }

    assert levels == {
        "alice@example.com": "CAN_MANAGE",
        sandbox_info["service_principals"][DEMO_SP]["client_id"]: "CAN_USE",
    }
    with pytest.raises(PermissionDenied):
        bob.apps.get_permissions("hello")


def test_u2m_authorization_code_with_pkce_carries_custom_scopes(sandbox_info):
    credentials = headless_consent(
        sandbox_info["host"], "alice@example.com", ["sql", "files.files", "offline_access"]
    )
    token = credentials.token()
    claims = jwt.decode(token.access_token, options={"verify_signature": False})

    assert claims["scope"].split() == ["sql", "files.files", "offline_access"]
    assert claims["sub"] == "alice@example.com"
    assert claims["client_id"] == "databricks-cli"
    assert token.refresh_token


def test_refresh_grant_returns_a_new_token_with_the_same_scopes(sandbox_info):
    credentials = headless_consent(sandbox_info["host"], "alice@example.com", ["all-apis", "offline_access"])
    first = credentials.token()

    refreshed = credentials.refresh()

    assert refreshed.access_token != first.access_token
    before = jwt.decode(first.access_token, options={"verify_signature": False})
    after = jwt.decode(refreshed.access_token, options={"verify_signature": False})
    assert after["scope"] == before["scope"] and after["sub"] == before["sub"]


def test_databricks_cli_profile_works_through_the_stand_in_cli(databricks_cli_profile):
    profile = databricks_cli_profile(user="alice@example.com")

    wc = WorkspaceClient(profile=profile)

    assert wc.config.auth_type == "databricks-cli"
    assert wc.current_user.me().user_name == "alice@example.com"
    token = Config(profile=profile).oauth_token().access_token
    assert jwt.decode(token, options={"verify_signature": False})["sub"] == "alice@example.com"


def test_federation_exchanges_an_idp_token_for_a_workspace_token(
    sandbox_info, tmp_path: Path, clean_databricks_env
):
    subject_file = tmp_path / "subject.jwt"
    subject_file.write_text(idp_token(sandbox_info, "ci-pipeline@idp", "databricks"), encoding="utf-8")
    sp_id = sandbox_info["service_principals"][DEMO_SP]["client_id"]

    config = Config(
        host=sandbox_info["host"],
        client_id=sp_id,
        oidc_token_filepath=str(subject_file),
        auth_type="file-oidc",
    )
    wc = WorkspaceClient(config=config)

    assert wc.current_user.me().user_name == sp_id


def test_issued_tokens_verify_against_the_published_jwks(sandbox_info):
    token = m2m_token(sandbox_info)
    jwks_uri = requests.get(
        f"{sandbox_info['host']}/oidc/.well-known/oauth-authorization-server", timeout=10
    ).json()["jwks_uri"]

    key = jwt.PyJWKClient(jwks_uri).get_signing_key_from_jwt(token)
    claims = jwt.decode(
        token,
        key.key,
        algorithms=["RS256"],
        audience="1234567890123456",
        issuer=f"{sandbox_info['host']}/oidc",
    )

    header = jwt.get_unverified_header(token)
    assert header["typ"] == "at+jwt" and header["alg"] == "RS256" and header["kid"] == key.key_id
    assert {"client_id", "scope", "iss", "aud", "sub", "iat", "exp", "jti"} <= set(claims)
    assert claims["exp"] - claims["iat"] == 3600


def test_idp_tokens_verify_against_the_idp_jwks(sandbox_info):
    token = idp_token(sandbox_info, "someone@idp", "databricks")
    jwks = jwt.PyJWKClient(sandbox_info["host"] + "/idp/jwks.json")

    claims = jwt.decode(
        token,
        jwks.get_signing_key_from_jwt(token).key,
        algorithms=["RS256"],
        audience="databricks",
        issuer=sandbox_info["idp"]["issuer"],
    )

    assert claims["sub"] == "someone@idp"

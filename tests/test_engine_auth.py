"""Every auth method gets a token from the sandbox and calls the sample app; waits are bounded."""

from __future__ import annotations

import socket
import threading
import time

import pytest
import requests
from support.sandbox_helpers import default_config, idp_token, m2m_token, user_token

from explorer.auth import METHODS, AuthFailed
from explorer.model import RequestSpec
from explorer.session import ExplorerSession

DEMO_SP = "demo-sp"


def app_url(info: dict, app: str = "hello", path: str = "/api/hello") -> str:
    return info["apps"][app]["url"] + path


def sp_fields(info: dict, sp: str = DEMO_SP) -> dict[str, str]:
    creds = info["service_principals"][sp]
    return {"host": info["host"], "client_id": creds["client_id"], "client_secret": creds["client_secret"]}


def get(session: ExplorerSession, url: str, timeout: float = 10.0):
    return session.send(RequestSpec("GET", url, timeout=timeout))


def token_requests(host: str) -> int:
    return requests.get(f"{host}/_sandbox/stats", timeout=5).json()["token_requests"]


@pytest.fixture
def session():
    s = ExplorerSession()
    yield s
    s.close()


# --- one story per method -----------------------------------------------------------------------


def test_m2m_service_principal_calls_the_sample_app(sandbox_info, clean_databricks_env, session):
    connection = session.connect("m2m", sp_fields(sandbox_info))

    exchange = get(session, app_url(sandbox_info))

    assert connection.ok, connection.findings
    assert connection.auth.identity == sandbox_info["service_principals"][DEMO_SP]["client_id"]
    assert connection.auth.details["display_name"] == DEMO_SP  # named from SCIM Me, not just its id
    assert connection.token.kind == "oauth" and connection.token.scopes == ["all-apis"]
    assert exchange.response.status == 200
    assert exchange.response.json["message"] == "Hello, World!"
    assert exchange.findings == []


def test_m2m_reads_the_databricks_env_vars(sandbox_info, clean_databricks_env, monkeypatch, session):
    fields = sp_fields(sandbox_info)
    monkeypatch.setenv("DATABRICKS_HOST", fields["host"])
    monkeypatch.setenv("DATABRICKS_CLIENT_ID", fields["client_id"])
    monkeypatch.setenv("DATABRICKS_CLIENT_SECRET", fields["client_secret"])

    connection = session.connect("m2m", {})

    assert connection.ok, connection.findings
    assert "from $DATABRICKS_CLIENT_SECRET" in connection.auth.source
    assert get(session, app_url(sandbox_info)).response.status == 200


def test_app_method_uses_what_the_platform_injects(sandbox_info, clean_databricks_env, monkeypatch, session):
    fields = sp_fields(sandbox_info)
    monkeypatch.setenv("DATABRICKS_HOST", fields["host"])
    monkeypatch.setenv("DATABRICKS_CLIENT_ID", fields["client_id"])
    monkeypatch.setenv("DATABRICKS_CLIENT_SECRET", fields["client_secret"])

    # Values typed into a form are ignored: the app method is the platform's identity only.
    connection = session.connect("app", {"client_id": "someone-else", "client_secret": "typed-in-secret"})

    assert connection.ok, connection.findings
    assert connection.auth.method == "app" and connection.auth.identity == fields["client_id"]
    assert get(session, app_url(sandbox_info)).response.status == 200


def test_app_method_outside_an_app_says_to_use_m2m(clean_databricks_env, session):
    connection = session.connect("app", {})

    assert not connection.ok
    assert connection.findings[0].code == "AUTH_FAILED"
    assert "--auth m2m" in connection.findings[0].fix


def test_pasted_token_takes_the_workspace_from_its_issuer(
    sandbox_info, clean_databricks_env, monkeypatch, session
):
    monkeypatch.setenv("MY_TOKEN", m2m_token(sandbox_info))

    connection = session.connect("token", {"token_env": "MY_TOKEN"})
    apps, findings = session.list_apps()

    assert connection.ok and connection.auth.host == sandbox_info["host"]
    assert "from $MY_TOKEN" in connection.auth.source
    assert findings == [] and {a.name for a in apps} == {"hello", "scoped", "stopped"}
    assert get(session, app_url(sandbox_info)).response.status == 200


def test_user_method_sends_the_forwarded_user_token(sandbox_info, clean_databricks_env, session):
    forwarded = user_token(sandbox_info["host"], "alice@example.com", ["all-apis"])

    connection = session.connect("user", {"token": forwarded})
    exchange = get(session, app_url(sandbox_info, path="/api/whoami"))

    assert connection.ok and connection.auth.identity == "alice@example.com"
    assert exchange.response.status == 200
    assert exchange.response.json["email"] == "alice@example.com"


def test_federated_exchanges_an_idp_token_for_the_service_principal(
    sandbox_info, clean_databricks_env, tmp_path, session
):
    subject_file = tmp_path / "idp.jwt"
    subject_file.write_text(idp_token(sandbox_info, "ci-pipeline@idp"), encoding="utf-8")
    sp_id = sandbox_info["service_principals"][DEMO_SP]["client_id"]

    connection = session.connect(
        "federated",
        {"host": sandbox_info["host"], "subject_token_file": str(subject_file), "client_id": sp_id},
    )
    exchange = get(session, app_url(sandbox_info, path="/api/whoami"))

    assert connection.ok, connection.findings
    assert connection.token.kind == "oauth" and connection.auth.identity == sp_id
    assert exchange.response.status == 200 and exchange.response.json["email"] == sp_id


def test_federation_refused_for_an_untrusted_subject(sandbox_info, clean_databricks_env, session):
    connection = session.connect(
        "federated", {"host": sandbox_info["host"], "subject_token": idp_token(sandbox_info, "intruder@idp")}
    )

    assert not connection.ok
    assert connection.findings[0].code == "AUTH_FAILED"
    assert "federation policy" in connection.findings[0].fix


def test_browser_sign_in_with_custom_scopes_reaches_the_scoped_app(
    sandbox_info, clean_databricks_env, session
):
    url = session.begin_browser(
        {
            "host": sandbox_info["host"],
            "scopes": "sql files.files",
            "port": "0",
            "login_hint": "alice@example.com",
        }
    )
    # The "browser": auto-approve redirects straight to the local listener.
    landing = requests.get(url, timeout=10)
    connection = session.wait_browser(timeout=10)
    exchange = get(session, app_url(sandbox_info, "scoped", "/api/whoami"))

    assert landing.status_code == 200 and "Signed in" in landing.text
    assert connection.ok, connection.findings
    assert {"sql", "files.files", "offline_access"} <= set(connection.token.scopes)
    assert exchange.response.status == 200 and exchange.response.json["email"] == "alice@example.com"


def test_browser_paste_back_mode(sandbox_info, clean_databricks_env, session):
    url = session.begin_browser(
        {"host": sandbox_info["host"], "login_hint": "alice@example.com"}, listen=False
    )
    redirected = requests.get(url, allow_redirects=False, timeout=10).headers["Location"]

    connection = session.complete_browser(redirected)

    assert not session.browser_listening
    assert redirected.startswith("http://localhost:8020")
    assert connection.ok and connection.auth.identity == "alice@example.com"
    assert get(session, app_url(sandbox_info)).response.status == 200


def test_browser_paste_of_a_url_without_code_is_explained(sandbox_info, clean_databricks_env, session):
    session.begin_browser({"host": sandbox_info["host"]}, listen=False)

    connection = session.complete_browser("http://localhost:8020/?state=x")

    assert not connection.ok and "no `code`" in connection.findings[0].message


def test_browser_wait_is_bounded(sandbox_info, clean_databricks_env, session):
    session.begin_browser({"host": sandbox_info["host"], "port": "0"})

    connection = session.wait_browser(timeout=0.5)

    assert not connection.ok and "within 0.5 s" in connection.findings[0].message


def test_profile_runs_the_databricks_cli(sandbox_info, databricks_cli_profile, session):
    profile = databricks_cli_profile(user="alice@example.com")

    connection = session.connect("profile", {"profile": profile})
    exchange = get(session, app_url(sandbox_info, path="/api/whoami"))

    assert connection.ok, connection.findings
    assert "auth type databricks-cli" in connection.auth.source
    assert exchange.response.status == 200 and exchange.response.json["email"] == "alice@example.com"


def test_profile_with_service_principal_keys(sandbox_info, clean_databricks_env, tmp_path, session):
    fields = sp_fields(sandbox_info)
    config = tmp_path / "cfg"
    config.write_text(
        f"[sp]\nhost = {fields['host']}\nclient_id = {fields['client_id']}\nclient_secret = {fields['client_secret']}\n",
        encoding="utf-8",
    )

    connection = session.connect("profile", {"profile": "sp", "config_file": str(config)})

    assert connection.ok, connection.findings
    assert get(session, app_url(sandbox_info)).response.status == 200


def test_profile_without_the_cli_suggests_browser(
    sandbox_info, clean_databricks_env, tmp_path, monkeypatch, session
):
    config = tmp_path / "cfg"
    config.write_text(f"[dev]\nhost = {sandbox_info['host']}\nauth_type = databricks-cli\n", encoding="utf-8")
    monkeypatch.setenv("PATH", str(tmp_path))  # no `databricks` anywhere

    connection = session.connect("profile", {"profile": "dev", "config_file": str(config)})

    assert not connection.ok
    finding = connection.findings[0]
    assert finding.code == "AUTH_FAILED" and "no `databricks` CLI" in finding.message
    assert f"--auth browser --host {sandbox_info['host']}" in finding.fix


def test_unknown_profile_lists_the_ones_there(clean_databricks_env, tmp_path, session):
    config = tmp_path / "cfg"
    config.write_text("[one]\nhost = https://a.example.com\ntoken = x\n", encoding="utf-8")

    connection = session.connect("profile", {"profile": "two", "config_file": str(config)})

    assert not connection.ok and "profiles there: one" in connection.findings[0].message
    assert "databricks auth login" in connection.findings[0].fix


# --- tokens are reused and refreshed ------------------------------------------------------------


def test_m2m_makes_one_token_request_for_many_sends(sandbox_info, clean_databricks_env, session):
    host = sandbox_info["host"]
    session.connect("m2m", sp_fields(sandbox_info))
    before = token_requests(host)

    statuses = {get(session, app_url(sandbox_info)).response.status for _ in range(1000)}

    assert statuses == {200}
    assert token_requests(host) == before  # the token fetched at connect time served all 1,000


def test_browser_refresh_token_replaces_an_expired_access_token(start_sandbox, clean_databricks_env, session):
    sb = start_sandbox(default_config(token_ttl_seconds=2))
    info = sb.info
    url = session.begin_browser({"host": info["host"], "port": "0", "login_hint": "alice@example.com"})
    requests.get(url, timeout=10)
    first = session.wait_browser(timeout=10)
    time.sleep(2.5)  # the first access token is now past its expiry

    exchange = get(session, app_url(info))

    stats = requests.get(f"{info['host']}/_sandbox/stats", timeout=5).json()["token_requests_by_grant"]
    assert first.ok
    assert exchange.response.status == 200
    assert exchange.token.masked != first.token.masked
    assert stats.get("refresh_token", 0) >= 1


# --- bounded failures -----------------------------------------------------------------------------


def test_unreachable_workspace_is_a_network_finding(clean_databricks_env, session):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again when the block ends: nothing listens there

    connection = session.connect(
        "m2m", {"host": f"http://127.0.0.1:{port}", "client_id": "a", "client_secret": "b"}
    )

    assert not connection.ok and connection.findings[0].code == "NETWORK_CONNECT"


def test_unknown_workspace_name_is_a_dns_finding(clean_databricks_env, session):
    connection = session.connect(
        "m2m", {"host": "https://workspace.invalid", "client_id": "a", "client_secret": "b"}
    )

    assert not connection.ok and connection.findings[0].code == "NETWORK_DNS"


@pytest.mark.timeout(60)
def test_a_workspace_that_never_answers_fails_within_the_bound(clean_databricks_env):
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # accepts connections (the kernel does) but never answers
    session = ExplorerSession(timeout=1.0)
    try:
        host = f"http://127.0.0.1:{silent.getsockname()[1]}"
        connection = session.connect("m2m", {"host": host, "client_id": "a", "client_secret": "b"})
    finally:
        session.close()
        silent.close()

    assert not connection.ok and connection.findings[0].code == "TIMEOUT"


def test_wrong_client_secret_is_auth_failed_without_the_secret(sandbox_info, clean_databricks_env, session):
    fields = {**sp_fields(sandbox_info), "client_secret": "wrong-secret-0123456789"}

    connection = session.connect("m2m", fields)

    finding = connection.findings[0]
    assert not connection.ok and finding.code == "AUTH_FAILED"
    assert "DATABRICKS_CLIENT_ID/SECRET" in finding.fix
    assert "wrong-secret-0123456789" not in finding.message + finding.fix


def test_missing_fields_are_named(clean_databricks_env):
    with pytest.raises(AuthFailed) as failed:
        METHODS["m2m"].resolve({"host": "https://x.example.com", "client_id": "abc"})

    assert "Client secret" in failed.value.findings[0].message
    assert "$DATABRICKS_CLIENT_SECRET" in failed.value.findings[0].fix


def test_credentials_never_show_secrets_in_repr(sandbox_info, clean_databricks_env):
    credentials = METHODS["m2m"].resolve(sp_fields(sandbox_info))

    text = repr(credentials)

    assert credentials.token and credentials.token not in text
    assert sp_fields(sandbox_info)["client_secret"] not in text


def test_concurrent_sends_share_one_connection_safely(sandbox_info, clean_databricks_env, session):
    before = token_requests(sandbox_info["host"])
    assert session.connect("m2m", sp_fields(sandbox_info)).ok
    statuses: list[int] = []
    callers: list[str] = []

    def worker() -> None:
        for _ in range(10):
            exchange = get(session, app_url(sandbox_info, path="/api/whoami"))
            statuses.append(exchange.response.status)
            callers.append(exchange.response.json["email"])

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert statuses == [200] * 80
    assert len(session.history.rows()) == 80
    # one connection: every call as the same service principal, on one token fetched once
    assert set(callers) == {sp_fields(sandbox_info)["client_id"]}
    assert token_requests(sandbox_info["host"]) - before == 1


def test_every_method_declares_its_fields():
    for method in METHODS.values():
        names = [f.name for f in method.fields]
        assert len(names) == len(set(names)), method.name
    secrets = {(m.name, f.name) for m in METHODS.values() for f in m.fields if f.secret}
    assert ("m2m", "client_secret") in secrets and ("token", "token") in secrets


def test_a_failed_connect_keeps_the_previous_working_connection(sandbox_info, clean_databricks_env, session):
    working = session.connect("m2m", sp_fields(sandbox_info))
    assert working.ok
    failed = session.connect("m2m", {**sp_fields(sandbox_info), "client_secret": "wrong"})
    assert not failed.ok and failed.findings  # the attempt says why it failed…
    assert session.connection is working  # …and the connection that worked is still the session's
    assert get(session, app_url(sandbox_info)).response.status == 200

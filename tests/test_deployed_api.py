"""The explorer deployed as a Databricks App inside the sandbox (a `source` app from this repo's own
app.yaml), reached through its gateway: its own /api/ with a service principal's token, its UI
scripted per browser session, the outbound allowlist, and many users' slow calls in parallel."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests
from support.deployed import EXPLORER_SCOPES, USERS, Deployed, deployed_explorer, session_cookie
from support.sandbox_helpers import m2m_token
from support.ui_server import send_parts, ui_send

from explorer.ui.assets import BUILD_DIR, CACHE_CONTROL

pytestmark = pytest.mark.slow
ALICE, BOB = USERS


@pytest.fixture(scope="module")
def deployed() -> Iterator[Deployed]:
    with deployed_explorer() as d:
        yield d


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def connect(client: Any, method: str) -> dict[str, Any]:
    _card, connection_text = client.predict(method=method, api_name="/connect")
    return json.loads(connection_text)


def send(client: Any, url: str, method: str = "GET") -> dict[str, Any]:
    """Send through the UI's `send` event; returns the response digest (the hidden summary output)."""
    outputs = ui_send(client, url, method=method, timeout=60)
    summary_text = send_parts(outputs)["summary"]
    return json.loads(summary_text)


def test_a_service_principal_calls_the_explorers_own_api(deployed: Deployed) -> None:
    caller = deployed.info["service_principals"]["caller-sp"]["client_id"]
    token = m2m_token(deployed.info, "caller-sp", scope=" ".join(["all-apis", *EXPLORER_SCOPES]))

    health = requests.get(deployed.url + "/api/health", headers=bearer(token), timeout=10)
    assert health.status_code == 200
    assert health.json()["status"] == "ok" and health.json()["app"] == "explorer"
    assert health.json()["deployed"] is True and health.json()["default_auth_method"] == "app"

    whoami = requests.get(deployed.url + "/api/whoami", headers=bearer(token), timeout=10)
    assert whoami.status_code == 200
    seen = whoami.json()
    assert seen["email"] == caller and seen["request_id"]
    # The gateway forwards a token for the caller with the explorer's scopes: shown masked only.
    assert seen["access_token"]["subject"] == caller and "…" in seen["access_token"]["masked"]
    assert set(EXPLORER_SCOPES) <= set(seen["access_token"]["scopes"])
    assert token not in whoami.text and seen["authorization"] is None


def test_the_explorers_api_is_guarded_by_the_gateway(deployed: Deployed) -> None:
    outsider = m2m_token(deployed.info, "outsider-sp")
    refused = requests.get(deployed.url + "/api/whoami", headers=bearer(outsider), timeout=10)
    assert refused.status_code == 403  # no CAN_USE on the explorer
    anonymous = requests.get(deployed.url + "/api/health", allow_redirects=False, timeout=10)
    assert anonymous.status_code == 302  # to the sign-in page


def test_app_and_user_methods_send_as_the_app_and_as_the_user(deployed: Deployed) -> None:
    client = deployed.ui_client(ALICE)
    as_app = connect(client, "app")
    assert as_app["ok"] and as_app["identity"] == deployed.explorer_sp
    summary = send(client, deployed.app_url("hello") + "/api/whoami")
    assert summary["response"]["status"] == 200
    assert summary["response"]["body"]["email"] == deployed.explorer_sp

    as_user = connect(client, "user")
    assert as_user["ok"] and as_user["identity"] == ALICE
    assert set(EXPLORER_SCOPES) <= set(as_user["token"]["scopes"])
    summary = send(client, deployed.app_url("scoped") + "/api/whoami")
    assert summary["response"]["status"] == 200, summary
    assert summary["response"]["body"]["email"] == ALICE
    assert summary["token"]["missing_scopes"] == []


def test_credentials_never_reach_a_host_outside_the_allowlist(deployed: Deployed) -> None:
    client = deployed.ui_client(ALICE)
    for method in ("app", "user"):
        assert connect(client, method)["ok"]
        summary = send(client, deployed.canary.url + "/api/hello")
        assert summary["response"] is None
        assert [f["code"] for f in summary["findings"]][:1] == ["HOST_NOT_ALLOWED"]

        # An allowed host that redirects elsewhere: the redirect is shown, never followed.
        summary = send(client, deployed.redirector.url + "/api/hop")
        assert summary["response"]["status"] == 302
        assert (deployed.redirector.requests[-1].header("Authorization") or "").startswith("Bearer ")

    # Connecting to a workspace that is not allowed sends no secret there either.
    refused = json.loads(
        client.predict(
            method="m2m", host=deployed.canary.url, client_id="x", client_secret="y", api_name="/connect"
        )[1]
    )
    assert not refused["ok"] and "HOST_NOT_ALLOWED" in json.dumps(refused)
    # Not connected now: still nothing leaves for a host off the list (no proxy into the network).
    summary = send(client, deployed.canary.url + "/api/hello")
    assert [f["code"] for f in summary["findings"]][:1] == ["HOST_NOT_ALLOWED"]
    _table, _endpoints, listing = client.predict(
        app_url=deployed.canary.url, query="", api_name="/list_endpoints"
    )
    assert "HOST_NOT_ALLOWED" in listing
    assert deployed.canary.requests == []


def test_sixteen_sessions_slow_calls_overlap(deployed: Deployed) -> None:
    sessions = 16
    explorer_sp = deployed.info["apps"]["explorer"]["service_principal"]
    token = requests.post(
        f"{deployed.info['host']}/oidc/v1/token",
        data={"grant_type": "client_credentials", "scope": "all-apis"},
        auth=(explorer_sp["client_id"], explorer_sp["client_secret"]),
        timeout=10,
    ).json()["access_token"]
    hello = deployed.app_url("hello")
    requests.post(hello + "/api/stats/reset", headers=bearer(token), timeout=10).raise_for_status()

    cookie = session_cookie(deployed.sign_in(ALICE))

    def open_tab(_: int) -> Any:  # a browser session per tab, connected as the explorer's SP
        client = deployed.ui_client(ALICE, cookie)
        assert connect(client, "app")["ok"]
        return client

    with ThreadPoolExecutor(4) as pool:
        clients = list(pool.map(open_tab, range(sessions)))
    statuses: list[int] = []

    def slow_call(client: Any) -> None:
        summary = send(client, hello + "/api/slow?ms=6000")
        statuses.append(summary["response"]["status"])

    threads = [threading.Thread(target=slow_call, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert statuses == [200] * sessions
    stats = requests.get(hello + "/api/stats", headers=bearer(token), timeout=10).json()["slow"]
    # The sample app saw every one of them in flight at once: the explorer queued none.
    assert stats["total"] == sessions and stats["max_concurrent"] == sessions, stats


def test_the_explorer_documents_its_own_api_under_api(deployed: Deployed) -> None:
    token = m2m_token(deployed.info, "caller-sp", scope=" ".join(["all-apis", *EXPLORER_SCOPES]))
    document = requests.get(deployed.url + "/api/openapi.json", headers=bearer(token), timeout=10)
    assert document.status_code == 200
    assert {"/api/health", "/api/whoami"} <= set(document.json()["paths"])


def test_the_deployed_log_holds_no_secret(deployed: Deployed) -> None:
    client = deployed.ui_client(BOB)
    assert connect(client, "app")["ok"]
    send(client, deployed.app_url("hello") + "/api/whoami")
    assert connect(client, "user")["ok"]
    send(client, deployed.app_url("scoped") + "/api/whoami")
    user_token = client.predict(api_name="/reveal_token")  # the page's explicit reveal
    assert user_token.count(".") == 2
    secrets = [user_token, deployed.info["apps"]["explorer"]["service_principal"]["client_secret"]]
    log = deployed.log()
    # The platform's port, on the address the sandbox gives its apps (loopback: only its gateway calls them).
    assert "listening on 127.0.0.1:" in log
    for secret in secrets:
        assert secret not in log


def test_the_page_and_its_build_files_come_through_the_gateway_compressed(
    deployed: Deployed,
) -> None:
    session = deployed.sign_in(ALICE)
    page = session.get(deployed.url + "/", timeout=10)
    assert page.status_code == 200
    assert page.headers["content-encoding"] == "gzip" and "window.gradio_config" in page.text
    name = re.findall(r"\./assets/([\w.-]+\.js)", page.text)[0]
    answer = session.get(f"{deployed.url}/assets/{name}", headers={"Accept-Encoding": "br"}, timeout=10)
    assert answer.status_code == 200
    assert answer.headers["content-encoding"] == "br"  # requests decodes it (brotli is installed)
    assert answer.content == (BUILD_DIR / name).read_bytes()
    assert answer.headers["cache-control"] == CACHE_CONTROL.decode()

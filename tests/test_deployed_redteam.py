"""Red team against the real deployment: this repo deployed as a `source` app in the sandbox, a
signed-in user driving its UI with gradio_client through the gateway, an allowed "attacker"
workspace whose OAuth metadata points at a canary off the allowlist. The explorer's own client
secret is searched for in every output; the canary must receive nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from support.deployed import USERS, Deployed, deployed_explorer
from support.hostile import hostile_workspace
from support.recording_server import RecordingServer, recording_server
from test_deployed_api import connect, send

pytestmark = pytest.mark.slow
ALICE, BOB = USERS


class Attack:
    def __init__(self, deployed: Deployed, oidc: RecordingServer, token: RecordingServer) -> None:
        self.deployed = deployed
        self.oidc, self.token = oidc, token
        self.secret = deployed.info["apps"]["explorer"]["service_principal"]["client_secret"]

    def assert_clean(self, *outputs: Any) -> None:
        assert self.deployed.canary.requests == [], [r.path for r in self.deployed.canary.requests]
        text = json.dumps(outputs, default=str)
        assert self.secret not in text
        assert self.secret not in self.deployed.log()


@pytest.fixture(scope="module")
def attack() -> Iterator[Attack]:
    with (
        recording_server() as canary,
        hostile_workspace(canary.url, "oidc") as oidc,
        hostile_workspace(canary.url, "token") as token,
        deployed_explorer(canary, extra_allowed=(oidc.url, token.url)) as deployed,
    ):
        yield Attack(deployed, oidc, token)


def raw_connect(client: Any, **fields: str) -> tuple[dict[str, Any], Any]:
    """/connect with fields the page does not even show (as a script would send them)."""
    card, connection_text = client.predict(api_name="/connect", **fields)
    return json.loads(connection_text), card


def reveal(client: Any) -> str:
    try:
        return str(client.predict(api_name="/reveal_token"))
    except Exception as refused:  # "No token yet: connect first."
        return str(refused)


def test_a_users_token_env_cannot_read_the_servers_secret(attack: Attack) -> None:
    client = attack.deployed.ui_client(ALICE)
    connection, card = raw_connect(client, method="token", token_env="DATABRICKS_CLIENT_SECRET")
    assert not connection["ok"]
    revealed = reveal(client)
    # A failed attempt keeps the connection that worked (Alice's own, if any): never the server's secret.
    assert "connect first" in revealed or connection.get("kept", {}).get("ok")
    attack.assert_clean(connection, card, revealed)


def test_m2m_with_empty_fields_does_not_borrow_the_servers_service_principal(attack: Attack) -> None:
    client = attack.deployed.ui_client(ALICE)
    for host in (attack.oidc.url, attack.token.url, attack.deployed.info["host"]):
        connection, card = raw_connect(client, method="m2m", host=host, client_id="", client_secret="")
        assert not connection["ok"] and "needs Client id" in json.dumps(connection)
        attack.assert_clean(connection, card, reveal(client))


def test_hostile_oauth_metadata_on_an_allowed_host_gets_no_secret(attack: Attack) -> None:
    client = attack.deployed.ui_client(ALICE)
    for host in (attack.oidc.url, attack.token.url):
        connection, card = raw_connect(
            client, method="m2m", host=host, client_id="someone", client_secret="typed-by-the-user-123"
        )
        assert not connection["ok"] and "HOST_NOT_ALLOWED" in json.dumps(connection)
        attack.assert_clean(connection, card)


def test_a_subject_token_file_on_the_server_is_never_read(attack: Attack) -> None:
    client = attack.deployed.ui_client(BOB)
    messages = set()
    for path in ("/proc/self/environ", "/no/such/file"):
        connection, card = raw_connect(
            client, method="federated", host=attack.deployed.info["host"], subject_token_file=path
        )
        assert not connection["ok"]
        messages.add(json.dumps(connection["findings"]))
        attack.assert_clean(connection, card)
    assert len(messages) == 1  # nothing tells whether a server file exists


def test_a_profile_naming_a_server_file_is_refused(attack: Attack) -> None:
    client = attack.deployed.ui_client(BOB)
    # Deployed, the method is not among the page's choices: Gradio itself refuses the value.
    with pytest.raises(Exception) as refused:
        raw_connect(client, method="profile", profile="DEFAULT", config_file="/proc/self/environ")
    said = getattr(refused.value, "message", None) or str(refused.value)
    assert "profile is not in the list of choices" in said
    attack.assert_clean(said)


def test_the_app_method_still_works_and_sends_as_the_explorer(attack: Attack) -> None:
    client = attack.deployed.ui_client(ALICE)
    assert connect(client, "app")["ok"]
    summary = send(client, attack.deployed.app_url("hello") + "/api/whoami")
    assert summary["response"]["status"] == 200
    assert summary["response"]["body"]["email"] == attack.deployed.explorer_sp
    attack.assert_clean(summary)


def test_another_user_cannot_drive_a_known_session(attack: Attack) -> None:
    alice = attack.deployed.ui_client(ALICE)
    assert connect(alice, "app")["ok"]
    bob = attack.deployed.ui_client(BOB)
    bob.session_hash = alice.session_hash  # a leaked session hash, replayed with Bob's sign-in
    with pytest.raises(Exception) as refused:
        bob.predict(api_name="/reveal_token")
    assert "another signed-in user" in (getattr(refused.value, "message", None) or str(refused.value))


def test_an_export_file_is_served_only_to_the_user_who_made_it(attack: Attack) -> None:
    from gradio_client import Client
    from support.deployed import session_cookie

    deployed = attack.deployed
    alice_cookie = session_cookie(deployed.sign_in(ALICE))
    alice = Client(
        deployed.url,
        verbose=False,
        analytics_enabled=False,
        headers={"Cookie": alice_cookie},
        download_files=False,
    )
    alice.predict(method="app", api_name="/startup")
    assert connect(alice, "app")["ok"]
    send(alice, deployed.app_url("hello") + "/api/hello")
    download, _note = alice.predict(fmt="HAR", api_name="/export_history")
    exported = download.get("value", download) if isinstance(download, dict) else download  # a shown button
    url = exported["url"] if isinstance(exported, dict) else getattr(exported, "url", None)
    assert url and "explorer-export-" in url

    mine = requests.get(url, headers={"Cookie": alice_cookie}, timeout=10)
    assert mine.status_code == 200 and json.loads(mine.text)["log"]["entries"]
    bob_cookie = session_cookie(deployed.sign_in(BOB))
    theirs = requests.get(url, headers={"Cookie": bob_cookie}, timeout=10)
    assert theirs.status_code == 404 and "entries" not in theirs.text

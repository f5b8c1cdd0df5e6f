"""The workbench sends as a chosen identity per tab ("Send as"), through the page's API with
gradio_client against the sandbox: the demo's access-audit identities (demo-sp, Alice, Bob) as the
Matrix view has them, each connected once on demand, its answer in the tab and in the page's
History with its name, and none of its secrets in any output."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from gradio_client import Client
from support.ui_server import running_ui, send_parts, ui_send

from explorer.launch import demo_config, demo_identity_env

pytestmark = pytest.mark.filterwarnings("ignore:.*(no_silent_downcasting|copy keyword):DeprecationWarning")
AUDIT = Path(__file__).resolve().parents[1] / "examples" / "access-audit"
JWT = re.compile(r"eyJ[\w-]{8,}\.[\w-]{8,}\.[\w-]{8,}")
FORM = {"params": "", "header_lines": "", "body": "", "timeout": 30, "app_url": ""}


@pytest.fixture(scope="module")
def identity_env(sandbox_info: dict[str, Any]) -> dict[str, str]:
    """What the demo's identity files read (server-side), fetched once so the test knows the secrets;
    without Alice's token, so one identity cannot connect."""
    values = demo_identity_env(sandbox_info)
    assert values.get("BOB_TOKEN") and values.get("DATABRICKS_CLIENT_SECRET")
    values.pop("ALICE_TOKEN", None)
    return values


@pytest.fixture(scope="module")
def ui_url(sandbox_info: dict[str, Any], identity_env: dict[str, str]) -> Iterator[str]:
    config = replace(demo_config(sandbox_info), identity_env=lambda: dict(identity_env), autoconnect=False)
    with running_ui(config) as url:
        yield url


def connected(ui_url: str, sandbox_info: dict[str, Any]) -> Client:
    """A new page: connected as the demo service principal, the apps listed, access-audit open."""
    client = Client(ui_url, verbose=False)
    sp = sandbox_info["service_principals"]["demo-sp"]
    client.predict(
        method="m2m", host=sandbox_info["host"], client_id=sp["client_id"], client_secret=sp["client_secret"],
        api_name="/connect",
    )  # fmt: skip
    client.predict(current=None, api_name="/list_apps")
    client.predict(location=str(AUDIT), query="", api_name="/open_collection")
    return client


def test_one_request_sent_as_bob_and_as_demo_sp(
    ui_url: str, sandbox_info: dict[str, Any], identity_env: dict[str, str]
) -> None:
    client = connected(ui_url, sandbox_info)
    whoami = sandbox_info["apps"]["hello"]["url"] + "/api/whoami"

    bob = send_parts(ui_send(client, whoami, send_as="bob"))
    summary = json.loads(bob["summary"])
    assert summary["response"]["status"] == 403, summary  # as the matrix shows for Bob: no CAN_USE
    assert "NO_CAN_USE" in [f["code"] for f in summary["findings"]]
    assert summary["sent_as"] == "bob" and "as bob" in bob["status"]
    assert summary["auth"]["method"] == "token"
    assert "DATABRICKS_TOKEN" in bob["snippet"] and "DATABRICKS_CLIENT_SECRET" not in bob["snippet"]

    sp = send_parts(ui_send(client, whoami, send_as="demo-sp"))
    summary = json.loads(sp["summary"])
    assert summary["response"]["status"] == 200 and summary["sent_as"] == "demo-sp"
    assert summary["auth"]["method"] == "m2m" and "as demo-sp" in sp["status"]
    assert "DATABRICKS_CLIENT_SECRET" in sp["snippet"]  # the snippet is of the identity's auth method

    page = send_parts(ui_send(client, whoami, send_as="this connection"))
    summary = json.loads(page["summary"])
    assert summary["response"]["status"] == 200 and "sent_as" not in summary
    assert 'class="sent-as"' not in page["status"]

    # The same Bob again: the identity connected on the first send is reused.
    again = json.loads(send_parts(ui_send(client, whoami, send_as="bob"))["summary"])
    assert again["response"]["status"] == 403 and again["sent_as"] == "bob"

    # The page's History has every send, each with who sent it.
    history = client.predict(api_name="/history")
    rows = [" ".join(str(v) for v in row) for row in history["data"]]
    assert len(rows) == 4, rows
    assert "as bob" in rows[0] and "as bob" in rows[3] and "as demo-sp" in rows[2]
    assert " · as " not in rows[1] and "m2m" in rows[1]  # the page's own connection: no name

    exported, note = client.predict(fmt="HAR", api_name="/export_history")
    har = Path(exported if isinstance(exported, str) else exported["value"]).read_text("utf-8")
    assert har.count("/api/whoami") >= 4 and "4 exchanges" in note

    # No identity's secret in anything the page got back.
    secrets = [identity_env["BOB_TOKEN"], identity_env["DATABRICKS_CLIENT_SECRET"]]
    texts = [json.dumps(o, default=str) for o in (*bob.values(), *sp.values(), *page.values())]
    texts += [json.dumps(history, default=str), har]
    for text in texts:
        assert not any(s in text for s in secrets)
        assert not JWT.search(text), JWT.search(text)


def test_the_tab_keeps_its_identity_and_a_failed_one_is_a_message(
    ui_url: str, sandbox_info: dict[str, Any]
) -> None:
    client = connected(ui_url, sandbox_info)
    whoami = sandbox_info["apps"]["hello"]["url"] + "/api/whoami"
    assert json.loads(send_parts(ui_send(client, whoami, send_as="bob"))["summary"])["sent_as"] == "bob"

    # A new tab starts with this connection; switching back restores Bob.
    outputs = client.predict(method="GET", url=whoami, **FORM, send_as="bob", api_name="/new_tab")
    tabs = next(json.loads(o) for o in outputs if isinstance(o, str) and o.startswith('[{"id": "t'))
    assert [t["send_as"] for t in tabs] == ["bob", "this connection"]
    outputs = client.predict(
        method="GET", url=whoami, **FORM, send_as="this connection", tab="t1", api_name="/switch_tab"
    )
    assert "bob" in outputs and json.loads(outputs[-1])["sent_as"] == "bob"

    # Alice's token is not in the environment: her connection fails, and the tab says so (no traceback).
    alice = send_parts(ui_send(client, whoami, send_as="alice"))
    assert "Not sent" in alice["status"] and "Cannot send as “alice”" in alice["status"], alice["status"]
    unknown = send_parts(ui_send(client, whoami, send_as="nobody"))
    assert "Not sent" in unknown["status"] and "nobody" in unknown["status"]
    assert "bug" not in alice["status"] + unknown["status"]
    # ... and the next send as Bob still works.
    assert (
        json.loads(send_parts(ui_send(client, whoami, send_as="bob"))["summary"])["response"]["status"] == 403
    )

"""The UI is scriptable: gradio_client drives connect → list_apps → list_endpoints → send against the
real sandbox, with per-session state, and nothing secret comes back except through reveal_token."""

from __future__ import annotations

import html
import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from gradio_client import Client
from gradio_client.exceptions import AppError
from support.ports import free_port
from support.sandbox_helpers import m2m_token, user_token
from support.ui_server import running_ui, send_parts, ui_send

from explorer.ui.config import UIConfig

# Gradio's own queue code trips pandas 3 deprecations; nothing the explorer can change.
pytestmark = pytest.mark.filterwarnings("ignore:.*(no_silent_downcasting|copy keyword):DeprecationWarning")


@pytest.fixture(scope="module")
def ui_url(sandbox: Any) -> Iterator[str]:
    """The explorer UI (not the demo: nothing preselected), served in-process on a free port."""
    with running_ui(UIConfig()) as url:
        yield url


@pytest.fixture
def client(ui_url: str) -> Client:
    return Client(ui_url, verbose=False)  # a new client is a new browser session


def demo_sp(info: dict[str, Any]) -> dict[str, str]:
    sp = info["service_principals"]["demo-sp"]
    return {"host": info["host"], "client_id": sp["client_id"], "client_secret": sp["client_secret"]}


def send(
    client: Client, url: str, method: str = "GET", body: str = "", headers: dict[str, str] | None = None
) -> dict[str, Any]:
    """Send through the UI's `send` event; returns the response digest (the hidden summary output)."""
    outputs = ui_send(client, url, method=method, body=body, headers=headers)
    parts = send_parts(outputs)
    summary = json.loads(parts["summary"])
    assert summary["response"] is None or f">{summary['response']['status']}<" in parts["status"]
    return {
        "summary": summary,
        "snippet": parts["snippet"],
        "history": parts["history"],
        "status": parts["status"],
        "all": outputs,
    }


def test_connect_list_apps_endpoints_and_send(client: Client, sandbox_info: dict[str, Any]) -> None:
    secret = demo_sp(sandbox_info)["client_secret"]
    card, connection_text = client.predict(method="m2m", **demo_sp(sandbox_info), api_name="/connect")
    connection = json.loads(connection_text)
    assert connection["ok"] and connection["identity"] == demo_sp(sandbox_info)["client_id"]
    assert connection["token"]["scopes"] == ["all-apis"] and "…" in connection["token"]["masked"]

    _app, _notice, apps_text = client.predict(current=None, api_name="/list_apps")
    apps = json.loads(apps_text)
    assert {a["name"] for a in apps} >= {"hello", "scoped", "stopped"}
    hello = next(a for a in apps if a["name"] == "hello")

    table, endpoints_text, listing = client.predict(
        app_url=hello["url"], query="", api_name="/list_endpoints"
    )
    endpoints = json.loads(endpoints_text)
    paths = {(e["method"], e["path"]) for e in endpoints}
    assert ("GET", "/api/hello") in paths and ("POST", "/api/items") in paths
    assert "/api/openapi.json" in listing  # one row per endpoint, plus a header row per group
    assert len([r for r in table["data"] if r[0]]) == len(endpoints)

    result = send(client, hello["url"] + "/api/hello")
    summary = result["summary"]
    assert summary["ok"] and summary["response"]["status"] == 200
    assert summary["response"]["body"]["message"].startswith("Hello")
    assert summary["token"]["subject"] == demo_sp(sandbox_info)["client_id"]
    assert any("Subject" in str(o) for o in result["all"])  # the Token pane
    assert "curl" in result["snippet"] and secret not in json.dumps(result["all"], default=str)
    assert secret not in card


def test_a_failing_send_carries_findings(client: Client, sandbox_info: dict[str, Any]) -> None:
    client.predict(method="m2m", **demo_sp(sandbox_info), api_name="/connect")
    scoped = sandbox_info["apps"]["scoped"]["url"]
    summary = send(client, scoped + "/api/hello")["summary"]
    assert summary["response"]["status"] == 403 and not summary["ok"]
    codes = [f["code"] for f in summary["findings"]]
    assert "SCOPE_MISSING" in codes, codes
    assert set(summary["token"]["missing_scopes"]) >= {"sql", "files.files"}


def test_bad_input_is_a_message_not_a_traceback(client: Client) -> None:
    summary = send(client, "ftp://example.com/api/x")["summary"]
    assert summary["response"] is None and "scheme" in summary["error"]
    summary = send(client, "/api/x", method="POST", body='{"a": ')["summary"]
    assert "is a path" in summary["error"] or "Invalid JSON" in summary["error"]


def test_history_export_is_per_session_and_redacted(client: Client, sandbox_info: dict[str, Any]) -> None:
    client.predict(method="m2m", **demo_sp(sandbox_info), api_name="/connect")
    hello = sandbox_info["apps"]["hello"]["url"]
    send(client, hello + "/api/hello")
    send(client, hello + "/api/status/503")
    token = client.predict(api_name="/reveal_token")  # the deliberate reveal control
    assert token.count(".") == 2

    download, note = client.predict(fmt="HAR", api_name="/export_history")
    har_path = download["value"] if isinstance(download, dict) else download  # a shown DownloadButton
    assert "2 exchanges" in note
    text = Path(har_path).read_text(encoding="utf-8")
    entries = json.loads(text)["log"]["entries"]
    assert [e["response"]["status"] for e in entries] == [200, 503]
    assert token not in text and demo_sp(sandbox_info)["client_secret"] not in text

    other = Client(client.src, verbose=False)  # another browser session sees none of it
    assert other.predict(api_name="/history")["data"] == []


@pytest.fixture(scope="module")
def deployed_url(sandbox: Any) -> Iterator[str]:
    """The UI as deployed (no demo presets): `user` is offered per request, from the forwarded header."""
    with running_ui(UIConfig(deployed=True)) as url:
        yield url


def test_deployed_the_signed_in_user_is_offered_only_with_a_forwarded_token(
    deployed_url: str, sandbox_info: dict[str, Any]
) -> None:
    token = user_token(sandbox_info["host"], "alice@example.com", ["all-apis"])
    forwarded = {"X-Forwarded-Access-Token": token}  # what the Apps gateway adds to Alice's requests
    alice, anonymous = Client(deployed_url, verbose=False), Client(deployed_url, verbose=False)

    offered = alice.predict(api_name="/startup", headers=forwarded)[0]
    assert "user" in [value for _label, value in offered["choices"]]
    assert "user" not in [value for _label, value in anonymous.predict(api_name="/startup")[0]["choices"]]

    card, connection_text = alice.predict(method="user", api_name="/connect", headers=forwarded)
    connection = json.loads(connection_text)
    assert connection["ok"] and connection["identity"] == "alice@example.com"
    assert token not in card + connection_text

    hello = sandbox_info["apps"]["hello"]["url"]
    summary = send(alice, hello + "/api/whoami", headers=forwarded)["summary"]
    assert summary["response"]["status"] == 200 and summary["auth"]["identity"] == "alice@example.com"

    # The platform forwards the user's current token with every request: the connection follows it.
    fresh = user_token(sandbox_info["host"], "alice@example.com", ["all-apis", "sql"])
    summary = send(alice, hello + "/api/whoami", headers={"X-Forwarded-Access-Token": fresh})["summary"]
    assert "sql" in summary["token"]["scopes"]

    # Another browser session cannot pick `user`, let alone use Alice's forwarded token.
    with pytest.raises(AppError, match="not in the list of choices"):
        anonymous.predict(method="user", api_name="/connect")


@pytest.fixture(scope="module")
def quick_wait_url(sandbox: Any) -> Iterator[str]:
    """A UI whose browser sign-in waits only 3 s for the listener, so a test can outlast the wait."""
    with running_ui(UIConfig(browser_wait_seconds=3)) as url:
        yield url


def test_paste_back_sign_in_survives_the_listener_wait_timing_out(
    quick_wait_url: str, sandbox_info: dict[str, Any]
) -> None:
    client = Client(quick_wait_url, verbose=False)
    link = client.predict(
        host=sandbox_info["host"],
        login_hint="alice@example.com",
        port=str(free_port()),
        api_name="/begin_browser",
    )
    authorize = html.unescape(re.search(r'href="([^"]+)"', link).group(1))
    waiting = client.submit(api_name="/wait_browser")  # the page waits for the local listener meanwhile
    # The browser ends on a URL the listener never sees (remote explorer): the user pastes it back.
    redirected = requests.get(authorize, allow_redirects=False, timeout=10).headers["location"]
    _status, _card, connection = client.predict(redirected_url=redirected, api_name="/complete_browser")
    assert json.loads(connection)["identity"] == "alice@example.com"

    *_, card, after_wait = waiting.result(timeout=60)  # the superseded wait runs out…
    assert json.loads(after_wait)["ok"] and "alice@example.com" in card
    hello = sandbox_info["apps"]["hello"]["url"]
    summary = send(client, hello + "/api/hello")["summary"]  # …and Alice is still signed in
    assert summary["response"]["status"] == 200 and summary["auth"]["identity"] == "alice@example.com"


def _tabs_and_summary(outputs: Any) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """From a tab event's outputs: the open tabs (tabs_data) and the response summary (the last)."""
    tabs = next(json.loads(o) for o in outputs if isinstance(o, str) and o.startswith('[{"id": "t'))
    return tabs, json.loads(outputs[-1] or "{}")


FORM = {"params": "", "header_lines": "", "body": "", "timeout": 30, "app_url": ""}


def test_tabs_keep_their_own_responses(client: Client, sandbox_info: dict[str, Any]) -> None:
    client.predict(method="m2m", **demo_sp(sandbox_info), api_name="/connect")
    hello = sandbox_info["apps"]["hello"]["url"]
    assert send(client, hello + "/api/hello")["summary"]["response"]["status"] == 200
    tabs, summary = _tabs_and_summary(
        client.predict(method="GET", url=hello + "/api/hello", **FORM, api_name="/new_tab")
    )
    assert [t["status"] for t in tabs] == [200, None] and tabs[1]["active"]
    assert summary == {}  # a new tab answers nothing yet
    body = '{"name": "pen", "price": 1}'
    created = send(client, hello + "/api/items", method="POST", body=body)["summary"]
    assert created["response"]["status"] == 201
    outputs = client.predict(
        method="POST", url=hello + "/api/items", **{**FORM, "body": body}, tab="t1", api_name="/switch_tab"
    )
    tabs, summary = _tabs_and_summary(outputs)
    assert [t["status"] for t in tabs] == [200, 201] and tabs[0]["active"]
    assert summary["request"]["method"] == "GET" and summary["response"]["status"] == 200
    assert hello + "/api/hello" in outputs  # the form is the first tab's request again
    tabs, _ = _tabs_and_summary(
        client.predict(method="GET", url=hello + "/api/hello", **FORM, api_name="/close_tab")
    )
    assert [t["status"] for t in tabs] == [201]


def test_cancel_gives_up_on_a_running_send(client: Client, sandbox_info: dict[str, Any]) -> None:
    client.predict(method="m2m", **demo_sp(sandbox_info), api_name="/connect")
    slow = sandbox_info["apps"]["hello"]["url"] + "/api/slow"
    job = client.submit(
        method="GET", url=slow, **{**FORM, "params": "ms=8000"}, snippet_language="curl", export_format="HAR",
        api_name="/send",
    )  # fmt: skip
    # A send answers once, at the end (the page shows "Sending…" itself): wait until the app has the call.
    hello = sandbox_info["apps"]["hello"]["url"]
    headers = {"Authorization": f"Bearer {m2m_token(sandbox_info)}"}
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if requests.get(hello + "/api/stats", headers=headers, timeout=5).json()["slow"]["active"]:
            break
        time.sleep(0.1)
    started = time.monotonic()
    client.predict(api_name="/cancel")
    status = send_parts(job.result(timeout=5))["status"]
    assert "Cancelled" in status and time.monotonic() - started < 4


def test_a_collection_opens_and_runs_through_the_api(client: Client, sandbox_info: dict[str, Any]) -> None:
    demo = str(Path(__file__).resolve().parents[1] / "examples" / "sandbox-demo")
    client.predict(method="m2m", **demo_sp(sandbox_info), api_name="/connect")
    client.predict(current=None, api_name="/list_apps")  # the apps' URLs become {{$env.HELLO_URL}} …
    _title, _env, _tree, tree_text = client.predict(location=demo, query="", api_name="/open_collection")
    tree = json.loads(tree_text)
    assert {"kind": "folder", "path": "items", "label": "items", "method": ""} in tree
    assert any(r["label"] == "Create an item" and r["method"] == "POST" for r in tree)
    summary, _table, run_text = client.predict(env="sandbox", api_name="/run_collection")
    results = json.loads(run_text)
    assert "Done" in summary and len(results) == len([r for r in tree if r["kind"] == "request"])
    assert all(r["passed"] for r in results), [r for r in results if not r["passed"]]
    stopped = next(r for r in results if r["name"] == "failures / Stopped app")
    assert "APP_NOT_RUNNING" in stopped["findings"]


def test_bad_collection_input_is_a_message(client: Client) -> None:
    with pytest.raises(AppError, match="Cannot open"):
        client.predict(location="/no/such/collection", query="", api_name="/open_collection")
    with pytest.raises(AppError, match="Open a collection first"):
        client.predict(env=None, api_name="/run_collection")


def test_a_pasted_curl_command_becomes_the_request(client: Client) -> None:
    curl = "curl -X POST https://app.example/api/items -H 'X-Trace: 1' --data-raw '{\"name\": \"pen\"}'"
    outputs = client.predict(method="GET", url=curl, **FORM, api_name="/edit_url")
    assert "POST" in outputs and "https://app.example/api/items" in outputs
    assert "X-Trace: 1" in outputs and '{"name": "pen"}' in outputs
    tabs, _ = _tabs_and_summary(outputs)
    assert tabs[0]["method"] == "POST"


def test_save_as_writes_a_request_file_into_the_open_collection(client: Client, tmp_path: Path) -> None:
    (tmp_path / "collection.yaml").write_text("name: Scratch\nversion: 1\n", encoding="utf-8")
    client.predict(location=str(tmp_path), query="", api_name="/open_collection")
    form = {**FORM, "header_lines": "Authorization: Bearer not-to-be-saved-123456"}
    client.predict(
        method="GET", url="https://app.example/api/hello", **form, name="Say hi", api_name="/save_as_request"
    )
    [saved] = list(tmp_path.glob("*.posting.yaml"))
    text = saved.read_text(encoding="utf-8")
    assert "name: Say hi" in text and "https://app.example/api/hello" in text
    assert "not-to-be-saved-123456" not in text  # secrets become references, never file content


def test_delete_through_the_api_removes_only_the_collections_own_item(client: Client, tmp_path: Path) -> None:
    import shutil

    demo = tmp_path / "demo"
    shutil.copytree(Path(__file__).resolve().parents[1] / "examples" / "sandbox-demo", demo)
    (tmp_path / "outside.posting.yaml").write_text(
        "name: x\nmethod: GET\nurl: /api/hello\n", encoding="utf-8"
    )
    client.predict(location=str(demo), query="", api_name="/open_collection")
    with pytest.raises(AppError, match=r"Not deleted: .*must be relative and stay inside it"):
        client.predict(path="../outside.posting.yaml", query="", api_name="/delete_collection_item")
    with pytest.raises(AppError, match="Not deleted"):
        client.predict(path="collection.yaml", query="", api_name="/delete_collection_item")
    notice, title, _tree, tree_text, *_ = client.predict(
        path="items/02-read.posting.yaml", query="", api_name="/delete_collection_item"
    )
    assert "Deleted" in notice and "14 requests" in title
    assert all(r["path"] != "items/02-read.posting.yaml" for r in json.loads(tree_text))
    assert not (demo / "items" / "02-read.posting.yaml").exists()
    assert (tmp_path / "outside.posting.yaml").exists() and (demo / "collection.yaml").exists()


def test_delete_in_a_workspace_located_collection_goes_through_the_workspace_api(
    client: Client, sandbox_info: dict[str, Any], clean_databricks_env: Path
) -> None:
    from explorer.collection.files import load_collection, save_collection
    from explorer.collection.storage import FolderStorage
    from explorer.collection.workspace_storage import WorkspaceStorage
    from explorer.session import ExplorerSession

    root = f"/Workspace/Users/{demo_sp(sandbox_info)['client_id']}/collections/ui-delete-{free_port()}"
    writer = ExplorerSession()
    assert writer.connect("m2m", demo_sp(sandbox_info)).ok
    storage = WorkspaceStorage.from_session(writer, root)
    save_collection(
        storage,
        load_collection(FolderStorage(Path(__file__).resolve().parents[1] / "examples" / "sandbox-demo")),
    )
    client.predict(method="m2m", **demo_sp(sandbox_info), api_name="/connect")
    _title, _env, _tree, tree_text = client.predict(
        location=f"workspace:{root}", query="", api_name="/open_collection"
    )
    folder = next(
        r["path"] for r in json.loads(tree_text) if r["kind"] == "folder" and r["label"] == "failures"
    )
    notice, title, *_ = client.predict(path=folder, query="", api_name="/delete_collection_item")
    assert "Deleted" in notice and "11 requests" in title
    assert not storage.exists(folder) and storage.exists("collection.yaml")
    with pytest.raises(AppError, match="Not deleted"):
        client.predict(path="../", query="", api_name="/delete_collection_item")
    writer.close()


def test_the_page_says_where_the_time_went_and_where_the_token_came_from(
    client: Client, sandbox_info: dict[str, Any]
) -> None:
    card, _ = client.predict(method="m2m", **demo_sp(sandbox_info), api_name="/connect")
    assert "1 token call during connecting" in card and "client_credentials" in card
    assert demo_sp(sandbox_info)["client_secret"] not in card
    status = send(client, sandbox_info["apps"]["hello"]["url"] + "/api/items")["status"]
    assert 'class="waterfall"' in status and "wf-wait" in status and "new connection" in status
    assert "app says:" in status and "db" in status  # the app's Server-Timing beside the bars
    again = send(client, sandbox_info["apps"]["hello"]["url"] + "/api/items")["status"]
    assert "connection reused" in again


def test_the_ws_method_sends_frames_to_an_app_path_through_the_gateway(
    client: Client, sandbox_info: dict[str, Any]
) -> None:
    """Method WS: the app's http(s) URL opened as a WebSocket with the connection's token; the body's
    lines are the text frames; both directions come back in the summary, no token among them."""
    client.predict(method="m2m", **demo_sp(sandbox_info), api_name="/connect")
    result = send(client, sandbox_info["apps"]["hello"]["url"] + "/api/ws", method="WS", body="hello\nagain")
    summary = result["summary"]
    assert summary["request"]["url"].startswith("ws://") and summary["response"]["status"] == 101
    text = json.dumps(summary)
    assert "echo: hello" in text and "echo: again" in text
    assert demo_sp(sandbox_info)["client_secret"] not in text


def test_a_truncated_answer_downloads_in_full_from_the_page(
    client: Client, sandbox_info: dict[str, Any]
) -> None:
    """Download full response: the pane keeps the answer's first 2 MB; the button sends the request
    again into a file of the session's, whole, and says what it holds."""
    client.predict(method="m2m", **demo_sp(sandbox_info), api_name="/connect")
    result = send(client, sandbox_info["apps"]["hello"]["url"] + "/api/large?rows=40000")
    response = result["summary"]["response"]
    assert response["truncated"] and 'data-truncated="1"' in result["status"]  # the page shows the button
    download, note = client.predict(api_name="/download_full_response")
    value = download.get("value", download) if isinstance(download, dict) else download
    path = Path(value["path"] if isinstance(value, dict) else value)
    assert path.stat().st_size == response["size"] and "saved" in note and "sent again" in note
    assert len(json.loads(path.read_text(encoding="utf-8"))) == 40000
    small = send(client, sandbox_info["apps"]["hello"]["url"] + "/api/hello")
    assert 'data-truncated="0"' in small["status"]  # an ordinary answer: no button

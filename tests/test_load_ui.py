"""The UI's Load view, driven with gradio_client: the current request as a Locust run in child
processes (never in the UI's process), live numbers, the breakdown, exports, Stop, and the guard rails."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from gradio_client import Client
from support.ui_server import running_ui, ui_send

from explorer.ui.config import UIConfig

pytestmark = pytest.mark.filterwarnings("ignore:.*(no_silent_downcasting|copy keyword):DeprecationWarning")


@pytest.fixture(scope="module")
def ui_url(sandbox: Any) -> Iterator[str]:
    with running_ui(UIConfig()) as url:
        yield url


@pytest.fixture
def client(ui_url: str, sandbox_info: dict[str, Any]) -> Client:
    client = Client(ui_url, verbose=False)
    sp = sandbox_info["service_principals"]["demo-sp"]
    fields = {
        "host": sandbox_info["host"],
        "client_id": sp["client_id"],
        "client_secret": sp["client_secret"],
    }
    _card, connection = client.predict(method="m2m", **fields, api_name="/connect")
    assert json.loads(connection)["ok"]
    return client


def load_start(client: Client, **values: Any) -> tuple[Any, ...]:
    settings = {"users": 4, "duration": "4s", "count": None, "workers": 0, "collection": ""}
    settings.update(environment="", folder="", confirm=False, rate=None)
    settings.update(values)
    return client.predict(**settings, api_name="/load_start")


def locust_children() -> list[int]:
    """Locust processes whose parent is this (the UI's) process."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        state, ppid = stat.rsplit(")", 1)[1].split()[:2]
        if int(ppid) == __import__("os").getpid() and "locust" in command and state != "Z":
            found.append(int(entry.name))
    return found


@pytest.mark.slow
def test_the_current_request_runs_on_locust_with_plots_tables_and_exports(client, sandbox_info):
    hello = sandbox_info["apps"]["hello"]["url"]
    ui_send(client, f"{hello}/api/status/503?retry_after=3")  # the current request

    status, latency, throughput, results, errors, exports = load_start(client, duration="3s")

    assert "requests in" in status and "503 burst (unavailable)" in status and "Retry-After: 3" in status
    assert [row[0] for row in results["data"]] == ["GET /api/status/503"]
    assert errors["data"][0][:2] == ["SERVER_ERROR", 503] and errors["data"][0][3] == "3"
    assert errors["data"][0][2] == results["data"][0][1] == results["data"][0][2]  # every request failed
    assert {Path(f).suffix for f in exports} == {".json", ".csv", ".html"}
    report = json.loads(Path(next(f for f in exports if f.endswith(".json"))).read_text())
    assert report["total"]["requests"] == results["data"][0][1]
    secret = sandbox_info["service_principals"]["demo-sp"]["client_secret"]
    for path in exports:
        text = Path(path).read_text(errors="replace")
        assert secret not in text and "eyJ" not in text
    assert {"p50", "p95"} <= {row[2] for row in latency["data"]}
    assert max(row[1] for row in throughput["data"] if row[2] == "requests/s (each second)") > 0
    assert "locust" not in sys.modules and "gevent" not in sys.modules  # Locust ran in child processes only
    assert not locust_children()


@pytest.mark.slow
def test_stop_ends_every_locust_process_of_the_run(client, sandbox_info):
    hello = sandbox_info["apps"]["hello"]["url"]
    ui_send(client, f"{hello}/api/slow?ms=20")
    job = client.submit(users=4, duration="60s", count=None, workers=2, collection="", environment="",
                        folder="", confirm=False, rate=None, api_name="/load_start")  # fmt: skip
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline and len(locust_children()) < 3:
        time.sleep(0.5)
    running = locust_children()
    assert len(running) == 3, running  # the master and two workers
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline and not any(
        "Running" in str(out[0]) and " 0 requests" not in str(out[0]) for out in job.outputs()
    ):
        time.sleep(0.5)  # until Locust is sending (the status line streams once a second)

    assert "Stopping" in client.predict(api_name="/load_stop")
    status, *_ = job.result(timeout=60)

    assert "stopped early" in status
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(Path(f"/proc/{pid}").exists() for pid in running):
        time.sleep(0.2)
    assert not [pid for pid in running if Path(f"/proc/{pid}").exists()]


@pytest.mark.slow
def test_a_collection_folder_runs_as_this_sessions_identity(client, sandbox_info, monkeypatch):
    monkeypatch.setenv("HELLO_URL", sandbox_info["apps"]["hello"]["url"])
    monkeypatch.setenv("DATABRICKS_HOST", sandbox_info["host"])
    demo = str(Path(__file__).resolve().parents[1] / "examples" / "sandbox-demo")

    status, _latency, _throughput, results, errors, exports = load_start(
        client, collection=demo, environment="sandbox", folder="items", count=42, users=2, rate=20
    )

    assert "42 requests" in status and "0 failures" in status, status
    assert [row[0] for row in results["data"]][:2] == ["items / Create an item", "items / Read it by id"]
    assert errors["data"] == []
    assert len(exports) == 3


def test_a_host_off_the_allowlist_and_bad_settings_are_messages(client):
    ui_send(client, "http://nohost.invalid/api/x")
    with pytest.raises(Exception, match=r"refused to load http://nohost\.invalid"):
        load_start(client)
    with pytest.raises(Exception, match="above the cap of 100"):
        load_start(client, users=1000)


def test_a_deployed_app_needs_the_confirmation_first(monkeypatch):
    from explorer.guard import Allowlist
    from explorer.session import ExplorerSession
    from explorer.ui.forms import FormError, RequestForm
    from explorer.ui.load_view import start_load
    from explorer.ui.state import UISession

    ui = UISession(ExplorerSession(allowlist=Allowlist(["*.databricksapps.com"])))
    ui.open_tab(RequestForm(url="https://hello-123.aws.databricksapps.com/api/hello"))
    try:
        run = start_load(ui, "", 10, "30s", None, 0, "", "", "", False)
        with pytest.raises(FormError, match=r"sends load to https://hello-123\.aws\.databricksapps\.com"):
            next(run)
        with pytest.raises(FormError, match="above the cap of 100"):
            next(start_load(ui, "", 101, "30s", None, 0, "", "", "", True))
    finally:
        ui.explorer.close()

"""`source` apps start the way Databricks Apps starts them, and their crashes show."""

from __future__ import annotations

import os
import socket
import textwrap
import time
from pathlib import Path

import pytest
import requests
from databricks.sdk import WorkspaceClient
from databricks.sdk.service.apps import ApplicationStatus
from support.sandbox_helpers import default_config, m2m_token

from explorer.sandbox import Sandbox

APP_PY = """
import os, subprocess, sys
import requests
from databricks.sdk import WorkspaceClient
from databricks.sdk.service.apps import ApplicationStatus
from fastapi import FastAPI

app = FastAPI()
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
NAMES = ["DATABRICKS_APP_NAME", "DATABRICKS_APP_PORT", "DATABRICKS_HOST", "DATABRICKS_WORKSPACE_ID",
         "DATABRICKS_CLIENT_ID", "DATABRICKS_APP_URL", "UVICORN_PORT", "UVICORN_HOST", "GRADIO_SERVER_PORT",
         "GRADIO_SERVER_NAME", "GRADIO_ANALYTICS_ENABLED", "STREAMLIT_SERVER_PORT", "STREAMLIT_SERVER_ADDRESS",
         "FLASK_RUN_PORT", "FLASK_RUN_HOST", "PORT", "GREETING", "DATABRICKS_TOKEN", "DATABRICKS_CONFIG_PROFILE"]

@app.get("/api/env")
def env():
    values = {name: os.environ.get(name) for name in NAMES}
    values["has_client_secret"] = bool(os.environ.get("DATABRICKS_CLIENT_SECRET"))
    return values

@app.get("/api/pids")
def pids():
    return {"app": os.getpid(), "child": child.pid}

@app.get("/api/me")
def me():
    return {"user_name": WorkspaceClient().current_user.me().user_name}

@app.get("/api/call-hello")
def call_hello():
    wc = WorkspaceClient()
    url = wc.apps.get("hello").url
    return requests.get(f"{url}/api/whoami", headers=wc.config.authenticate(), timeout=10).json()

@app.post("/api/exit")
def exit_now():
    os._exit(3)
"""


def write_app(directory: Path, app_yaml: str, main: str = APP_PY) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "app.py").write_text(textwrap.dedent(main), encoding="utf-8")
    (directory / "app.yaml").write_text(textwrap.dedent(app_yaml), encoding="utf-8")
    return directory


def source_config(tmp: Path, only_python_app: bool = False) -> dict:
    """`hello` (sample), `plain` (uvicorn console script) and `by-python` (`python app.py`)."""
    plain = write_app(
        tmp / "plain",
        """
        command: ["uvicorn", "app:app"]
        env:
          - name: GREETING
            value: hi
          - name: FROM_RESOURCE
            valueFrom: sql-warehouse
        """,
    )
    python_main = (
        APP_PY
        + '\nimport uvicorn\nuvicorn.run(app, host="127.0.0.1", port=int(os.environ["DATABRICKS_APP_PORT"]))\n'
    )
    by_python = write_app(tmp / "by-python", 'command: ["python", "app.py"]\n', python_main)
    config = default_config(
        service_principals=[{"name": "caller-sp"}, {"name": "demo-sp"}],
        apps=[
            {
                "name": "hello",
                "kind": "sample",
                "permissions": [
                    {"service_principal_name": "caller-sp", "permission_level": "CAN_USE"},
                    {"service_principal_name": "demo-sp", "permission_level": "CAN_USE"},
                ],
            },
            {
                "name": "plain",
                "kind": "source",
                "source": str(plain),
                "service_principal": "caller-sp",
                "permissions": [{"service_principal_name": "demo-sp", "permission_level": "CAN_USE"}],
            },
            {
                "name": "by-python",
                "kind": "source",
                "source": str(by_python),
                "permissions": [{"service_principal_name": "demo-sp", "permission_level": "CAN_USE"}],
            },
        ],
        federation_policies=[],
    )
    if only_python_app:
        config["apps"] = [a for a in config["apps"] if a["name"] != "plain"]
    return config


@pytest.fixture(scope="module")
def source_sandbox(tmp_path_factory: pytest.TempPathFactory):
    # Inherited auth variables must not leak into the apps' environment.
    os.environ["DATABRICKS_TOKEN"] = "dapi" + "1" * 32
    try:
        with Sandbox(source_config(tmp_path_factory.mktemp("apps"))) as sb:
            yield sb
    finally:
        os.environ.pop("DATABRICKS_TOKEN", None)


def call(sb: Sandbox, app: str, path: str, method: str = "GET") -> requests.Response:
    url = sb.info["apps"][app]["url"] + path
    return requests.request(
        method, url, headers={"Authorization": f"Bearer {m2m_token(sb.info)}"}, timeout=30
    )


def test_source_app_gets_the_platform_environment(source_sandbox):
    info = source_sandbox.info
    env = call(source_sandbox, "plain", "/api/env").json()
    port = env["DATABRICKS_APP_PORT"]

    assert env["DATABRICKS_APP_NAME"] == "plain"
    assert env["DATABRICKS_HOST"] == info["host"]
    assert env["DATABRICKS_WORKSPACE_ID"] == "1234567890123456"
    assert env["DATABRICKS_CLIENT_ID"] == info["service_principals"]["caller-sp"]["client_id"]
    assert env["has_client_secret"] is True
    assert env["DATABRICKS_APP_URL"] == info["apps"]["plain"]["url"]
    assert env["UVICORN_PORT"] == env["GRADIO_SERVER_PORT"] == env["STREAMLIT_SERVER_PORT"] == port
    assert env["FLASK_RUN_PORT"] == env["PORT"] == port
    assert env["GRADIO_ANALYTICS_ENABLED"] == "false"
    assert env["GREETING"] == "hi"
    assert env["DATABRICKS_TOKEN"] is None and env["DATABRICKS_CONFIG_PROFILE"] is None


def test_source_apps_listen_on_loopback_only(source_sandbox):
    """Reached only through the gateway: an app on every interface would skip its sign-in."""
    env = call(source_sandbox, "plain", "/api/env").json()
    port = int(env["DATABRICKS_APP_PORT"])

    hosts = [
        env[n] for n in ("UVICORN_HOST", "GRADIO_SERVER_NAME", "STREAMLIT_SERVER_ADDRESS", "FLASK_RUN_HOST")
    ]
    assert hosts == ["127.0.0.1"] * 4
    assert listening_addresses(port) == {"127.0.0.1"}  # `uvicorn app:app` bound where UVICORN_HOST said
    other = non_loopback_address()
    if other is not None:
        with pytest.raises(OSError):
            socket.create_connection((other, port), timeout=2).close()


def listening_addresses(port: int) -> set[str]:
    """The local addresses with a listening TCP socket on `port`, from /proc/net/tcp{,6}."""
    found: set[str] = set()
    for table, family in (("/proc/net/tcp", socket.AF_INET), ("/proc/net/tcp6", socket.AF_INET6)):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            local, state = line.split()[1], line.split()[3]
            address, _, port_hex = local.partition(":")
            if state != "0A" or int(port_hex, 16) != port:  # 0A: LISTEN
                continue
            raw = bytes.fromhex(address)
            # The kernel prints each 32-bit word in host (little-endian) byte order.
            raw = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
            found.add(socket.inet_ntop(family, raw))
    if not found and not Path("/proc/net/tcp").exists():
        pytest.skip("no /proc/net/tcp to read listening sockets from")
    return found


def non_loopback_address() -> str | None:
    """This machine's address on its default route, if it has one (a UDP connect sends nothing)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))
        except OSError:
            return None
        address = probe.getsockname()[0]
    return None if address.startswith("127.") or address == "0.0.0.0" else address


def test_source_app_calls_the_workspace_with_no_arguments(source_sandbox):
    me = call(source_sandbox, "by-python", "/api/me").json()

    assert me["user_name"] == source_sandbox.info["apps"]["by-python"]["service_principal"]["client_id"]


def test_app_to_app_call_carries_the_calling_apps_identity(source_sandbox):
    whoami = call(source_sandbox, "plain", "/api/call-hello").json()

    assert whoami["email"] == source_sandbox.info["service_principals"]["caller-sp"]["client_id"]


def test_stop_ends_the_app_process_group(tmp_path: Path):
    sb = Sandbox(source_config(tmp_path, only_python_app=True)).start()
    try:
        pids = call(sb, "by-python", "/api/pids").json()
    finally:
        sb.stop()

    assert not alive(pids["app"]) and not alive(pids["child"])


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in state  # a zombie has ended; only its exit status is left


def test_dead_process_gives_502_and_a_crashed_status(tmp_path: Path):
    with Sandbox(source_config(tmp_path, only_python_app=True)) as sb:
        exiting = call(sb, "by-python", "/api/exit", method="POST")
        wc = WorkspaceClient(host=sb.host, token=sb.info["users"]["alice@example.com"]["pat"])
        status = wait_for_state(wc, "by-python", "CRASHED")

        assert exiting.status_code == 502  # the connection dropped mid-request
        assert call(sb, "by-python", "/api/env").status_code == 502
        assert "status 3" in status.message
        assert sb.info["apps"]["by-python"]["state"] == "CRASHED"
        assert call(sb, "hello", "/api/hello").status_code == 200


def wait_for_state(wc: WorkspaceClient, app: str, state: str, within: float = 20.0) -> ApplicationStatus:
    deadline = time.monotonic() + within
    while True:
        status = wc.apps.get(app).app_status
        if status.state.value == state or time.monotonic() > deadline:
            return status
        time.sleep(0.1)


def test_app_that_never_listens_is_crashed_and_the_rest_still_runs(tmp_path: Path, start_sandbox):
    broken = write_app(tmp_path / "broken", 'command: ["python", "app.py"]\n', "import sys\nsys.exit(7)\n")
    config = default_config()
    config["apps"].append(
        {
            "name": "broken",
            "kind": "source",
            "source": str(broken),
            "start_timeout_seconds": 20,
            "permissions": [{"service_principal_name": "demo-sp", "permission_level": "CAN_USE"}],
        }
    )

    sb = start_sandbox(config)

    assert sb.info["apps"]["broken"]["state"] == "CRASHED"
    assert sb.info["apps"]["hello"]["state"] == "RUNNING"
    response = requests.get(
        sb.info["apps"]["broken"]["url"] + "/api/x",
        headers={"Authorization": f"Bearer {m2m_token(sb.info)}"},
        timeout=10,
    )
    assert response.status_code == 502
    assert "status 7" in response.json()["error_description"]

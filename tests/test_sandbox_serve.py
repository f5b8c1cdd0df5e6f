"""`python -m explorer sandbox`: runs in the foreground, prints its URLs, stops cleanly on SIGTERM."""

from __future__ import annotations

import json
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
import yaml
from support.sandbox_helpers import default_config

CHILD_APP = """
import os, subprocess, sys, time
from http.server import BaseHTTPRequestHandler, HTTPServer
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
with open(os.environ["PIDS_FILE"], "w") as f:
    f.write(f"{os.getpid()} {child.pid}")
class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.send_header("Content-Length", "2"); self.end_headers(); self.wfile.write(b"ok")
HTTPServer(("127.0.0.1", int(os.environ["DATABRICKS_APP_PORT"])), Handler).serve_forever()
"""


def run_sandbox(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "explorer", "sandbox", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for_file(path: Path, proc: subprocess.Popen[str], within: float = 60.0) -> None:
    deadline = time.monotonic() + within
    while not (path.exists() and path.stat().st_size > 0):
        assert proc.poll() is None, proc.communicate()[1]
        assert time.monotonic() < deadline, "the sandbox did not write its info file"
        time.sleep(0.05)


def alive(pid: int) -> bool:
    try:
        return "\nState:\tZ" not in Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False


def test_runs_prints_urls_and_stops_on_sigterm_with_its_children(tmp_path: Path):
    app_dir = tmp_path / "child-app"
    app_dir.mkdir()
    (app_dir / "app.py").write_text(CHILD_APP, encoding="utf-8")
    pids_file = tmp_path / "pids"
    config = default_config()
    config["apps"].append(
        {"name": "with-child", "kind": "source", "source": "child-app", "env": {"PIDS_FILE": str(pids_file)}}
    )
    config_file = tmp_path / "sandbox.yaml"
    config_file.write_text(yaml.safe_dump(config), encoding="utf-8")
    info_file = tmp_path / "info.json"

    proc = run_sandbox("--port", "0", "--config", str(config_file), "--info", str(info_file))
    try:
        wait_for_file(info_file, proc)
        info = json.loads(info_file.read_text())
        metadata = requests.get(f"{info['host']}/.well-known/databricks-config", timeout=10).json()
        app_pid, child_pid = map(int, pids_file.read_text().split())
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)

    assert proc.returncode == 0, err
    assert metadata["workspace_id"] == "1234567890123456"
    assert stat.S_IMODE(info_file.stat().st_mode) == 0o600
    assert info["host"] in out
    assert all(app["url"] in out for app in info["apps"].values())
    assert info["users"]["alice@example.com"]["pat"] not in out + err
    assert not alive(app_pid) and not alive(child_pid)


def test_bad_config_is_one_clear_line_and_exit_2(tmp_path: Path):
    config_file = tmp_path / "bad.yaml"
    config_file.write_text("apps:\n  - name: x1\n    kind: banana\n", encoding="utf-8")

    proc = run_sandbox("--port", "0", "--config", str(config_file))
    _, err = proc.communicate(timeout=60)

    assert proc.returncode == 2
    assert err.strip().splitlines() == [
        "error: bad sandbox config: apps[0].kind: unknown kind 'banana' (expected sample, upstream, source)"
    ]


def test_port_in_use_is_exit_2(tmp_path: Path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        proc = run_sandbox("--port", str(busy.getsockname()[1]))
        _, err = proc.communicate(timeout=60)

    assert proc.returncode == 2
    assert "cannot listen" in err and "Traceback" not in err


def test_usage_error_is_exit_2():
    proc = run_sandbox("--port", "not-a-number")
    _, err = proc.communicate(timeout=60)

    assert proc.returncode == 2 and "Traceback" not in err


def test_auto_approve_on_a_network_address_is_refused_with_the_reason():
    proc = run_sandbox("--port", "0", "--host", "0.0.0.0")
    try:
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()  # when it did start listening on every interface, do not leave it there

    assert proc.returncode == 2 and "Traceback" not in err
    [line] = err.strip().splitlines()
    assert line.startswith("error: refusing to listen on 0.0.0.0 with auto_approve on")
    assert "any sandbox user" in line and "--allow-auto-approve-on-network" in line
    assert "Sandbox workspace" not in out  # nothing was started


def test_auto_approve_is_refused_only_off_loopback_and_unless_forced():
    from explorer.sandbox import Sandbox, SandboxError

    with pytest.raises(SandboxError, match="auto_approve"):
        Sandbox(host="0.0.0.0")
    with pytest.raises(SandboxError, match="auto_approve"):
        Sandbox(host="")
    for loopback in ("127.0.0.1", "127.0.0.2", "localhost"):
        Sandbox(host=loopback)  # not started: only the check runs
    Sandbox(host="0.0.0.0", allow_network_auto_approve=True)
    Sandbox(default_config(auto_approve=False), host="0.0.0.0")

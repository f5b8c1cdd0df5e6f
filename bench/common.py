"""What every scenario shares: the result row, medians, the sandbox and UI as child processes.

The sandbox and the UI run in their own processes so that their threads do not compete with the
measuring process for its GIL: a same-process server would make both sides slower in a way that
hides (or invents) the engine's own cost.
"""

from __future__ import annotations

import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import requests

REPO = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
START_TIMEOUT = 60.0


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on right now (the probe socket is closed again)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


@dataclass
class Row:
    """One line of the table: a target measured side by side with its baseline."""

    target: str
    measured: str
    baseline: str
    ratio: str
    goal: str
    passed: bool
    detail: str = ""  # how it was measured (repeats, samples), for the JSON file and the notes

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def spread(values: Sequence[float]) -> str:
    """min–max of the repeats, so a reader sees how noisy the machine was."""
    return f"{min(values):.3f}–{max(values):.3f}"


def child_env(**extra: str) -> dict[str, str]:
    """The environment for child processes: the repo importable, no inherited Databricks settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABRICKS_", "GRADIO_"))}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
    env["GRADIO_ANALYTICS_ENABLED"] = "False"
    env.update(extra)
    return env


def wait_until(check: Any, timeout: float, what: str, process: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{what}: the process exited with {process.returncode}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what}: not ready within {timeout:g} s")
        time.sleep(0.02)


def stop_process(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the child we started (its own process group: its children go too), then SIGKILL."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(10)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait(5)


def answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=1).status_code == 200
    except requests.RequestException:
        return False


def start_child(args: list[str]) -> subprocess.Popen[bytes]:
    """`python *args` from the repo, quiet, in its own session (so stop_process can end its group)."""
    return subprocess.Popen(
        [PYTHON, *args],
        cwd=REPO,
        env=child_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


@contextmanager
def sandbox_process() -> Iterator[dict[str, Any]]:
    """`python -m explorer sandbox` on free ports; yields its info document."""
    with tempfile.TemporaryDirectory(prefix="bench-sandbox-") as tmp:
        info_path = Path(tmp) / "info.json"
        process = start_child(["-m", "explorer", "sandbox", "--port", "0", "--info", str(info_path)])
        try:
            wait_until(info_path.exists, START_TIMEOUT, "the sandbox", process)
            wait_until(lambda: info_path.stat().st_size > 0, 5, "the sandbox info file", process)
            info = json.loads(info_path.read_text(encoding="utf-8"))
            wait_until(lambda: answers(info["host"] + "/.well-known/databricks-config"), 10, "the sandbox")
            yield info
        finally:
            stop_process(process)


UI_PIDS: dict[str, int] = {}  # URL of a running ui_process() -> its process id (for its CPU time)


@contextmanager
def ui_process() -> Iterator[str]:
    """The explorer UI (`python -m explorer`, not the demo) on a free port; yields its URL."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    process = start_child(["-m", "explorer", "--host", "127.0.0.1", "--port", str(port)])
    UI_PIDS[url] = process.pid
    try:
        wait_until(lambda: answers(url), START_TIMEOUT, "the explorer UI", process)
        yield url
    finally:
        UI_PIDS.pop(url, None)
        stop_process(process)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (Linux /proc), its threads included."""
    fields = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8").rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def demo_sp_fields(info: dict[str, Any]) -> dict[str, str]:
    """The m2m fields of the sandbox's demo service principal (secrets stay in this process)."""
    sp = info["service_principals"]["demo-sp"]
    return {"host": info["host"], "client_id": sp["client_id"], "client_secret": sp["client_secret"]}


def run_json_child(
    args: list[str], env: dict[str, str] | None = None, timeout: float = 300
) -> dict[str, Any]:
    """Run a child Python that prints one JSON object as its last line of stdout."""
    result = subprocess.run(
        [PYTHON, *args],
        cwd=REPO,
        env=child_env(**(env or {})),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if result.returncode != 0:
        raise RuntimeError(f"{args[0]} failed ({result.returncode}): {result.stderr.strip()[-800:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def machine() -> dict[str, Any]:
    """What the numbers were measured on."""
    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "machine": platform.machine(),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "system": f"{platform.system()} {platform.release()}",
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }


def m2m_token(info: dict[str, Any], sp: str = "demo-sp") -> str:
    """A client-credentials token for one of the sandbox's service principals (the bench's own)."""
    import requests

    creds = info["service_principals"][sp]
    response = requests.post(
        info["host"] + "/oidc/v1/token",
        data={"grant_type": "client_credentials", "scope": "all-apis"},
        auth=(creds["client_id"], creds["client_secret"]),
        timeout=10,
    )
    response.raise_for_status()
    return str(response.json()["access_token"])

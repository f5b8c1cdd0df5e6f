"""Load runs on Locust: real Locust child processes against the sandbox over loopback HTTP.

Each run takes a few seconds. The sample app counts `/api/slow` calls itself (`/api/stats`) and
the sandbox counts token requests (`/_sandbox/stats`), so both sides of every claim are measured.
"""

from __future__ import annotations

import ast
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from explorer.load.locustfile import render
from explorer.load.plan import LoadRequest, plan_for_request, split_identity
from explorer.load.stats import parse_error
from explorer.model import RequestSpec
from explorer.session import ExplorerSession

REPO = Path(__file__).resolve().parents[1]
DEMO_SP = "demo-sp"


@pytest.fixture
def load_env(sandbox_info: dict[str, Any]) -> dict[str, str]:
    """The environment of a `python -m explorer load` child: demo-sp's credentials, nothing inherited."""
    sp = sandbox_info["service_principals"][DEMO_SP]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABRICKS_", "EXPLORER_"))}
    env.update(
        DATABRICKS_HOST=sandbox_info["host"],
        DATABRICKS_CLIENT_ID=sp["client_id"],
        DATABRICKS_CLIENT_SECRET=sp["client_secret"],
        DATABRICKS_CONFIG_FILE=os.devnull,
        PYTHONPATH=str(REPO),
    )
    return env


@pytest.fixture
def app_client(sandbox_info: dict[str, Any]) -> ExplorerSession:
    """A session connected as demo-sp, to read and reset the sample app's own counters."""
    sp = sandbox_info["service_principals"][DEMO_SP]
    session = ExplorerSession()
    fields = {
        "host": sandbox_info["host"],
        "client_id": sp["client_id"],
        "client_secret": sp["client_secret"],
    }
    connection = session.connect("m2m", fields)
    if not connection.ok:  # a machine busy with other work: once more
        connection = session.connect("m2m", fields)
    assert connection.ok, [f.message for f in connection.findings]
    yield session
    session.close()


def hello(sandbox_info: dict[str, Any]) -> str:
    return sandbox_info["apps"]["hello"]["url"]


def app_stats(session: ExplorerSession, app_url: str, reset: bool = False) -> dict[str, Any]:
    method, path = ("POST", "/api/stats/reset") if reset else ("GET", "/api/stats")
    exchange = session.send(RequestSpec(method, app_url + path))
    assert exchange.response is not None and exchange.response.status == 200
    return exchange.response.json


def token_requests(sandbox_info: dict[str, Any], reset: bool = False) -> int:
    host = sandbox_info["host"]
    if reset:
        requests.post(host + "/_sandbox/stats/reset", timeout=10).raise_for_status()
    return int(requests.get(host + "/_sandbox/stats", timeout=10).json()["token_requests"])


def load(args: list[str], env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "explorer", "load", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def assert_no_secret(sandbox_info: dict[str, Any], *texts: str) -> None:
    secret = sandbox_info["service_principals"][DEMO_SP]["client_secret"]
    for text in texts:
        assert secret not in text
        assert "eyJ" not in text  # no JWT (a token) either


# --- runs ----------------------------------------------------------------------------------------


@pytest.mark.slow
def test_twenty_users_counted_at_the_app_match_locust_and_one_token(
    sandbox_info, load_env, app_client, tmp_path
):
    app = hello(sandbox_info)
    app_stats(app_client, app, reset=True)
    token_requests(sandbox_info, reset=True)
    report_file = tmp_path / "report.json"

    result = load(
        [
            f"{app}/api/slow?ms=0",
            "--users",
            "20",
            "--spawn-rate",
            "20",
            "--duration",
            "6s",
            "--auth",
            "m2m",
            "--json",
            str(report_file),
            "--csv",
            str(tmp_path / "locust"),
            "--html",
            str(tmp_path / "report.html"),
        ],
        load_env,
    )

    assert result.returncode == 0, result.stderr
    report = json.loads(report_file.read_text())
    counted_by_locust = report["total"]["requests"]
    counted_by_the_app = app_stats(app_client, app)["slow"]["total"]
    assert counted_by_locust > 100
    # Locust counts a request when its response is in; the stop timeout lets every started one finish.
    assert counted_by_the_app == counted_by_locust
    assert report["total"]["failures"] == 0 and report["error_rate"] == 0
    assert report["settings"]["users"] == 20 and max(p["users"] for p in report["series"]) == 20
    assert len(report["series"]) >= 4  # one row per second, from Locust's own stats history
    p = report["total"]["percentiles_ms"]
    assert 0 < p["p50"] <= p["p90"] <= p["p95"] <= p["p99"] <= report["total"]["max_ms"] + 1
    # One token for the identity, fetched by the one Locust process and shared by its 20 users.
    assert token_requests(sandbox_info) == 1
    assert report["identities_connected"] == 1
    assert (tmp_path / "locust_stats.csv").is_file()
    html = (tmp_path / "report.html").read_text()
    assert "GET /api/slow" in html  # Locust's own HTML report
    assert_no_secret(sandbox_info, html, (tmp_path / "locust_stats.csv").read_text())
    assert "requests in" in result.stdout and "p95" in result.stdout
    assert "users ·" in result.stderr  # the progress line
    assert_no_secret(sandbox_info, result.stdout, result.stderr, report_file.read_text())


@pytest.mark.slow
def test_a_request_budget_is_exact(sandbox_info, load_env, app_client, tmp_path):
    app = hello(sandbox_info)
    app_stats(app_client, app, reset=True)
    report_file = tmp_path / "report.json"

    result = load(
        [
            f"{app}/api/slow?ms=0",
            "--users",
            "8",
            "--requests",
            "250",
            "--auth",
            "m2m",
            "--json",
            str(report_file),
        ],
        load_env,
    )

    assert result.returncode == 0, result.stderr
    assert json.loads(report_file.read_text())["total"]["requests"] == 250
    assert app_stats(app_client, app)["slow"]["total"] == 250


@pytest.mark.slow
def test_the_slow_endpoint_shows_the_latency_it_was_told_to_take(sandbox_info, load_env, tmp_path):
    report_file = tmp_path / "report.json"

    result = load(
        [
            f"{hello(sandbox_info)}/api/slow?ms=250",
            "--users",
            "5",
            "--duration",
            "4s",
            "--auth",
            "m2m",
            "--json",
            str(report_file),
            "--max-p95",
            "2000",
        ],
        load_env,
    )

    assert result.returncode == 0, result.stderr
    total = json.loads(report_file.read_text())["total"]
    assert total["min_ms"] >= 250
    assert 250 <= total["percentiles_ms"]["p50"] < 750  # the gateway and a busy machine add a little
    # 5 users, each waiting 250 ms per request, for about 4 s: about 20 requests/s.
    assert 5 <= total["rps"] <= 21


@pytest.mark.slow
def test_a_target_rate_paces_the_users(sandbox_info, load_env, tmp_path):
    report_file = tmp_path / "report.json"

    result = load(
        [
            f"{hello(sandbox_info)}/api/hello",
            "--users",
            "6",
            "--duration",
            "5s",
            "--rate",
            "30",
            "--auth",
            "m2m",
            "--json",
            str(report_file),
        ],
        load_env,
    )

    assert result.returncode == 0, result.stderr
    report = json.loads(report_file.read_text())
    assert report["settings"]["rate"] == 30
    assert 22 <= report["total"]["rps"] <= 33  # 30 iterations/s, one request each, in all


@pytest.mark.slow
def test_a_503_storm_is_a_server_error_burst_with_its_retry_after(sandbox_info, load_env, tmp_path):
    report_file = tmp_path / "report.json"

    result = load(
        [
            f"{hello(sandbox_info)}/api/status/503?retry_after=7",
            "--users",
            "5",
            "--requests",
            "200",
            "--auth",
            "m2m",
            "--json",
            str(report_file),
            "--max-error-rate",
            "5",
        ],
        load_env,
    )

    assert result.returncode == 1, result.stderr  # the error-rate threshold failed
    assert "threshold failed: error rate 100.00% > --max-error-rate 5%" in result.stderr
    errors = json.loads(report_file.read_text())["errors"]
    assert errors["by_code"] == {"SERVER_ERROR": 200}
    assert errors["by_status"] == {"503": 200}
    assert errors["rows"][0]["retry_after"] == "7"
    assert errors["bursts"] and "Retry-After: 7" in errors["bursts"][0]
    assert "503 burst (unavailable): 200 × 503 Service Unavailable [SERVER_ERROR]" in result.stdout


@pytest.mark.slow
def test_no_token_is_named_by_its_finding(sandbox_info, load_env, tmp_path):
    report_file = tmp_path / "report.json"

    result = load(
        [
            f"{hello(sandbox_info)}/api/hello",
            "--users",
            "2",
            "--requests",
            "20",
            "--auth",
            "none",
            "--json",
            str(report_file),
        ],
        load_env,
    )

    assert result.returncode == 0, result.stderr  # no threshold declared: the run itself finished
    errors = json.loads(report_file.read_text())["errors"]
    assert errors["by_status"] == {"302": 20}
    assert set(errors["by_code"]) == {"TOKEN_MISSING"}


@pytest.mark.slow
def test_a_master_and_two_workers_finish_and_aggregate(sandbox_info, load_env, app_client, tmp_path):
    app = hello(sandbox_info)
    app_stats(app_client, app, reset=True)
    token_requests(sandbox_info, reset=True)
    report_file = tmp_path / "report.json"

    result = load(
        [
            f"{app}/api/slow?ms=0",
            "--users",
            "6",
            "--requests",
            "300",
            "--workers",
            "2",
            "--auth",
            "m2m",
            "--json",
            str(report_file),
        ],
        load_env,
    )

    assert result.returncode == 0, result.stderr
    report = json.loads(report_file.read_text())
    assert report["settings"]["workers"] == 2
    assert report["total"]["requests"] == 300  # the master's numbers: both workers' shares
    assert app_stats(app_client, app)["slow"]["total"] == 300
    assert "on 2 workers" in result.stdout
    # One token per identity per Locust process: each worker connects once.
    assert report["identities_connected"] == 2
    assert token_requests(sandbox_info) == 2


@pytest.mark.slow
def test_the_explorer_is_the_master_of_a_worker_started_elsewhere(
    sandbox_info, load_env, app_client, tmp_path
):
    from support.ports import free_port

    app = hello(sandbox_info)
    app_stats(app_client, app, reset=True)
    port = free_port()
    report_file = tmp_path / "report.json"
    master = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "explorer",
            "load",
            f"{app}/api/slow?ms=0",
            "--users",
            "4",
            "--requests",
            "200",
            "--remote-workers",
            "1",
            "--master-bind",
            f"127.0.0.1:{port}",
            "--auth",
            "m2m",
            "--json",
            str(report_file),
        ],
        cwd=REPO,
        env=load_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    # The worker, as on another host: it downloads the locustfile from the master (`-f -`).
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "locust",
            "-f",
            "-",
            "--worker",
            "--master-host",
            "127.0.0.1",
            "--master-port",
            str(port),
            "--loglevel",
            "WARNING",
        ],
        cwd=tmp_path,
        env=load_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        out, err = master.communicate(timeout=120)
        worker.wait(30)
    finally:
        for process in (master, worker):
            if process.poll() is None:
                process.kill()

    assert master.returncode == 0, err
    assert f"python -m locust -f - --worker --master-host 127.0.0.1 --master-port {port}" in err
    report = json.loads(report_file.read_text())
    assert report["total"]["requests"] == 200 and "on 1 worker ·" in out
    assert app_stats(app_client, app)["slow"]["total"] == 200


def _descendants(pid: int) -> set[int]:
    found: set[int] = set()
    frontier = [pid]
    while frontier:
        parent = frontier.pop()
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            if ppid == parent and int(entry.name) not in found:
                found.add(int(entry.name))
                frontier.append(int(entry.name))
    return found


@pytest.mark.slow
def test_a_signal_while_locust_starts_ends_the_run_cleanly(sandbox_info, load_env):
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "explorer",
            "load",
            f"{hello(sandbox_info)}/api/hello",
            "--duration",
            "60s",
            "--workers",
            "2",
            "--auth",
            "m2m",
        ],
        cwd=REPO,
        env=load_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        children: set[int] = set()
        while time.monotonic() < deadline and len(children) < 3:
            time.sleep(0.1)
            children = _descendants(process.pid)
        process.send_signal(signal.SIGTERM)  # Locust is still importing
        _out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()

    assert process.returncode == 1, err
    assert "every Locust process of the run was ended" in err and "Traceback" not in err
    assert not [pid for pid in children if _alive(pid)]


def _sending(history: Path) -> bool:
    """Has Locust's stats history a row with requests in it?"""
    try:
        rows = history.read_text().splitlines()[1:]
    except OSError:
        return False
    return any(row.split(",")[-7:-6] not in (["0"], []) for row in rows)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.slow
@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "Ctrl-C"])
def test_a_signal_ends_every_locust_process_workers_included(sandbox_info, load_env, tmp_path, stop_signal):
    report_file = tmp_path / "report.json"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "explorer",
            "load",
            f"{hello(sandbox_info)}/api/slow?ms=10",
            "--users",
            "4",
            "--duration",
            "60s",
            "--workers",
            "2",
            "--auth",
            "m2m",
            "--json",
            str(report_file),
            "--csv",
            str(tmp_path / "locust"),
        ],
        cwd=REPO,
        env=load_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        children: set[int] = set()
        while time.monotonic() < deadline and len(children) < 3:  # the master and two workers
            time.sleep(0.5)
            children = _descendants(process.pid)
        assert len(children) >= 3, children
        history = tmp_path / "locust_stats_history.csv"
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline and not _sending(history):  # Locust started: users are sending
            time.sleep(0.5)
        time.sleep(1)
        children = _descendants(process.pid)
        started = time.monotonic()
        process.send_signal(stop_signal)
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert time.monotonic() - started < 20
    assert process.returncode == 1, err  # stopped early: not a finished run
    assert "stopped: every Locust process of the run was ended" in err
    assert not [pid for pid in children if _alive(pid)]
    assert json.loads(report_file.read_text())["stopped"] is True
    assert "requests in" in out


@pytest.mark.slow
def test_credentials_that_do_not_resolve_end_the_run_at_once_with_the_finding(sandbox_info, load_env):
    env = {**load_env, "DATABRICKS_CLIENT_SECRET": "not-the-secret"}
    started = time.monotonic()

    result = load(
        [f"{hello(sandbox_info)}/api/hello", "--users", "2", "--duration", "60s", "--auth", "m2m"], env
    )

    assert result.returncode == 2
    assert time.monotonic() - started < 40  # not the 60 s of the run
    assert "Could not authenticate as default (m2m)" in result.stderr and "✗ AUTH_FAILED" in result.stderr
    assert "not-the-secret" not in result.stdout + result.stderr and "Traceback" not in result.stderr


# --- the locustfile ------------------------------------------------------------------------------


def test_the_exported_locustfile_is_readable_and_holds_no_secret(sandbox_info, load_env, tmp_path):
    target = tmp_path / "locustfile.py"
    secret = sandbox_info["service_principals"][DEMO_SP]["client_secret"]
    env = {**load_env, "DATABRICKS_CLIENT_SECRET": "unused"}

    result = load(
        [
            f"{hello(sandbox_info)}/api/hello?name=Ada",
            "--auth",
            "m2m",
            "--client-secret",
            secret,
            "--export-locustfile",
            str(target),
            "--users",
            "7",
        ],
        env,
    )

    assert result.returncode == 0, result.stderr
    text = target.read_text()
    compile(text, str(target), "exec")
    assert secret not in text and secret not in result.stdout + result.stderr
    assert "class ExplorerUser(HttpUser):" in text and "self.client.request(" in text
    assert "explorer.headers('default')" in text and "explorer.check(response" in text
    assert "secret_env={'client_secret': 'EXPLORER_LOAD_DEFAULT_CLIENT_SECRET'}" in text
    assert "locust -f locustfile.py --headless -u 7" in text and "--worker --master-host" in text


@pytest.mark.slow
def test_an_exported_locustfile_runs_under_plain_locust(sandbox_info, load_env, tmp_path):
    target = tmp_path / "locustfile.py"
    app = hello(sandbox_info)
    assert (
        load([f"{app}/api/hello", "--auth", "m2m", "--export-locustfile", str(target)], load_env).returncode
        == 0
    )

    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "locust",
            "-f",
            str(target),
            "--headless",
            "-u",
            "3",
            "-r",
            "3",
            "-t",
            "3s",
            "--explorer-requests",
            "30",
            "--only-summary",
            "--json",
        ],
        cwd=tmp_path,
        env=load_env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    stats = json.loads(result.stdout)
    assert stats[0]["num_requests"] == 30 and stats[0]["num_failures"] == 0


@pytest.mark.slow
def test_locust_processes_keep_the_callers_allowlist_for_their_auth(sandbox_info, load_env, tmp_path):
    target = tmp_path / "locustfile.py"
    app = hello(sandbox_info)
    assert (
        load([f"{app}/api/hello", "--auth", "m2m", "--export-locustfile", str(target)], load_env).returncode
        == 0
    )
    env = {**load_env, "EXPLORER_LOAD_ALLOWLIST": "*.databricksapps.com"}  # as a deployed explorer passes it

    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "locust",
            "-f",
            str(target),
            "--headless",
            "-u",
            "1",
            "-t",
            "30s",
            "--only-summary",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    events = [
        json.loads(line.split("explorer-load: ", 1)[1])
        for line in result.stderr.splitlines()
        if "explorer-load: " in line
    ]
    assert events and events[0]["event"] == "auth_failed"
    assert events[0]["findings"][0]["code"] == "HOST_NOT_ALLOWED"


def test_a_host_from_a_per_user_variable_is_refused():
    from explorer.load.plan import LoadPlan, refused_targets

    plan = LoadPlan("x", [LoadRequest("next", "GET", "http://{{next_host}}/api/x")])

    assert refused_targets(plan, None) == [
        "next: its host comes from a per-user variable; a load run sends only to hosts checked before it starts"
    ]


@pytest.mark.slow
def test_a_collection_runs_with_its_chain_and_expected_statuses(sandbox_info, load_env, tmp_path):
    env = {
        **load_env,
        "HELLO_URL": hello(sandbox_info),
        "SCOPED_URL": sandbox_info["apps"]["scoped"]["url"],
        "STOPPED_URL": sandbox_info["apps"]["stopped"]["url"],
    }
    report_file = tmp_path / "report.json"
    exported = tmp_path / "locustfile.py"
    demo = str(REPO / "examples" / "sandbox-demo")

    exported_run = load(
        [demo, "--env", "sandbox", "--folder", "items", "--export-locustfile", str(exported)], env
    )
    result = load(
        [
            demo,
            "--env",
            "sandbox",
            "--folder",
            "items",
            "--users",
            "3",
            "--requests",
            "60",
            "--json",
            str(report_file),
            "--max-error-rate",
            "0",
        ],
        env,
    )

    assert exported_run.returncode == 0, exported_run.stderr
    text = exported.read_text()
    assert "explorer.extract(self, response" in text and "{{item_id}}" in text
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(report_file.read_text())
    names = [r["name"] for r in report["requests"]]
    assert "items / Create an item" in names and "items / It is gone" in names  # the expected 404
    assert report["total"]["requests"] == 60 and report["total"]["failures"] == 0


# --- usage errors and guard rails ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--users", "0"], "error: --users must be at least 1"),
        (["--users", "500"], "error: --users 500 is above the cap of 100"),
        (["--duration", "20m"], "error: --duration 1200s is above the cap of 300s"),
        (["--duration", "ten"], "error: duration 'ten': use e.g. 30s, 2m or 1h30m"),
        (["--max-error-rate", "lots"], "error: --max-error-rate 'lots': a percentage"),
        (["--workers", "99"], "error: --workers must be between 0 and 16"),
        (["--auth", "browser"], "error: a load run cannot sign in with browser"),
    ],
)
def test_bad_input_is_one_clear_line(args, message, load_env):
    result = load(["http://127.0.0.1:9/api/x", *args], load_env, timeout=60)

    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith(message), result.stderr
    assert "Traceback" not in result.stderr


def test_a_host_off_the_allowlist_is_refused(load_env):
    result = load(["https://example.com/api/x", "--auth", "none"], load_env, timeout=60)

    assert result.returncode == 2
    assert (
        "error: refused to load https://example.com: host example.com is not in the allowed hosts"
        in result.stderr
    )
    assert "EXPLORER_ALLOWED_HOSTS" in result.stderr and "Traceback" not in result.stderr


def test_neither_a_url_nor_a_collection(load_env, tmp_path):
    result = load([str(tmp_path / "nothing")], load_env, timeout=60)

    assert result.returncode == 2
    assert "neither an http(s) URL nor a collection folder" in result.stderr


def test_the_generated_file_quotes_every_value_as_data():
    tricky = "x'); import os; os.system('echo pwned'); ('"
    spec = RequestSpec("POST", "http://127.0.0.1:1/api/items", headers=[("X-Note", tricky)], body=tricky)
    env: dict[str, str] = {}
    plan = plan_for_request(spec, split_identity("m2m", {"host": "http://127.0.0.1:2"}, "default", env), env)
    plan.requests.append(LoadRequest(name=tricky, method="GET", url="http://127.0.0.1:1/api/{{item_id}}"))

    text = render(plan)

    tree = ast.parse(text)
    imports = [n for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))]
    assert [getattr(n, "module", None) for n in imports] == ["locust", "explorer.load.hooks"]
    assert tricky in [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant)]
    assert "explorer.text(self, '/api/{{item_id}}')" in text


def test_failure_texts_parse_back_to_their_codes():
    assert parse_error("SERVER_ERROR · HTTP 503 Service Unavailable · Retry-After: 2") == (
        "SERVER_ERROR",
        503,
        "Service Unavailable",
        "2",
    )
    assert parse_error("NETWORK_CONNECT · no response (ConnectionRefusedError)") == (
        "NETWORK_CONNECT",
        None,
        "ConnectionRefusedError",
        None,
    )
    assert parse_error("HTTPError('500 Server Error')")[0] == "UNKNOWN"


@pytest.mark.slow
def test_tokens_are_refreshed_by_the_sdk_not_fetched_per_call(start_sandbox, tmp_path):
    from support.sandbox_helpers import default_config

    # The SDK treats a token as expired 40 s before its expiry: 48 s tokens are used for about 8 s.
    short = start_sandbox(default_config(token_ttl_seconds=48))
    info = short.info
    sp = info["service_principals"][DEMO_SP]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABRICKS_", "EXPLORER_"))}
    env.update(
        DATABRICKS_HOST=info["host"],
        DATABRICKS_CLIENT_ID=sp["client_id"],
        DATABRICKS_CLIENT_SECRET=sp["client_secret"],
        DATABRICKS_CONFIG_FILE=os.devnull,
        PYTHONPATH=str(REPO),
    )
    report_file = tmp_path / "report.json"
    token_requests(info, reset=True)

    result = load(
        [
            f"{hello(info)}/api/hello",
            "--users",
            "5",
            "--duration",
            "10s",
            "--auth",
            "m2m",
            "--json",
            str(report_file),
        ],
        env,
    )

    assert result.returncode == 0, result.stderr
    total = json.loads(report_file.read_text())["total"]
    fetched = token_requests(info)
    assert total["failures"] == 0 and total["requests"] > 200
    # The SDK fetched a new token when the first went stale, not one per request.
    assert 2 <= fetched <= 3, fetched


@pytest.mark.slow
def test_a_secret_from_a_collections_env_file_reaches_locust_only_through_the_environment(
    sandbox_info, load_env, tmp_path
):
    sp = sandbox_info["service_principals"][DEMO_SP]
    root = tmp_path / "hello-load"
    root.mkdir()
    (root / "collection.yaml").write_text(
        "name: hello load\ndefaults:\n  auth: {method: m2m, host: '{{$env.DATABRICKS_HOST}}'}\n",
        encoding="utf-8",
    )
    (root / "01-hello.posting.yaml").write_text(
        f"name: hello\nurl: '{hello(sandbox_info)}/api/hello'\nassertions: [{{status: 200}}]\n",
        encoding="utf-8",
    )
    (root / ".env").write_text(
        f"DATABRICKS_CLIENT_ID={sp['client_id']}\nDATABRICKS_CLIENT_SECRET={sp['client_secret']}\n",
        encoding="utf-8",
    )
    env = {k: v for k, v in load_env.items() if k not in ("DATABRICKS_CLIENT_ID", "DATABRICKS_CLIENT_SECRET")}
    exported, report_file = tmp_path / "locustfile.py", tmp_path / "report.json"

    exporting = load([str(root), "--export-locustfile", str(exported)], env)
    result = load([str(root), "--users", "2", "--requests", "30", "--json", str(report_file)], env)

    assert exporting.returncode == 0 and result.returncode == 0, exporting.stderr + result.stderr
    text = exported.read_text()
    assert "secret_env={'client_secret': 'EXPLORER_LOAD_DEFAULT_CLIENT_SECRET'}" in text
    assert json.loads(report_file.read_text())["total"]["failures"] == 0
    assert_no_secret(sandbox_info, text, report_file.read_text(), result.stdout, result.stderr)

"""Start-up: the UI's first page vs a bare Gradio Blocks app; the CLI vs `import databricks.sdk`.

Every sample is a fresh process, the two sides alternating. The UI side is timed from spawn to
the first `200` for `/` (polled every 20 ms); the CLI side from spawn to exit. Whether the CLI
imports Gradio is read from `python -X importtime`, for every CLI command and for a real `call`.
"""

from __future__ import annotations

import subprocess
import time
from typing import Any

from bench.common import (
    PYTHON,
    REPO,
    START_TIMEOUT,
    Row,
    answers,
    child_env,
    free_port,
    median,
    spread,
    start_child,
    stop_process,
    wait_until,
)

CLI_COMMANDS = ("call", "token", "apps", "endpoints", "snippet")


def _first_page_seconds(args: list[str], port: int) -> float:
    url = f"http://127.0.0.1:{port}/"
    started = time.perf_counter()
    process = start_child(args)
    try:
        wait_until(lambda: answers(url), START_TIMEOUT, " ".join(args[:3]), process)
        return time.perf_counter() - started
    finally:
        stop_process(process)


def ui_startup(repeats: int) -> Row:
    ours, theirs = [], []
    for index in range(repeats):
        sides = [
            (["-m", "explorer", "--host", "127.0.0.1", "--port"], ours),
            ([str(REPO / "bench" / "bare_blocks.py")], theirs),
        ]
        for args, results in sides if index % 2 == 0 else reversed(sides):
            port = free_port()
            results.append(_first_page_seconds([*args, str(port)], port))
    differences = [o - t for o, t in zip(ours, theirs, strict=True)]
    difference = median(differences)
    return Row(
        "UI first page vs a bare gr.Blocks app",
        f"{median(ours):.2f} s",
        f"{median(theirs):.2f} s (bare Blocks)",
        f"{median(ours) / median(theirs):.2f} (Δ {difference:+.2f} s)",
        "Δ ≤ 1 s",
        difference <= 1.0,
        f"{repeats} starts per side, differences {spread(differences)} s",
    )


def _run_seconds(args: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run([PYTHON, *args], cwd=REPO, env=child_env(), capture_output=True, check=True, timeout=120)
    return time.perf_counter() - started


def cli_startup(repeats: int) -> Row:
    ours, theirs = [], []
    for index in range(repeats):
        sides = [(["-m", "explorer", "call", "--help"], ours), (["-c", "import databricks.sdk"], theirs)]
        for args, results in sides if index % 2 == 0 else reversed(sides):
            results.append(_run_seconds(args))
    ratios = [o / t for o, t in zip(ours, theirs, strict=True)]
    ratio = median(ratios)
    return Row(
        "CLI start-up (`call --help`) vs `import databricks.sdk`",
        f"{median(ours):.2f} s",
        f"{median(theirs):.2f} s (import databricks.sdk)",
        f"{ratio:.2f}",
        "≤ 1.5× (bench's own bar)",
        ratio <= 1.5,
        f"{repeats} runs per side, ratios {spread(ratios)}",
    )


def _imports_gradio(args: list[str], env: dict[str, str] | None = None) -> bool:
    result = subprocess.run(
        [PYTHON, "-X", "importtime", *args],
        cwd=REPO,
        env=child_env(**(env or {})),
        capture_output=True,
        text=True,
        timeout=120,
    )
    modules = {line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines() if "|" in line}
    return any(m == "gradio" or m.startswith("gradio.") for m in modules)


def cli_imports(info: dict[str, Any], commands: tuple[str, ...] = CLI_COMMANDS) -> Row:
    """No CLI command imports Gradio: `--help` of each, and a real `call` to the sandbox."""
    sp = info["service_principals"]["demo-sp"]
    env = {"DATABRICKS_CLIENT_ID": sp["client_id"], "DATABRICKS_CLIENT_SECRET": sp["client_secret"]}
    runs = {f"{c} --help": _imports_gradio(["-m", "explorer", c, "--help"]) for c in commands}
    call = ["-m", "explorer", "call", info["apps"]["hello"]["url"] + "/api/hello"]
    runs["call (m2m, real request)"] = _imports_gradio([*call, "--auth", "m2m", "--host", info["host"]], env)
    guilty = [name for name, imported in runs.items() if imported]
    return Row(
        "CLI commands import Gradio (python -X importtime)",
        f"{len(guilty)} of {len(runs)}",
        "—",
        "—",
        "0",
        not guilty,
        ", ".join(guilty) or f"checked: {', '.join(runs)}",
    )

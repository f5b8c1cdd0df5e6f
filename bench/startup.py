"""Start-up: `--demo` to a usable page vs a bare Gradio Blocks app; the CLI vs `python -c pass` and a
bare `requests.get` script.

Every sample is a fresh process, the two sides alternating. The UI side is timed from spawn until
the page, in Chromium, shows what makes it usable; the CLI side from spawn to exit. Whether the CLI
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


def _usable_seconds(browser: Any, args: list[str], port: int, ready: list[str]) -> float:
    """Spawn to a usable page: served, and every `ready` selector visible in a fresh browser context."""
    url = f"http://127.0.0.1:{port}/"
    started = time.perf_counter()
    process = start_child([*args, str(port)])
    context = browser.new_context()
    try:
        wait_until(lambda: answers(url), START_TIMEOUT, " ".join(args[:3]), process)
        page = context.new_page()
        page.goto(url, wait_until="commit")
        for selector in ready:
            page.wait_for_selector(selector, state="visible", timeout=START_TIMEOUT * 1000)
        return time.perf_counter() - started
    finally:
        context.close()
        stop_process(process)


# Usable: the demo's Send button shown and its connection made (the card's green dot);
# the bare app: its one line of text shown.
DEMO_READY = ["#send", "#connection .conn.ok"]
BARE_READY = ["text=Hello"]


def ui_startup(repeats: int) -> Row:
    """`python -m explorer --demo` to a usable page vs a bare gr.Blocks app to its page, in Chromium.

    A third side, the bare app importing Gradio as the explorer does (explorer.ui.gradio_import),
    says how much of the difference is the explorer's own page rather than Gradio's import."""
    from playwright.sync_api import sync_playwright

    from bench.browser import CHROMIUM_ARGS, chromium

    bare = str(REPO / "bench" / "bare_blocks.py")
    ours: list[float] = []
    theirs: list[float] = []
    alike: list[float] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium(), args=CHROMIUM_ARGS)
        try:
            for index in range(repeats):
                sides = [
                    (["-m", "explorer", "--demo", "--port"], DEMO_READY, ours),
                    ([bare], BARE_READY, theirs),
                    ([bare, "--explorer-import"], BARE_READY, alike),
                ]
                for args, ready, results in sides[index % 3 :] + sides[: index % 3]:
                    results.append(_usable_seconds(browser, args, free_port(), ready))
        finally:
            browser.close()
    differences = [o - t for o, t in zip(ours, theirs, strict=True)]
    difference = median(differences)
    like_for_like = median([o - a for o, a in zip(ours, alike, strict=True)])
    return Row(
        "`--demo` to a usable page (Send shown, demo connected) vs a bare gr.Blocks page",
        f"{median(ours):.2f} s",
        f"{median(theirs):.2f} s (bare Blocks)",
        f"{median(ours) / median(theirs):.2f} (Δ {difference:+.2f} s)",
        "Δ ≤ 1 s",
        difference <= 1.0,
        f"{repeats} starts per side in Chromium, differences {spread(differences)} s; against the bare "
        f"page importing Gradio as the explorer does ({median(alike):.2f} s): Δ {like_for_like:+.2f} s",
    )


def gradio_import(repeats: int) -> Row:
    """Gradio's import as the explorer does it (explorer.ui first) vs a plain `import gradio`."""
    ours_args, base_args = ["-c", "import explorer.ui, gradio"], ["-c", "import gradio"]
    ours, theirs = [], []
    for index in range(repeats):
        sides = [(ours_args, ours), (base_args, theirs)]
        for args, results in sides if index % 2 == 0 else reversed(sides):
            results.append(_run_seconds(args))
    ratio = median(ours) / median(theirs)
    return Row(
        "Gradio's import in the explorer (`import explorer.ui, gradio`) vs `import gradio`",
        f"{median(ours):.2f} s",
        f"{median(theirs):.2f} s (import gradio)",
        f"{ratio:.2f}",
        "≤ 0.75",
        ratio <= 0.75,
        f"{repeats} runs per side, ours {spread(ours)} s; the difference is Gradio's type-stub writer, skipped",
    )


def _run_seconds(args: list[str], env: dict[str, str] | None = None) -> float:
    started = time.perf_counter()
    subprocess.run(
        [PYTHON, *args], cwd=REPO, env=child_env(**(env or {})), capture_output=True, check=True, timeout=120
    )
    return time.perf_counter() - started


BARE_GET = "import sys, requests; requests.get(sys.argv[1], headers={'Authorization': 'Bearer ' + sys.argv[2]}, timeout=30)"


def cli_startup(info: dict[str, Any], repeats: int) -> list[Row]:
    """httpie-like start-up: `--help` and `call --help` (≤ 0.5 s, against `python -c pass`), and a
    `call --auth token` to the sandbox's app (≤ 1 s end to end, against a bare requests.get script)."""
    from bench.common import m2m_token

    token = m2m_token(info)
    url = info["apps"]["hello"]["url"] + "/api/hello"
    call = [
        "-m",
        "explorer",
        "call",
        url,
        "--auth",
        "token",
        "--token-env",
        "BENCH_TOKEN",
        "--host",
        info["host"],
    ]
    cases = [
        ("`python -m explorer --help`", ["-m", "explorer", "--help"], ["-c", "pass"], "python -c pass", 0.5),
        ("`call --help`", ["-m", "explorer", "call", "--help"], ["-c", "pass"], "python -c pass", 0.5),
        (
            "`call --auth token` to a loopback app",
            call,
            ["-c", BARE_GET, url, token],
            "bare requests.get",
            1.0,
        ),
    ]
    env = {"BENCH_TOKEN": token}
    rows = []
    for name, ours_args, base_args, base_name, goal in cases:
        ours, theirs = [], []
        for index in range(repeats):
            sides = [(ours_args, ours), (base_args, theirs)]
            for args, results in sides if index % 2 == 0 else reversed(sides):
                results.append(_run_seconds(args, env))
        measured = median(ours)
        rows.append(
            Row(
                f"CLI start-up: {name}",
                f"{measured:.2f} s",
                f"{median(theirs):.2f} s ({base_name})",
                f"{measured / median(theirs):.2f}",
                f"≤ {goal} s",
                measured <= goal,
                f"{repeats} runs per side, ours {spread(ours)} s",
            )
        )
    return rows


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

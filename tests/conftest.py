"""Shared fixtures: the sandbox workspace (real servers on free ports) and auth set-ups around it.

    def test_something(sandbox, sandbox_info): ...          # the default sandbox, once per session/worker
    def test_custom(start_sandbox):
        sb = start_sandbox(default_config(token_ttl_seconds=2))   # stopped after the test
    def test_cli(databricks_cli_profile):
        profile = databricks_cli_profile(user="alice@example.com")  # a databricks-cli profile + stand-in CLI

Helpers to build configs and tokens live in `support.sandbox_helpers`.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from support.sandbox_helpers import STAND_IN_CLI, headless_consent, write_cli_profile

from explorer.sandbox import Sandbox


def pytest_configure(config: pytest.Config) -> None:
    """Ctrl-C as a terminal delivers it: the stop tests send SIGINT to the processes they start. A
    suite launched as a background job of a non-interactive shell (`(cmd &)`) inherits SIGINT
    ignored, which every child would inherit too; a handler here resets to the default across exec."""
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(scope="session")
def sandbox() -> Iterator[Sandbox]:
    """The default sandbox (embedded config), started once per test session (per xdist worker)."""
    with Sandbox() as sb:
        yield sb


@pytest.fixture(scope="session")
def sandbox_info(sandbox: Sandbox) -> dict[str, Any]:
    """The default sandbox's info document: host, app URLs, credentials."""
    return sandbox.info


@pytest.fixture
def start_sandbox() -> Iterator[Callable[..., Sandbox]]:
    """Start a sandbox with a custom config (dict or YAML path); every one started is stopped afterwards."""
    started: list[Sandbox] = []

    def start(config: dict[str, Any] | str | Path | None = None, **kwargs: Any) -> Sandbox:
        sb = Sandbox(config, **kwargs)
        started.append(sb)
        return sb.start()

    yield start
    for sb in reversed(started):
        sb.stop()


@pytest.fixture
def clean_databricks_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No inherited DATABRICKS_* variables and an empty config file, so the SDK sees only what a test sets."""
    for name in list(os.environ):
        if name.startswith("DATABRICKS_"):
            monkeypatch.delenv(name)
    empty = tmp_path / "empty.databrickscfg"
    empty.write_text("", encoding="utf-8")
    monkeypatch.setenv("DATABRICKS_CONFIG_FILE", str(empty))
    return empty


@pytest.fixture
def databricks_cli_profile(
    sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clean_databricks_env: Path
) -> Callable[..., str]:
    """Make an `auth_type = databricks-cli` profile backed by the stand-in CLI; returns the profile name.

    Signs the user in headlessly (U2M with PKCE), stores the refresh token where the stand-in CLI
    reads it, and sets DATABRICKS_CONFIG_FILE, DATABRICKS_CLI_PATH and SANDBOX_CLI_TOKEN_CACHE.
    """

    def make(
        user: str = "alice@example.com",
        scopes: tuple[str, ...] = ("all-apis", "offline_access"),
        profile: str = "sandbox",
        target: Sandbox | None = None,
    ) -> str:
        host = (target or sandbox).host
        refresh_token = headless_consent(host, user, list(scopes)).token().refresh_token
        assert refresh_token, "offline_access must be among the scopes to get a refresh token"
        config_file, cache_file = write_cli_profile(tmp_path, profile, host, refresh_token)
        monkeypatch.setenv("DATABRICKS_CONFIG_FILE", str(config_file))
        monkeypatch.setenv("DATABRICKS_CLI_PATH", str(STAND_IN_CLI))
        monkeypatch.setenv("SANDBOX_CLI_TOKEN_CACHE", str(cache_file))
        return profile

    return make


@pytest.fixture
def connected(sandbox_info: dict[str, Any], clean_databricks_env: Path) -> Iterator[Any]:
    """An ExplorerSession connected as the sandbox's demo service principal (m2m), closed after."""
    from explorer.session import ExplorerSession

    sp = sandbox_info["service_principals"]["demo-sp"]
    session = ExplorerSession(timeout=10)
    fields = {
        "host": sandbox_info["host"],
        "client_id": sp["client_id"],
        "client_secret": sp["client_secret"],
    }
    assert session.connect("m2m", fields).ok
    yield session
    session.close()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Browser stories get one retry: on a loaded 2-core machine (two Chromiums, the sandbox and the
    UI servers at once) a page can miss a wait it meets alone. Everything else runs once."""
    for item in items:
        if item.get_closest_marker("browser") is not None:
            item.add_marker(pytest.mark.flaky(reruns=1, reruns_delay=2))


def _controller(config: pytest.Config) -> bool:
    """True in the process that runs the session (not in an xdist worker)."""
    return not hasattr(config, "workerinput")


def pytest_sessionstart(session: pytest.Session) -> None:
    """A new run starts a new screenshot index (the PNGs of earlier runs are listed apart)."""
    from support.browser import ARTIFACTS, MANIFEST_GLOB

    if _controller(session.config):
        for manifest in ARTIFACTS.glob(MANIFEST_GLOB):
            manifest.unlink(missing_ok=True)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """test-artifacts/index.html (and README): each PNG the browser stories saved, and its story."""
    from support.browser import write_index

    if _controller(session.config):
        index = write_index()
        if index is not None:
            session.config.stash[_INDEX] = str(index)


_INDEX = pytest.StashKey[str]()


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    if _INDEX in config.stash:
        terminalreporter.write_line(f"screenshots: {config.stash[_INDEX]}")

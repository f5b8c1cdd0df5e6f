"""What a UI instance starts with: preselected auth method and fields, default app, deployment mode.

`build_ui(UIConfig(...))` is the one way to make the Blocks, so `python -m explorer`, `--demo` and the
FastAPI server (deployed) share the layout and differ only in this object.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# Shown in a password box instead of a preset secret: the real value never leaves the server.
PRESET_SECRET = "\u2022preset\u2022"


@dataclass
class UIConfig:
    """Defaults for a new browser session. Secrets in `fields` stay server-side (see PRESET_SECRET)."""

    method: str | None = None  # preselected auth method; None: "app" when deployed, else "profile"
    fields: dict[str, str] = field(default_factory=dict)  # preset field values by field name
    app_url: str = ""  # default target app URL
    app_name: str | None = None  # app to pick once the apps are listed
    request_path: str = ""  # the request bar's first URL or /api/ path (the demo's first Send works)
    autoconnect: bool = False  # demo: connect, list apps, pick the app and list endpoints on page load
    deployed: bool = False  # running as a Databricks App (DATABRICKS_APP_PORT set)
    allowlist: Any = None  # guard.Allowlist | None, handed to every ExplorerSession
    trust: Any = None  # explorer.trust.Trust; None: derived from `deployed` and `allowlist`
    title: str = "Databricks Apps API Explorer"
    browser_wait_seconds: float = 300.0  # how long a browser sign-in waits for its callback
    collection_path: str = ""  # the Collections sidebar's folder to open (the demo: examples/sandbox-demo)
    matrix_path: str = ""  # the Matrix view's collection folder (the demo: examples/access-audit)
    # The values identity files read as `.env` (secrets stay server-side): the demo's sandbox
    # credentials and fresh user tokens. A callable, asked at each run; None: nothing preset.
    identity_env: Any = field(default=None, repr=False)
    # The demo: a prepared.PreparedConnection, connected while the first page loads (it takes it).
    prepared: Any = field(default=None, repr=False)
    # A browser session with no event for this long is closed (its engine session, its export files):
    # a tab left open all week holds no credentials or history. A closed tab's goes after an hour.
    idle_seconds: float = field(default_factory=lambda: _idle_seconds(os.environ))

    def __repr__(self) -> str:  # keeps preset secrets out of logs and tracebacks
        return (
            f"UIConfig(method={self.method!r}, fields={sorted(self.fields)!r}, app_url={self.app_url!r}, "
            f"app_name={self.app_name!r}, autoconnect={self.autoconnect}, deployed={self.deployed})"
        )

    @property
    def default_method(self) -> str:
        if self.method:
            return self.method
        return "app" if self.deployed else "profile"

    def box_value(self, name: str, method: str | None = None) -> str:
        """What the field box shows for `method` (default: the preselected one); secrets as the mask."""
        if (method or self.default_method) != self.default_method:
            return ""
        from explorer.ui.authform import is_secret

        value = self.fields.get(name, "")
        return PRESET_SECRET if value and is_secret(name) else value

    def session_trust(self) -> Any:
        """The Trust every browser session of this UI runs under."""
        if self.trust is not None:
            return self.trust
        from explorer.trust import Trust

        return Trust(deployed=self.deployed, allowlist=self.allowlist)

    def presets(self, method: str, values: Mapping[str, str]) -> dict[str, str]:
        """The values to use: a field still showing the mask gets the server-side preset, but only
        for the preset method and the preset's own host (the demo's secret goes to the sandbox alone)."""
        same_target = method == self.default_method and _same_host(
            values.get("host"), self.fields.get("host")
        )
        resolved = {}
        for name, value in values.items():
            if value == PRESET_SECRET:
                value = self.fields.get(name, "") if same_target else ""
            resolved[name] = value or ""
        return resolved


IDLE_SECONDS = 8 * 3600.0
IDLE_ENV = "EXPLORER_SESSION_IDLE_SECONDS"


def _idle_seconds(env: Mapping[str, str]) -> float:
    try:
        value = float(env.get(IDLE_ENV) or IDLE_SECONDS)
    except ValueError:
        return IDLE_SECONDS
    return value if value > 0 else IDLE_SECONDS


def _same_host(given: str | None, preset: str | None) -> bool:
    if not preset:
        return not given
    from explorer.parse import InputError, normalize_host

    try:
        return normalize_host(given or preset) == normalize_host(preset)
    except InputError:
        return False


def is_deployed(env: Mapping[str, str] | None = None) -> bool:
    """The Apps platform always sets DATABRICKS_APP_PORT; nothing else does."""
    env = os.environ if env is None else env
    return bool(env.get("DATABRICKS_APP_PORT"))

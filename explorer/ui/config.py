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
    title: str = "Databricks Apps API Explorer"
    browser_wait_seconds: float = 300.0  # how long a browser sign-in waits for its callback

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

    def preset(self, name: str, value: str | None) -> str:
        """The value to use for field `name`: the server-side preset when the page still shows its mask."""
        if value == PRESET_SECRET:
            return self.fields.get(name, "")
        return value or ""


def is_deployed(env: Mapping[str, str] | None = None) -> bool:
    """The Apps platform always sets DATABRICKS_APP_PORT; nothing else does."""
    env = os.environ if env is None else env
    return bool(env.get("DATABRICKS_APP_PORT"))

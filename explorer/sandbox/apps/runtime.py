"""What each app is doing right now: where its gateway and upstream are, and whether it runs."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from explorer.sandbox.config.schema import AppSpec

if TYPE_CHECKING:
    from explorer.sandbox.apps.source import SourceProcess


@dataclass
class AppRuntime:
    spec: AppSpec
    gateway_url: str = ""
    upstream_url: str | None = None  # None while stopped
    process: SourceProcess | None = None
    start_error: str | None = None
    created_at: float = field(default_factory=time.time)

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def state(self) -> str:
        """RUNNING, STOPPED or CRASHED (a `source` app whose process failed or ended)."""
        if self.spec.state == "STOPPED":
            return "STOPPED"
        if self.start_error or (self.process is not None and self.process.exit_code() is not None):
            return "CRASHED"
        return "RUNNING"

    def crash_message(self) -> str:
        if self.start_error:
            return f"App crashed: {self.start_error}"
        code = self.process.exit_code() if self.process else None
        return f"App crashed: the process exited with status {code}"

    def app_status(self) -> dict[str, Any]:
        state = self.state
        if state == "RUNNING":
            return {"state": "RUNNING", "message": "App has status: App is running"}
        if state == "CRASHED":
            return {"state": "CRASHED", "message": self.crash_message()}
        return {"state": "UNAVAILABLE", "message": "App has not been deployed yet or is stopped"}

    def compute_status(self) -> dict[str, Any]:
        if self.state == "STOPPED":
            return {"state": "STOPPED", "message": "App compute is stopped."}
        return {"state": "ACTIVE", "message": "App compute is running."}

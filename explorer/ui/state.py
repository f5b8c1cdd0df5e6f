"""Per-browser-session state (held in one gr.State, never in module globals)."""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from explorer.model import AppSummary, EndpointListing, Exchange

if TYPE_CHECKING:
    from explorer.session import ExplorerSession


class NotYourSession(Exception):
    """An event for a browser session that another signed-in user opened."""

    def __init__(self) -> None:
        super().__init__("This page belongs to another signed-in user's session: reload it.")


@dataclass
class UISession:
    """One browser session: its engine session plus what the panes were built from."""

    explorer: ExplorerSession
    apps: list[AppSummary] = field(default_factory=list)
    listing: EndpointListing | None = None
    last: Exchange | None = None
    # Deployed: the signed-in user's token as the platform forwarded it on this session's last
    # event. Kept only here, so it lives and dies with the browser session.
    forwarded_token: str | None = field(default=None, repr=False)
    # Deployed: the signed-in user (X-Forwarded-Email) who opened this session; nobody else may use it.
    owner: str | None = None
    _export_dir: Path | None = field(default=None, repr=False)

    def export_path(self, filename: str) -> Path:
        """Where this session's export file goes: one folder per session, overwritten, removed on close."""
        if self._export_dir is None:
            self._export_dir = Path(tempfile.mkdtemp(prefix="explorer-export-"))
        return self._export_dir / Path(filename).name

    def check_owner(self, email: str | None) -> None:
        """Deployed sessions have an owner: an event from anyone else (a replayed session hash) is refused."""
        if self.owner is not None and self.owner != (email or "").strip().lower():
            raise NotYourSession()

    def app_named(self, name: str | None) -> AppSummary | None:
        return next((a for a in self.apps if a.name == name), None)

    def close(self) -> None:
        """Release what the engine session holds (listeners, connections) when Gradio drops the state."""
        close = getattr(self.explorer, "close", None)
        if callable(close):
            close()
        if self._export_dir is not None:
            shutil.rmtree(self._export_dir, ignore_errors=True)

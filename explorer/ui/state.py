"""Per-browser-session state (held in one gr.State, never in module globals)."""

from __future__ import annotations

import re
import secrets
import shutil
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from explorer.model import AppSummary, EndpointListing, Exchange

if TYPE_CHECKING:
    from explorer.session import ExplorerSession


# Deployed, export files are served by Gradio's file route to whoever asks for their URL; the
# server answers such a request only for the signed-in user whose session wrote the file. This
# index (random file token -> owner) is the one piece of server-wide state, emptied per session.
_EXPORT_OWNERS: dict[str, str] = {}
_EXPORT_LOCK = threading.Lock()
_EXPORT_TOKEN = re.compile(r"explorer-export-([A-Za-z0-9_-]{16})-")


def export_owner(path: str) -> str | None:
    """The owner of the export file a URL path names, "" for a local session, None when not an export."""
    match = _EXPORT_TOKEN.search(path)
    if match is None:
        return None
    with _EXPORT_LOCK:
        return _EXPORT_OWNERS.get(match.group(1), "\0unknown")


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
    # Deployed: the signed-in user (X-Forwarded-Email) who opened this session; nobody else may use it.
    owner: str | None = None
    _export_dir: Path | None = field(default=None, repr=False)
    _export_token: str = field(default="", repr=False)

    def export_path(self, filename: str) -> Path:
        """Where this session's export file goes: one folder per session, overwritten, removed on close.

        The file's name carries the session's random export token, by which the server knows whose it is.
        """
        if self._export_dir is None:
            self._export_token = secrets.token_urlsafe(12)[:16].replace("-", "x").replace("_", "y")
            with _EXPORT_LOCK:
                _EXPORT_OWNERS[self._export_token] = self.owner or ""
            self._export_dir = Path(tempfile.mkdtemp(prefix="explorer-export-"))
        return self._export_dir / f"explorer-export-{self._export_token}-{Path(filename).name}"

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
            with _EXPORT_LOCK:
                _EXPORT_OWNERS.pop(self._export_token, None)

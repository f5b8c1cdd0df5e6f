"""The demo's connection, made while its first page loads rather than after (issue 17).

`--demo` connects every new page with the same method and fields on page load. The first page's
scripts take about a second to load after the page is served; `PreparedConnection.start()` (called
as the page is served) connects one engine session in that time, and the first page's load event
takes it instead of connecting anew. Later pages, or a page whose fields differ, connect as usual.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

WAIT_SECONDS = 5.0  # a page asking while it connects waits this long at most, then connects itself


class PreparedConnection:
    """One engine session connected in the background, for the first page that asks (once)."""

    def __init__(self, method: str, fields: Mapping[str, str]) -> None:
        self.method, self.fields = method, dict(fields)
        self.trust: Any = None
        self._started = False
        self._done = threading.Event()
        self._lock = threading.Lock()
        self._session: Any = None
        self._taken = False

    def start(self, trust: Any) -> None:
        """Connect in the background under `trust`, the one the UI's browser sessions run under."""
        self.trust, self._started = trust, True
        threading.Thread(target=self._connect, name="ui: prepared connection", daemon=True).start()

    def _connect(self) -> None:
        session = None
        try:
            from explorer.session import ExplorerSession

            session = ExplorerSession(trust=self.trust)
            if not session.connect(self.method, self.fields).ok:
                session.close()  # the page connects itself and shows why it failed
                session = None
        except Exception:  # the page's own connect reports it
            if session is not None:
                session.close()
            session = None
        finally:
            with self._lock:
                self._session = session
            self._done.set()

    def take(self, method: str, fields: Mapping[str, Any]) -> Any:
        """The connected session if it was made with this method and these fields; else None."""
        wanted = {k: v for k, v in fields.items() if v not in (None, "")}
        if (
            not self._started
            or method != self.method
            or wanted != {k: v for k, v in self.fields.items() if v not in (None, "")}
        ):
            return None
        self._done.wait(WAIT_SECONDS)
        with self._lock:
            session, self._session = self._session, None
            if self._taken or session is None:
                return None
            self._taken = True
            return session

    def close(self) -> None:
        """Release a session nobody took (the server stops)."""
        with self._lock:
            session, self._session = self._session, None
        if session is not None:
            session.close()

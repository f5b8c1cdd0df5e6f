"""Per-browser-session state (held in one gr.State, never in module globals)."""

from __future__ import annotations

import re
import secrets
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from explorer.model import AppSummary, Endpoint, EndpointListing, Exchange
from explorer.transport import Cancel
from explorer.ui.forms import RequestForm

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


class SendJob:
    """One send in flight from one tab: the engine works in a thread; the page may give up on it.

    `settled` is set when the exchange arrived or the user cancelled, whichever came first.
    """

    def __init__(self, method: str, url: str) -> None:
        self.method, self.url = method, url
        self.started = time.time()
        self.settled = threading.Event()
        self.finished = threading.Event()  # the engine returned (after a cancel, with what arrived)
        self.wake = threading.Event()  # set on every change: the end, a cancel, a stream's events
        self.cancelled = False
        self.exchange: Exchange | None = None
        self.error: BaseException | None = None
        self.stop = Cancel()  # the engine's handle: cancelling closes the exchange's connection
        self.live: Any = None  # ui.live.LiveStream: a stream's events as they arrive
        self._handed_over = False  # its stream went to the page's follower: Handlers.finish_stream answers
        self._lock = threading.Lock()

    def finish(self, exchange: Exchange | None, error: BaseException | None = None) -> None:
        self.exchange, self.error = exchange, error
        self.finished.set()
        self.settled.set()
        self.wake.set()

    def cancel(self) -> None:
        self.cancelled = True
        self.stop.set()  # the socket is shut: the app sees the client go, the engine records it
        self.settled.set()
        self.wake.set()

    @property
    def seconds(self) -> float:
        return time.time() - self.started

    def hand_over(self) -> None:
        """Its stream goes to the page's follower; whoever `take_over()`s first answers it."""
        with self._lock:
            self._handed_over = True

    def take_over(self) -> bool:
        """True once, for the one event that answers a handed-over send."""
        with self._lock:
            taken, self._handed_over = self._handed_over, False
        return taken


def _same_form(form: RequestForm) -> tuple[object, ...]:
    """A form as compared for the unsaved dot: the page's boxes may add line-end or edge whitespace."""
    texts = tuple(
        "\n".join(line.rstrip() for line in (t or "").strip().splitlines())
        for t in (form.url, form.params, form.headers, form.body)
    )
    return (form.method.upper(), *texts, float(form.timeout or 30))


@dataclass
class RequestTab:
    """One open request: its form, what it was opened with (to tell whether it changed), and the
    response that answers it. A response is stored only in the tab that sent it."""

    id: str
    form: RequestForm
    baseline: RequestForm
    name: str = ""  # a saved request's name (else the tab shows the path)
    notes: str = ""  # Markdown: the request's description (a demo's speaker notes)
    source: str | None = None  # the collection file it came from, relative to the collection
    endpoint: Endpoint | None = None  # the OpenAPI operation it was opened from (path parameter docs)
    path_values: dict[str, str] = field(default_factory=dict)  # {item_id} -> value
    exchange: Exchange | None = None
    # a followed background answer: the id of the exchange that was answered -> its polls
    polls: dict[str, list[Exchange]] = field(default_factory=dict)
    notice: str = ""  # why the last send produced no exchange (not sent, cancelled)
    notice_summary: dict[str, Any] = field(default_factory=dict)  # the same, for scripts (the summary JSON)
    notice_at: float | None = None
    job: SendJob | None = None
    sent: Any = None  # the RequestSpec of the tab's last send, as sent (its snippet is of that request)
    sent_session: Any = None  # the ExplorerSession that sent it (the page's, or an identity's)
    # Where the tab's identity file comes from, (collection location, environment): a matrix cell's
    # tab, from the matrix's collection; None: the collection open in Collections.
    identity_from: tuple[str, str | None] | None = None

    @property
    def dirty(self) -> bool:
        return _same_form(self.form) != _same_form(self.baseline)

    @property
    def sending(self) -> bool:
        return self.job is not None and not self.job.settled.is_set()

    @property
    def untouched(self) -> bool:
        """Nothing typed, sent or saved here: picking an endpoint may reuse it."""
        return (
            not self.dirty
            and self.exchange is None
            and not self.notice
            and not self.sending
            and not self.source
        )


@dataclass
class EndpointGroups:
    """Which endpoint groups are collapsed. A filter opens every group with matches (its job is to
    show them) and has its own collapsed set while it is typed; clearing it brings back yours."""

    collapsed: set[str] = field(default_factory=set)
    while_filtering: set[str] = field(default_factory=set)
    filtering: bool = False

    def hidden(self, query: str) -> set[str]:
        filtering = bool((query or "").strip())
        if filtering != self.filtering:
            self.filtering, self.while_filtering = filtering, set()
        return self.while_filtering if filtering else self.collapsed

    def toggle(self, group: str, query: str) -> None:
        hidden = self.hidden(query)
        hidden.symmetric_difference_update({group})


@dataclass
class UISession:
    """One browser session: its engine session plus what the panes were built from."""

    explorer: ExplorerSession
    apps: list[AppSummary] = field(default_factory=list)
    listing: EndpointListing | None = None
    groups: EndpointGroups = field(default_factory=EndpointGroups)
    last: Exchange | None = None
    tabs: list[RequestTab] = field(default_factory=list)
    active: str = ""
    collection: Any = None  # the open collection view (ui.collections.OpenCollection)
    # The identities tabs send as (ui.identities): name -> (what it was connected from, Identity).
    identities: dict[str, Any] = field(default_factory=dict, repr=False)
    sent_as: dict[str, str] = field(default_factory=dict, repr=False)  # exchange id -> identity name
    identity_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)  # one connect at a time
    _tab_counter: int = field(default=0, repr=False)
    # Deployed: the signed-in user (X-Forwarded-Email) who opened this session; nobody else may use it.
    owner: str | None = None
    # What the page shows now, so a send updates only what is visible and changed: the History table
    # while its tab is open (rows built once each).
    history_open: bool = False
    history_rows: Any = field(default=None, repr=False)  # ui.present.HistoryRows, made on first use
    shown: dict[str, Any] = field(default_factory=dict, repr=False)  # handlers.changed(): props on the page
    # Idle expiry: Gradio's State lives `time_to_live` after its last store; events change the state
    # in place and skip storing it (cheaper), so it is stored again at most every `keep_alive_every`.
    keep_alive_every: float = 60.0
    _stored_at: float = field(default_factory=time.monotonic, repr=False)
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

    def due_for_store(self) -> bool:
        """True about once a `keep_alive_every`: this event stores the state (renewing its lifetime)."""
        now = time.monotonic()
        if now - self._stored_at < self.keep_alive_every:
            return False
        self._stored_at = now
        return True

    def check_owner(self, email: str | None) -> None:
        """Deployed sessions have an owner: an event from anyone else (a replayed session hash) is refused."""
        if self.owner is not None and self.owner != (email or "").strip().lower():
            raise NotYourSession()

    # --- request tabs ------------------------------------------------------------------------------

    def tab(self, tab_id: str | None = None) -> RequestTab:
        """The tab `tab_id` (default: the active one); the first tab is made on first use."""
        if not self.tabs:
            self.open_tab(RequestForm())
        wanted = tab_id or self.active
        found = next((t for t in self.tabs if t.id == wanted), None)
        return found if found is not None else self.tabs[0]

    def open_tab(self, form: RequestForm, *, reuse: bool = False, **details: Any) -> RequestTab:
        """Open `form` in a tab and make it active: the active tab when `reuse` and it is untouched."""
        current = next((t for t in self.tabs if t.id == self.active), None)
        if reuse and current is not None and current.untouched:
            tab = current  # who it sends as stays
            form = replace(form, send_as=current.form.send_as)
            tab.form, tab.baseline = form, replace(form)
            tab.name, tab.notes, tab.source, tab.endpoint = "", "", None, None
            tab.path_values = {}
            for key, value in details.items():
                setattr(tab, key, value)
        else:
            self._tab_counter += 1
            tab = RequestTab(f"t{self._tab_counter}", form, replace(form), **details)
            self.tabs.append(tab)
        self.active = tab.id
        return tab

    def close_tab(self, tab_id: str) -> RequestTab:
        """Close a tab (its send, if any, is abandoned); the neighbour becomes active. Never zero tabs."""
        index = next((i for i, t in enumerate(self.tabs) if t.id == tab_id), None)
        if index is not None:
            closed = self.tabs.pop(index)
            if closed.job is not None:
                closed.job.cancel()
            if not self.tabs:
                return self.open_tab(RequestForm(app_url=closed.form.app_url))
            if self.active == tab_id:
                self.active = self.tabs[min(index, len(self.tabs) - 1)].id
        return self.tab()

    def tab_with(self, exchange: Exchange) -> RequestTab | None:
        return next((t for t in self.tabs if t.exchange is exchange), None)

    def app_named(self, name: str | None) -> AppSummary | None:
        return next((a for a in self.apps if a.name == name), None)

    def close(self) -> None:
        """Release what the engine session holds (listeners, connections) when Gradio drops the state."""
        close = getattr(self.explorer, "close", None)
        if callable(close):
            close()
        for _key, identity in self.identities.values():
            if identity.session is not self.explorer:
                identity.session.close()
        self.identities.clear()
        if self._export_dir is not None:
            shutil.rmtree(self._export_dir, ignore_errors=True)
            with _EXPORT_LOCK:
                _EXPORT_OWNERS.pop(self._export_token, None)

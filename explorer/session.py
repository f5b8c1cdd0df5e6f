"""One user's explorer session: the engine facade the UI and the CLI share.

    s = ExplorerSession(trust=Trust.local())        # what it may read and reach (explorer.trust)
    s = ExplorerSession(allowlist=a)                 # shorthand: local, with an outbound allowlist
    s.connect(method, fields) -> Connection         # method in auth.METHODS; fields: {field_name: value}
    s.connection                                     # the current Connection or None
    s.list_apps() -> tuple[list[AppSummary], list[Finding]]
    s.list_endpoints(app_url) -> EndpointListing
    s.send(spec: RequestSpec) -> Exchange            # adds to s.history; never raises for network/HTTP errors
    s.snippet(spec, lang) -> str                     # lang in ("curl", "python", "sdk")
    s.history -> history.History                     # .rows() DataFrame, .export(fmt) -> (filename, text)
    s.reveal_token() -> str | None                   # the current token, for the explicit "reveal" control only

Browser sign-in (PKCE, never blocks without a bound):
    url = s.begin_browser(fields)                   # starts the local callback listener; returns the authorize URL
    s.wait_browser(timeout=...) -> Connection        # waits for the listener's callback (bounded)
    s.complete_browser(redirected_url) -> Connection # paste-back mode: the URL the browser was sent to

Thread-safe: deployed, Gradio runs one session per browser tab and many events at once; state
changes happen under a lock, sends run in parallel on the current credentials. Every secret
the session learns is added to its redactor, which also scrubs the log records of the process.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from explorer.agent import background_id, transcript_of
from explorer.auth import (
    DEFAULT_TIMEOUT,
    METHODS,
    AuthFailed,
    Credentials,
    blame_fields,
    browser_credentials,
    start_browser_login,
)
from explorer.diagnose import diagnose, token_findings
from explorer.discovery_fetch import fetch_endpoints
from explorer.failures import auth_failed
from explorer.guard import Allowlist
from explorer.history import History, scrub_bytes
from explorer.model import (
    AppSummary,
    AuthEvent,
    AuthInfo,
    Connection,
    Endpoint,
    EndpointListing,
    Exchange,
    Finding,
    RequestSpec,
    StreamEvent,
    TokenInfo,
    WorkspaceFacts,
)
from explorer.parse import origin_key
from explorer.redact import Redactor, install_log_filter, uninstall_log_filter
from explorer.send import SessionPool, send
from explorer.snippets import render_snippet
from explorer.tokens import decode_token
from explorer.transport import Cancel
from explorer.trust import Trust
from explorer.workspace import Workspace, WorkspaceError

if TYPE_CHECKING:  # the SDK loads on first use: `call --help` and token-method calls never import it
    from explorer import oauth

FACTS_CACHE_SECONDS = 30.0
log = logging.getLogger("explorer.session")
__all__ = ["Connection", "ExplorerSession"]


class ExplorerSession:
    """One user's credentials, workspace view, connections and history."""

    def __init__(
        self,
        allowlist: Allowlist | None = None,
        *,
        trust: Trust | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        retry_on_401: bool = True,
    ) -> None:
        self.trust = trust or Trust.local(allowlist)
        self.retry_on_401 = retry_on_401
        self.allowlist = self.trust.allowlist
        self.timeout = timeout
        self.redactor = Redactor(self.trust.platform_secrets())
        self.history = History(redactor=self.redactor)
        self._log_filter = install_log_filter(self.redactor)
        self._pool = SessionPool()
        self._lock = threading.RLock()
        self._credentials: Credentials | None = None
        self._workspace: Workspace | None = None
        self._connection: Connection | None = None
        self._facts: dict[str, tuple[float, WorkspaceFacts]] = {}
        self._browser: oauth.BrowserLogin | None = None
        self._decoded: tuple[str | None, tuple[str, ...], TokenInfo] | None = None
        self._forwarded: str | None = None
        self._operations: dict[str, list[Endpoint]] = {}  # per app origin, from its OpenAPI document

    def __repr__(self) -> str:
        method = self._connection.auth.method if self._connection else None
        return f"ExplorerSession(method={method!r}, exchanges={len(self.history)})"

    # --- connecting -------------------------------------------------------------------------

    @property
    def connection(self) -> Connection | None:
        return self._connection

    @property
    def credentials(self) -> Credentials | None:
        return self._credentials

    def connect(self, method: str, fields: Mapping[str, Any] | None = None) -> Connection:
        """Resolve `method` with `fields`. A failed attempt returns its failed Connection (why, as
        findings) and leaves the previous working connection in place: `self.connection` and the
        credentials stay those that worked.

        Every host the resolution contacts is checked against the trust's allowlist first (the
        workspace, a profile's host, a token's issuer, the discovered OAuth endpoints).
        """
        auth_method = METHODS.get(method)
        if auth_method is None or auth_method.interactive:
            hint = "use begin_browser()" if auth_method else f"choose one of {', '.join(METHODS)}"
            return self._attempt_failed(
                method, [auth_failed(f"Cannot connect with {method!r}", hint.capitalize() + ".")]
            )
        self._remember_secrets(auth_method.name, fields or {})
        filled = {k for k, v in (fields or {}).items() if v is not None and str(v).strip()}
        try:
            credentials = auth_method.resolve(fields or {}, timeout=self.timeout, trust=self.trust)
        except AuthFailed as error:
            findings = blame_fields(method, error.findings, error.auth_events, filled)
            return self._attempt_failed(method, findings, error.auth_events)
        connection = self._adopt(credentials)
        connection.findings = blame_fields(method, connection.findings, connection.auth_events, filled)
        return connection

    @property
    def forwarded_token(self) -> str | None:
        """Deployed: the signed-in user's token as the platform forwarded it on the latest event."""
        return self._forwarded

    def follow_forwarded_token(self, token: str | None) -> None:
        """Keep the platform's latest forwarded token; a connection of a forwarded method follows it.

        The platform forwards the signed-in user's current token with every request, so the token a
        `user` connection holds is renewed as the user keeps working. It lives only in this session.
        """
        changed, self._forwarded = token != self._forwarded, token
        connection = self._connection
        if not (changed and token and connection is not None and connection.ok):
            return
        method = METHODS.get(connection.auth.method)
        if method is not None and method.forwarded:
            self.connect(method.name, {"token": token})

    def begin_browser(self, fields: Mapping[str, Any] | None = None, *, listen: bool = True) -> str:
        """Start a PKCE sign-in; returns the authorize URL. Raises AuthFailed when it cannot start.

        A local listener waits for the redirect (`wait_browser`); with `listen=False`, or when it
        cannot listen (port in use), the sign-in continues in paste-back mode (`complete_browser`).
        """
        values = dict(fields or {})
        self._remember_secrets("browser", values)
        with self._lock:
            self._close_browser()
            try:
                login = start_browser_login(values, self.timeout, listen=listen, trust=self.trust)
            except _sign_in_error():  # cannot listen here: the user pastes the redirected URL instead
                login = start_browser_login(values, self.timeout, listen=False, trust=self.trust)
            self._browser = login
            return login.begin()

    @property
    def browser_listening(self) -> bool:
        """True while a sign-in waits on the local listener (False: paste-back mode)."""
        login = self._browser
        return login is not None and login.listening

    def wait_browser(self, timeout: float = 120.0) -> Connection:
        """Wait (at most `timeout` s) for the listener to receive the sign-in redirect."""
        return self._finish_browser(lambda login: login.wait(timeout))

    def complete_browser(self, redirected_url: str) -> Connection:
        """Finish a sign-in with the URL the browser was redirected to (paste-back mode)."""
        return self._finish_browser(lambda login: login.complete(redirected_url))

    def _finish_browser(self, finish: Any) -> Connection:
        login = self._browser
        if login is None:
            return self._failed(
                "browser", [auth_failed("No browser sign-in in progress", "Start one first (Sign in).")]
            )
        try:
            session = finish(login)
            credentials = browser_credentials(login, session, self.timeout, trust=self.trust)
        except _sign_in_error() as error:
            findings = [auth_failed(self.redactor.scrub(str(error)), "Start the sign-in again.")]
            return self._failed_unless_superseded(login, findings)
        except AuthFailed as error:
            return self._failed_unless_superseded(login, error.findings)
        finally:
            with self._lock:
                if self._browser is login:
                    self._close_browser()
        return self._adopt(credentials)

    def _failed_unless_superseded(self, login: oauth.BrowserLogin, findings: list[Finding]) -> Connection:
        """A sign-in that was completed (paste-back) or restarted meanwhile must not undo the connection:
        a listener wait that times out later only reports its failure."""
        if self._browser is not login:
            return Connection(AuthInfo("browser", "sign-in superseded"), None, findings, False)
        return self._failed("browser", findings)

    def _close_browser(self) -> None:
        if self._browser is not None:
            self._browser.close()
            self._browser = None

    def _adopt(self, credentials: Credentials) -> Connection:
        for secret in credentials.secrets():
            self.redactor.add(secret)
        token = decode_token(credentials.token)
        workspace = Workspace(credentials, self.timeout)
        _learn_display_name(credentials.info, workspace)
        connection = Connection(credentials.info, token, token_findings(token, credentials.info), True)
        connection.auth_events = credentials.events_since(0)
        with self._lock:
            self._credentials = credentials
            self._workspace = workspace
            self._connection = connection
            self._facts.clear()
        return connection

    def _attempt_failed(
        self, method: str, findings: list[Finding], events: list[AuthEvent] | None = None
    ) -> Connection:
        """A connect that failed: reported as its own Connection, the working one (if any) kept."""
        current = self._connection
        if current is None or not current.ok:
            return self._failed(method, findings, events)
        return Connection(AuthInfo(method, "not connected"), None, findings, False, list(events or []))

    def _failed(
        self, method: str, findings: list[Finding], events: list[AuthEvent] | None = None
    ) -> Connection:
        connection = Connection(AuthInfo(method, "not connected"), None, findings, False, list(events or []))
        with self._lock:
            self._credentials, self._workspace, self._connection = None, None, connection
            self._facts.clear()
        return connection

    def _remember_secrets(self, method: str, fields: Mapping[str, Any]) -> None:
        """Secret field values as typed (a wrapped paste included) are scrubbed from every output."""
        auth_method = METHODS[method]
        for spec in auth_method.fields:
            if spec.secret and fields.get(spec.name):
                self.redactor.add(str(fields[spec.name]).strip())

    # --- the workspace ----------------------------------------------------------------------

    def list_apps(self) -> tuple[list[AppSummary], list[Finding]]:
        workspace = self._workspace
        if workspace is None:
            return [], [_not_connected()]
        try:
            return workspace.list_apps(refresh=True), []
        except WorkspaceError as error:
            return [], error.findings

    def list_endpoints(self, app_url: str) -> EndpointListing:
        """The app's endpoints; remembered, so a 404 on a documented path is read as the app's own."""
        listing = fetch_endpoints(
            app_url,
            self._credentials,
            session_pool=self._pool,
            allowlist=self.allowlist,
            redactor=self.redactor,
            timeout=max(self.timeout, 15.0),
        )
        if listing.endpoints:
            with self._lock:
                self._operations[origin_key(app_url)] = listing.endpoints
        return listing

    def facts_for(self, url: str, refresh: bool = False) -> WorkspaceFacts | None:
        """Cached workspace facts about the app serving `url` (None when not connected)."""
        workspace = self._workspace
        if workspace is None:
            return None
        origin = origin_key(url)
        cached = self._facts.get(origin)
        fresh = cached is not None and time.monotonic() - cached[0] < FACTS_CACHE_SECONDS
        # A workspace that just failed to answer is not asked again at once: while it is down,
        # every failed send would otherwise wait out the SDK's retries before its diagnosis.
        if fresh and cached and (not refresh or _unreachable(cached[1])):
            return cached[1]
        facts = workspace.facts_for(url, refresh=refresh)  # outside the lock: it may take a while
        with self._lock:
            self._facts[origin] = (time.monotonic(), facts)
        return facts

    # --- sending ----------------------------------------------------------------------------

    def send(
        self,
        spec: RequestSpec,
        *,
        on_event: Callable[[StreamEvent], None] | None = None,
        cancel: Cancel | None = None,
        on_start: Callable[[float, str], None] | None = None,
        sink: BinaryIO | None = None,
    ) -> Exchange:
        """Send `spec` with the current credentials; diagnose; add to the history (`sink`: see
        `download`).

        A streamed answer (SSE, NDJSON, chunked text) is parsed as it arrives: `on_start` gets the time
        to first byte and the stream's kind when its headers are in, `on_event` each event at once;
        `cancel.set()` from another thread closes the connection and keeps what arrived.

        A 401 with credentials that can refresh is answered once by forcing a fresh token and sending
        again (never more: a second 401 is the verdict); `retry_on_401=False` turns that off.
        """
        credentials = self._credentials
        facts = self.facts_for(spec.url) if credentials else None
        seen = credentials.events_count() if credentials else 0
        exchange = self._send_once(spec, credentials, on_event, cancel, on_start, sink)
        if self._should_retry(exchange, credentials):
            assert credentials is not None
            first = exchange.response
            try:
                credentials.refresh()
            except Exception as error:  # the refresh itself failed: the 401 stands, with why
                log.debug("forcing a fresh token failed", exc_info=True)
                exchange.retried = (
                    f"not retried: getting a fresh token failed ({self.redactor.scrub(str(error))[:200]})"
                )
            else:
                for secret in credentials.secrets():
                    self.redactor.add(secret)
                if sink is not None:  # the first answer's body goes: the file is the second's
                    sink.seek(0)
                    sink.truncate()
                exchange = self._send_once(spec, credentials, on_event, cancel, on_start, sink)
                exchange.retried = (
                    f"the first attempt got {first.status} {first.reason}: a fresh token was fetched and "
                    "the request sent once more"
                    if first is not None
                    else "retried once with a fresh token"
                )
        if credentials is not None:
            exchange.auth_events = credentials.events_since(seen)
        exchange.token = self._token_info(credentials, facts) if exchange.request.headers else None
        if not exchange.ok and credentials is not None:
            facts = self.facts_for(spec.url, refresh=True)
            exchange.token = self._token_info(credentials, facts) if exchange.token else None
        exchange.findings = diagnose(exchange, facts, self._operations.get(origin_key(spec.url)))
        self.history.add(exchange)
        return exchange

    def follow_background(
        self,
        exchange: Exchange,
        *,
        on_poll: Callable[[Exchange], None] | None = None,
        interval: float = 0.5,
        limit: int = 120,
        cancel: Cancel | None = None,
    ) -> list[Exchange]:
        """An agent's background answer followed to the end: poll `<url>/<id>` until it is no longer
        queued or in progress (at most `limit` polls); each poll is an exchange of its own.
        `cancel.set()` stops the following (between polls, or the poll in flight)."""
        response = exchange.response
        ident = background_id(response.json) if response is not None else None
        polls: list[Exchange] = []
        while ident is not None and len(polls) < limit:
            _pause(interval, cancel)
            if cancel is not None and cancel.requested:
                break
            spec = RequestSpec(
                "GET", exchange.request.url.rstrip("/") + "/" + ident, timeout=exchange.request.timeout
            )
            poll = self.send(spec, cancel=cancel)
            if poll.response is not None and poll.response.json is not None:
                poll.response.transcript = transcript_of(poll.response.json)
            polls.append(poll)
            if on_poll is not None:
                on_poll(poll)
            if not poll.ok or background_id(poll.response.json if poll.response else None) is None:
                break
        return polls

    def _send_once(
        self,
        spec: RequestSpec,
        credentials: Credentials | None,
        on_event: Callable[[StreamEvent], None] | None = None,
        cancel: Cancel | None = None,
        on_start: Callable[[float, str], None] | None = None,
        sink: BinaryIO | None = None,
    ) -> Exchange:
        return send(
            spec,
            credentials,
            session_pool=self._pool,
            allowlist=self.allowlist,
            redactor=self.redactor,
            on_event=on_event,
            cancel=cancel,
            on_start=on_start,
            sink=sink,
        )

    def _should_retry(self, exchange: Exchange, credentials: Credentials | None) -> bool:
        response = exchange.response
        return bool(
            self.retry_on_401
            and credentials is not None
            and credentials.can_refresh
            and response is not None
            and response.status == 401
        )

    def _token_info(self, credentials: Credentials | None, facts: WorkspaceFacts | None) -> TokenInfo | None:
        if credentials is None:
            return None
        try:
            token = credentials.token
        except Exception:  # the failure is already a finding of the exchange
            log.debug("reading the token for the Token pane failed", exc_info=True)
            return None
        app = facts.app if facts else None
        required = tuple((app.effective_user_api_scopes or app.user_api_scopes) if app else [])
        cached = self._decoded
        if cached is not None and cached[0] == token and cached[1] == required:
            return cached[2]  # the same token as last time: the SDK reuses it until it expires
        self.redactor.add(token)
        info = decode_token(token, list(required))
        self._decoded = (token, required, info)
        return info

    def snippet(self, spec: RequestSpec, lang: str) -> str:
        """The request as runnable code; credentials come from env vars, never inline."""
        connection = self._connection
        info = connection.auth if connection and connection.ok else None
        method = info.method if info else "token"
        scopes = (info.details.get("scopes", "") if info else "").split()
        scopes = [s for s in scopes if s != "offline_access"]
        return render_snippet(
            spec,
            method,
            lang,
            host=info.host if info else None,
            profile=info.details.get("profile") if info else None,
            scopes=scopes if scopes != ["all-apis"] else [],
            redactor=self.redactor,
        )

    def reveal_token(self) -> str | None:
        """The current token in full, for the UI's explicit reveal control only."""
        credentials = self._credentials
        return credentials.token if credentials else None

    def download(self, spec: RequestSpec, path: Path) -> Exchange:
        """Send `spec` again and write its whole body to `path` (a truncated answer, in full), up to
        send.DOWNLOAD_LIMIT; the file is scrubbed of the session's secrets like any export. The
        exchange (with the usual display-sized body) goes to the history like any other send."""
        with open(path, "wb") as sink:
            exchange = self.send(spec, sink=sink)
        data = path.read_bytes()
        scrubbed = scrub_bytes(data, self.redactor)
        if scrubbed is not data:
            path.write_bytes(scrubbed)
        return exchange

    def close(self) -> None:
        """Release connections, the sign-in listener and the log filter."""
        with self._lock:
            self._close_browser()
        self._pool.close()
        uninstall_log_filter(self._log_filter)


def _pause(seconds: float, cancel: Cancel | None) -> None:
    """Sleep `seconds`, or less when `cancel` is set meanwhile."""
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0 and not (cancel is not None and cancel.requested):
        time.sleep(min(left, 0.05))


def _sign_in_error() -> type[Exception]:
    from explorer import oauth

    return oauth.SignInError


def _not_connected() -> Finding:
    return Finding(
        "NOT_CONNECTED",
        "info",
        "Not connected to a workspace",
        "Pick an auth method and connect first; you can still type an app URL and send.",
    )


def _unreachable(facts: WorkspaceFacts) -> bool:
    return any(note.code.startswith("NETWORK_") or note.code == "TIMEOUT" for note in facts.notes)


def _learn_display_name(info: AuthInfo, workspace: Workspace) -> None:
    """Like `databricks auth describe`: name the caller (a service principal's id says little)."""
    if not info.host:
        return
    try:
        name = workspace.display_name()
    except WorkspaceError as error:  # optional: a token without workspace scopes still calls apps
        log.debug("the caller's display name is not readable: %s", error)
        return
    if name and name != info.identity:
        info.details["display_name"] = name

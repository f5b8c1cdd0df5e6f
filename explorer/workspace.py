"""What the workspace can tell about an app and its caller: apps, permissions, current user.

All calls go through a `workspace_api.WorkspaceApi`: the SDK's HTTP client with the connection's
own `Config` (so the token cache is shared with sending), or, for a static bearer token, the same
REST endpoints with plain requests (no SDK import); they are bounded in time. `facts_for(url)` never raises: what
it cannot learn it leaves unknown, and diagnosis then says less, not something wrong.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from explorer.auth import Credentials
from explorer.failures import finding_for_error, is_network_error, proxy_findings, sdk_message
from explorer.model import AppSummary, Finding, Grant, WorkspaceFacts
from explorer.parse import is_web_link, origin_key
from explorer.redact import scrub
from explorer.waits import run_bounded
from explorer.workspace_api import ApiError, RestWorkspaceApi, SdkWorkspaceApi, WorkspaceApi

APPS_CACHE_SECONDS = 30.0
log = logging.getLogger("explorer.workspace")
UNREACHABLE_SECONDS = 10.0  # after a network failure, calls fail at once for this long
T = TypeVar("T")


class WorkspaceError(Exception):
    """A workspace call failed; `findings` say why. `status` is the HTTP status when one came back."""

    def __init__(self, findings: list[Finding], status: int | None = None) -> None:
        self.findings = findings
        self.status = status
        super().__init__(findings[0].message if findings else "Workspace call failed")


class Workspace:
    """The workspace behind one connection. Thread-safe; caches the apps list briefly."""

    def __init__(self, credentials: Credentials, timeout: float = 10.0) -> None:
        self.credentials = credentials
        self.host = credentials.info.host
        self.timeout = timeout
        self._lock = threading.Lock()
        self._client: WorkspaceApi | None = None
        self._apps: list[AppSummary] | None = None
        self._apps_at = 0.0
        self._caller: str | None = None
        self._caller_name: str | None = None
        self._caller_groups: list[str] | None = None
        self._down: tuple[float, WorkspaceError] | None = None  # (when, why) of the last network failure

    def _workspace(self) -> WorkspaceApi:
        with self._lock:
            if self._client is None:
                if self.credentials.static and self.host:  # nothing to refresh: no SDK needed (~1–3 s)
                    self._client = RestWorkspaceApi(self.host, self.credentials.headers, self.timeout)
                else:
                    config = self.credentials.config
                    if config is None:
                        raise WorkspaceError([_no_host_finding()])
                    self._client = SdkWorkspaceApi(config)
            return self._client

    def _call(self, what: str, fn: Callable[[WorkspaceApi], T]) -> T:
        down = self._down
        if down is not None and time.monotonic() - down[0] < UNREACHABLE_SECONDS:
            raise down[1]  # it just failed to answer: say so at once instead of retrying again
        try:
            client = self._workspace()
            result = run_bounded(lambda: fn(client), self.timeout + 2, what)
        except WorkspaceError:
            raise
        except ApiError as error:
            raise WorkspaceError([_api_finding(what, error, self.host)], error.status) from None
        except Exception as error:
            log.debug("%s failed", what, exc_info=True)
            url = self.host or "the workspace"
            if is_network_error(error):
                failure = WorkspaceError([finding_for_error(error, url, self.timeout), *proxy_findings(url)])
                self._down = (time.monotonic(), failure)
                raise failure from None
            raise WorkspaceError([_api_finding(what, error, self.host)]) from None
        self._down = None
        return result

    def list_apps(self, refresh: bool = False) -> list[AppSummary]:
        """Every app in the workspace (apps.list, all pages). Raises WorkspaceError."""
        with self._lock:
            fresh = self._apps is not None and time.monotonic() - self._apps_at < APPS_CACHE_SECONDS
            if fresh and not refresh:
                return list(self._apps or [])
        apps = self._call("listing apps", lambda w: [app_summary(a) for a in w.list_apps()])
        with self._lock:
            self._apps, self._apps_at = apps, time.monotonic()
        return list(apps)

    def app_for_url(self, url: str, refresh: bool = False) -> AppSummary | None:
        """The app whose URL has the same origin as `url`, or None."""
        origin = origin_key(url)
        return next((a for a in self.list_apps(refresh) if a.url and origin_key(a.url) == origin), None)

    def permissions(self, app_name: str) -> list[Grant] | None:
        """The app's ACL, or None when this caller may not read it (it needs CAN_MANAGE)."""
        try:
            acl = self._call("reading app permissions", lambda w: w.app_permissions(app_name))
        except WorkspaceError as error:
            if error.status in (401, 403, 404):
                return None
            raise
        return [_grant(entry) for entry in acl.get("access_control_list", [])]

    def current_user(self) -> str | None:
        """SCIM Me userName of the caller (cached)."""
        if self._caller is None:
            me = self._call("reading the current user", lambda w: w.me())
            self._caller = me.get("userName") or me.get("applicationId")
            self._caller_name = me.get("displayName")
            groups = me.get("groups")
            self._caller_groups = (
                [str(g.get("display") or g.get("value")) for g in groups if isinstance(g, dict)]
                if isinstance(groups, list)
                else None
            )
        return self._caller

    def display_name(self) -> str | None:
        """SCIM Me displayName of the caller (e.g. a service principal's name, not its id)."""
        self.current_user()
        return self._caller_name

    def facts_for(self, url: str, refresh: bool = False) -> WorkspaceFacts:
        """Everything known about the app serving `url` and its caller. Never raises."""
        facts = WorkspaceFacts(host=self.host)
        try:
            facts.app = self.app_for_url(url, refresh)
            facts.apps_listed = True
        except WorkspaceError as error:
            facts.notes = [_as_note(f) for f in error.findings[:1]]
            return facts
        for learn in (self._learn_caller, self._learn_permissions):
            try:
                learn(facts)
            except WorkspaceError as error:  # optional facts: diagnosis works without them
                log.debug("optional workspace fact not learnt: %s", error)
        return facts

    def _learn_caller(self, facts: WorkspaceFacts) -> None:
        facts.caller = self.current_user()
        facts.caller_groups = self._caller_groups

    def _learn_permissions(self, facts: WorkspaceFacts) -> None:
        if facts.app is not None:
            facts.permissions = self.permissions(facts.app.name)


# --- conversions --------------------------------------------------------------------------------


def app_summary(app: dict[str, Any]) -> AppSummary:
    """An AppSummary from the apps API's JSON for one app; a URL that is not http(s) is dropped
    and flagged (the apps API's text is untrusted: `javascript:` must not become a target)."""
    url = app.get("url")
    problem = ""
    if url and not is_web_link(url):
        url, problem = None, "the apps API gave this app a URL that is not http(s); it cannot be called"
    return AppSummary(
        name=str(app.get("name", "")),
        url=url,
        problem=problem,
        state=(app.get("app_status") or {}).get("state"),
        compute_state=(app.get("compute_status") or {}).get("state"),
        service_principal=app.get("service_principal_client_id"),
        service_principal_name=app.get("service_principal_name"),
        user_api_scopes=list(app.get("user_api_scopes") or []),
        effective_user_api_scopes=list(app.get("effective_user_api_scopes") or []),
        description=app.get("description") or "",
    )


def _grant(entry: dict[str, Any]) -> Grant:
    for key, kind in (
        ("user_name", "user"),
        ("service_principal_name", "service_principal"),
        ("group_name", "group"),
    ):
        if entry.get(key):
            principal, principal_kind = entry[key], kind
            break
    else:
        principal, principal_kind = entry.get("display_name", "?"), "user"
    levels = [p.get("permission_level", "") for p in entry.get("all_permissions", [])]
    return Grant(principal, principal_kind, [level for level in levels if level])


def _api_finding(what: str, error: BaseException, host: str | None) -> Finding:
    message = scrub(sdk_message(error))
    status = error.status if isinstance(error, ApiError) else None
    if status == 403:
        fix = "The caller may lack the workspace entitlement for this API; ask a workspace admin."
    elif status == 401:
        fix = "The token was refused by the workspace: reconnect (a fresh token), or check it is from this workspace."
    else:
        fix = f"Check the workspace URL ({host or 'unknown'}) and retry; run with --debug for details."
    return Finding("AUTH_FAILED" if status == 401 else "WORKSPACE_ERROR", "error", f"{what}: {message}", fix)


def _as_note(finding: Finding) -> Finding:
    return Finding(finding.code, "info", f"Workspace facts unavailable ({finding.message})", finding.fix)


def _no_host_finding() -> Finding:
    return Finding(
        "WORKSPACE_UNKNOWN",
        "info",
        "The workspace is not known for this connection, so apps and permissions cannot be read",
        "Give the workspace URL (--host / the Workspace URL field); a Databricks OAuth token names it.",
    )

"""Who may reach an app through its gateway, as docs/PLATFORM.md#calling-an-app describes.

- stopped app -> 404;
- a browser session cookie (set after sign-in) -> any path, as that user;
- a bearer token only on the app's `token_paths` (default `/api/`), and only an OAuth token this
  workspace issued: PAT or another path -> 302 to sign-in; expired / badly signed / foreign -> 401;
- no CAN_USE (or CAN_MANAGE) -> 403; token without the app's scopes -> 403 insufficient_scope.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Literal

from explorer.sandbox.apps.runtime import AppRuntime
from explorer.sandbox.identity.authority import Authority, Principal, split_scopes
from explorer.sandbox.identity.signing import TokenRejected

SESSION_COOKIE_PREFIX = "databricks-app-session-"


@dataclass(frozen=True)
class Verdict:
    action: Literal["proxy", "sign_in", "refuse"]
    principal: Principal | None = None
    status: int = 200
    error: str = ""
    message: str = ""
    www_authenticate: str | None = None


class BoundedStore:
    """A small thread-safe map with expiry and a size cap (sign-in states, sessions, tokens)."""

    def __init__(self, max_items: int = 5000):
        self._items: OrderedDict[str, tuple[float, object]] = OrderedDict()
        self._lock = threading.Lock()
        self._max = max_items

    def put(self, key: str, value: object, ttl: float) -> None:
        with self._lock:
            self._items[key] = (time.time() + ttl, value)
            self._items.move_to_end(key)
            while len(self._items) > self._max:
                self._items.popitem(last=False)

    def get(self, key: str, pop: bool = False) -> object | None:
        with self._lock:
            entry = self._items.pop(key, None) if pop else self._items.get(key)
        if entry is None or entry[0] < time.time():
            return None
        return entry[1]


class GatewayAuth:
    def __init__(self, authority: Authority, runtime: AppRuntime):
        self._authority = authority
        self._runtime = runtime
        self.sessions = BoundedStore()
        self._forwarded_tokens = BoundedStore()

    @property
    def cookie_name(self) -> str:
        return SESSION_COOKIE_PREFIX + self._runtime.name

    def new_session(self, principal: Principal) -> str:
        session_id = secrets.token_urlsafe(32)
        self.sessions.put(session_id, principal, self._authority.config.session_ttl_seconds)
        return session_id

    def check(self, path: str, authorization: str | None, session_id: str | None) -> Verdict:
        if self._runtime.state == "STOPPED":
            return Verdict(
                "refuse", status=404, error="not_found", message=f"App '{self._runtime.name}' is not running"
            )
        session_user = self.sessions.get(session_id) if session_id else None
        if isinstance(session_user, Principal):
            return self._permitted(session_user, scopes=None)
        scheme, _, token = (authorization or "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token or token.startswith("dapi"):
            return Verdict("sign_in")
        if not self._runtime.spec.accepts_token_on(path):
            return Verdict("sign_in")
        try:
            claims, principal = self._authority.verify(token)
        except TokenRejected as exc:
            return Verdict(
                "refuse",
                status=401,
                error="invalid_token",
                message=f"The access token is not valid: {exc}",
                www_authenticate=f'Bearer error="invalid_token", error_description="{exc}"',
            )
        return self._permitted(principal, scopes=split_scopes(claims.get("scope")))

    def _permitted(self, principal: Principal, scopes: list[str] | None) -> Verdict:
        spec = self._runtime.spec
        if not self._authority.directory.can_use(spec, principal):
            return Verdict(
                "refuse",
                principal=principal,
                status=403,
                error="access_denied",
                message=f"{principal.username} does not have CAN_USE permission on app '{spec.name}'",
            )
        missing = [s for s in spec.user_api_scopes if scopes is not None and s not in scopes]
        if missing:
            required = " ".join(spec.user_api_scopes)
            return Verdict(
                "refuse",
                principal=principal,
                status=403,
                error="insufficient_scope",
                message=f"The access token lacks the app's required scopes: {' '.join(missing)}",
                www_authenticate=f'Bearer error="insufficient_scope", scope="{required}"',
            )
        return Verdict("proxy", principal=principal)

    def forwarded_token(self, principal: Principal) -> str | None:
        """A token for the caller with the app's effective scopes (apps with user authorization only)."""
        spec = self._runtime.spec
        if not spec.user_api_scopes:
            return None
        cached = self._forwarded_tokens.get(principal.username)
        if isinstance(cached, str):
            return cached
        token, ttl = self._authority.mint(
            principal, spec.oauth2_app_client_id, spec.effective_user_api_scopes
        )
        # Reuse it for half its life so the app never receives an almost-expired token.
        self._forwarded_tokens.put(principal.username, token, ttl / 2)
        return token

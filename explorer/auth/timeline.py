"""The auth timeline: every call the credentials make to a token endpoint, as it went on the wire.

The SDK posts its token requests with plain `requests` calls we do not control. Once a token
endpoint is known (discovered and checked, explorer.auth.endpoints), it is registered here with
the connection's `TokenLog`; an observer on requests' transport records each call to it: the grant
type and scopes asked (read from the form body; never a secret), the status, the time, and on
failure the OAuth error and its description. Observing changes nothing: the request and the
response pass through untouched.
"""

from __future__ import annotations

import collections
import threading
import time
import weakref
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import requests
from requests.adapters import HTTPAdapter

from explorer.model import AuthEvent

MAX_EVENTS = 100
_lock = threading.Lock()
_logs: dict[str, weakref.WeakSet[TokenLog]] = {}
_installed = False


class TokenLog:
    """A connection's token calls, oldest first (bounded)."""

    def __init__(self) -> None:
        self._events: collections.deque[AuthEvent] = collections.deque(maxlen=MAX_EVENTS)
        self._count = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return self._count

    def add(self, event: AuthEvent) -> None:
        with self._lock:
            self._events.append(event)
            self._count += 1

    def since(self, count: int) -> list[AuthEvent]:
        """The events recorded after the first `count` (as far as the bound keeps them)."""
        with self._lock:
            new = self._count - count
            return list(self._events)[-new:] if new > 0 else []


def watch_token_endpoint(url: str, log: TokenLog) -> None:
    """Record every call to `url` into `log` from now on (while `log` lives)."""
    global _installed
    with _lock:
        _logs.setdefault(_key(url), weakref.WeakSet()).add(log)
        if not _installed:
            _install()
            _installed = True


def _key(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}{parts.path.rstrip('/')}"


def _logs_for(url: str) -> list[TokenLog]:
    with _lock:
        found = _logs.get(_key(url))
        return list(found) if found else []


def _install() -> None:
    original = HTTPAdapter.send

    def observed_send(self: HTTPAdapter, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> Any:
        logs = _logs_for(request.url or "") if request.method == "POST" else []
        if not logs:
            return original(self, request, *args, **kwargs)
        started, at = time.perf_counter(), time.time()
        form = _form(request.body)
        try:
            response = original(self, request, *args, **kwargs)
        except Exception as error:
            _record(logs, request, form, at, started, None, type(error).__name__, None)
            raise
        error = description = None
        if response.status_code >= 400:
            error, description = _oauth_error(response)
        _record(logs, request, form, at, started, response.status_code, error, description)
        return response

    HTTPAdapter.send = observed_send  # type: ignore[method-assign]


def _record(
    logs: list[TokenLog],
    request: requests.PreparedRequest,
    form: dict[str, str],
    at: float,
    started: float,
    status: int | None,
    error: str | None,
    description: str | None,
) -> None:
    event = AuthEvent(
        at=at,
        url=(request.url or "").split("?")[0],
        grant_type=form.get("grant_type", "?")[:100],
        scopes=form.get("scope", "").split()[:50],
        status=status,
        elapsed_ms=(time.perf_counter() - started) * 1000,
        error=(error or None) and str(error)[:100],
        error_description=(description or None) and str(description)[:300],
    )
    for log in logs:
        log.add(event)


def _form(body: Any) -> dict[str, str]:
    """grant_type and scope of a form-encoded token request (nothing else is kept)."""
    if isinstance(body, bytes):
        body = body.decode("utf-8", errors="replace")
    if not isinstance(body, str):
        return {}
    pairs = dict(parse_qsl(body[:10_000]))
    return {k: pairs[k] for k in ("grant_type", "scope") if k in pairs}


def _oauth_error(response: requests.Response) -> tuple[str | None, str | None]:
    try:
        document = response.json()  # a token response is small and read in full by the SDK anyway
    except ValueError:
        return f"HTTP {response.status_code}", None
    if not isinstance(document, dict):
        return f"HTTP {response.status_code}", None
    return (
        str(document.get("error") or f"HTTP {response.status_code}"),
        str(document["error_description"]) if document.get("error_description") else None,
    )

"""The catalogue of finding codes: one declaration, in rank order.

Within one severity, a finding whose code comes first here is shown first: causes before
symptoms (a missing token explains the redirect to the sign-in page). Every `Finding` must use a
code from this list (`Finding` checks it), so a new code is added here, once, in its place.
"""

from __future__ import annotations

from enum import Enum


class Code(str, Enum):
    """Stable codes: the CLI's `--json`, exports and tests rely on their names."""

    HOST_NOT_ALLOWED = "HOST_NOT_ALLOWED"  # deployed: refused before anything was sent
    AUTH_FAILED = "AUTH_FAILED"  # no credentials could be obtained
    NETWORK_DNS = "NETWORK_DNS"
    NETWORK_CONNECT = "NETWORK_CONNECT"
    NETWORK_TLS = "NETWORK_TLS"
    NETWORK_PROXY = "NETWORK_PROXY"
    RESPONSE_MALFORMED = "RESPONSE_MALFORMED"  # connected, but the answer is not readable HTTP
    TIMEOUT = "TIMEOUT"
    TOKEN_MISSING = "TOKEN_MISSING"
    TOKEN_NOT_OAUTH = "TOKEN_NOT_OAUTH"
    TOKEN_NEEDS_EXCHANGE = "TOKEN_NEEDS_EXCHANGE"
    TOKEN_EXPIRED = "TOKEN_EXPIRED"
    TOKEN_INVALID = "TOKEN_INVALID"
    APP_NOT_FOUND = "APP_NOT_FOUND"
    APP_NOT_RUNNING = "APP_NOT_RUNNING"
    NO_CAN_USE = "NO_CAN_USE"
    SCOPE_MISSING = "SCOPE_MISSING"
    PATH_NOT_API = "PATH_NOT_API"
    PATH_NOT_FOUND = "PATH_NOT_FOUND"
    RESOURCE_NOT_FOUND = "RESOURCE_NOT_FOUND"  # the app has the route, not the item (its own 404)
    REDIRECTED_TO_LOGIN = "REDIRECTED_TO_LOGIN"
    SIGN_IN_PAGE = "SIGN_IN_PAGE"  # an HTML sign-in page came back instead of the API's answer
    REDIRECT = "REDIRECT"
    SERVER_ERROR = "SERVER_ERROR"
    REQUEST_REJECTED = "REQUEST_REJECTED"  # the app answered 4xx for another reason
    REQUEST_INVALID = "REQUEST_INVALID"  # the request cannot be sent as typed
    REQUEST_CANCELLED = "REQUEST_CANCELLED"  # the user stopped it before an answer came
    WORKSPACE_ERROR = "WORKSPACE_ERROR"
    WORKSPACE_UNKNOWN = "WORKSPACE_UNKNOWN"
    OPENAPI_NOT_FOUND = "OPENAPI_NOT_FOUND"
    OPENAPI_INVALID = "OPENAPI_INVALID"
    OPENAPI_EMPTY = "OPENAPI_EMPTY"
    NOT_CONNECTED = "NOT_CONNECTED"


CODES: tuple[str, ...] = tuple(code.value for code in Code)
_RANK = {code: index for index, code in enumerate(CODES)}
SEVERITY_RANK = {"error": 0, "warning": 1, "info": 2}


def rank(code: str, severity: str) -> tuple[int, int]:
    """Sort key: severity first, then the code's place in the catalogue."""
    return SEVERITY_RANK.get(severity, 3), _RANK.get(code, len(_RANK))


def is_code(code: str) -> bool:
    return code in _RANK

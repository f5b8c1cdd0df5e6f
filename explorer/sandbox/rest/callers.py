"""Who calls the workspace REST API: an OAuth access token this workspace issued or a PAT (`dapi…`).

Errors are `{"error_code", "message"}` with Databricks' statuses (see `host_app`).
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from explorer.sandbox.identity.authority import Authority, Principal, split_scopes
from explorer.sandbox.identity.signing import TokenRejected


class ApiError(Exception):
    def __init__(self, status: int, error_code: str, message: str):
        super().__init__(message)
        self.status, self.error_code, self.message = status, error_code, message


@dataclass(frozen=True)
class Caller:
    principal: Principal
    scopes: list[str] | None  # None for a PAT: it carries the user's full rights

    def require_scope(self, *accepted: str) -> None:
        if self.scopes is not None and not set(self.scopes) & {"all-apis", *accepted}:
            raise ApiError(
                403,
                "PERMISSION_DENIED",
                f"Provided OAuth token does not have required scopes: {' or '.join(accepted)}",
            )


def authenticate(authority: Authority, request: Request) -> Caller:
    """The caller of a REST request, else ApiError 401 (Databricks' messages)."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise ApiError(
            401, "UNAUTHENTICATED", "Credential was not sent or was of an unsupported type for this API."
        )
    if token.startswith("dapi"):
        principal = authority.directory.by_pat(token)
        if principal is None:
            raise ApiError(401, "UNAUTHENTICATED", "Invalid access token.")
        return Caller(principal, None)
    try:
        claims, principal = authority.verify(token)
    except TokenRejected as exc:
        raise ApiError(401, "UNAUTHENTICATED", f"Invalid access token: {exc}.") from None
    return Caller(principal, split_scopes(claims.get("scope")))

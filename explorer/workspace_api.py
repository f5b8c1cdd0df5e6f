"""The three workspace calls the explorer's facts need, behind one small interface, two ways.

- `SdkWorkspaceApi`: the SDK's HTTP client (`ApiClient`, what `WorkspaceClient` calls) with the
  connection's own `Config`, for every method whose token the SDK gets or refreshes (profile, m2m,
  app, browser, federated).
- `RestWorkspaceApi`: the same REST endpoints with `requests` and the connection's headers, for a
  static bearer token (`token`, `user`): nothing to refresh, so no reason to import the SDK
  (~1–3 s) for a one-off `call --auth token`.

Both make the same GETs and answer the REST API's JSON as dicts and raise `ApiError`
with the HTTP status for an answered failure; anything else (network) propagates as it is.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import quote

import requests

if TYPE_CHECKING:
    from databricks.sdk.config import Config

APPS = "/api/2.0/apps"
APP_PERMISSIONS = "/api/2.0/permissions/apps/{name}"
CURRENT_USER = "/api/2.0/preview/scim/v2/Me"
MAX_PAGES = 100  # apps.list pages followed at most (the SDK follows them all; a loop must end)


class ApiError(Exception):
    """The workspace answered a call with an error: its HTTP status and its message."""

    def __init__(self, status: int | None, message: str) -> None:
        super().__init__(message)
        self.status = status


class WorkspaceApi(Protocol):
    def list_apps(self) -> list[dict[str, Any]]: ...

    def app_permissions(self, name: str) -> dict[str, Any]: ...

    def me(self) -> dict[str, Any]: ...


class _RestCalls:
    """The three calls over one GET (`_get`, per transport): paths, pages and the JSON answers."""

    def _get(self, path: str, params: dict[str, str] | None = None) -> dict[str, Any]:
        raise NotImplementedError

    def list_apps(self) -> list[dict[str, Any]]:
        apps: list[dict[str, Any]] = []
        params: dict[str, str] = {}
        for _ in range(MAX_PAGES):
            page = self._get(APPS, params)
            apps += [a for a in page.get("apps") or [] if isinstance(a, dict)]
            token = page.get("next_page_token")
            if not token:
                break
            params = {"page_token": str(token)}
        return apps

    def app_permissions(self, name: str) -> dict[str, Any]:
        return self._get(APP_PERMISSIONS.format(name=quote(name, safe="")))

    def me(self) -> dict[str, Any]:
        return self._get(CURRENT_USER)


class SdkWorkspaceApi(_RestCalls):
    """Through the SDK's own HTTP client (`ApiClient`: its auth, retries and error types), which is
    what `WorkspaceClient.apps` and `.current_user` call; its errors become ApiError (401/403/404
    kept as statuses). `ApiClient` needs none of the SDK's service modules (explorer.sdk_package)."""

    def __init__(self, config: Config) -> None:
        from databricks.sdk.core import ApiClient

        self._client = ApiClient(config)
        self._workspace_id = config.workspace_id

    def _get(self, path: str, params: dict[str, str] | None = None) -> dict[str, Any]:
        from databricks.sdk.errors import DatabricksError, NotFound, PermissionDenied, Unauthenticated

        headers = {"Accept": "application/json"}
        if self._workspace_id:
            headers["X-Databricks-Workspace-Id"] = self._workspace_id
        try:
            body = self._client.do("GET", path, query=params or None, headers=headers)
        except DatabricksError as error:
            status = next(
                (
                    s
                    for kind, s in ((Unauthenticated, 401), (PermissionDenied, 403), (NotFound, 404))
                    if isinstance(error, kind)
                ),
                None,
            )
            raise ApiError(status, str(error)) from error
        if not isinstance(body, dict):
            raise ApiError(None, f"{path} answered something other than a JSON object")
        return body


class RestWorkspaceApi(_RestCalls):
    """Plain REST with a static bearer token (its headers as the connection gives them)."""

    def __init__(self, host: str, headers: Callable[[], dict[str, str]], timeout: float) -> None:
        self._host = host.rstrip("/")
        self._headers = headers
        self._timeout = timeout
        self._http = requests.Session()

    def _get(self, path: str, params: dict[str, str] | None = None) -> dict[str, Any]:
        response = self._http.get(
            self._host + path,
            params=params,
            headers={**self._headers(), "Accept": "application/json"},
            timeout=self._timeout,
            allow_redirects=False,  # a redirect would carry the token elsewhere: report it instead
        )
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code >= 300 or not isinstance(body, dict):
            message = body.get("message") if isinstance(body, dict) else None
            code = body.get("error_code") if isinstance(body, dict) else None
            text = message or f"{response.status_code} {response.reason}"
            raise ApiError(response.status_code, f"{code}: {text}" if code else str(text))
        return body

    def close(self) -> None:
        self._http.close()

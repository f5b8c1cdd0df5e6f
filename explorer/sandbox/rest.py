"""The workspace REST API the explorer uses: apps (paginated), app permissions, SCIM `Me`.

Callers authenticate with an OAuth access token this workspace issued or a PAT (`dapi…`).
Errors are `{"error_code", "message"}` with Databricks' statuses.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from fastapi import APIRouter, Request

from explorer.sandbox.authority import Authority, Principal, split_scopes
from explorer.sandbox.runtime import AppRuntime
from explorer.sandbox.signing import TokenRejected

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000
FORCED_USER_SCOPES = ["iam.access-control:read", "iam.current-user:read"]


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


def effective_scopes(requested: list[str]) -> list[str]:
    return list(dict.fromkeys([*requested, *FORCED_USER_SCOPES])) if requested else []


class WorkspaceApi:
    def __init__(self, authority: Authority, apps: dict[str, AppRuntime]):
        self._authority = authority
        self._apps = apps

    def router(self) -> APIRouter:
        router = APIRouter(tags=["workspace"])
        router.add_api_route("/api/2.0/apps", self.list_apps, methods=["GET"])
        router.add_api_route("/api/2.0/apps/{name}", self.get_app, methods=["GET"])
        router.add_api_route("/api/2.0/permissions/apps/{name}", self.get_permissions, methods=["GET"])
        router.add_api_route("/api/2.0/preview/scim/v2/Me", self.me, methods=["GET"])
        return router

    def authenticate(self, request: Request) -> Caller:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise ApiError(
                401, "UNAUTHENTICATED", "Credential was not sent or was of an unsupported type for this API."
            )
        if token.startswith("dapi"):
            principal = self._authority.directory.by_pat(token)
            if principal is None:
                raise ApiError(401, "UNAUTHENTICATED", "Invalid access token.")
            return Caller(principal, None)
        try:
            claims, principal = self._authority.verify(token)
        except TokenRejected as exc:
            raise ApiError(401, "UNAUTHENTICATED", f"Invalid access token: {exc}.") from None
        return Caller(principal, split_scopes(claims.get("scope")))

    def _app(self, name: str) -> AppRuntime:
        runtime = self._apps.get(name)
        if runtime is None:
            raise ApiError(
                404, "RESOURCE_DOES_NOT_EXIST", f"App with name {name} does not exist or is deleted."
            )
        return runtime

    def list_apps(
        self, request: Request, page_size: str | None = None, page_token: str | None = None
    ) -> dict:
        self.authenticate(request).require_scope("apps")
        size = _page_size(page_size)
        start = _decode_page_token(page_token)
        names = sorted(self._apps)
        page = names[start : start + size]
        body: dict[str, Any] = {"apps": [self.app_view(self._apps[n]) for n in page]}
        if start + size < len(names):
            body["next_page_token"] = _encode_page_token(start + size)
        return body

    def get_app(self, request: Request, name: str) -> dict:
        self.authenticate(request).require_scope("apps")
        return self.app_view(self._app(name))

    def get_permissions(self, request: Request, name: str) -> dict:
        caller = self.authenticate(request)
        caller.require_scope("iam.access-control:read", "apps")
        runtime = self._app(name)
        if not self._authority.directory.can_manage(runtime.spec, caller.principal):
            raise ApiError(
                403,
                "PERMISSION_DENIED",
                f"{caller.principal.username} does not have Manage permissions on App {name}. "
                "Please contact the owner or an administrator for access.",
            )
        return self.permissions_view(runtime)

    def me(self, request: Request) -> dict:
        caller = self.authenticate(request)
        caller.require_scope("iam.current-user:read")
        return scim_user(caller.principal)

    def app_view(self, runtime: AppRuntime) -> dict[str, Any]:
        spec = runtime.spec
        creator = next(
            (g.principal for g in spec.permissions if g.level == "CAN_MANAGE" and g.kind == "user"), None
        )
        created = _iso(runtime.created_at)
        view: dict[str, Any] = {
            "name": spec.name,
            "id": spec.id,
            "description": spec.description,
            "url": runtime.gateway_url,
            "app_status": runtime.app_status(),
            "compute_status": runtime.compute_status(),
            "compute_size": "MEDIUM",
            "service_principal_client_id": spec.service_principal.application_id,
            "service_principal_id": int(spec.service_principal.id),
            "service_principal_name": spec.service_principal.name,
            "oauth2_app_client_id": spec.oauth2_app_client_id,
            "oauth2_app_integration_id": spec.oauth2_app_client_id,
            "create_time": created,
            "update_time": created,
        }
        if creator:
            view.update(
                creator=creator,
                updater=creator,
                default_source_code_path=f"/Workspace/Users/{creator}/{spec.name}",
            )
        if spec.user_api_scopes:
            view["user_api_scopes"] = list(spec.user_api_scopes)
            view["effective_user_api_scopes"] = effective_scopes(spec.user_api_scopes)
        if runtime.state != "STOPPED":
            view["active_deployment"] = {
                "deployment_id": spec.id.replace("-", "")[:32],
                "mode": "SNAPSHOT",
                "source_code_path": view.get("default_source_code_path", f"/Workspace/Apps/{spec.name}"),
                "status": {"state": "SUCCEEDED", "message": "App started successfully"},
                "create_time": created,
            }
        return view

    def permissions_view(self, runtime: AppRuntime) -> dict[str, Any]:
        entries: dict[tuple[str, str], dict[str, Any]] = {}
        for grant in runtime.spec.permissions:
            principal = self._authority.directory.principal(grant.principal)
            key_name = "user_name" if grant.kind == "user" else "service_principal_name"
            entry = entries.setdefault(
                (grant.kind, grant.principal),
                {
                    key_name: grant.principal,
                    "display_name": principal.display_name if principal else "",
                    "all_permissions": [],
                },
            )
            entry["all_permissions"].append({"permission_level": grant.level, "inherited": False})
        admins = {
            "group_name": "admins",
            "all_permissions": [
                {"permission_level": "CAN_MANAGE", "inherited": True, "inherited_from_object": ["/apps/"]}
            ],
        }
        return {
            "object_id": f"/apps/{runtime.name}",
            "object_type": "apps",
            "access_control_list": [*entries.values(), admins],
        }


def scim_user(principal: Principal) -> dict[str, Any]:
    body: dict[str, Any] = {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "id": principal.id,
        "userName": principal.username,
        "displayName": principal.display_name,
        "active": True,
        "emails": [],
        "groups": [{"display": "users", "type": "direct", "value": "users"}],
    }
    if principal.kind == "user":
        given, _, family = principal.display_name.partition(" ")
        body["emails"] = [{"value": principal.username, "type": "work", "primary": True}]
        body["name"] = {"givenName": given, "familyName": family}
    return body


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _page_size(raw: str | None) -> int:
    if raw in (None, "", "0"):
        return DEFAULT_PAGE_SIZE
    try:
        size = int(raw)
    except ValueError:
        raise ApiError(
            400, "INVALID_PARAMETER_VALUE", f"page_size must be an integer, got {raw[:20]!r}"
        ) from None
    if size < 0:
        raise ApiError(400, "INVALID_PARAMETER_VALUE", "page_size must not be negative")
    return min(size, MAX_PAGE_SIZE)


def _encode_page_token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode()


def _decode_page_token(token: str | None) -> int:
    if not token:
        return 0
    try:
        kind, _, value = base64.urlsafe_b64decode(token.encode()).decode().partition(":")
        if kind == "offset" and value.isdigit():
            return int(value)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        pass
    raise ApiError(400, "INVALID_PARAMETER_VALUE", "page_token is not valid")

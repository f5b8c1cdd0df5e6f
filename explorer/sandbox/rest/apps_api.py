"""The apps API: `/api/2.0/apps` (paginated), `/api/2.0/apps/{name}`, `/api/2.0/permissions/apps/{name}`."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime, timezone
from typing import Any

from fastapi import APIRouter, Request

from explorer.sandbox.apps.runtime import AppRuntime
from explorer.sandbox.identity.authority import Authority
from explorer.sandbox.rest.callers import ApiError, authenticate

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000


class AppsApi:
    def __init__(self, authority: Authority, apps: dict[str, AppRuntime]):
        self._authority = authority
        self._apps = apps

    def router(self) -> APIRouter:
        router = APIRouter(tags=["workspace"])
        router.add_api_route("/api/2.0/apps", self.list_apps, methods=["GET"])
        router.add_api_route("/api/2.0/apps/{name}", self.get_app, methods=["GET"])
        router.add_api_route("/api/2.0/permissions/apps/{name}", self.get_permissions, methods=["GET"])
        return router

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
        authenticate(self._authority, request).require_scope("apps")
        size = _page_size(page_size)
        start = _decode_page_token(page_token)
        names = sorted(self._apps)
        page = names[start : start + size]
        body: dict[str, Any] = {"apps": [self.app_view(self._apps[n]) for n in page]}
        if start + size < len(names):
            body["next_page_token"] = _encode_page_token(start + size)
        return body

    def get_app(self, request: Request, name: str) -> dict:
        authenticate(self._authority, request).require_scope("apps")
        return self.app_view(self._app(name))

    def get_permissions(self, request: Request, name: str) -> dict:
        caller = authenticate(self._authority, request)
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
            view["effective_user_api_scopes"] = spec.effective_user_api_scopes
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

"""The workspace host: one ASGI app serving OAuth, the stand-in IdP, the REST API and sandbox stats."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from explorer.sandbox.apps.runtime import AppRuntime
from explorer.sandbox.identity.authority import Authority
from explorer.sandbox.identity.federation import Federation
from explorer.sandbox.identity.idp import StandInIdP
from explorer.sandbox.identity.oidc import AppClients, OidcRoutes
from explorer.sandbox.identity.token_endpoint import TokenEndpoint
from explorer.sandbox.rest.apps_api import AppsApi
from explorer.sandbox.rest.callers import ApiError
from explorer.sandbox.rest.scim import ScimApi
from explorer.sandbox.rest.workspace_api import WorkspaceApi


def build_workspace_app(
    authority: Authority, idp: StandInIdP, apps: dict[str, AppRuntime], app_clients: AppClients
) -> FastAPI:
    app = FastAPI(title="Sandbox Databricks workspace", docs_url=None, redoc_url=None, openapi_url=None)
    federation = Federation(authority.config.federation_policies, idp, authority.directory)
    app.include_router(OidcRoutes(authority, TokenEndpoint(authority, federation), app_clients).router())
    app.include_router(idp.router())
    app.include_router(AppsApi(authority, apps).router())
    app.include_router(ScimApi(authority).router())
    app.include_router(WorkspaceApi(authority).router())
    workspace_id = authority.config.workspace_id

    @app.middleware("http")
    async def org_id_header(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        response.headers["x-databricks-org-id"] = workspace_id
        return response

    @app.get("/_sandbox/stats", tags=["sandbox"])
    def stats() -> dict:
        return authority.token_stats()

    @app.post("/_sandbox/stats/reset", tags=["sandbox"])
    def reset_stats() -> dict:
        authority.reset_stats()
        return authority.token_stats()

    @app.post("/_sandbox/tokens/revoke", tags=["sandbox"])
    def revoke_tokens() -> dict:
        """Revoke every access token issued so far: the next call with one is a 401 (invalid_token)."""
        return {"revoked": authority.revoke_issued()}

    @app.get("/", include_in_schema=False)
    def home() -> dict:
        return {"workspace": authority.host, "workspace_id": workspace_id, "apps": sorted(apps)}

    @app.exception_handler(ApiError)
    async def api_error(_: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse({"error_code": exc.error_code, "message": exc.message}, status_code=exc.status)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 404:
            body = {
                "error_code": "ENDPOINT_NOT_FOUND",
                "message": f"No API found for '{request.method} {request.url.path}'",
            }
        elif exc.status_code == 405:
            body = {"error_code": "BAD_REQUEST", "message": f"Method {request.method} is not allowed here"}
        else:
            body = {"error_code": "BAD_REQUEST", "message": str(exc.detail)}
        return JSONResponse(body, status_code=exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()))
        body = {
            "error_code": "INVALID_PARAMETER_VALUE",
            "message": f"{where}: {first.get('msg', 'invalid request')}",
        }
        return JSONResponse(body, status_code=400)

    return app

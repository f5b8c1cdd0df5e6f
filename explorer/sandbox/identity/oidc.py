"""The workspace's OAuth surface: host metadata, OIDC discovery, JWKS, authorize (sign-in) and token."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from explorer.sandbox.identity.authority import PUBLIC_CLIENT_ID, Authority, Grant, OAuthError, split_scopes
from explorer.sandbox.identity.oauth_forms import oauth_error_response, read_form
from explorer.sandbox.identity.signin_page import error_page, signin_page
from explorer.sandbox.identity.token_endpoint import GRANT_TYPES, TokenEndpoint

log = logging.getLogger(__name__)

SCOPES_SUPPORTED = [
    "all-apis",
    "offline_access",
    "sql",
    "files",
    "files.files",
    "genie",
    "dashboards.genie",
    "model-serving",
    "serving.serving-endpoints",
    "vector-search",
    "apps",
    "catalog.tables:read",
    "iam.access-control:read",
    "iam.current-user:read",
]
_LOCAL_HOSTS = ("localhost", "127.0.0.1", "[::1]", "::1")


@dataclass(frozen=True)
class AppClient:
    """An app's own OAuth client: the gateway signs browsers in with it."""

    app_name: str
    gateway_port: int


AppClients = Callable[[], dict[str, AppClient]]


class OidcRoutes:
    def __init__(self, authority: Authority, token_endpoint: TokenEndpoint, app_clients: AppClients):
        self._authority = authority
        self._token_endpoint = token_endpoint
        self._app_clients = app_clients

    def router(self) -> APIRouter:
        router = APIRouter(tags=["oauth"])
        router.add_api_route("/.well-known/databricks-config", self.host_metadata, methods=["GET"])
        router.add_api_route("/oidc/.well-known/oauth-authorization-server", self.discovery, methods=["GET"])
        router.add_api_route("/oidc/.well-known/openid-configuration", self.discovery, methods=["GET"])
        router.add_api_route("/oidc/jwks.json", self.jwks, methods=["GET"])
        router.add_api_route("/oidc/v1/keys", self.jwks, methods=["GET"])
        router.add_api_route("/oidc/v1/token", self.token, methods=["POST"])
        router.add_api_route("/oidc/v1/authorize", self.authorize_page, methods=["GET"])
        router.add_api_route("/oidc/v1/authorize", self.authorize_submit, methods=["POST"])
        return router

    def host_metadata(self) -> dict:
        a = self._authority
        return {"oidc_endpoint": a.issuer, "workspace_id": a.config.workspace_id, "cloud": "aws"}

    def discovery(self) -> dict:
        issuer = self._authority.issuer
        return {
            "issuer": issuer,
            "authorization_endpoint": f"{issuer}/v1/authorize",
            "token_endpoint": f"{issuer}/v1/token",
            "jwks_uri": f"{issuer}/jwks.json",
            "scopes_supported": SCOPES_SUPPORTED,
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": list(GRANT_TYPES),
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "request_uri_parameter_supported": False,
        }

    def jwks(self) -> dict:
        return self._authority.key.jwks()

    async def token(self, request: Request) -> JSONResponse:
        try:
            form = await read_form(request)
            body = self._token_endpoint.handle(form, request.headers.get("authorization"))
        except OAuthError as exc:
            log.info("token request refused: %s", exc.error)
            return oauth_error_response(exc)
        return JSONResponse(body, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})

    # --- authorize -----------------------------------------------------------------------
    def authorize_page(self, request: Request) -> Response:
        params = dict(request.query_params)
        refusal = self._refusal(params)
        if refusal is not None:
            return refusal
        hint = params.get("login_hint", "")
        user = self._authority.directory.principal(hint) if hint else None
        if user is not None and user.kind == "user" and self._authority.config.auto_approve:
            return self._approve(params, user.username)
        note = f"Unknown user {hint!r}: pick one below." if hint and user is None else ""
        page = signin_page(params, self._authority.directory.users(), self._client_label(params), note)
        return HTMLResponse(page, headers={"Cache-Control": "no-store"})

    async def authorize_submit(self, request: Request) -> Response:
        try:
            params = await read_form(request)
        except OAuthError as exc:
            return HTMLResponse(error_page("Cannot sign in", exc.description), status_code=400)
        refusal = self._refusal(params)
        if refusal is not None:
            return refusal
        if not params.get("user"):
            denied = {"error": "access_denied", "error_description": "the user cancelled the sign-in"}
            return _redirect(params, denied, 303)
        # 303: the browser follows a POSTed form's redirect with GET.
        return self._approve(params, params["user"], 303)

    def _approve(self, params: dict[str, str], username: str, status: int = 302) -> Response:
        principal = self._authority.directory.principal(username)
        if principal is None or principal.kind != "user":
            return HTMLResponse(error_page("Cannot sign in", f"unknown user {username!r}"), status_code=400)
        grant = Grant(
            principal=principal,
            client_id=params["client_id"],
            scopes=tuple(split_scopes(params.get("scope") or "all-apis")),
            redirect_uri=params["redirect_uri"],
            code_challenge=params["code_challenge"],
        )
        code = self._authority.new_code(grant)
        log.info("sign-in approved for %s (client %s)", principal.username, grant.client_id)
        return _redirect(params, {"code": code}, status)

    def _refusal(self, params: dict[str, str]) -> Response | None:
        """The answer to an authorization request that cannot go on, else None: an error page for a
        bad client or redirect_uri (never redirect there), an error redirect for the rest."""
        problem = self._check_client(params)
        if problem:
            return HTMLResponse(error_page("Cannot sign in", problem), status_code=400)
        error = _check_request(params)
        if error:
            return _redirect(params, {"error": error.error, "error_description": error.description})
        return None

    def _check_client(self, params: dict[str, str]) -> str | None:
        """Why the client or redirect_uri is unacceptable (then we must not redirect), else None."""
        client_id, redirect_uri = params.get("client_id", ""), params.get("redirect_uri", "")
        if not client_id:
            return "client_id is required"
        if not redirect_uri:
            return "redirect_uri is required"
        parts = urlsplit(redirect_uri)
        local = parts.scheme == "http" and parts.hostname in _LOCAL_HOSTS
        if client_id == PUBLIC_CLIENT_ID:
            return (
                None
                if local
                else f"{PUBLIC_CLIENT_ID} may only redirect to http://localhost or http://127.0.0.1"
            )
        app = self._app_clients().get(client_id)
        if app is None:
            return f"unknown OAuth client {client_id!r}"
        if not (local and parts.port == app.gateway_port and parts.path == "/.auth/callback"):
            return f"redirect_uri is not registered for app {app.app_name!r}"
        return None

    def _client_label(self, params: dict[str, str]) -> str:
        app = self._app_clients().get(params.get("client_id", ""))
        return f"The app '{app.app_name}'" if app else f"The client '{params.get('client_id')}'"


def _check_request(params: dict[str, str]) -> OAuthError | None:
    if params.get("response_type") != "code":
        return OAuthError("unsupported_response_type", "response_type must be 'code'")
    if not params.get("code_challenge"):
        return OAuthError(
            "invalid_request", "PKCE is required: give code_challenge and code_challenge_method=S256"
        )
    if params.get("code_challenge_method", "plain") != "S256":
        return OAuthError("invalid_request", "code_challenge_method must be S256")
    return None


def _redirect(params: dict[str, str], values: dict[str, str], status: int = 302) -> RedirectResponse:
    if params.get("state"):
        values = {**values, "state": params["state"]}
    target = params["redirect_uri"]
    separator = "&" if urlsplit(target).query else "?"
    return RedirectResponse(
        f"{target}{separator}{urlencode(values)}", status, headers={"Cache-Control": "no-store"}
    )

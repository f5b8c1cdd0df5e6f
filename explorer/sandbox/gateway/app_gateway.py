"""One app's gateway (its own port, the app's `url`): sign-in, access checks, forwarded identity, proxy."""

from __future__ import annotations

import contextlib
import logging
import secrets
import uuid
from collections.abc import AsyncIterator
from urllib.parse import urlencode

import httpx
from starlette.applications import Starlette
from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket

from explorer.sandbox.apps.runtime import AppRuntime
from explorer.sandbox.gateway.access import BoundedStore, GatewayAuth, Verdict
from explorer.sandbox.gateway.proxy import bad_gateway, forward_http, forward_websocket
from explorer.sandbox.identity.authority import Authority, OAuthError, Principal, pkce_challenge

log = logging.getLogger(__name__)
CALLBACK_PATH = "/.auth/callback"
SIGN_IN_TTL_SECONDS = 600
ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


class Gateway:
    def __init__(self, authority: Authority, runtime: AppRuntime):
        self._authority = authority
        self._runtime = runtime
        self.auth = GatewayAuth(authority, runtime)
        self._pending_sign_ins = BoundedStore(max_items=1000)
        self._client: httpx.AsyncClient | None = None

    def asgi_app(self) -> Starlette:
        routes = [
            Route("/healthz", self.healthz, methods=["GET", "HEAD"]),
            Route(CALLBACK_PATH, self.callback, methods=["GET"]),
            Route("/{path:path}", self.http, methods=ALL_METHODS),
            WebSocketRoute("/{path:path}", self.websocket),
        ]
        return Starlette(routes=routes, lifespan=self._lifespan)

    @contextlib.asynccontextmanager
    async def _lifespan(self, _: Starlette) -> AsyncIterator[None]:
        # An idle upstream connection is dropped after 2 s, well before the app's server closes it
        # (uvicorn: 5 s). With both at 5 s, a request could go out on a connection the app was
        # closing that instant and come back 502 (seen once in ~30 requests of a load test).
        limits = httpx.Limits(max_connections=200, max_keepalive_connections=50, keepalive_expiry=2.0)
        timeout = httpx.Timeout(connect=5.0, read=300.0, write=300.0, pool=30.0)
        self._client = httpx.AsyncClient(
            limits=limits, timeout=timeout, follow_redirects=False, trust_env=False
        )
        # httpx adds Accept, Accept-Encoding and User-Agent by default: a proxy must not.
        self._client.headers = httpx.Headers()
        try:
            yield
        finally:
            await self._client.aclose()

    async def healthz(self, _: Request) -> Response:
        return JSONResponse({"status": "ok", "app": self._runtime.name, "state": self._runtime.state})

    async def http(self, request: Request) -> Response:
        verdict = self._check(request)
        if verdict.action == "sign_in":
            return self._sign_in_redirect(request)
        if verdict.action == "refuse":
            return _refusal(verdict)
        assert verdict.principal is not None and self._client is not None
        upstream = self._upstream()
        if upstream is None:
            return bad_gateway(self._runtime.name, self._runtime.crash_message())
        identity = self._identity_headers(request, verdict.principal)
        return await forward_http(self._client, request, upstream, identity, self._runtime.name)

    async def websocket(self, websocket: WebSocket) -> None:
        verdict = self._check(websocket)
        upstream = self._upstream()
        if verdict.action != "proxy" or verdict.principal is None or upstream is None:
            await websocket.close(code=1008)  # before accept: the client sees its handshake refused
            return
        await forward_websocket(websocket, upstream, self._identity_headers(websocket, verdict.principal))

    def _check(self, conn: HTTPConnection) -> Verdict:
        session_id = conn.cookies.get(self.auth.cookie_name)
        return self.auth.check(conn.url.path, conn.headers.get("authorization"), session_id)

    def _upstream(self) -> str | None:
        """Where the app listens, or None when its process is down (-> 502)."""
        if self._runtime.state == "CRASHED":
            return None
        return self._runtime.upstream_url

    def _identity_headers(self, conn: HTTPConnection, principal: Principal) -> dict[str, str]:
        workspace_id = self._authority.config.workspace_id
        headers = {
            "X-Forwarded-Host": conn.headers.get("host", ""),
            "X-Forwarded-Proto": conn.url.scheme.replace("ws", "http"),
            "X-Forwarded-User": f"{principal.id}@{workspace_id}",
            "X-Forwarded-Email": principal.username,
            "X-Forwarded-Preferred-Username": principal.username,
            "X-Real-Ip": conn.client.host if conn.client else "",
            "X-Request-Id": str(uuid.uuid4()),
        }
        token = self.auth.forwarded_token(principal)
        if token:
            headers["X-Forwarded-Access-Token"] = token
        return headers

    # --- browser sign-in -----------------------------------------------------------------
    def _sign_in_redirect(self, request: Request) -> Response:
        state, verifier = secrets.token_urlsafe(24), secrets.token_urlsafe(48)
        redirect_uri = f"http://{request.headers.get('host', request.url.netloc)}{CALLBACK_PATH}"
        return_to = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        self._pending_sign_ins.put(state, (verifier, redirect_uri, return_to), SIGN_IN_TTL_SECONDS)
        query = urlencode(
            {
                "client_id": self._runtime.spec.oauth2_app_client_id,
                "redirect_uri": redirect_uri,
                "response_type": "code",
                "scope": "all-apis offline_access",
                "state": state,
                "code_challenge": pkce_challenge(verifier),
                "code_challenge_method": "S256",
            }
        )
        return RedirectResponse(f"{self._authority.issuer}/v1/authorize?{query}", status_code=302)

    async def callback(self, request: Request) -> Response:
        pending = self._pending_sign_ins.get(request.query_params.get("state", ""), pop=True)
        if not isinstance(pending, tuple):
            return _refusal(
                Verdict(
                    "refuse",
                    status=400,
                    error="invalid_request",
                    message="Unknown or expired sign-in state; start again",
                )
            )
        verifier, redirect_uri, return_to = pending
        if "error" in request.query_params:
            message = request.query_params.get("error_description") or request.query_params["error"]
            return _refusal(
                Verdict("refuse", status=401, error="access_denied", message=f"Sign-in failed: {message}")
            )
        try:
            grant = self._authority.redeem_code(
                request.query_params.get("code", ""),
                self._runtime.spec.oauth2_app_client_id,
                redirect_uri,
                verifier,
            )
        except OAuthError as exc:
            return _refusal(Verdict("refuse", status=400, error=exc.error, message=exc.description))
        session_id = self.auth.new_session(grant.principal)
        log.info("browser session started for %s on app %s", grant.principal.username, self._runtime.name)
        target = return_to if return_to.startswith("/") and not return_to.startswith("//") else "/"
        response = RedirectResponse(target, status_code=302)
        response.set_cookie(
            self.auth.cookie_name,
            session_id,
            max_age=self._authority.config.session_ttl_seconds,
            httponly=True,
            samesite="lax",
            path="/",
        )
        return response


def _refusal(verdict: Verdict) -> JSONResponse:
    headers = {"WWW-Authenticate": verdict.www_authenticate} if verdict.www_authenticate else None
    body = {"error": verdict.error, "error_description": verdict.message}
    return JSONResponse(body, status_code=verdict.status, headers=headers)

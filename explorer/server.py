"""The deployed explorer: one FastAPI server, the explorer's JSON API under /api/, the UI at /.

    app = create_app(UIConfig(deployed=True, allowlist=Allowlist.from_env()))
    run(app, "0.0.0.0", int(os.environ["DATABRICKS_APP_PORT"]))

Through the Apps gateway only `/api/` routes accept a bearer token, so the explorer's own API
lives there: other apps (and scripts with a service principal's token) can call
`GET /api/health` and `GET /api/whoami`. The Gradio UI is mounted at `/` for browsers, whose
gateway session cookie reaches every path.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote

from fastapi import APIRouter, FastAPI, Request

from explorer import __version__
from explorer.redact import mask_header_value
from explorer.serialize import token_to_dict
from explorer.tokens import decode_token
from explorer.ui.config import UIConfig

# The identity headers the Apps gateway adds to every proxied request
# (docs/PLATFORM.md#headers-the-apps-gateway-forwards).
IDENTITY_HEADERS = {
    "user": "x-forwarded-user",
    "email": "x-forwarded-email",
    "preferred_username": "x-forwarded-preferred-username",
    "real_ip": "x-real-ip",
    "request_id": "x-request-id",
    "forwarded_host": "x-forwarded-host",
}
FORWARDED_TOKEN = "x-forwarded-access-token"


def identity(headers: Mapping[str, str]) -> dict[str, Any]:
    """What `/api/whoami` answers: the forwarded identity headers, every token masked.

    `headers` must look names up case-insensitively (Starlette's Headers do).
    """
    seen: dict[str, Any] = {key: headers.get(name) for key, name in IDENTITY_HEADERS.items()}
    token = headers.get(FORWARDED_TOKEN)
    seen["access_token"] = _token_summary(token) if token else None
    # The gateway consumes Authorization; when one arrives anyway, show only its masked form.
    authorization = headers.get("authorization")
    seen["authorization"] = mask_header_value("Authorization", authorization) if authorization else None
    return seen


def _token_summary(token: str) -> dict[str, Any]:
    summary = token_to_dict(decode_token(token))
    summary.pop("claims", None)  # /api/whoami answers who, not every claim
    return summary


def health(config: UIConfig, env: Mapping[str, str]) -> dict[str, Any]:
    """What `/api/health` answers: liveness plus what an operator checks first (no secrets)."""
    allowlist = config.allowlist
    return {
        "status": "ok",
        "app": env.get("DATABRICKS_APP_NAME"),
        "version": __version__,
        "deployed": config.deployed,
        "default_auth_method": config.default_method,
        "allowed_hosts": list(allowlist.patterns) if allowlist is not None else None,
    }


def api_router(config: UIConfig) -> APIRouter:
    """The explorer's own JSON API (token-callable through the gateway)."""
    router = APIRouter(prefix="/api", tags=["explorer"])

    @router.get("/health", summary="Liveness and configuration summary")
    def get_health() -> dict[str, Any]:
        return health(config, os.environ)

    @router.get("/whoami", summary="The identity headers the platform forwarded (tokens masked)")
    def get_whoami(request: Request) -> dict[str, Any]:
        return identity(request.headers)

    return router


def create_app(config: UIConfig | None = None) -> FastAPI:
    """The FastAPI app: `/api/…` first, then the Gradio UI mounted at `/`."""
    import gradio as gr  # not at the top: explorer.ui (above, via its config) goes first, gradio_import

    from explorer.ui.assets import CompressedPage, FrontendAssets
    from explorer.ui.layout import build_ui
    from explorer.ui.theme import page_options

    config = config or UIConfig()
    # The document sits under /api/ so it is reachable with a token through the gateway.
    app = FastAPI(
        title=config.title,
        version=__version__,
        openapi_url="/api/openapi.json",
        docs_url=None,  # the document is enough; Swagger UI would load its assets from a CDN
        redoc_url=None,
    )
    app.include_router(api_router(config))
    if config.deployed:
        guard_exports(app)
    app.add_middleware(CompressedPage)  # the page and its config gzipped (Gradio sends them plain)
    app.add_middleware(FrontendAssets)  # Gradio's build files, compressed once, from memory
    return gr.mount_gradio_app(app, build_ui(config), path="/", footer_links=[], **page_options())


def guard_exports(app: FastAPI) -> None:
    """Export files go only to the signed-in user whose session wrote them (anyone else: 404)."""
    from fastapi.responses import PlainTextResponse

    from explorer.ui.state import export_owner

    @app.middleware("http")
    async def exports_for_their_owner(request: Request, call_next: Any) -> Any:
        owner = export_owner(unquote(request.url.path))
        if owner is not None:
            email = (request.headers.get("x-forwarded-email") or "").strip().lower()
            if owner != email:
                return PlainTextResponse("Not found", status_code=404)
        return await call_next(request)


def run(app: FastAPI, host: str, port: int) -> None:
    """Serve `app` until SIGINT/SIGTERM (the platform stops apps with SIGTERM)."""
    import uvicorn

    # No access log: request lines are noise in the app's log and could carry query secrets.
    uvicorn.run(app, host=host, port=port, access_log=False, log_level="info", timeout_graceful_shutdown=3)

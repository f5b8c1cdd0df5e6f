"""Forward HTTP requests (streamed both ways) and WebSocket sessions from a gateway to its app."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

from explorer.sandbox.gateway.access import SESSION_COOKIE_PREFIX

log = logging.getLogger(__name__)

HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "host",
}
# Headers the gateway owns: a client must not be able to spoof them.
GATEWAY_OWNED = {"authorization", "x-real-ip", "x-request-id"}
# Response headers the gateway's own server writes; the app's copies would be duplicated.
SERVER_OWNED = {"date", "server"}
_WS_OWN = {"sec-websocket-key", "sec-websocket-version", "sec-websocket-extensions", "sec-websocket-protocol"}


def strip_session_cookies(cookie_header: str) -> str:
    parts = [p.strip() for p in cookie_header.split(";")]
    return "; ".join(p for p in parts if p and not p.startswith(SESSION_COOKIE_PREFIX))


def upstream_headers(
    incoming: list[tuple[str, str]], identity: dict[str, str], websocket: bool = False
) -> list[tuple[str, str]]:
    """The client's headers minus hop-by-hop, Authorization, spoofable identity and our cookie; plus identity."""
    out: list[tuple[str, str]] = []
    for name, value in incoming:
        low = name.lower()
        if low in HOP_BY_HOP or low in GATEWAY_OWNED or low.startswith("x-forwarded-"):
            continue
        if websocket and low in _WS_OWN:
            continue
        if low == "cookie":
            value = strip_session_cookies(value)
            if not value:
                continue
        out.append((name, value))
    out.extend(identity.items())
    return out


def bad_gateway(app_name: str, reason: str) -> JSONResponse:
    body = {"error": "bad_gateway", "error_description": f"App '{app_name}' is not reachable: {reason}"}
    return JSONResponse(body, status_code=502)


async def forward_http(
    client: httpx.AsyncClient, request: Request, upstream: str, identity: dict[str, str], app_name: str
) -> Response:
    url = upstream.rstrip("/") + request.url.path
    if request.url.query:
        url += "?" + request.url.query
    has_body = "content-length" in request.headers or "transfer-encoding" in request.headers
    outgoing = client.build_request(
        request.method,
        url,
        headers=upstream_headers(request.headers.items(), identity),
        content=request.stream() if has_body else None,
    )
    try:
        response = await client.send(outgoing, stream=True)
    except httpx.TimeoutException:
        return JSONResponse(
            {"error": "gateway_timeout", "error_description": f"App '{app_name}' did not answer in time"},
            status_code=504,
        )
    except httpx.HTTPError as exc:
        return bad_gateway(app_name, type(exc).__name__)

    streamed = _UpstreamStream(response)
    streamed.raw_headers = [
        (k, _rewrite_location(k, v, upstream, request))
        for k, v in response.headers.raw
        if k.decode("latin-1").lower() not in HOP_BY_HOP | SERVER_OWNED
    ]
    return streamed


class _UpstreamStream(StreamingResponse):
    """The app's response, streamed; the upstream connection is closed as soon as this response
    ends, also when the client hung up mid-stream (the app then sees its own client leave)."""

    def __init__(self, upstream: httpx.Response):
        super().__init__(upstream.aiter_raw(), status_code=upstream.status_code)
        self._upstream = upstream

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            await self._upstream.aclose()


def _rewrite_location(name: bytes, value: bytes, upstream: str, request: Request) -> bytes:
    """An app redirecting to its own (internal) address is sent back through the gateway."""
    if name.lower() != b"location":
        return value
    text = value.decode("latin-1")
    base = upstream.rstrip("/")
    if text.startswith(base):
        return (str(request.base_url).rstrip("/") + text[len(base) :]).encode("latin-1")
    return value


async def forward_websocket(websocket: WebSocket, upstream: str, identity: dict[str, str]) -> None:
    url = "ws" + upstream.rstrip("/")[4:] + websocket.url.path
    if websocket.url.query:
        url += "?" + websocket.url.query
    headers = upstream_headers(list(websocket.headers.items()), identity, websocket=True)
    subprotocols = websocket.scope.get("subprotocols") or None
    try:
        upstream_ws = await connect(
            url, additional_headers=headers, subprotocols=subprotocols, open_timeout=10, max_size=None
        )
    except (OSError, InvalidHandshake, InvalidURI, TimeoutError) as exc:
        log.info("websocket to %s failed: %s", url, type(exc).__name__)
        await websocket.close(code=1011)
        return
    async with upstream_ws:
        await websocket.accept(subprotocol=upstream_ws.subprotocol)
        tasks = [
            asyncio.create_task(_client_to_app(websocket, upstream_ws)),
            asyncio.create_task(_app_to_client(websocket, upstream_ws)),
        ]
        _, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
    with contextlib.suppress(Exception):
        await websocket.close()


async def _client_to_app(websocket: WebSocket, upstream_ws: ClientConnection) -> None:
    with contextlib.suppress(WebSocketDisconnect, ConnectionClosed):
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                break
            if message.get("text") is not None:
                await upstream_ws.send(message["text"])
            elif message.get("bytes") is not None:
                await upstream_ws.send(message["bytes"])
    await upstream_ws.close()


async def _app_to_client(websocket: WebSocket, upstream_ws: ClientConnection) -> None:
    with contextlib.suppress(WebSocketDisconnect, ConnectionClosed, RuntimeError):
        async for message in upstream_ws:
            if isinstance(message, str):
                await websocket.send_text(message)
            else:
                await websocket.send_bytes(message)

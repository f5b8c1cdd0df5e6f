"""The built-in sample app: a FastAPI app whose `/api/` routes are worth exploring.

Each instance keeps its own in-memory items and statistics. Its OpenAPI document is served under
`/api/` so the Apps gateway lets a bearer token read it.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator
from http import HTTPStatus
from typing import Any

from fastapi import (
    APIRouter,
    FastAPI,
    HTTPException,
    Query,
    Request,
    Response,
    WebSocket,
    WebSocketDisconnect,
)
from fastapi.responses import HTMLResponse, JSONResponse, StreamingResponse

from explorer.sandbox.apps.sample.agent import Agent
from explorer.sandbox.apps.sample.data import CITIES, large_rows_json
from explorer.sandbox.apps.sample.models import Echo, Greeting, Identity, Item, ItemIn, SlowResult
from explorer.sandbox.apps.sample.streams import HeartbeatCounter, stream_routes

MASKED_HEADERS = ("x-forwarded-access-token", "authorization", "cookie")


def mask(secret: str) -> str:
    """First 4 and last 3 characters: enough to recognise a token, too little to use it."""
    return secret[:4] + "…" + secret[-3:] if len(secret) > 10 else "…"


def create_sample_app(app_name: str = "sample") -> FastAPI:
    app = FastAPI(
        title=f"Sandbox sample app '{app_name}'",
        description=(
            "Greetings, echo, a CRUD resource (with Server-Timing), tables, slow and large responses, any "
            "status code, SSE, NDJSON, an endless heartbeat, and a scripted agent in the OpenAI Responses "
            "shape (/api/invocations, /responses)."
        ),
        version="1.0.0",
        openapi_url="/api/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
    )
    app.include_router(_greeting_routes(app_name))
    app.include_router(_echo_routes())
    app.include_router(_ItemStore().router())
    app.include_router(_data_routes())
    heartbeats = HeartbeatCounter()
    app.include_router(stream_routes(heartbeats))
    app.include_router(Agent().router())
    app.include_router(_SlowStats(heartbeats).router())
    return app


def _greeting_routes(app_name: str) -> APIRouter:
    router = APIRouter()

    @router.get("/", response_class=HTMLResponse, include_in_schema=False)
    def home() -> str:
        return (
            f"<!doctype html><html><head><title>{app_name}</title></head><body>"
            f"<h1>Sandbox sample app: {app_name}</h1><p>The API lives under <code>/api/</code>; "
            'its OpenAPI document is at <a href="/api/openapi.json">/api/openapi.json</a>.</p></body></html>'
        )

    @router.get("/api/hello", summary="Say hello", response_model=Greeting, tags=["greetings"])
    def hello(name: str = Query("World", max_length=200, description="Who to greet")) -> Greeting:
        return Greeting(message=f"Hello, {name}!", app=app_name)

    @router.get(
        "/api/whoami",
        summary="The identity the gateway forwarded",
        response_model=Identity,
        tags=["identity"],
    )
    def whoami(request: Request) -> Identity:
        h = request.headers
        token = h.get("x-forwarded-access-token")
        return Identity(
            user=h.get("x-forwarded-user"),
            email=h.get("x-forwarded-email"),
            preferred_username=h.get("x-forwarded-preferred-username"),
            real_ip=h.get("x-real-ip"),
            request_id=h.get("x-request-id"),
            forwarded_host=h.get("x-forwarded-host"),
            access_token=mask(token) if token else None,
            authorization_seen="authorization" in h,
        )

    return router


def _echo_routes() -> APIRouter:
    router = APIRouter(tags=["echo"])

    async def echo(request: Request) -> Echo:
        body = await request.body()
        headers = {k: (mask(v) if k in MASKED_HEADERS else v) for k, v in request.headers.items()}
        query: dict[str, list[str]] = {}
        for key, value in request.query_params.multi_items():
            query.setdefault(key, []).append(value)
        text = body.decode("utf-8", errors="replace")
        return Echo(method=request.method, path=request.url.path, query=query, headers=headers, body=text)

    for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
        # One route per method: a shared operation id would make the OpenAPI document ambiguous.
        router.add_api_route(
            "/api/echo",
            echo,
            methods=[method],
            summary="Echo the request back",
            response_model=Echo,
            operation_id=f"echo_{method.lower()}",
        )

    @router.websocket("/api/ws")
    async def ws_echo(websocket: WebSocket) -> None:
        await websocket.accept()
        try:
            while True:
                message = await websocket.receive()
                if message.get("type") == "websocket.disconnect":
                    return
                if message.get("text") is not None:
                    await websocket.send_text(f"echo: {message['text']}")
                elif message.get("bytes") is not None:
                    await websocket.send_bytes(message["bytes"])
        except WebSocketDisconnect:
            return

    return router


class _ItemStore:
    """A small CRUD resource, in memory; sync routes run in a thread pool, hence the lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items = {
            1: Item(id=1, name="Widget", price=9.5, tags=["tools"]),
            2: Item(id=2, name="Gadget", price=24.0, tags=["tools", "electronics"]),
        }
        self._next_id = 3

    def router(self) -> APIRouter:
        router = APIRouter(prefix="/api/items", tags=["items"])
        router.add_api_route(
            "",
            self.list,
            methods=["GET"],
            summary="List items (with a Server-Timing header: db;dur=…)",
            response_model=list[Item],
        )
        router.add_api_route(
            "", self.create, methods=["POST"], summary="Create an item", response_model=Item, status_code=201
        )
        router.add_api_route(
            "/{item_id}", self.get, methods=["GET"], summary="Get an item", response_model=Item
        )
        router.add_api_route(
            "/{item_id}", self.put, methods=["PUT"], summary="Replace an item", response_model=Item
        )
        router.add_api_route(
            "/{item_id}", self.delete, methods=["DELETE"], summary="Delete an item", status_code=204
        )
        return router

    def list(self, response: Response) -> list[Item]:
        started = time.perf_counter()
        with self._lock:
            items = list(self._items.values())
        took_ms = (time.perf_counter() - started) * 1000
        response.headers["Server-Timing"] = f'db;dur={took_ms:.3f};desc="item store"'
        return items

    def create(self, item: ItemIn) -> Item:
        with self._lock:
            created = Item(id=self._next_id, **item.model_dump())
            self._next_id += 1
            self._items[created.id] = created
        return created

    def get(self, item_id: int) -> Item:
        with self._lock:
            found = self._items.get(item_id)
        if found is None:
            raise HTTPException(404, f"item {item_id} not found")
        return found

    def put(self, item_id: int, item: ItemIn) -> Item:
        with self._lock:
            if item_id not in self._items:
                raise HTTPException(404, f"item {item_id} not found")
            self._items[item_id] = Item(id=item_id, **item.model_dump())
            return self._items[item_id]

    def delete(self, item_id: int) -> Response:
        with self._lock:
            removed = self._items.pop(item_id, None)
        if removed is None:
            raise HTTPException(404, f"item {item_id} not found")
        return Response(status_code=204)


def _data_routes() -> APIRouter:
    router = APIRouter(tags=["data"])

    @router.get("/api/table", summary="A table-like list of records")
    def table() -> list[dict[str, Any]]:
        return CITIES

    @router.get("/api/large", summary="A large JSON array, streamed", response_class=StreamingResponse)
    def large(
        rows: int = Query(1000, ge=0, le=2_000_000, description="Number of records (~100 bytes each)"),
    ) -> StreamingResponse:
        return StreamingResponse(large_rows_json(rows), media_type="application/json")

    @router.get(
        "/api/events", summary="Server-sent events, one every interval", response_class=StreamingResponse
    )
    def events(
        count: int = Query(5, ge=1, le=1000), interval_ms: int = Query(100, ge=0, le=10_000)
    ) -> StreamingResponse:
        async def stream() -> AsyncIterator[str]:
            for i in range(count):
                yield f'id: {i}\ndata: {{"n": {i}}}\n\n'
                await asyncio.sleep(interval_ms / 1000)

        return StreamingResponse(
            stream(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"}
        )

    @router.get("/api/status/{code}", summary="Answer with any HTTP status")
    def status(
        code: int,
        retry_after: int | None = Query(None, ge=0, le=86_400, description="Send Retry-After: N (seconds)"),
    ) -> Response:
        if not 200 <= code <= 599:
            raise HTTPException(400, "code must be between 200 and 599")
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
        if code in (204, 304):
            return Response(status_code=code, headers=headers)
        reason = HTTPStatus(code).phrase if code in HTTPStatus._value2member_map_ else "Unknown"
        return JSONResponse({"status": code, "reason": reason}, status_code=code, headers=headers)

    return router


class _SlowStats:
    """`/api/slow` and the concurrency it saw (benchmarks read it through `/api/stats`), beside the
    heartbeat streams' counts (tests read whether a cancelled stream ended in the app)."""

    def __init__(self, heartbeats: HeartbeatCounter) -> None:
        self._lock = threading.Lock()
        self.active = self.max_concurrent = self.total = 0
        self._heartbeats = heartbeats

    def router(self) -> APIRouter:
        router = APIRouter(tags=["timing"])
        router.add_api_route(
            "/api/slow", self.slow, methods=["GET"], summary="Answer after a delay", response_model=SlowResult
        )
        router.add_api_route(
            "/api/stats", self.stats, methods=["GET"], summary="Statistics of /api/slow and /api/heartbeat"
        )
        router.add_api_route("/api/stats/reset", self.reset, methods=["POST"], summary="Reset the statistics")
        return router

    async def slow(
        self, ms: int = Query(500, ge=0, le=120_000, description="Delay in milliseconds")
    ) -> SlowResult:
        with self._lock:
            self.active += 1
            self.total += 1
            self.max_concurrent = max(self.max_concurrent, self.active)
        try:
            await asyncio.sleep(ms / 1000)
        finally:
            with self._lock:
                self.active -= 1
        return SlowResult(slept_ms=ms)

    def stats(self) -> dict[str, Any]:
        with self._lock:
            slow = {"active": self.active, "max_concurrent": self.max_concurrent, "total": self.total}
        return {"slow": slow, "heartbeat": self._heartbeats.snapshot()}

    def reset(self) -> dict[str, Any]:
        with self._lock:
            self.max_concurrent, self.total = self.active, 0
        self._heartbeats.reset()
        return self.stats()

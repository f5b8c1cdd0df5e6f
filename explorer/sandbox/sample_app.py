"""The built-in sample app (SPEC §3.3): a FastAPI app whose `/api/` routes are worth exploring.

Each instance keeps its own in-memory items and statistics. Its OpenAPI document is served under
`/api/` so the Apps gateway lets a bearer token read it.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, HTTPException, Query, Request, Response, WebSocket, WebSocketDisconnect
from fastapi.responses import HTMLResponse, JSONResponse, StreamingResponse
from pydantic import BaseModel, Field

from explorer.sandbox.sample_data import CITIES, large_rows_json

MASKED_HEADERS = ("x-forwarded-access-token", "authorization", "cookie")


class Greeting(BaseModel):
    message: str
    app: str


class ItemIn(BaseModel):
    name: str = Field(..., min_length=1, max_length=200, description="What the item is called")
    price: float = Field(0.0, ge=0, description="Unit price")
    tags: list[str] = Field(default_factory=list, description="Free-form labels")


class Item(ItemIn):
    id: int


class Identity(BaseModel):
    user: str | None = Field(None, description="X-Forwarded-User")
    email: str | None = Field(None, description="X-Forwarded-Email")
    preferred_username: str | None = Field(None, description="X-Forwarded-Preferred-Username")
    real_ip: str | None = Field(None, description="X-Real-Ip")
    request_id: str | None = Field(None, description="X-Request-Id")
    forwarded_host: str | None = Field(None, description="X-Forwarded-Host")
    access_token: str | None = Field(None, description="X-Forwarded-Access-Token, masked")
    authorization_seen: bool = Field(False, description="Whether an Authorization header reached the app")


class Echo(BaseModel):
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: str


class SlowResult(BaseModel):
    slept_ms: int


def mask(secret: str) -> str:
    """First 4 and last 3 characters: enough to recognise a token, too little to use it."""
    return secret[:4] + "…" + secret[-3:] if len(secret) > 10 else "…"


class _SlowStats:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.active = self.max_concurrent = self.total = 0

    def enter(self) -> None:
        with self._lock:
            self.active += 1
            self.total += 1
            self.max_concurrent = max(self.max_concurrent, self.active)

    def leave(self) -> None:
        with self._lock:
            self.active -= 1

    def as_dict(self) -> dict[str, int]:
        with self._lock:
            return {"active": self.active, "max_concurrent": self.max_concurrent, "total": self.total}

    def reset(self) -> None:
        with self._lock:
            self.max_concurrent, self.total = self.active, 0


def create_sample_app(app_name: str = "sample") -> FastAPI:
    app = FastAPI(
        title=f"Sandbox sample app '{app_name}'",
        description="Greetings, echo, a CRUD resource, tables, slow and large responses, any status code.",
        version="1.0.0",
        openapi_url="/api/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
    )
    items: dict[int, Item] = {
        1: Item(id=1, name="Widget", price=9.5, tags=["tools"]),
        2: Item(id=2, name="Gadget", price=24.0, tags=["tools", "electronics"]),
    }
    counter = {"next": 3}
    items_lock = threading.Lock()  # sync routes run in a thread pool
    slow = _SlowStats()

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def home() -> str:
        return (
            f"<!doctype html><html><head><title>{app_name}</title></head><body>"
            f"<h1>Sandbox sample app: {app_name}</h1><p>The API lives under <code>/api/</code>; "
            'its OpenAPI document is at <a href="/api/openapi.json">/api/openapi.json</a>.</p></body></html>'
        )

    @app.get("/api/hello", summary="Say hello", response_model=Greeting, tags=["greetings"])
    def hello(name: str = Query("World", max_length=200, description="Who to greet")) -> Greeting:
        return Greeting(message=f"Hello, {name}!", app=app_name)

    @app.get(
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
        app.add_api_route(
            "/api/echo",
            echo,
            methods=[method],
            summary="Echo the request back",
            response_model=Echo,
            tags=["echo"],
            operation_id=f"echo_{method.lower()}",
        )

    @app.get("/api/items", summary="List items", response_model=list[Item], tags=["items"])
    def list_items() -> list[Item]:
        with items_lock:
            return list(items.values())

    @app.post("/api/items", summary="Create an item", response_model=Item, status_code=201, tags=["items"])
    def create_item(item: ItemIn) -> Item:
        with items_lock:
            created = Item(id=counter["next"], **item.model_dump())
            counter["next"] += 1
            items[created.id] = created
        return created

    @app.get("/api/items/{item_id}", summary="Get an item", response_model=Item, tags=["items"])
    def get_item(item_id: int) -> Item:
        if item_id not in items:
            raise HTTPException(404, f"item {item_id} not found")
        return items[item_id]

    @app.put("/api/items/{item_id}", summary="Replace an item", response_model=Item, tags=["items"])
    def put_item(item_id: int, item: ItemIn) -> Item:
        with items_lock:
            if item_id not in items:
                raise HTTPException(404, f"item {item_id} not found")
            items[item_id] = Item(id=item_id, **item.model_dump())
            return items[item_id]

    @app.delete("/api/items/{item_id}", summary="Delete an item", status_code=204, tags=["items"])
    def delete_item(item_id: int) -> Response:
        with items_lock:
            removed = items.pop(item_id, None)
        if removed is None:
            raise HTTPException(404, f"item {item_id} not found")
        return Response(status_code=204)

    @app.get("/api/table", summary="A table-like list of records", tags=["data"])
    def table() -> list[dict[str, Any]]:
        return CITIES

    @app.get("/api/slow", summary="Answer after a delay", response_model=SlowResult, tags=["timing"])
    async def slow_endpoint(
        ms: int = Query(500, ge=0, le=120_000, description="Delay in milliseconds"),
    ) -> SlowResult:
        slow.enter()
        try:
            await asyncio.sleep(ms / 1000)
        finally:
            slow.leave()
        return SlowResult(slept_ms=ms)

    @app.get("/api/large", summary="A large JSON array, streamed", tags=["data"])
    def large(rows: int = Query(1000, ge=0, le=2_000_000, description="Number of records (~100 bytes each)")):  # type: ignore[no-untyped-def]
        return StreamingResponse(large_rows_json(rows), media_type="application/json")

    @app.get("/api/events", summary="Server-sent events, one every interval", tags=["streaming"])
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

    @app.get("/api/status/{code}", summary="Answer with any HTTP status", tags=["status"])
    def status(code: int) -> Response:
        if not 200 <= code <= 599:
            raise HTTPException(400, "code must be between 200 and 599")
        if code in (204, 304):
            return Response(status_code=code)
        reason = HTTPStatus(code).phrase if code in HTTPStatus._value2member_map_ else "Unknown"
        return JSONResponse({"status": code, "reason": reason}, status_code=code)

    @app.get("/api/stats", summary="Concurrency statistics of /api/slow", tags=["timing"])
    def stats() -> dict[str, Any]:
        return {"slow": slow.as_dict()}

    @app.post("/api/stats/reset", summary="Reset the statistics", tags=["timing"])
    def reset_stats() -> dict[str, Any]:
        slow.reset()
        return {"slow": slow.as_dict()}

    @app.websocket("/api/ws")
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

    return app

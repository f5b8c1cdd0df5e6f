"""Gradio's built frontend (`/assets/…`), each file read and compressed once, then served from memory.

On every request Gradio sends each of these files through its whole stack: its middlewares, a match
against ~160 routes, a file response, and brotli compression of the same bytes again. That is about
1.5 ms of server CPU a file here, and a first page asks for ~100 of them, while the same process
starts the page's session. The files are Vite's build output, named by a hash of their content, so
a name never changes its bytes: `FrontendAssets` answers them itself, compressed once on first
request (in a worker thread, so the event loop goes on answering), and the browser caches them for
a year (`immutable`). Anything else, a name not in that build directory included, goes on to
Gradio untouched.

Memory is bounded by the build directory: at most one brotli and one gzip copy of each file that
was asked for (~0.9 MB for everything a page of the explorer loads).

`CompressedPage` gzips the page itself and its config, which Gradio sends uncompressed (its
compression goes by file extension, and `/` has none): the page's ~470 KB of HTML, mostly the
embedded config and API description, are ~40 KB on the wire. The deployed server uses it, where a
page crosses the network through the Apps gateway; on loopback it would only cost (~2 ms of CPU
and ~10 ms a page), so `python -m explorer` goes without.
"""

from __future__ import annotations

import gzip
import mimetypes
import os
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

import anyio
import gradio
from starlette.middleware.gzip import GZipMiddleware

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

PREFIX = "/assets/"
PAGE_PATHS = frozenset({"/", "/config"})  # the page (its config inline) and the config alone
BUILD_DIR = Path(gradio.__file__).parent / "templates" / "frontend" / "assets"
CACHE_CONTROL = b"public, max-age=31536000, immutable"  # content-hashed names: never stale
BROTLI_QUALITY = 3  # ~3 % larger than Gradio's 4, in ~60 % of the time (a fresh process's first page)
GZIP_LEVEL = 6


def _brotli() -> Any:
    try:
        import brotli  # Gradio's dependency, for its own compression middleware
    except ImportError:  # pragma: no cover - Gradio requires it; without it, gzip only
        return None
    return brotli


def pick_encoding(accept_encoding: str, offered: tuple[str, ...] = ("br", "gzip")) -> str:
    """The first of `offered` that an Accept-Encoding header allows (q > 0, by name or `*`), else
    "identity". `br;q=0` refuses brotli; `*;q=0` with nothing named refuses all of them."""
    weights: dict[str, float] = {}
    for part in accept_encoding.split(","):
        name, _, params = part.strip().partition(";")
        name = name.strip().lower()
        if not name:
            continue
        weight = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.strip().lower() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        weights[name] = weight
    for encoding in offered:
        if weights.get(encoding, weights.get("*", 0.0)) > 0:
            return encoding
    return "identity"


def content_type(name: str) -> bytes:
    guessed = mimetypes.guess_type(name)[0] or "application/octet-stream"
    if guessed.startswith("text/") or guessed.endswith(("javascript", "json")):
        guessed += "; charset=utf-8"
    return guessed.encode("latin-1")


def build_files(directory: Path) -> list[str]:
    """The file names of a build directory (none if it is missing)."""
    try:
        with os.scandir(directory) as entries:
            return [entry.name for entry in entries if entry.is_file()]
    except OSError:
        return []


class FrontendAssets:
    """ASGI middleware: GET and HEAD of `/assets/<name>`, for the names of Gradio's build directory."""

    def __init__(self, app: ASGIApp, directory: Path = BUILD_DIR) -> None:
        self.app = app
        self.directory = directory
        self.names = frozenset(build_files(directory))
        self.brotli = _brotli()
        self._bodies: dict[tuple[str, str], bytes] = {}

    def body(self, name: str, encoding: str) -> bytes:
        """The file's bytes in `encoding`: compressed copies are kept; the plain bytes are read each
        time (rare: every browser asks for br or gzip)."""
        cached = self._bodies.get((name, encoding))
        if cached is not None:
            return cached
        raw = (self.directory / name).read_bytes()
        if encoding == "identity":
            return raw
        if encoding == "br":
            encoded = self.brotli.compress(raw, quality=BROTLI_QUALITY)
        else:
            encoded = gzip.compress(raw, GZIP_LEVEL, mtime=0)
        self._bodies[(name, encoding)] = encoded
        return encoded

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        name = self._asset_name(scope)
        if name is None:
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        offered = ("br", "gzip") if self.brotli is not None else ("gzip",)
        encoding = pick_encoding(headers.get(b"accept-encoding", b"").decode("latin-1"), offered)
        body = self._bodies.get((name, encoding))
        if body is None:  # read and compress off the event loop: zlib and brotli release the GIL
            body = await anyio.to_thread.run_sync(self.body, name, encoding)
        response_headers = [
            (b"content-type", content_type(name)),
            (b"content-length", str(len(body)).encode()),
            (b"cache-control", CACHE_CONTROL),
            (b"vary", b"Accept-Encoding"),
            (b"x-content-type-options", b"nosniff"),
        ]
        if encoding != "identity":
            response_headers.append((b"content-encoding", encoding.encode()))
        await send({"type": "http.response.start", "status": 200, "headers": response_headers})
        await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body})

    def _asset_name(self, scope: Scope) -> str | None:
        """The build file a request asks for, or None (anything else is Gradio's to answer)."""
        if scope["type"] != "http" or scope.get("method") not in ("GET", "HEAD"):
            return None
        path = scope.get("path") or ""
        if not path.startswith(PREFIX):
            return None
        name = path[len(PREFIX) :]
        return name if name in self.names else None  # a listed file name: never a path of its own


class CompressedPage:
    """ASGI middleware: the page and its config gzipped, when the client accepts gzip (Starlette's
    GZipMiddleware, which leaves a response alone that is already encoded); any other path is
    passed on as it is, so the event streams are never buffered."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.gzip = GZipMiddleware(app, minimum_size=1024)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("path") in PAGE_PATHS:
            await self.gzip(scope, receive, send)
        else:
            await self.app(scope, receive, send)

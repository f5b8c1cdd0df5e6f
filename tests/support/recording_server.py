"""A tiny upstream HTTP server that records what it receives: to see exactly what a gateway forwards."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Recorded:
    method: str
    path: str
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)


@dataclass
class RecordingServer:
    url: str
    requests: list[Recorded] = field(default_factory=list)


@contextmanager
def serving(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """Serve `handler` on a free loopback port in a thread; yields the base URL, stops it after."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


@contextmanager
def recording_server() -> Iterator[RecordingServer]:
    """Answers every request with 200 `{"ok": true}` (or a redirect for /redirect) and records it."""
    server_state = RecordingServer(url="")

    class Handler(BaseHTTPRequestHandler):
        def _handle(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            server_state.requests.append(Recorded(self.command, self.path, list(self.headers.items()), body))
            if self.path.startswith("/api/redirect"):
                self.send_response(302)
                self.send_header("Location", f"{server_state.url}/api/elsewhere")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            payload = json.dumps({"ok": True}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Set-Cookie", "a=1; Path=/")
            self.send_header("Set-Cookie", "b=2; Path=/")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _handle

        def log_message(self, *_: object) -> None:  # keep test output quiet
            pass

    with serving(Handler) as url:
        server_state.url = url
        yield server_state

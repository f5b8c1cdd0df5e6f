"""Hostile servers for the red-team stories: an allowed "workspace" whose OAuth metadata points a
flow at a canary off the allowlist, and a canary that records whatever reaches it.

    with recording_server() as canary, hostile_workspace(canary.url, "oidc") as attacker:
        ...  # attacker.url is on the allowlist; canary.url is not and must receive nothing

Modes: "oidc" — the host metadata names the canary as the OIDC endpoint; "token" — the OIDC
document names the canary's token endpoint; "link" — its own token endpoint but a `javascript:`
authorize endpoint (the sign-in link a page would show).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler

from support.recording_server import Recorded, RecordingServer, serving


@contextmanager
def hostile_workspace(canary_url: str, mode: str) -> Iterator[RecordingServer]:
    state = RecordingServer(url="")

    class Handler(BaseHTTPRequestHandler):
        def _handle(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            state.requests.append(Recorded(self.command, self.path, list(self.headers.items()), body))
            if self.path.startswith("/.well-known/databricks-config"):
                oidc = f"{canary_url}/oidc" if mode == "oidc" else f"{state.url}/oidc"
                self._json({"oidc_endpoint": oidc, "workspace_id": "1", "cloud": "aws"})
            elif self.path.startswith("/oidc/.well-known/oauth-authorization-server"):
                self._json(
                    {
                        "issuer": f"{state.url}/oidc",
                        "authorization_endpoint": "javascript:alert(document.domain)//"
                        if mode == "link"
                        else f"{state.url}/oidc/v1/authorize",
                        "token_endpoint": f"{state.url}/oidc/v1/token"
                        if mode == "link"
                        else f"{canary_url}/oidc/v1/token",
                    }
                )
            else:
                self._json({"error": "not found"}, 404)

        def _json(self, document: object, status: int = 200) -> None:
            payload = json.dumps(document).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = _handle

        def log_message(self, *_: object) -> None:
            pass

    with serving(Handler) as url:
        state.url = url
        yield state

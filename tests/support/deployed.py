"""The explorer deployed as a Databricks App inside the sandbox, and the ways a test reaches it.

    with deployed_explorer(tmp_path) as d:         # `source` app from this repo's own app.yaml
        d.api_get("/api/health", token=...)         # through the gateway, like another app would
        client = d.ui_client("alice@example.com")   # a signed-in browser session, scripted

The explorer's service principal gets CAN_USE on `hello` and `scoped`; `alice` and `bob` may use
the explorer. Outbound, the explorer may reach the two sample apps and a redirector (a loopback
server answering 302 to the canary); the canary, on another loopback port, is not allowed, so a
test can prove that nothing reaches it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

from explorer.sandbox import Sandbox
from explorer.sandbox.config import load_config
from support.ports import free_port
from support.recording_server import Recorded, RecordingServer, recording_server, serving
from support.sandbox_helpers import default_config

REPO = Path(__file__).resolve().parents[2]
EXPLORER = "explorer"
EXPLORER_SCOPES = ["sql", "apps"]  # the user token the gateway forwards carries these (+ iam.*)
SCOPED_REQUIRES = ["sql"]  # a subset: a signed-in user's forwarded token satisfies it
USERS = ("alice@example.com", "bob@example.com")
GATEWAY_COOKIE_PREFIX = "databricks-app-session-"


@dataclass
class Deployed:
    sandbox: Sandbox
    canary: RecordingServer  # outside the allowlist: must never receive a request
    redirector: RecordingServer  # allowed; answers 302 to the canary

    @property
    def info(self) -> dict[str, Any]:
        return self.sandbox.info

    @property
    def url(self) -> str:
        return self.info["apps"][EXPLORER]["url"]

    def app_url(self, name: str) -> str:
        return self.info["apps"][name]["url"]

    @property
    def explorer_sp(self) -> str:
        """The explorer app's own service principal (application id)."""
        return self.info["apps"][EXPLORER]["service_principal"]["client_id"]

    def log(self) -> str:
        return self.sandbox.app_log(EXPLORER)

    def sign_in(self, user: str, app: str = EXPLORER) -> requests.Session:
        """A browser-like session signed in to `app` through its gateway (sign-in page, headless)."""
        return gateway_session(self.app_url(app), user)

    def ui_client(self, user: str, cookie: str | None = None) -> Any:
        """A gradio_client session of the deployed UI, signed in as `user` (its own browser session).

        `cookie`: reuse a gateway sign-in (many tabs of one browser); default: sign in afresh.
        """
        from gradio_client import Client

        cookie = cookie or session_cookie(self.sign_in(user))
        client = Client(self.url, verbose=False, analytics_enabled=False, headers={"Cookie": cookie})
        client.predict(method="app", api_name="/startup")  # what a page load runs
        return client


def gateway_session(app_url: str, user: str) -> requests.Session:
    """Follow the gateway's sign-in redirect with `login_hint` (the sandbox approves at once)."""
    session = requests.Session()
    first = session.get(app_url + "/", allow_redirects=False, timeout=10)
    if first.status_code != 302:
        raise AssertionError(f"the gateway did not ask to sign in: {first.status_code}")
    landed = session.get(first.headers["location"], params={"login_hint": user}, timeout=30)
    if landed.status_code != 200 or not session_cookie(session):
        raise AssertionError(f"sign-in as {user} did not finish: {landed.status_code} {landed.url}")
    return session


def session_cookie(session: requests.Session) -> str:
    """The gateway's session cookie(s) as a Cookie header value."""
    return "; ".join(
        f"{c.name}={c.value}" for c in session.cookies if c.name.startswith(GATEWAY_COOKIE_PREFIX)
    )


def explorer_config(
    hello_port: int, scoped_port: int, redirector: str, extra_allowed: tuple[str, ...] = ()
) -> dict[str, Any]:
    """The sandbox config: the explorer (source app from the repo root) beside two sample apps."""
    allowed = ",".join(
        [f"127.0.0.1:{hello_port}", f"127.0.0.1:{scoped_port}", _host_port(redirector)]
        + [_host_port(url) for url in extra_allowed]
    )
    explorer = {
        "name": EXPLORER,
        "kind": "source",
        "source": str(REPO),
        "user_api_scopes": EXPLORER_SCOPES,
        # As an operator would set it in the app's configuration, not by editing app.yaml.
        "env": {"EXPLORER_ALLOWED_HOSTS": allowed},
        "start_timeout_seconds": 90,
        "permissions": [
            {"user_name": USERS[0], "permission_level": "CAN_USE"},
            {"user_name": USERS[1], "permission_level": "CAN_USE"},
            {"service_principal_name": "caller-sp", "permission_level": "CAN_USE"},
        ],
    }
    config = default_config(
        service_principals=[{"name": "caller-sp"}, {"name": "outsider-sp"}],
        apps=[
            explorer,
            {"name": "hello", "kind": "sample", "port": hello_port, "permissions": []},
            {
                "name": "scoped",
                "kind": "sample",
                "port": scoped_port,
                "user_api_scopes": SCOPED_REQUIRES,
                "permissions": [],
            },
        ],
        federation_policies=[],
    )
    # The explorer's service principal is generated with the app (as on Databricks); its
    # application id is stable, so a first parse tells the id to grant CAN_USE to.
    explorer_sp = load_config(config).app(EXPLORER).service_principal.application_id  # type: ignore[union-attr]
    for app in config["apps"][1:]:
        app["permissions"] = [
            {"service_principal_name": explorer_sp, "permission_level": "CAN_USE"},
            {"user_name": USERS[0], "permission_level": "CAN_USE"},
            {"user_name": USERS[1], "permission_level": "CAN_USE"},
        ]
    return config


@contextlib.contextmanager
def deployed_explorer(
    canary: RecordingServer | None = None, extra_allowed: tuple[str, ...] = ()
) -> Iterator[Deployed]:
    """Start the canary, the redirector and the sandbox with the explorer deployed; stop them all.

    `canary`: one the caller started (e.g. to point hostile servers at it); `extra_allowed`: more
    URLs the operator puts on the explorer's allowlist.
    """
    with contextlib.ExitStack() as stack:
        if canary is None:
            canary = stack.enter_context(recording_server())
        redirector = stack.enter_context(redirect_server(canary.url + "/api/stolen"))
        config = explorer_config(free_port(), free_port(), redirector.url, extra_allowed)
        sandbox = Sandbox(config)
        try:
            sandbox.start()
            if sandbox.info["apps"][EXPLORER]["state"] != "RUNNING" or not _answers(sandbox):
                raise AssertionError("the explorer did not start:\n" + sandbox.app_log(EXPLORER))
            yield Deployed(sandbox, canary, redirector)
        finally:
            sandbox.stop()


def _answers(sandbox: Sandbox) -> bool:
    runtime = sandbox.apps[EXPLORER]
    if runtime.start_error:
        return False
    return requests.get(f"{runtime.upstream_url}/api/health", timeout=10).status_code == 200


@contextlib.contextmanager
def redirect_server(target: str) -> Iterator[RecordingServer]:
    """A loopback server that records each request and answers 302 to `target` (another host)."""
    state = RecordingServer(url="")

    class Handler(BaseHTTPRequestHandler):
        def _handle(self) -> None:

            state.requests.append(Recorded(self.command, self.path, list(self.headers.items()), b""))
            self.send_response(302)
            self.send_header("Location", target)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _handle

        def log_message(self, *_: object) -> None:
            pass

    with serving(Handler) as url:
        state.url = url
        yield state


def _host_port(url: str) -> str:
    return urlsplit(url).netloc

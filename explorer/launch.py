"""`python -m explorer [--demo] [--host H] [--port N]`: serve the UI (the demo with its own sandbox).

Thin on purpose: the layout is `layout.build_ui`, the look `theme.page_options`; this file only picks
the address, starts the sandbox for --demo, prints the URL and stops everything on Ctrl-C.
Deployed as a Databricks App (DATABRICKS_APP_PORT set), `explorer.server` serves the UI and the
explorer's own `/api/` on one FastAPI server instead.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from collections.abc import Mapping, MutableMapping
from pathlib import Path
from typing import Any

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7860
DEMO_SP = "demo-sp"
DEMO_APP = "hello"
# The demo collection, beside the package in a source checkout (the Collections sidebar opens it).
DEMO_COLLECTION = Path(__file__).resolve().parents[1] / "examples" / "sandbox-demo"
# The demo's identity matrix: the sandbox's service principal, Alice, Bob and no token.
DEMO_MATRIX = Path(__file__).resolve().parents[1] / "examples" / "access-audit"
DEMO_USERS = {"ALICE_TOKEN": "alice@example.com", "BOB_TOKEN": "bob@example.com"}


def parse_args(argv: list[str]) -> argparse.Namespace:
    from explorer.commands import command_list

    parser = argparse.ArgumentParser(
        prog="python -m explorer",
        description="Databricks Apps API Explorer: the UI by default, or one of the commands below.",
        epilog=command_list(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--demo", action="store_true", help="start the offline sandbox workspace and connect to it"
    )
    parser.add_argument("--host", help="address to listen on (default 127.0.0.1, or $GRADIO_SERVER_NAME)")
    parser.add_argument("--port", type=int, help="port to listen on (default 7860, or $GRADIO_SERVER_PORT)")
    return parser.parse_args(argv)


def listen_address(args: argparse.Namespace, env: Mapping[str, str]) -> tuple[str, int]:
    """Flags first, then the platform's port (deployed), then Gradio's own variables, then defaults."""
    deployed_port = env.get("DATABRICKS_APP_PORT")
    host = args.host or env.get("GRADIO_SERVER_NAME") or ("0.0.0.0" if deployed_port else DEFAULT_HOST)
    port_text = args.port or deployed_port or env.get("GRADIO_SERVER_PORT") or DEFAULT_PORT
    try:
        port = int(port_text)
    except ValueError:
        raise SystemExit(f"error: port {port_text!r} is not a number") from None
    if not 0 < port < 65536:
        raise SystemExit(f"error: port {port} is out of range 1-65535")
    return host, port


def demo_config(info: Mapping[str, Any]) -> Any:
    """The demo's UI defaults from the sandbox's info: demo-sp over m2m, app `hello` picked."""
    from explorer.ui.config import UIConfig
    from explorer.ui.prepared import PreparedConnection

    sp = info["service_principals"][DEMO_SP]
    app = info["apps"][DEMO_APP]
    fields = {"host": info["host"], "client_id": sp["client_id"], "client_secret": sp["client_secret"]}
    return UIConfig(
        method="m2m",
        fields=fields,
        app_url=app["url"],
        app_name=DEMO_APP,
        request_path="/api/hello",
        collection_path=shown_path(DEMO_COLLECTION) if DEMO_COLLECTION.is_dir() else "",
        matrix_path=shown_path(DEMO_MATRIX) if DEMO_MATRIX.is_dir() else "",
        identity_env=lambda: demo_identity_env(info),
        autoconnect=True,
        prepared=PreparedConnection("m2m", fields),
    )


def shown_path(path: Path) -> str:
    """A folder as the page shows it: relative to where the explorer was started, when inside it."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def demo_identity_env(info: Mapping[str, Any]) -> dict[str, str]:
    """What the demo's identity files read (server-side, never on the page): the demo service
    principal's credentials and a fresh token for each sandbox user (the sandbox approves a
    sign-in by its login hint, through the SDK's own PKCE flow)."""
    sp = info["service_principals"][DEMO_SP]
    values = {
        "DATABRICKS_HOST": info["host"],
        "DATABRICKS_CLIENT_ID": sp["client_id"],
        "DATABRICKS_CLIENT_SECRET": sp["client_secret"],
    }
    for variable, user in DEMO_USERS.items():
        token = sandbox_user_token(info["host"], user)
        if token:
            values[variable] = token
    return values


def sandbox_user_token(host: str, user: str) -> str | None:
    """A sandbox user's OAuth token (authorization code + PKCE, approved by `login_hint`); None if refused."""
    from urllib.parse import parse_qsl, urlsplit

    import requests
    from databricks.sdk.oauth import OAuthClient

    client = OAuthClient.from_host(
        host, client_id="databricks-cli", redirect_url="http://localhost:8020", scopes=["all-apis"]
    )
    consent = client.initiate_consent()
    answer = requests.get(
        consent.authorization_url, params={"login_hint": user}, allow_redirects=False, timeout=10
    )
    if answer.status_code != 302:
        return None
    query = dict(parse_qsl(urlsplit(answer.headers["location"]).query))
    return consent.exchange_callback_parameters(query).token().access_token


def local_config(env: Mapping[str, str]) -> Any:
    """Locally: no allowlist unless EXPLORER_ALLOWED_HOSTS is set. Deployed: the allowlist is on
    and each page connects as the app's own service principal (`app`) when it loads."""
    from explorer.guard import ENV_VAR, Allowlist
    from explorer.trust import Trust
    from explorer.ui.config import UIConfig, is_deployed

    deployed = is_deployed(env)
    allowlist = None
    if deployed:
        allowlist = Allowlist.from_env(env)
    elif (env.get(ENV_VAR) or "").strip():
        allowlist = Allowlist.for_deployment(env.get("DATABRICKS_HOST"), env.get(ENV_VAR))
    trust = Trust.for_deployment(allowlist, env) if deployed and allowlist else Trust.local(allowlist)
    return UIConfig(deployed=deployed, allowlist=allowlist, trust=trust, autoconnect=deployed)


def serve(config: Any, host: str, port: int) -> tuple[Any, str]:
    """Build and start the UI without blocking; returns (blocks, URL to open)."""
    from starlette.middleware import Middleware

    from explorer.ui.assets import FrontendAssets
    from explorer.ui.layout import build_ui
    from explorer.ui.theme import page_options

    blocks = build_ui(config)
    blocks.launch(
        server_name=host,
        server_port=port,
        prevent_thread_lock=True,
        quiet=True,
        footer_links=[],
        app_kwargs={"middleware": [Middleware(FrontendAssets)]},  # Gradio's build files from memory
        **page_options(),
    )
    if config.prepared is not None and config.autoconnect:
        config.prepared.start(config.session_trust())  # the demo's connection, while the page loads
    else:
        preload_engine()
    shown_host = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    return blocks, f"http://{shown_host}:{port}/"


def preload_engine(delay: float = 0.0) -> None:
    """Import the engine (and the SDK's credential modules and HTTP client, ~0.2 s together) in the
    background as soon as the page is served, so the page's first connect does not wait for them.
    The SDK's service modules stay unloaded (explorer.sdk_package). (When this import was the whole
    SDK, ~0.9 s, it waited a second so as not to hold up serving the page's scripts.)"""
    import importlib

    def load() -> None:
        # the session does not import the SDK itself (the CLI starts without it): load its parts here
        for module in ("explorer.session", "explorer.oauth", "databricks.sdk.core"):
            importlib.import_module(module)

    timer = threading.Timer(delay, load)
    timer.daemon = True
    timer.start()


def normalize_host_env(env: MutableMapping[str, str]) -> None:
    """Give DATABRICKS_HOST its scheme: the platform may inject a bare host name, and the SDK, the
    `app` method and the allowlist all read it, so it is fixed once, at start-up."""
    from explorer.parse import InputError, normalize_host

    value = (env.get("DATABRICKS_HOST") or "").strip()
    if not value:
        return
    try:
        env["DATABRICKS_HOST"] = normalize_host(value)
    except InputError:
        pass  # left as given: connecting with `app` then says what is wrong with it


def serve_deployed(host: str, port: int) -> int:
    """Deployed: one FastAPI server (UI at /, the explorer's API under /api/), until SIGTERM."""
    from explorer.trust import seal_environment

    normalize_host_env(os.environ)
    try:
        config = local_config(os.environ)
    except ValueError as e:  # a bad EXPLORER_ALLOWED_HOSTS entry: say which, never start unguarded
        print(f"error: {e}", file=sys.stderr)
        return 2
    # The app's own secret now lives in the config's Trust, for the `app` method alone.
    seal_environment(os.environ)
    from explorer.server import create_app, run  # imports Gradio: only once the config is sound

    print(f"Apps API Explorer: listening on {host}:{port} (deployed)", flush=True)
    run(create_app(config), host, port)
    return 0


def _stop_on_sigterm(_signum: int, _frame: Any) -> None:
    raise KeyboardInterrupt  # as Ctrl-C: served pages close, the demo's sandbox stops


def main(argv: list[str] | None = None) -> int:
    args = parse_args(list(sys.argv[1:] if argv is None else argv))
    host, port = listen_address(args, os.environ)
    from explorer.ui.config import is_deployed

    if is_deployed(os.environ) and not args.demo:
        return serve_deployed(host, port)
    sandbox = blocks = None
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _stop_on_sigterm)  # `finally` below then stops the demo's sandbox too
    try:
        if args.demo:
            from explorer.demo_sandbox import SandboxProcess

            sandbox = SandboxProcess()  # starts now, beside Gradio's import in serve()
            import explorer.ui.layout  # noqa: F401  (Gradio: seconds, while the sandbox starts)

            config = demo_config(sandbox.info)
        else:
            config = local_config(os.environ)
        blocks, url = serve(config, host, port)
        print(f"Apps API Explorer: open {url}  (Ctrl-C to stop)", flush=True)
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    except OSError as e:  # typically the port is taken
        print(f"error: cannot listen on {host}:{port}: {e.strerror or e}", file=sys.stderr)
        return 2
    except ValueError as e:  # a bad EXPLORER_ALLOWED_HOSTS entry (parse.InputError): one clear line
        print(f"error: {e}", file=sys.stderr)
        return 2
    except RuntimeError as e:  # the demo's sandbox did not start: why, in one line
        print(f"error: {e}", file=sys.stderr)
        return 2
    finally:
        if blocks is not None:
            blocks.close()
        if sandbox is not None:
            sandbox.stop()
    return 0

"""`python -m explorer sandbox [--port N] [--host H] [--config FILE] [--info FILE]`: the sandbox in the foreground.

Prints the workspace host and every app URL (never a secret: those go to the --info file only)
and stops cleanly, child app processes included, on Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import time
from types import FrameType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from explorer.sandbox.launcher import Sandbox

DEFAULT_PORT = 8765


class _ArgumentError(Exception):
    pass


class _QuietParser(argparse.ArgumentParser):
    """Reports usage errors to main() (one line, exit 2) instead of exiting from inside argparse."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise _ArgumentError(message)


def _parser() -> argparse.ArgumentParser:
    parser = _QuietParser(
        prog="python -m explorer sandbox",
        description="Run the sandbox: a local stand-in Databricks workspace, its OAuth server and app gateways.",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help=f"workspace port (default {DEFAULT_PORT}; 0 = any free port)",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--config", help="sandbox YAML config (default: the embedded demo workspace)")
    parser.add_argument("--info", help="write host, app URLs and credentials to this JSON file (mode 0600)")
    parser.add_argument(
        "--allow-auto-approve-on-network",
        action="store_true",
        help="with a non-loopback --host, keep the config's auto_approve on (anyone who can reach the "
        "address can then get tokens for any sandbox user)",
    )
    parser.add_argument("--verbose", action="store_true", help="log requests handled by the sandbox")
    return parser


def main(argv: list[str]) -> int:
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except _ArgumentError as exc:
        print(f"usage error: {exc}", file=sys.stderr)
        return 2
    if not 0 <= args.port <= 65535:
        print(f"error: --port must be between 0 and 65535, got {args.port}", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )

    from explorer.sandbox.config import ConfigError
    from explorer.sandbox.launcher import AutoApproveExposed, Sandbox, SandboxError

    try:
        sandbox = Sandbox(
            config=args.config,
            port=args.port,
            host=args.host,
            allow_network_auto_approve=args.allow_auto_approve_on_network,
        )
    except ConfigError as exc:
        print(f"error: bad sandbox config: {exc}", file=sys.stderr)
        return 2
    except AutoApproveExposed as exc:
        print(f"error: {exc}, or pass --allow-auto-approve-on-network to accept that.", file=sys.stderr)
        return 2
    stopping: list[int] = []

    def request_stop(signum: int, _: FrameType | None) -> None:
        # No lock here (not even Event.set): a handler runs in the main thread between two of its
        # bytecodes, maybe while that thread holds the very lock, and would wait for it forever.
        stopping.append(signum)

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        sandbox.start()
        if args.info:
            sandbox.write_info(args.info)
        _print_summary(sandbox, args.info)
        while not stopping:
            time.sleep(0.1)  # the handler has run when a signal arrives: seen within 0.1 s
        print("Stopping the sandbox…", flush=True)
        return 0
    except (SandboxError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        sandbox.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _print_summary(sandbox: Sandbox, info_path: str | None) -> None:
    info = sandbox.info
    lines = [f"Sandbox workspace: {info['host']}  (workspace id {info['workspace_id']})"]
    width = max((len(n) for n in info["apps"]), default=0)
    for name, app in info["apps"].items():
        lines.append(f"  app {name:<{width}}  {app['state']:<8}  {app['url']}")
    lines.append(f"  stand-in IdP: {info['idp']['token_endpoint']}")
    if info_path:
        lines.append(f"Credentials (PATs, service principal secrets) are in {info_path} (mode 0600).")
    else:
        lines.append("Credentials are not shown; pass --info FILE to write them to a private file.")
    lines.append("Press Ctrl-C to stop.")
    print("\n".join(lines), flush=True)

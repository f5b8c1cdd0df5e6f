"""The command line: `call`, `token`, `apps`, `endpoints`, `snippet` (docs/ARCHITECTURE.md).

A thin presenter over `ExplorerSession`, like the UI: parse arguments, connect, run one engine
call, print. Human output goes to stderr (status, timing, identity, findings) with the body on
stdout, so `call … | jq` works; `--json` prints one JSON object on stdout. Exit status: 0 for a
2xx, 1 for another status, 2 for usage errors and failures before a response. Secrets come from
env vars (or `--client-secret`, discouraged); tokens never from argv. No Gradio import here.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
import uuid
import webbrowser
from collections.abc import Callable
from dataclasses import asdict
from typing import Any, TextIO

from explorer import request
from explorer.auth import DEFAULT_TIMEOUT, METHODS, AuthFailed, cli_fields, secret_env_vars
from explorer.auth import choose_method as detect_method
from explorer.commands import CLI_COMMANDS
from explorer.model import (
    AppSummary,
    AuthEvent,
    AuthInfo,
    EndpointListing,
    Exchange,
    Finding,
    RequestSpec,
    Response,
    StreamEvent,
    TokenInfo,
)
from explorer.parse import InputError, normalize_url, parse_header_line
from explorer.serialize import auth_to_dict, exchange_to_dict, findings_to_list, token_to_dict
from explorer.session import Connection, ExplorerSession
from explorer.snippets import LANGS
from explorer.textview import (
    auth_event_text,
    escape_controls,
    human_size,
    json_text,
    server_timing_text,
    waterfall_text,
)
from explorer.tokens import describe_expiry

EXIT_OK, EXIT_STATUS, EXIT_FAILURE = 0, 1, 2
# The methods a command line can use (a forwarded token exists only deployed), plus "none".
CLI_METHODS = (*(name for name, m in METHODS.items() if not m.forwarded), "none")
_SEVERITY_MARK = {"error": "✗", "warning": "!", "info": "·"}
_NETWORK_CODES = ("NETWORK_", "TIMEOUT", "AUTH_FAILED", "HOST_NOT_ALLOWED")


class Output:
    """Where the CLI writes: stdout for results, stderr for everything about them."""

    def __init__(self, out: TextIO | None = None, err: TextIO | None = None) -> None:
        self.out = out or sys.stdout
        self.err = err or sys.stderr

    def result(self, text: str) -> None:
        print(escape_controls(text), file=self.out, flush=True)

    def note(self, text: str) -> None:
        print(escape_controls(text), file=self.err)

    def json(self, document: Any) -> None:
        print(json_text(document), file=self.out)

    def json_line(self, document: Any) -> None:
        """One compact JSON object on one line, flushed (a stream's event as it arrives)."""
        print(json_text(document, indent=None), file=self.out, flush=True)


def main(argv: list[str] | None = None, output: Output | None = None) -> int:
    """Run one command; returns the exit status."""
    output = output or Output()
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # argparse already printed the usage error
        return EXIT_OK if exit_.code == 0 else EXIT_FAILURE
    _configure_logging(args.debug)
    session = ExplorerSession(timeout=min(args.timeout, DEFAULT_TIMEOUT), retry_on_401=not args.no_retry)
    _remember_env_secrets(session, args)
    try:
        return COMMANDS[args.command](args, session, output)
    except InputError as error:
        output.note(f"error: {error}")
        return EXIT_FAILURE
    except KeyboardInterrupt:
        output.note("interrupted")
        return EXIT_FAILURE
    finally:
        session.close()


# --- arguments ----------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m explorer", description="Call Databricks Apps APIs.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    call = commands.add_parser("call", help=CLI_COMMANDS["call"])
    call.add_argument("url", metavar="URL")
    call.add_argument(
        "--follow", action="store_true", help="follow an agent's background answer: poll its id until done"
    )
    _add_request_options(call)
    token = commands.add_parser("token", help=CLI_COMMANDS["token"])
    apps = commands.add_parser("apps", help=CLI_COMMANDS["apps"])
    endpoints = commands.add_parser("endpoints", help=CLI_COMMANDS["endpoints"])
    endpoints.add_argument("app_url", metavar="APP_URL")
    snippet = commands.add_parser("snippet", help=CLI_COMMANDS["snippet"])
    snippet.add_argument("url", metavar="URL")
    _add_request_options(snippet)
    snippet.add_argument("--lang", choices=LANGS, default="curl", help="snippet language (default curl)")
    for sub in (call, token, apps, endpoints, snippet):
        _add_auth_options(sub)
        if sub is not snippet:
            sub.add_argument("--json", action="store_true", help="print one JSON object")
    from explorer.collection.cli import add_commands  # run, import, export (collections)

    COMMANDS.update(add_commands(commands))
    from explorer.load.cli import add_commands as add_load_commands  # load (Locust runs)

    COMMANDS.update(add_load_commands(commands))
    from explorer.collection.matrix_cli import add_matrix_command  # matrix (identities side by side)

    COMMANDS.update(add_matrix_command(commands))
    return parser


def _add_request_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-X",
        "--request",
        dest="method",
        default=None,
        metavar="M",
        help="HTTP method, or WS: open the URL as a WebSocket",
    )
    parser.add_argument(
        "-H",
        "--header",
        dest="headers",
        action="append",
        default=[],
        metavar="'K: V'",
        help="header (repeat)",
    )
    parser.add_argument("-d", "--data", dest="body", metavar="BODY", help="request body; @FILE reads a file")


def _add_auth_options(parser: argparse.ArgumentParser) -> None:
    """--auth plus one flag per auth field that may come from a command line (from the registry)."""
    group = parser.add_argument_group("auth options")
    group.add_argument("--auth", choices=CLI_METHODS, help="auth method (default: from the options and env)")
    for name, spec in cli_fields().items():
        metavar = {"token_env": "VAR", "subject_token_file": "FILE", "login_hint": "EMAIL"}.get(name)
        kind = int if name == "port" else str
        group.add_argument(
            spec.flag, dest=_dest(name), type=kind, metavar=metavar, help=spec.cli_help or spec.help
        )
    group.add_argument("--no-open", action="store_true", help="print the sign-in URL instead of opening it")
    group.add_argument("--paste", action="store_true", help="sign in by pasting the redirected URL back")
    group.add_argument("--timeout", type=float, default=30.0, help="seconds per request (default 30)")
    group.add_argument(
        "--no-retry", action="store_true", help="on a 401, do not refresh the token and send once more"
    )
    group.add_argument("--debug", action="store_true", help="debug logging (secrets redacted)")


def _dest(field_name: str) -> str:
    return "auth_" + field_name


def _given_fields(args: argparse.Namespace) -> dict[str, str]:
    return {
        name: str(getattr(args, _dest(name)))
        for name in cli_fields()
        if getattr(args, _dest(name), None) is not None
    }


def choose_method(args: argparse.Namespace, *, default: str) -> str:
    """The auth method: --auth, else what the options imply, else what the environment offers."""
    return args.auth or detect_method(_given_fields(args), os.environ) or default


def auth_fields(args: argparse.Namespace, method: str) -> dict[str, str]:
    """The flags that belong to `method`, as its field values."""
    if method not in METHODS:
        return {}
    declared = {f.name for f in METHODS[method].form_fields()}
    return {k: v for k, v in _given_fields(args).items() if k in declared}


def _remember_env_secrets(session: ExplorerSession, args: argparse.Namespace) -> None:
    """Secrets the process can see are scrubbed from every output and log line from the start."""
    for var in [*secret_env_vars(), getattr(args, "auth_token_env", None) or ""]:
        if var and os.environ.get(var):
            session.redactor.add(os.environ[var])
    if getattr(args, "auth_client_secret", None):
        session.redactor.add(args.auth_client_secret)


def _configure_logging(debug: bool) -> None:
    level = "DEBUG" if debug else os.environ.get("EXPLORER_LOG_LEVEL", "WARNING").upper()
    logging.basicConfig(
        level=getattr(logging, level, logging.WARNING),
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


# --- connecting ---------------------------------------------------------------------------------


def connect(
    session: ExplorerSession, args: argparse.Namespace, output: Output, *, default: str
) -> Connection | None:
    """Connect with the chosen method; None for `--auth none`. Failures are in the Connection."""
    method = choose_method(args, default=default)
    if method == "none":
        return None
    if args.auth_client_secret:
        output.note(
            "warning: --client-secret is visible in shell history and `ps`; prefer DATABRICKS_CLIENT_SECRET"
        )
    fields = auth_fields(args, method)
    if METHODS[method].interactive:
        return _browser_sign_in(session, args, fields, output)
    return session.connect(method, fields)


def _browser_sign_in(
    session: ExplorerSession, args: argparse.Namespace, fields: dict[str, str], output: Output
) -> Connection:
    try:
        url = session.begin_browser(fields, listen=not args.paste)
    except AuthFailed as error:
        return Connection(AuthInfo("browser", "not connected"), None, error.findings, False)
    output.note(f"Sign in at:\n  {url}")
    if args.paste or not session.browser_listening:
        output.note("Then paste the full URL your browser was redirected to (it may fail to load):")
        return session.complete_browser(sys.stdin.readline())
    if not args.no_open:
        webbrowser.open(url)
    output.note("Waiting for the sign-in to complete…")
    return session.wait_browser(timeout=300.0)


# --- commands -----------------------------------------------------------------------------------


def cmd_call(args: argparse.Namespace, session: ExplorerSession, output: Output) -> int:
    spec = build_spec(args)
    connection = connect(session, args, output, default="none")
    if connection is not None and not connection.ok:
        return _auth_failure(args, session, output, connection, spec)
    exchange = session.send(spec, on_event=_event_printer(args, output, session))
    if args.follow and exchange.ok:
        polls = session.follow_background(exchange, on_poll=lambda poll: _print_poll(poll, output, args))
        exchange = polls[-1] if polls else exchange
    if args.json:
        output.json(exchange_to_dict(exchange, session.redactor))
    else:
        _print_exchange(exchange, output, session)
    if exchange.response is None:
        return EXIT_FAILURE
    return EXIT_OK if exchange.ok else EXIT_STATUS


def _print_poll(poll: Exchange, output: Output, args: argparse.Namespace) -> None:
    if args.json:
        return
    body = poll.response.json if poll.response is not None else None
    status = body.get("status") if isinstance(body, dict) else None
    code = poll.response.status if poll.response is not None else "no response"
    output.note(f"poll {poll.request.method} {poll.request.url} -> {code} {status or ''}".rstrip())


def _event_printer(args: argparse.Namespace, output: Output, session: ExplorerSession) -> Any:
    """A streamed answer goes out event by event as it arrives: its data on stdout (--json: one
    `{"offset_ms", "event", "id", "data"}` line per event, the exchange object last)."""

    def show(event: StreamEvent) -> None:
        if args.json:
            output.json_line(session.redactor.scrub_values(event.as_dict()))
        elif event.event in ("sent", "received"):  # a WebSocket frame: which way it went
            output.result(("→ " if event.event == "sent" else "← ") + session.redactor.scrub(event.data))
        else:
            output.result(session.redactor.scrub(event.data))

    return show


def build_spec(args: argparse.Namespace) -> RequestSpec:
    """A RequestSpec from -X/-H/-d (the engine's rules: explorer.request); InputError on bad input."""
    body = _read_body(args.body)
    method = args.method or ("POST" if body is not None else "GET")
    headers = [parse_header_line(h) for h in args.headers]
    return request.build_spec(method, args.url, headers=headers, body=body, timeout=args.timeout)


def _read_body(body: str | None) -> str | None:
    if body is None or not body.startswith("@"):
        return body
    path = body[1:]
    try:
        if path == "-":
            return sys.stdin.read()
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(
            f"Cannot read the body file {path!r}: {getattr(error, 'strerror', None) or error}"
        ) from None


def _auth_failure(
    args: argparse.Namespace,
    session: ExplorerSession,
    output: Output,
    connection: Connection,
    spec: RequestSpec,
) -> int:
    if args.json:
        failed = Exchange(uuid.uuid4().hex[:12], time.time(), spec, None, None, None, connection.findings)
        failed.error = connection.findings[0].message if connection.findings else "authentication failed"
        output.json(exchange_to_dict(failed, session.redactor))
    else:
        output.note(f"Could not authenticate with {connection.auth.method}")
        _print_findings(connection.findings, output, session)
    return EXIT_FAILURE


def cmd_token(args: argparse.Namespace, session: ExplorerSession, output: Output) -> int:
    connection = connect(session, args, output, default="profile")
    if connection is None:
        output.note("error: `token` needs an auth method other than none")
        return EXIT_FAILURE
    if args.json:
        document = {
            "auth": auth_to_dict(connection.auth, session.redactor),
            "token": token_to_dict(connection.token, session.redactor) if connection.token else None,
            "findings": findings_to_list(connection.findings, session.redactor),
            "auth_events": [session.redactor.scrub_values(e.as_dict()) for e in connection.auth_events],
            "ok": connection.ok,
        }
        output.json(document)
    elif connection.ok:
        _print_auth(connection, output, session)
        _print_auth_events(connection.auth_events, output, session)
        if connection.token:
            _print_token_details(connection.token, output)
        _print_findings(connection.findings, output, session)
    else:
        _print_auth_events(connection.auth_events, output, session)
        _print_findings(connection.findings, output, session)
    return EXIT_OK if connection.ok else EXIT_FAILURE


def _print_transcript(response: Response, output: Output) -> None:
    t = response.transcript
    assert t is not None
    facts = [f"{response.events_total} events"]
    if response.first_event_ms is not None:
        facts.append(f"first event {response.first_event_ms:.0f} ms")
    if t.first_token_ms is not None:
        facts.append(f"first token {t.first_token_ms:.0f} ms")
    if t.tokens_per_second is not None:
        facts.append(f"{t.tokens_per_second:.0f} tokens/s")
    output.note(f"agent ({t.shape}) · " + " · ".join(facts) + ("" if t.done else " · not finished"))
    for call in t.tool_calls:
        output.note(f"tool call {call['name']}({call['arguments']})")
    if t.text:
        output.note(f"answer {t.text}")


def _print_auth_events(events: list[AuthEvent], output: Output, session: ExplorerSession) -> None:
    for event in events:
        output.note(session.redactor.scrub(f"token call {auth_event_text(event)}"))


def cmd_apps(args: argparse.Namespace, session: ExplorerSession, output: Output) -> int:
    connection = connect(session, args, output, default="profile")
    if connection is None or not connection.ok:
        findings = connection.findings if connection else [_needs_auth()]
        return _report_failure(args, session, output, findings, {"apps": []})
    apps, findings = session.list_apps()
    if args.json:
        document = {
            "apps": [asdict(a) for a in apps],
            "findings": findings_to_list(findings, session.redactor),
            "ok": not findings,
        }
        output.json(document)
    else:
        _print_apps(apps, output)
        _print_findings(findings, output, session)
    return EXIT_OK if not findings else _failure_code(findings)


def cmd_endpoints(args: argparse.Namespace, session: ExplorerSession, output: Output) -> int:
    app_url = normalize_url(args.app_url)
    connection = connect(session, args, output, default="none")
    if connection is not None and not connection.ok:
        return _report_failure(args, session, output, connection.findings, {"endpoints": []})
    listing = session.list_endpoints(app_url)
    if args.json:
        document = {
            "source_url": listing.source_url,
            "endpoints": [asdict(e) for e in listing.endpoints],
            "findings": findings_to_list(listing.findings, session.redactor),
            "ok": bool(listing.endpoints),
        }
        output.json(document)
    else:
        _print_endpoints(listing, output)
        _print_findings(listing.findings, output, session)
    return EXIT_OK if listing.endpoints else _failure_code(listing.findings)


def cmd_snippet(args: argparse.Namespace, session: ExplorerSession, output: Output) -> int:
    """Print the request as code. No network: the snippet gets its credentials when it runs."""
    spec = build_spec(args)
    method = choose_method(args, default="token")
    method = "token" if method == "none" else method
    scopes = (args.auth_scopes or "").replace(",", " ").split()
    host = args.auth_host or os.environ.get("DATABRICKS_HOST")
    from explorer.snippets import render_snippet

    for secret in _snippet_secrets(args):
        session.redactor.add(secret)
    text = render_snippet(
        spec,
        method,
        args.lang,
        host=host,
        profile=args.auth_profile,
        scopes=scopes,
        redactor=session.redactor,
    )
    output.result(text)
    return EXIT_OK


def _snippet_secrets(args: argparse.Namespace) -> list[str]:
    values = [args.auth_client_secret, os.environ.get(args.auth_token_env) if args.auth_token_env else None]
    return [v for v in values if v]


COMMANDS: dict[str, Callable[[argparse.Namespace, ExplorerSession, Output], int]] = {
    "call": cmd_call,
    "token": cmd_token,
    "apps": cmd_apps,
    "endpoints": cmd_endpoints,
    "snippet": cmd_snippet,
}


def _report_failure(
    args: argparse.Namespace, session: ExplorerSession, output: Output, findings: list[Finding], empty: dict
) -> int:
    if args.json:
        document = {**empty, "findings": findings_to_list(findings, session.redactor), "ok": False}
        output.json(document)
    else:
        _print_findings(findings, output, session)
    return EXIT_FAILURE


def _failure_code(findings: list[Finding]) -> int:
    """2 when nothing came back (auth, network), 1 when the server answered with an error."""
    errors = [f for f in findings if f.severity == "error"] or findings
    if any(f.code.startswith(_NETWORK_CODES) for f in errors):
        return EXIT_FAILURE
    return EXIT_STATUS


def _needs_auth() -> Finding:
    return Finding("TOKEN_MISSING", "error", "This command needs credentials", "Pick one with --auth.")


# --- presenting ---------------------------------------------------------------------------------


def _print_exchange(exchange: Exchange, output: Output, session: ExplorerSession) -> None:
    request, response = exchange.request, exchange.response
    if response is None:
        output.note(f"no response  {request.method} {request.url}")
    else:
        output.note(f"{response.status} {response.reason}  {request.method} {request.url}")
        output.note(
            f"time {response.elapsed_ms:.1f} ms (first byte {response.ttfb_ms:.1f} ms) · "
            f"{human_size(response.size)} · {response.content_type or 'no content type'}"
        )
        if response.timings is not None:
            output.note(f"phases {waterfall_text(response.timings)}")
        if response.server_timing:
            output.note("server " + " · ".join(server_timing_text(m) for m in response.server_timing))
        if response.location:
            output.note(f"location {response.location}")
    if exchange.retried:
        output.note(f"retried {exchange.retried}")
    _print_auth_events(exchange.auth_events, output, session)
    if exchange.auth:
        _print_auth_line(exchange.auth, output, session)
    if exchange.token:
        token = exchange.token
        scopes = " ".join(token.scopes) or "none"
        output.note(f"token {token.masked} ({token.kind}) · {describe_expiry(token)} · scopes {scopes}")
    if response is not None and response.transcript is not None:
        _print_transcript(response, output)
    _print_findings(exchange.findings, output, session)
    if response is not None and response.size and response.stream is None:  # a stream is out already
        output.result(session.redactor.scrub(response.text))


def _print_auth(connection: Connection, output: Output, session: ExplorerSession) -> None:
    _print_auth_line(connection.auth, output, session)
    if connection.auth.host:
        output.note(f"host {connection.auth.host}")


def _print_auth_line(auth: Any, output: Output, session: ExplorerSession) -> None:
    name = auth.details.get("display_name")
    identity = f" · identity {auth.identity}" if auth.identity else ""
    identity += f" ({name})" if name else ""
    output.note(session.redactor.scrub(f"auth {auth.method}: {auth.source}{identity}"))


def _print_token_details(token: TokenInfo, output: Output) -> None:
    rows = [
        ("token", f"{token.masked} ({token.kind}{', ' + token.token_type if token.token_type else ''})"),
        ("issuer", token.issuer),
        ("subject", token.subject),
        ("client", token.client_id),
        ("audience", token.audience if isinstance(token.audience, str) else ", ".join(token.audience or [])),
        ("expiry", describe_expiry(token)),
        ("scopes", " ".join(token.scopes) or None),
    ]
    for label, value in rows:
        if value:
            output.result(f"{label:<9}{value}")


def _print_findings(findings: list[Finding], output: Output, session: ExplorerSession) -> None:
    for finding in findings:
        mark = _SEVERITY_MARK.get(finding.severity, "-")
        output.note(session.redactor.scrub(f"{mark} {finding.code}: {finding.message}"))
        output.note(session.redactor.scrub(f"    fix: {finding.fix}"))


def _print_apps(apps: list[AppSummary], output: Output) -> None:
    if not apps:
        output.result("(no apps)")
        return
    states = [f"{a.state or '?'}/{a.compute_state or '?'}" for a in apps]
    width, state_width = max(len(a.name) for a in apps), max(map(len, states))
    for app, state in zip(apps, states, strict=True):
        scopes = " ".join(app.user_api_scopes)
        line = f"{app.name:<{width}}  {state:<{state_width}}  {app.url or '-'}"
        output.result(line + (f"  scopes: {scopes}" if scopes else ""))


def _print_endpoints(listing: EndpointListing, output: Output) -> None:
    if listing.source_url:
        output.note(f"from {listing.source_url}")
    for endpoint in listing.endpoints:
        params = ", ".join(f"{p.get('name')} ({p.get('in')})" for p in endpoint.parameters)
        body = " · body" if endpoint.body_schema else ""
        summary = f"  {endpoint.summary}" if endpoint.summary else ""
        output.result(
            f"{endpoint.method:<8}{endpoint.path}{summary}" + (f"  [{params}]" if params else "") + body
        )

"""Diagnosis: what went wrong with an exchange, and the one concrete thing to do about it.

The rules, over the domain model only: every `Finding` has a stable code from `explorer.codes`
(ranked there); exceptions that stopped a request are classified in `explorer.failures`.

- `presend_findings(spec, token, has_credentials, facts)`: warnings worth showing before a byte
  is sent (PAT, foreign or expired token, a path outside /api/, missing scopes, stopped app).
- `diagnose(exchange, facts)`: the full, sorted list for an exchange, combining the above with
  what the response says (status, Location, WWW-Authenticate) and what the workspace says.
"""

from __future__ import annotations

import re
import time
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

from explorer.auth import METHODS
from explorer.bodies import error_summary, is_sign_in_page, route_unknown
from explorer.codes import rank
from explorer.headers import Challenge, parse_www_authenticate
from explorer.model import AuthInfo, Endpoint, Exchange, Finding, Fix, RequestSpec, TokenInfo, WorkspaceFacts
from explorer.parse import origin
from explorer.redact import scrub
from explorer.tokens import PLATFORM_SCOPES, scope_alias

_LOGIN_HINTS = ("/oidc/", "/login", "signin", "sign-in", "/authorize")
# Scopes the platform adds to every app's effective scopes; the gateway does not ask callers for them.


def sort_findings(findings: list[Finding]) -> list[Finding]:
    """Most important first; one finding per code (the most severe one wins)."""
    ordered = sorted(findings, key=_rank)
    seen: set[str] = set()
    unique = []
    for finding in ordered:
        if finding.code not in seen:
            seen.add(finding.code)
            unique.append(finding)
    return unique


def _rank(finding: Finding) -> tuple[int, int]:
    return rank(finding.code, finding.severity)


# --- before sending ---------------------------------------------------------------------------


def presend_findings(
    spec: RequestSpec,
    token: TokenInfo | None,
    has_credentials: bool,
    facts: WorkspaceFacts | None = None,
    auth: AuthInfo | None = None,
) -> list[Finding]:
    """Warnings worth showing before sending: nothing here is a verdict, the response is."""
    findings: list[Finding] = []
    path = urlsplit(spec.url).path or "/"
    if not path.startswith("/api/"):
        findings.append(path_not_api(spec.url, "warning"))
    if not has_credentials:
        findings.append(token_missing(spec.url, "warning"))
    elif token is not None:
        findings.extend(token_findings(token, auth, facts))
    if facts is not None and facts.app is not None and not facts.app_running:
        findings.append(app_not_running(facts, "warning"))
    return findings


def token_findings(
    token: TokenInfo, auth: AuthInfo | None = None, facts: WorkspaceFacts | None = None
) -> list[Finding]:
    """Warnings about a token itself: PAT, foreign issuer, not a JWT, expired, missing scopes."""
    findings = []
    if token.kind == "pat":
        findings.append(token_not_oauth(token, auth, "warning"))
    elif token.kind in ("entra", "foreign"):
        findings.append(token_needs_exchange(token, facts, "warning"))
    elif token.kind == "opaque":
        findings.append(
            Finding(
                "TOKEN_INVALID",
                "warning",
                f"The token {token.masked} is not a JWT; Databricks OAuth access tokens are",
                "Check you copied the access token itself (it starts with eyJ), not an id, a refresh "
                "token or a PAT; `databricks auth token --profile <p>` prints one.",
            )
        )
    left = token.seconds_left(time.time())
    if left is not None and left <= 0:
        findings.append(token_expired(token, auth, "warning"))
    missing = [s for s in token.missing_scopes if s not in PLATFORM_SCOPES]
    if missing:
        findings.append(scope_missing(missing, token, facts, "warning", auth))
    return findings


# --- after the response -----------------------------------------------------------------------


def diagnose(
    exchange: Exchange, facts: WorkspaceFacts | None = None, operations: list[Endpoint] | None = None
) -> list[Finding]:
    """Every finding for `exchange`, most important first (keeps findings `send` recorded).

    `operations`: the app's documented endpoints, when known (a 404 on a documented path is the
    app's own "no such resource", not a missing route)."""
    spec, token = exchange.request, exchange.token
    has_credentials = exchange.auth is not None
    recorded = list(exchange.findings)  # what `send` saw of the transfer itself (timeout, cut body)
    worries = presend_findings(spec, token, has_credentials, facts, exchange.auth)
    if facts is not None:
        worries += facts.notes
    response = exchange.response
    if response is None:
        return sort_findings(recorded + worries)
    if exchange.ok:
        # The gateway let it through: earlier worries are context now, not problems. A body that
        # broke off (timeout, reset) is still a problem: what is shown is incomplete.
        page = [sign_in_page(exchange)] if is_sign_in_page(response) else []
        return sort_findings(recorded + page + [_as_info(f) for f in worries])
    return sort_findings(recorded + worries + _response_findings(exchange, facts, operations))


def _as_info(finding: Finding) -> Finding:
    return Finding(finding.code, "info", finding.message, finding.fix)


def _response_findings(
    exchange: Exchange, facts: WorkspaceFacts | None, operations: list[Endpoint] | None = None
) -> list[Finding]:
    response = exchange.response
    assert response is not None
    status = response.status
    if 300 <= status < 400:
        return _redirect_findings(exchange)
    if status == 401:
        return _unauthorized_findings(exchange, facts)
    if status == 403:
        return _forbidden_findings(exchange, facts)
    if status == 404:
        return _not_found_findings(exchange, facts, operations)
    if status >= 500:
        return [server_error(exchange, facts)]
    return [_client_error(exchange)]


def _redirect_findings(exchange: Exchange) -> list[Finding]:
    response, spec, token = exchange.response, exchange.request, exchange.token
    assert response is not None
    location = response.location or ""
    if not any(hint in location.lower() for hint in _LOGIN_HINTS):
        return [
            Finding(
                "REDIRECT",
                "info",
                f"{response.status} redirect to {location or '(no Location)'} was not followed",
                "Redirects are never followed with your token; call the Location URL directly if you "
                "trust it.",
            )
        ]
    cause: Finding | None = None
    if exchange.auth is None or token is None or token.kind == "none":
        cause = token_missing(spec.url, "error")
    elif token.kind == "pat":
        cause = token_not_oauth(token, exchange.auth, "error")
    elif not (urlsplit(spec.url).path or "/").startswith("/api/"):
        cause = path_not_api(spec.url, "error")
    elif token.kind in ("entra", "foreign"):
        cause = token_needs_exchange(token, None, "error")
    reason = f" ({cause.code})" if cause else ""
    login = Finding(
        "REDIRECTED_TO_LOGIN",
        "error",
        f"The gateway answered {response.status} to its sign-in page{reason}: it did not accept the "
        "request as an API call and treated it as a browser without a session",
        f"Fix the cause first: see {cause.code}."
        if cause
        else "Send an OAuth access token (Authorization: Bearer …) to an /api/ path.",
    )
    return [login] + ([cause] if cause else [])


def _unauthorized_findings(exchange: Exchange, facts: WorkspaceFacts | None) -> list[Finding]:
    token, auth, response = exchange.token, exchange.auth, exchange.response
    assert response is not None
    challenge = response.header("WWW-Authenticate") or ""
    bearer = _bearer_challenge(challenge)
    if auth is None or token is None or token.kind == "none":
        return [token_missing(exchange.request.url, "error")]
    if bearer is not None and bearer.error == "insufficient_scope":
        return [scope_missing(_challenge_scopes(bearer, token), token, facts, "error", auth)]
    left = token.seconds_left(time.time())
    said_expired = (
        bearer is not None
        and bearer.error == "invalid_token"
        and "expire" in (bearer.description or "").lower()
    )
    if said_expired or (left is not None and left <= 0):  # the gateway's own words beat a guess
        return [token_expired(token, auth, "error")]
    if token.kind == "pat":
        return [token_not_oauth(token, auth, "error")]
    if token.kind in ("entra", "foreign"):
        return [token_needs_exchange(token, facts, "error")]
    return [token_invalid(token, auth, facts, challenge)]


def _forbidden_findings(exchange: Exchange, facts: WorkspaceFacts | None) -> list[Finding]:
    token, response = exchange.token, exchange.response
    assert response is not None
    bearer = _bearer_challenge(response.header("WWW-Authenticate") or "")
    if bearer is not None and bearer.error == "insufficient_scope":
        return [scope_missing(_challenge_scopes(bearer, token), token, facts, "error", exchange.auth)]
    missing = [s for s in (token.missing_scopes if token else []) if s not in PLATFORM_SCOPES]
    if missing:
        return [scope_missing(missing, token, facts, "error", exchange.auth)]
    return [no_can_use(exchange, facts)]


def _not_found_findings(
    exchange: Exchange, facts: WorkspaceFacts | None, operations: list[Endpoint] | None = None
) -> list[Finding]:
    if facts is not None and facts.apps_listed and facts.app is None:
        return [app_not_found(exchange.request.url, facts)]
    if facts is not None and facts.app is not None and not facts.app_running:
        return [app_not_running(facts, "error")]
    response = exchange.response
    assert response is not None
    documented = _documented(exchange.request, operations)
    if documented is not None or not route_unknown(response):
        return [resource_not_found(exchange, documented)]
    return [path_not_found(exchange, facts)]


def _bearer_challenge(header: str) -> Challenge | None:
    return next((c for c in parse_www_authenticate(header) if c.scheme.lower() == "bearer"), None)


def _documented(spec: RequestSpec, operations: list[Endpoint] | None) -> Endpoint | None:
    """The app's documented operation the request's path matches ({id} templates included)."""
    path = urlsplit(spec.url).path or "/"
    for endpoint in operations or []:
        if endpoint.method.upper() != spec.method.upper():
            continue
        pattern = "^" + re.sub(r"\\\{[^/}]+\\\}", "[^/]+", re.escape(endpoint.path)) + "/?$"
        if re.match(pattern, path):
            return endpoint
    return None


def _challenge_scopes(challenge: Challenge, token: TokenInfo | None) -> list[str]:
    required = challenge.scopes
    granted = set(token.scopes) if token else set()
    return [s for s in required if s not in granted] or required


# --- the findings themselves --------------------------------------------------------------------


def token_missing(url: str, severity: str) -> Finding:
    return Finding(
        "TOKEN_MISSING",
        severity,  # type: ignore[arg-type]
        "No token was sent: apps accept API calls only with an OAuth bearer token",
        "Pick an auth method: `--auth profile --profile <p>` after `databricks auth login --host "
        "<workspace-url> --profile <p>`, or `--auth m2m` with DATABRICKS_CLIENT_ID/SECRET.",
    )


def token_not_oauth(token: TokenInfo, auth: AuthInfo | None, severity: str) -> Finding:
    host = (auth.host if auth else None) or "<workspace-url>"
    return Finding(
        "TOKEN_NOT_OAUTH",
        severity,  # type: ignore[arg-type]
        f"The token {token.masked} is a personal access token; apps accept only OAuth tokens",
        f"Get an OAuth token instead: `databricks auth login --host {host} --profile <p>` then "
        "`--auth profile --profile <p>` (or `--auth m2m` for a service principal).",
    )


def token_needs_exchange(token: TokenInfo, facts: WorkspaceFacts | None, severity: str) -> Finding:
    issuer = token.issuer or "another identity provider"
    host = (facts.host if facts else None) or "<workspace-url>"
    source = "an Entra ID token" if token.kind == "entra" else f"issued by {issuer}"
    return Finding(
        "TOKEN_NEEDS_EXCHANGE",
        severity,  # type: ignore[arg-type]
        f"The token is {source}; apps need a Databricks OAuth token",
        f"Exchange it first (token federation): `--auth federated --host {host} "
        "--subject-token-file <file> [--client-id <sp-application-id>]`; the workspace needs a "
        "federation policy trusting that issuer.",
    )


def token_expired(token: TokenInfo, auth: AuthInfo | None, severity: str) -> Finding:
    ago = int(-(token.seconds_left(time.time()) or 0))
    return Finding(
        "TOKEN_EXPIRED",
        severity,  # type: ignore[arg-type]
        f"The token {token.masked} expired {ago} s ago",
        _fresh_token_fix(auth),
    )


def token_invalid(
    token: TokenInfo, auth: AuthInfo | None, facts: WorkspaceFacts | None, challenge: str
) -> Finding:
    app_host = facts.host if facts else None
    issued_by = token.workspace_host
    if app_host and issued_by and issued_by.rstrip("/") != app_host.rstrip("/"):
        message = f"The token was issued by {issued_by}, not by this app's workspace {app_host}"
        fix = f"Get a token from {app_host}: `databricks auth login --host {app_host} --profile <p>`."
    else:
        detail = f" ({scrub(challenge)})" if challenge else ""
        message = f"The gateway rejected the token {token.masked} as invalid{detail}"
        fix = _fresh_token_fix(auth) + " A token from another workspace, or a revoked one, is refused too."
    return Finding("TOKEN_INVALID", "error", message, fix)


def scope_missing(
    missing: list[str],
    token: TokenInfo | None,
    facts: WorkspaceFacts | None,
    severity: str,
    auth: AuthInfo | None = None,
) -> Finding:
    app = facts.app if facts else None
    required = (app.effective_user_api_scopes or app.user_api_scopes) if app else []
    wanted = [
        s
        for s in dict.fromkeys([*(app.user_api_scopes if app else []), *missing])
        if s not in PLATFORM_SCOPES
    ]
    host = (facts.host if facts else None) or (token.workspace_host if token else None) or "<workspace-url>"
    scopes = " ".join(wanted) or "<scopes>"
    where = f" for app {app.name}" if app else ""
    method = auth.method if auth else None
    declared = METHODS.get(method or "")
    action_method = method or "browser"
    if method == "profile":
        # Current SDKs refuse explicit scopes for databricks-cli auth: they come from the profile.
        profile = (auth.details.get("profile") if auth else None) or "<profile>"
        fix = (
            f"Give the profile the scopes: `databricks auth login --host {host} --profile {profile} "
            f'--scopes "all-apis {scopes}"` (CLI profiles keep their own scopes), or use `browser`.'
        )
        action_method = "browser"
    elif declared is not None and declared.field("scopes") is not None and not declared.interactive:
        fix = (
            f'Request the scopes with the token: `--auth {method} --scopes "all-apis {scopes}"` (the SDK '
            f"default is all-apis only); to act as a user instead, use `browser` with scopes {scopes}."
        )
    else:
        fix = (
            f'Use `browser` with scopes {scopes}: `--auth browser --host {host} --scopes "{scopes}"` '
            "(the CLI and SDK default tokens carry only all-apis)."
        )
        action_method = "browser"
    spelled = _other_spellings(missing, token)
    action = Fix(
        "add_scopes",
        f"Add {scopes} to Scopes and reconnect",
        (("scopes", " ".join(wanted)), ("method", action_method)),
    )
    return Finding(
        "SCOPE_MISSING",
        severity,  # type: ignore[arg-type]
        f"The token lacks the scopes {' '.join(missing) or '(unknown)'}{where}"
        + (f" (app requires: {' '.join(required)})" if required else "")
        + spelled,
        fix,
        action,
    )


def _other_spellings(missing: list[str], token: TokenInfo | None) -> str:
    """ "; the token carries files.files, the same scope spelled the legacy way" when it does."""
    granted = set(token.scopes) if token else set()
    pairs = [(s, scope_alias(s)) for s in missing]
    found = [(s, other) for s, other in pairs if other and other in granted]
    if not found:
        return ""
    said = ", ".join(f"{other} for {s}" for s, other in found)
    return f"; the token carries {said}: the same scope in another spelling, which the app does not accept"


def no_can_use(exchange: Exchange, facts: WorkspaceFacts | None) -> Finding:
    app = facts.app.name if facts and facts.app else _app_name_guess(exchange.request.url)
    who = _caller(exchange, facts)
    known = facts.can_use(_identities(exchange, facts)) if facts else None
    confirmed = " (confirmed from the app's permissions)" if known is False else ""
    principal = "service_principal_name" if _is_service_principal(exchange) else "user_name"
    return Finding(
        "NO_CAN_USE",
        "error",
        f"{who} does not have CAN USE on app {app}{confirmed}",
        f"Grant CAN USE: Databricks UI → Compute → Apps → {app} → Permissions → add {who} with "
        f"Can Use; or `databricks apps update-permissions {app} --json "
        f'\'{{"access_control_list": [{{"{principal}": "{who}", "permission_level": "CAN_USE"}}]}}\'`.',
    )


def app_not_found(url: str, facts: WorkspaceFacts) -> Finding:
    return Finding(
        "APP_NOT_FOUND",
        "error",
        f"No app in workspace {facts.host} has the URL {origin(url)}",
        "Check the app URL and the workspace: `python -m explorer apps` (or `databricks apps list`) "
        "lists each app with its URL; the id in the URL must be this workspace's.",
    )


def app_not_running(facts: WorkspaceFacts, severity: str) -> Finding:
    app = facts.app
    assert app is not None
    return Finding(
        "APP_NOT_RUNNING",
        severity,  # type: ignore[arg-type]
        f"App {app.name} is not running (app {app.state or 'unknown'}, compute {app.compute_state or 'unknown'})",
        f"Start it: `databricks apps start {app.name}` or Databricks UI → Compute → Apps → {app.name} "
        "→ Start, then deploy if it has no active deployment.",
    )


def path_not_api(url: str, severity: str) -> Finding:
    parts = urlsplit(url)
    suggestion = f"{parts.scheme}://{parts.netloc}/api{parts.path if parts.path != '/' else '/'}"
    return Finding(
        "PATH_NOT_API",
        severity,  # type: ignore[arg-type]
        f"{parts.path or '/'} is not under /api/: the apps gateway accepts tokens only on /api/ routes",
        f"Call an /api/ route (e.g. {suggestion}); pages outside /api/ need a browser session. "
        'App authors: serve the API under /api/ (FastAPI: APIRouter(prefix="/api")).',
        Fix(
            "use_path",
            f"Use {urlsplit(suggestion).path}",
            (("path", urlsplit(suggestion).path), ("url", suggestion)),
        ),
    )


def path_not_found(exchange: Exchange, facts: WorkspaceFacts | None) -> Finding:
    spec = exchange.request
    path = urlsplit(spec.url).path or "/"
    app = facts.app.name if facts and facts.app else None
    if app:
        return Finding(
            "PATH_NOT_FOUND",
            "error",
            f"App {app} is running but has no route {spec.method} {path}",
            f"Check the path against the app's OpenAPI document: `python -m explorer endpoints "
            f"{origin(spec.url)}`.",
        )
    return Finding(
        "PATH_NOT_FOUND",
        "error",
        f"404 for {spec.method} {path}: the path, or the app itself, was not found",
        f"Check the path with `python -m explorer endpoints {origin(spec.url)}`, and that the app is "
        "deployed and RUNNING (`databricks apps get <app>`).",
    )


def server_error(exchange: Exchange, facts: WorkspaceFacts | None) -> Finding:
    response = exchange.response
    assert response is not None
    app_origin = origin(exchange.request.url)
    if response.status in (502, 503, 504):
        message = f"{response.status} {response.reason}: the app's process is down, starting or not answering"
    else:
        message = f"{response.status} {response.reason}: the app raised an error handling the request"
    retry_after = _retry_after(response.header("Retry-After"))
    if retry_after:
        message += f"; it asks to retry {retry_after}"
    app = facts.app.name if facts and facts.app else "<app>"
    return Finding(
        "SERVER_ERROR",
        "error",
        message,
        f"Read the app's logs ({app_origin}/logz, or Databricks UI → Compute → Apps → {app} → Logs) "
        f"and restart it if needed: `databricks apps stop {app} && databricks apps start {app}`.",
    )


def _retry_after(value: str | None) -> str | None:
    """`Retry-After` (seconds or an HTTP date) as words, e.g. "after 7 s"; None when absent or garbled."""
    text = (value or "").strip()
    if text.isdigit():
        return f"after {int(text)} s"
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    return f"at {when.isoformat(sep=' ')}" if when else None


def _client_error(exchange: Exchange) -> Finding:
    response = exchange.response
    assert response is not None
    said = error_summary(response)
    return Finding(
        "REQUEST_REJECTED",
        "warning",
        f"The app answered {response.status} {response.reason}" + (f": {said}" if said else ""),
        "Check the method, query parameters and body against the endpoint's schema: `python -m "
        f"explorer endpoints {origin(exchange.request.url)}`.",
    )


def resource_not_found(exchange: Exchange, documented: Endpoint | None) -> Finding:
    """A 404 from the app itself: the route exists (documented, or the app said so), the item not."""
    response = exchange.response
    assert response is not None
    said = error_summary(response)
    route = f" (documented as {documented.method} {documented.path})" if documented else ""
    return Finding(
        "RESOURCE_NOT_FOUND",
        "warning",
        f"The app has this route{route} but answered 404" + (f": {said}" if said else ": no such resource"),
        "The path is right; the item it names does not exist (yet): check the id, or create it first.",
    )


def sign_in_page(exchange: Exchange) -> Finding:
    return Finding(
        "SIGN_IN_PAGE",
        "warning",
        "The answer is an HTML sign-in page, not the API's response: somewhere on the way the call was "
        "treated as a browser without a session and sent to sign in",
        "Send an OAuth access token (Authorization: Bearer …) to an /api/ path; a server-side client that "
        "follows redirects lands here when its token is missing or unusable.",
        Fix("use_method", "Sign in with the browser instead", (("method", "browser"),)),
    )


# --- helpers ----------------------------------------------------------------------------------


def _fresh_token_fix(auth: AuthInfo | None) -> str:
    method = auth.method if auth else "token"
    declared = METHODS.get(method)
    if declared is None or not declared.refreshes:  # a static token: only a new one helps
        return (
            "Get a fresh token (`databricks auth token --profile <p>` prints one; tokens last 1 h) "
            "or use `--auth profile`, which refreshes by itself."
        )
    if declared.interactive:
        return "Sign in again with `--auth browser` (the refresh token may be revoked or expired)."
    return f"Reconnect with `--auth {method}` to fetch a new token; check the machine's clock."


def _identities(exchange: Exchange, facts: WorkspaceFacts | None) -> list[str]:
    names = [
        exchange.token.subject if exchange.token else None,
        exchange.token.client_id if exchange.token else None,
        exchange.auth.identity if exchange.auth else None,
        facts.caller if facts else None,
    ]
    return [n for n in dict.fromkeys(names) if n]


def _caller(exchange: Exchange, facts: WorkspaceFacts | None) -> str:
    names = _identities(exchange, facts)
    return names[0] if names else "the caller"


def _is_service_principal(exchange: Exchange) -> bool:
    token = exchange.token
    return bool(token and token.subject and "@" not in token.subject)


def _app_name_guess(url: str) -> str:
    """`my-app` from https://my-app-1234567890.aws.databricksapps.com, else "<app>"."""
    host = urlsplit(url).hostname or ""
    match = re.match(r"^(.+)-\d{6,}\.", host)
    return match.group(1) if match else "<app>"


def _seconds(timeout: float | None) -> str:
    return "the timeout" if timeout is None else f"{timeout:g} s"

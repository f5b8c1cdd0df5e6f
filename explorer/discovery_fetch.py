"""Fetching an app's OpenAPI document through the gateway, with the connection's token.

The parsing is pure and lives in `discovery.py`; this module tries the candidate URLs in order
(`/api/openapi.json` first: through the gateway only `/api/` accepts a token) and explains a
failure, so the user knows why the list is empty and can still enter endpoints by hand.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from explorer.auth import Credentials
from explorer.diagnose import diagnose
from explorer.discovery import (
    MAX_ENDPOINTS,
    DiscoveryError,
    api_only,
    candidate_openapi_urls,
    count_operations,
    parse_openapi,
)
from explorer.guard import Allowlist
from explorer.model import Endpoint, EndpointListing, Exchange, Finding, RequestSpec
from explorer.redact import Redactor
from explorer.send import SessionPool, send

# An OpenAPI document is parsed whole, so it may be larger than a response kept for display.
DOCUMENT_LIMIT = 32 * 1024 * 1024


def fetch_endpoints(
    app_url: str,
    credentials: Credentials | None,
    *,
    session_pool: SessionPool,
    allowlist: Allowlist | None = None,
    redactor: Redactor | None = None,
    timeout: float = 15.0,
) -> EndpointListing:
    """The app's endpoints from the first candidate URL that serves a usable OpenAPI document."""
    tried: list[Exchange] = []
    for url in candidate_openapi_urls(app_url):
        spec = RequestSpec("GET", url, headers=[("Accept", "application/json")], timeout=timeout)
        exchange = send(
            spec,
            credentials,
            session_pool=session_pool,
            allowlist=allowlist,
            redactor=redactor,
            keep=DOCUMENT_LIMIT,
        )
        tried.append(exchange)
        if exchange.response is None:  # network trouble: the next candidate would fail the same way
            return EndpointListing([], None, diagnose(exchange))
        if exchange.ok and exchange.response.json is not None:
            try:
                document = exchange.response.json
                listing = _listing(parse_openapi(document), url)
                if len(listing.endpoints) >= MAX_ENDPOINTS:
                    listing.declared = count_operations(document)
                return listing
            except DiscoveryError as error:
                return EndpointListing([], url, [_not_openapi(url, str(error))])
    return EndpointListing([], None, _explain(tried))


def _listing(endpoints: list[Endpoint], url: str) -> EndpointListing:
    """Only /api/ endpoints accept a token through the gateway; say so when others were dropped."""
    if not endpoints:  # an empty list must still say why it is empty
        return EndpointListing([], url, [_no_operations(url)])
    callable_ = api_only(endpoints)
    if len(callable_) == len(endpoints):
        return EndpointListing(endpoints, url)
    if not callable_:
        return EndpointListing(endpoints, url, [_no_api_paths(url)])
    return EndpointListing(callable_, url)


def _no_operations(url: str) -> Finding:
    return Finding(
        "OPENAPI_EMPTY",
        "warning",
        f"The OpenAPI document at {url} lists no operations",
        "App authors: declare the routes in the app (FastAPI lists every route it serves); meanwhile, "
        "enter the endpoint paths by hand.",
    )


def _no_api_paths(url: str) -> Finding:
    return Finding(
        "PATH_NOT_API",
        "warning",
        f"The document at {url} lists no /api/ routes; the gateway refuses tokens elsewhere",
        'App authors: serve the API under /api/ (FastAPI: APIRouter(prefix="/api")).',
    )


def _explain(tried: list[Exchange]) -> list[Finding]:
    """Why no candidate worked: auth problems first, then the gateway's sign-in redirect."""
    outcomes = ", ".join(f"{_path(e)} → {_outcome(e)}" for e in tried)
    findings = []
    refused = next((e for e in tried if e.response is not None and e.response.status in (401, 403)), None)
    if refused is not None:
        findings += [f for f in diagnose(refused) if f.severity == "error"]
    redirected = any(e.response is not None and 300 <= e.response.status < 400 for e in tried)
    why = (
        "the gateway sends paths outside /api/ to the sign-in page, so FastAPI's default /openapi.json "
        "is out of reach with a token"
        if redirected
        else "the app serves no OpenAPI document at the usual places"
    )
    findings.append(
        Finding(
            "OPENAPI_NOT_FOUND",
            "warning",
            f"No OpenAPI document found ({outcomes}): {why}",
            'App authors: expose the document under /api/: FastAPI(openapi_url="/api/openapi.json"). '
            "Meanwhile, enter the endpoint paths by hand.",
        )
    )
    return findings


def _not_openapi(url: str, reason: str) -> Finding:
    return Finding(
        "OPENAPI_INVALID",
        "warning",
        f"{url} is not a usable OpenAPI document: {reason}",
        "Check the app's OpenAPI output (FastAPI generates it); meanwhile, enter endpoints by hand.",
    )


def _path(exchange: Exchange) -> str:
    return urlsplit(exchange.request.url).path or "/"


def _outcome(exchange: Exchange) -> str:
    response = exchange.response
    if response is None:
        return "no response"
    if 300 <= response.status < 400:
        return (
            f"{response.status} to sign-in" if "/oidc/" in (response.location or "") else str(response.status)
        )
    if response.status < 300:
        return f"{response.status} (not JSON)"
    return str(response.status)

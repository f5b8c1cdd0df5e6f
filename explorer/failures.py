"""Failures: the exception that stopped a request (or a token request) becomes one Finding.

DNS, connect, TLS, proxy, timeout, an unreadable answer, a token endpoint's refusal: each is
classified here from the exception and what caused it (requests hides urllib3's reasons inside
its own exceptions). The SDK's error texts end in a debug tail listing config attributes;
`sdk_message` is the one place that cuts it off.
"""

from __future__ import annotations

import http.client
import os
import re
import socket
import ssl
from urllib.parse import urlsplit

import requests
from urllib3.exceptions import ReadTimeoutError

from explorer.model import Finding, Fix
from explorer.parse import origin
from explorer.redact import scrub

PROXY_ENV_VARS = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy")
_DNS_HINTS = ("NameResolutionError", "Name or service not known", "nodename nor servname", "getaddrinfo")
_SDK_DEBUG_TAILS = (". Config:", ". Env:")


def sdk_message(error: BaseException, limit: int = 400) -> str:
    """An SDK error's text without its debug tail (which lists config attributes), cut to `limit`."""
    text = str(error) or type(error).__name__
    for marker in _SDK_DEBUG_TAILS:
        text = text.split(marker)[0]
    return text if len(text) <= limit else text[: limit - 1] + "…"


def finding_for_error(error: BaseException, url: str, timeout: float | None = None) -> Finding:
    """The finding for an exception that stopped a request to `url` before any response."""
    host = urlsplit(url).hostname or url
    chain = _exception_chain(error)
    text = " | ".join(f"{type(e).__name__}: {e}" for e in chain)
    if any(isinstance(e, requests.exceptions.ProxyError) for e in chain):
        return _proxy_failure(host, text)
    if any(isinstance(e, (requests.exceptions.SSLError, ssl.SSLError)) for e in chain):
        return _tls_failure(host, text)
    if any(isinstance(e, socket.gaierror) for e in chain) or any(h in text for h in _DNS_HINTS):
        return _dns_failure(host)
    malformed = next((e for e in chain if isinstance(e, http.client.HTTPException)), None)
    if malformed is not None:  # connected and answered, but not in readable HTTP (e.g. 10,000 headers)
        return _malformed_response(host, malformed)
    if any(isinstance(e, requests.exceptions.ConnectTimeout) for e in chain):
        return _connect_failure(host, url, f"no answer within {_seconds(timeout)}")
    if any(isinstance(e, ConnectionError) for e in chain):
        # Refused or reset by the peer, even when the SDK then gave up retrying with a TimeoutError.
        return _connect_failure(host, url, _short_reason(chain))
    # urllib3's ReadTimeoutError: a body that stalls arrives wrapped in a requests ConnectionError.
    if any(isinstance(e, (requests.exceptions.ReadTimeout, TimeoutError, ReadTimeoutError)) for e in chain):
        return timeout_finding(url, timeout)
    if any(isinstance(e, (requests.exceptions.ConnectionError, ConnectionError)) for e in chain):
        return _connect_failure(host, url, _short_reason(chain))
    return Finding(
        "AUTH_FAILED" if _looks_like_oauth_error(text) else "NETWORK_CONNECT",
        "error",
        f"Request to {host} failed: {scrub(_short_reason(chain))}",
        "Check the URL and the auth settings, then retry; run with --debug for the full trace.",
    )


_NETWORK_ERRORS = (
    requests.exceptions.ConnectionError,
    requests.exceptions.Timeout,
    socket.gaierror,
    ssl.SSLError,
    ConnectionError,
    TimeoutError,
)


def is_network_error(error: BaseException) -> bool:
    """True when `error` (or what caused it) is a DNS, connect, TLS, proxy or timeout failure."""
    return any(isinstance(e, _NETWORK_ERRORS) for e in _exception_chain(error))


def timeout_finding(url: str, timeout: float | None) -> Finding:
    return Finding(
        "TIMEOUT",
        "error",
        f"No complete response from {origin(url)} within {_seconds(timeout)}",
        "Raise the timeout (--timeout / the Timeout field) if the endpoint is slow; if every call "
        "times out, check that the app is RUNNING and not stuck (its logs: <app-url>/logz).",
        _raise_timeout(timeout),
    )


def _raise_timeout(timeout: float | None) -> Fix | None:
    if timeout is None:
        return None
    longer = min(max(timeout * 2, timeout + 10), 600)
    return Fix("raise_timeout", f"Send again with a {longer:g} s timeout", (("seconds", f"{longer:g}"),))


def proxy_findings(url: str) -> list[Finding]:
    """A hint when proxy variables are set: a failed connection may be the proxy's doing."""
    names = [name for name in PROXY_ENV_VARS if os.environ.get(name)]
    if not names:
        return []
    no_proxy = os.environ.get("NO_PROXY") or os.environ.get("no_proxy") or ""
    return [
        Finding(
            "NETWORK_PROXY",
            "warning",
            f"Proxy settings are active ({', '.join(names)}); the connection to "
            f"{origin(url)} went through the proxy or failed at it",
            f"Check the proxy allows {urlsplit(url).hostname} (outbound HTTPS to *.databricksapps.com "
            f"and the workspace), or add the host to NO_PROXY (now: {no_proxy or 'unset'}).",
        )
    ]


def _exception_chain(error: BaseException) -> list[BaseException]:
    """The error, its causes, and the reasons urllib3 hides inside requests' exceptions."""
    chain: list[BaseException] = []
    pending: list[object] = [error]
    while pending and len(chain) < 20:
        current = pending.pop(0)
        if not isinstance(current, BaseException) or any(current is seen for seen in chain):
            continue
        chain.append(current)
        pending.extend([current.__cause__, current.__context__, getattr(current, "reason", None)])
        pending.extend(arg for arg in getattr(current, "args", ()) if isinstance(arg, BaseException))
    return chain


def _short_reason(chain: list[BaseException]) -> str:
    deepest = chain[-1]
    errno_text = re.search(r"\[Errno -?\d+\] [^'\")]+", " ".join(str(e) for e in chain))
    if errno_text:
        return errno_text.group(0)
    return sdk_message(deepest, 300)


def _looks_like_oauth_error(text: str) -> bool:
    return any(
        word in text
        for word in (
            "invalid_client",
            "invalid_grant",
            "unauthorized_client",
            "invalid_scope",
            "access_denied",
        )
    )


def _malformed_response(host: str, error: BaseException) -> Finding:
    reason = scrub(str(error) or type(error).__name__)[:200]
    return Finding(
        "RESPONSE_MALFORMED",
        "error",
        f"{host} answered, but its response is not readable HTTP ({reason})",
        "The server (or a proxy in front of it) sent a broken response: too many or too long header "
        "lines, or a bad status line. Look at the app's logs (<app-url>/logz) and what sits in between.",
    )


def _dns_failure(host: str) -> Finding:
    return Finding(
        "NETWORK_DNS",
        "error",
        f"The name {host} does not resolve (DNS)",
        f"Check the spelling of {host}; app URLs look like https://<app>-<workspace-id>.<region>."
        "databricksapps.com. On a corporate network, make sure *.databricksapps.com resolves "
        "(VPN / private DNS).",
    )


def _connect_failure(host: str, url: str, reason: str) -> Finding:
    port = urlsplit(url).port or (443 if url.startswith("https") else 80)
    return Finding(
        "NETWORK_CONNECT",
        "error",
        f"Could not connect to {host}:{port}: {reason}",
        f"Check that {host} is reachable from this machine on port {port} (firewall, VPN, "
        "outbound HTTPS allowed) and that the URL's scheme and port are right.",
    )


def _tls_failure(host: str, text: str) -> Finding:
    detail = "certificate not trusted" if "CERTIFICATE_VERIFY_FAILED" in text else "TLS handshake failed"
    return Finding(
        "NETWORK_TLS",
        "error",
        f"TLS to {host} failed: {detail}",
        "A proxy or self-signed certificate is intercepting HTTPS: point REQUESTS_CA_BUNDLE at your "
        "corporate CA bundle (export REQUESTS_CA_BUNDLE=/path/to/ca.pem), or use http:// only for "
        "a local test server.",
    )


def _proxy_failure(host: str, text: str) -> Finding:
    return Finding(
        "NETWORK_PROXY",
        "error",
        f"The proxy refused or failed the connection to {host}",
        "Check HTTPS_PROXY / HTTP_PROXY (host, port, credentials) or add the host to NO_PROXY.",
    )


def body_cut(url: str, received: int, error: BaseException) -> Finding:
    """The response started but its body broke off (connection reset, peer gone)."""
    host, port = urlsplit(url).hostname or url, urlsplit(url).port or (443 if url.startswith("https") else 80)
    reason = scrub(_short_reason(_exception_chain(error)))
    return Finding(
        "NETWORK_CONNECT",
        "error",
        f"The connection to {host}:{port} broke after {received} bytes of the body ({reason}); "
        "what is shown is incomplete",
        "Send again; if it keeps breaking, the app may be crashing mid-response (read its logs: "
        "<app-url>/logz) or a proxy may be cutting long responses.",
    )


def auth_failed(message: str, fix: str, field: str | None = None) -> Finding:
    """AUTH_FAILED; `field`: the auth form field the failure is about (a missing or malformed value)."""
    return Finding("AUTH_FAILED", "error", scrub(message), fix, field=field)


def _seconds(timeout: float | None) -> str:
    return "the timeout" if timeout is None else f"{timeout:g} s"

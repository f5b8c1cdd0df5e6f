"""Sending: RequestSpec + credentials -> Exchange, with `requests`.

- One `requests.Session` per target (scheme, host, port): connection reuse, and cookies kept per
  app (the gateway pins a client to an app instance with a cookie).
- Redirects are never followed: a 302 to the sign-in page is a finding, and a token never
  travels to a host the user did not target. The Location is reported.
- Timings: time to first byte (until the response headers) and total; the whole exchange is
  bounded by `spec.timeout`, body included.
- Bodies are streamed: only the first DISPLAY_LIMIT bytes are kept, so a 50 MB response costs
  a bounded amount of memory; JSON is parsed once, and only a bounded prefix is re-indented
  when the body was too large to keep whole.
"""

from __future__ import annotations

import collections
import json
import logging
import math
import os
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any, BinaryIO
from urllib.parse import urljoin, urlsplit

import requests
import urllib3

from explorer.agent import TranscriptBuilder, transcript_of
from explorer.auth import Credentials
from explorer.failures import (
    auth_failed,
    body_cut,
    finding_for_error,
    is_network_error,
    proxy_findings,
    sdk_message,
    timeout_finding,
)
from explorer.guard import Allowlist
from explorer.headers import parse_server_timing
from explorer.model import BodyKind, Exchange, Finding, RequestSpec, Response, StreamEvent
from explorer.parse import url_with_params
from explorer.redact import Redactor, is_secret_field, mask, redact_headers, redact_url
from explorer.stream import MAX_EVENTS, parser_for, stream_kind
from explorer.textview import human_size
from explorer.transport import Cancel, Watch, WatchedAdapter, timings_of, watched
from explorer.websocket import exchange_frames, is_websocket

DISPLAY_LIMIT = 2 * 1024 * 1024  # bytes of a body kept for display
PRETTY_LIMIT = 256 * 1024  # bytes of a truncated JSON body re-indented for display
CHUNK_SIZE = 64 * 1024
DOWNLOAD_LIMIT = 256 * 1024 * 1024  # bytes a full-response download writes at most (it is scrubbed in memory)
RECORDED_BODY_LIMIT = 64 * 1024  # characters of a request body the history keeps
MAX_TIMEOUT = 24 * 3600.0  # seconds; larger values overflow the socket layer
POOL_SIZE = 32  # connections per target: deployed, many sessions call the same app at once
log = logging.getLogger("explorer.send")
USER_AGENT = "databricks-apps-explorer"
_TEXT_TYPES = ("text/", "json", "xml", "javascript", "x-www-form-urlencoded", "yaml", "csv", "event-stream")
_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"?|[{}\[\],:]|[^\s{}\[\],:"]+')


class SessionPool:
    """One requests.Session per (scheme, host, port). Thread-safe."""

    def __init__(self) -> None:
        self._sessions: dict[tuple[str, str, int], requests.Session] = {}
        self._lock = threading.Lock()

    def get(self, url: str) -> requests.Session:
        parts = urlsplit(url)
        key = (
            parts.scheme,
            (parts.hostname or "").lower(),
            parts.port or (443 if parts.scheme == "https" else 80),
        )
        with self._lock:
            session = self._sessions.get(key)
            if session is None:
                session = self._sessions[key] = _new_session(url)
            return session

    def close(self) -> None:
        with self._lock:
            sessions, self._sessions = list(self._sessions.values()), {}
        for session in sessions:
            session.close()


def _new_session(url: str) -> requests.Session:
    """A session for the target of `url`, with its proxy and CA bundle settings read once.

    requests re-reads the proxy and CA-bundle environment variables on every request (~80 µs,
    more than the engine's own work per send); a session serves one target, so they are resolved
    for it here, the way requests would (HTTPS_PROXY/HTTP_PROXY/NO_PROXY, REQUESTS_CA_BUNDLE).
    """
    session = requests.Session()
    adapter = WatchedAdapter(pool_connections=1, pool_maxsize=POOL_SIZE)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["User-Agent"] = USER_AGENT
    # trust_env off also keeps requests from adding ~/.netrc credentials behind the user's back;
    # the no-op auth stays as a second guard.
    session.trust_env = False
    session.auth = lambda request: request
    session.proxies = requests.utils.get_environ_proxies(url)
    session.verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
    return session


def send(
    spec: RequestSpec,
    credentials: Credentials | None,
    *,
    session_pool: SessionPool,
    allowlist: Allowlist | None = None,
    redactor: Redactor | None = None,
    keep: int = DISPLAY_LIMIT,
    on_event: Callable[[StreamEvent], None] | None = None,
    cancel: Cancel | None = None,
    on_start: Callable[[float, str], None] | None = None,
    sink: BinaryIO | None = None,
) -> Exchange:
    """Send `spec` with `credentials`; never raises for network or HTTP trouble. With `sink`, the
    whole body (up to DOWNLOAD_LIMIT) is also written there as it arrives.

    At most `keep` bytes of the body are kept (and parsed); the rest is counted, not stored.

    The Exchange records the request with credential headers masked; failures before a
    response become findings (HOST_NOT_ALLOWED, NETWORK_*, TIMEOUT, AUTH_FAILED).
    """
    redactor = redactor or Redactor()
    exchange = Exchange(
        id=uuid.uuid4().hex[:12],
        started_at=time.time(),
        request=_recorded(spec, [], redactor),
        response=None,
        auth=credentials.info if credentials else None,
        token=None,
    )
    bad_timeout = _timeout_problem(spec.timeout)
    if bad_timeout is not None:
        return _failed(exchange, bad_timeout)
    # With the allowlist on (deployed), nothing leaves for another host, credentials or not: the
    # explorer must not become a proxy into the network it runs in.
    if allowlist is not None and not allowlist.allows(spec.url):
        return _failed(exchange, _host_not_allowed(spec.url, allowlist))
    try:
        headers = _headers(spec, credentials)
    except Exception as error:  # the token could not be fetched or refreshed
        log.debug("getting the token for %s failed", redactor.scrub_url(spec.url), exc_info=True)
        return _failed(exchange, _token_failure(error, spec, redactor))
    exchange.request = _recorded(spec, list(headers.items()), redactor)
    if is_websocket(spec.url):
        return _websocket(exchange, spec, headers, on_event, cancel)
    # One wall-clock budget from connect to the last byte: the watch closes the connection when it
    # is spent, however slowly the server trickles headers or body.
    with watched(spec.timeout) as watch:
        if cancel is not None:
            cancel.attach(watch)
        try:
            exchange.response, broken = _transfer(
                spec, headers, session_pool.get(spec.url), keep, watch, _Stream(on_event, on_start), sink
            )
        except requests.RequestException as error:
            log.debug("%s %s failed", spec.method, redactor.scrub_url(spec.url), exc_info=True)
            if watch.cancelled:
                return _failed(exchange, _cancelled(spec))
            if watch.expired:
                return _failed(exchange, timeout_finding(spec.url, spec.timeout))
            finding = finding_for_error(error, spec.url, spec.timeout)
            extra = proxy_findings(spec.url) if finding.code.startswith("NETWORK") else []
            return _failed(exchange, finding, *extra)
        except (UnicodeError, ValueError) as error:  # e.g. a header (or pasted token) HTTP cannot encode
            return _failed(exchange, _unsendable(error, redactor))
    log.debug(
        "%s %s -> %s %s, %d bytes in %.0f ms",
        spec.method,
        redactor.scrub_url(spec.url),
        exchange.response.status,
        redactor.scrub(exchange.response.reason),
        exchange.response.size,
        exchange.response.elapsed_ms,
    )
    if watch.cancelled:  # stopped by the user: what arrived is kept, and said to be incomplete
        exchange.response.truncated = exchange.response.cancelled = True
    elif watch.expired:  # whatever arrived before the deadline is incomplete, headers included
        exchange.response.truncated = True
        exchange.findings.append(timeout_finding(spec.url, spec.timeout))
    elif broken is not None and not watch.cancelled:  # the status and headers came, then the body broke off
        exchange.findings.append(_broken_body(broken, spec, exchange.response.size))
    elif exchange.response.truncated and exchange.response.elapsed_ms >= spec.timeout * 1000:
        exchange.findings.append(timeout_finding(spec.url, spec.timeout))
    return exchange


def _websocket(
    exchange: Exchange,
    spec: RequestSpec,
    headers: dict[str, str],
    on_event: Callable[[StreamEvent], None] | None,
    cancel: Cancel | None,
) -> Exchange:
    """A WebSocket exchange: the frames are its events; a refused upgrade is a Response like any."""
    ws_headers = {k: v for k, v in headers.items() if k.lower() != "content-type"}
    try:
        exchange.response = exchange_frames(spec, ws_headers, on_event=on_event, cancel=cancel)
    except (OSError, TimeoutError) as error:
        finding = finding_for_error(error, spec.url.replace("ws", "http", 1), spec.timeout)
        return _failed(exchange, finding)
    except Exception as error:  # the library's handshake errors (not an HTTP answer at all)
        return _failed(exchange, _malformed_upgrade(spec, error))
    return exchange


def _malformed_upgrade(spec: RequestSpec, error: Exception) -> Finding:
    return Finding(
        "RESPONSE_MALFORMED",
        "error",
        f"{urlsplit(spec.url).hostname} did not complete a WebSocket handshake ({type(error).__name__}: {str(error)[:160]})",
        "Check that the path serves a WebSocket (an http(s) URL is an ordinary request) and what sits in between.",
    )


def _cancelled(spec: RequestSpec) -> Finding:
    return Finding(
        "REQUEST_CANCELLED",
        "info",
        f"Cancelled before {spec.method} {redact_url(spec.url)} got its answer",
        "Send again when you are ready.",
    )


def _broken_body(error: requests.RequestException, spec: RequestSpec, received: int) -> Finding:
    finding = finding_for_error(error, spec.url, spec.timeout)
    return finding if finding.code == "TIMEOUT" else body_cut(spec.url, received, error)


def _unsendable(error: Exception, redactor: Redactor) -> Finding:
    return Finding(
        "REQUEST_INVALID",
        "error",
        f"The request cannot be sent as typed: {redactor.scrub(str(error))[:200]}",
        "Header values (and a pasted token) must be plain Latin-1 text without line breaks; look for a "
        "stray character pasted along, or percent-encode it in the URL.",
    )


def _timeout_problem(timeout: object) -> Finding | None:
    """None for a usable timeout; socket calls reject 0, negative, NaN and astronomically large ones."""
    try:
        seconds = float(timeout)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        seconds = math.nan
    if math.isfinite(seconds) and 0 < seconds <= MAX_TIMEOUT:
        return None
    return Finding(
        "REQUEST_INVALID",
        "error",
        f"Timeout {str(timeout)[:40]!r} is not a number of seconds between 0 and {MAX_TIMEOUT:g}",
        "Set the timeout to a number of seconds, e.g. 30.",
    )


def _headers(spec: RequestSpec, credentials: Credentials | None) -> dict[str, str]:
    headers = {k: v for k, v in spec.headers}
    lowered = {k.lower() for k in headers}
    if credentials is not None and "authorization" not in lowered:
        headers.update(credentials.headers())  # fresh each time: the SDK refreshes as needed
    if spec.body is not None and "content-type" not in lowered:
        headers["Content-Type"] = _guess_content_type(spec.body)
    return headers


def _guess_content_type(body: str) -> str:
    try:
        json.loads(body)
    except ValueError:
        return "text/plain; charset=utf-8"
    return "application/json"


def _recorded(spec: RequestSpec, headers: list[tuple[str, str]], redactor: Redactor) -> RequestSpec:
    """The request as it goes in the history: credential headers masked, secrets scrubbed, and
    at most RECORDED_BODY_LIMIT characters of the body kept (the whole body is still sent)."""
    return replace(
        spec,
        url=redactor.scrub(redact_url(spec.url)),
        params=[(k, mask(v) if is_secret_field(k) else redactor.scrub(v)) for k, v in spec.params],
        headers=[(k, redactor.scrub(v)) for k, v in redact_headers(headers or spec.headers)],
        body=redactor.scrub(_recorded_body(spec.body)) if spec.body else spec.body,
    )


def _recorded_body(body: str) -> str:
    if len(body) <= RECORDED_BODY_LIMIT:
        return body
    return body[:RECORDED_BODY_LIMIT] + (
        f"\n… [request body cut in the history: {human_size(len(body.encode('utf-8')))} sent, "
        f"the first {human_size(RECORDED_BODY_LIMIT)} kept]"
    )


def _failed(exchange: Exchange, *findings: Finding) -> Exchange:
    exchange.findings.extend(findings)
    exchange.error = findings[0].message
    return exchange


def _host_not_allowed(url: str, allowlist: Allowlist) -> Finding:
    return Finding(
        "HOST_NOT_ALLOWED",
        "error",
        f"Refused to send a request to {urlsplit(url).hostname}: {allowlist.explain(url)}",
        "Deployed, the explorer calls only Databricks Apps URLs (*.databricksapps.com) and its workspace; "
        "an operator can allow more hosts with the EXPLORER_ALLOWED_HOSTS setting in app.yaml.",
    )


def _token_failure(error: Exception, spec: RequestSpec, redactor: Redactor) -> Finding:
    if is_network_error(error):
        return finding_for_error(error, spec.url, spec.timeout)
    return auth_failed(
        f"Could not get a fresh token: {redactor.scrub(sdk_message(error))}",
        "Reconnect (sign in again, or check the client secret); a refresh token may have expired.",
    )


# --- the transfer -------------------------------------------------------------------------------


def _transfer(
    spec: RequestSpec,
    headers: dict[str, str],
    session: requests.Session,
    keep: int = DISPLAY_LIMIT,
    watch: Watch | None = None,
    stream: _Stream | None = None,
    sink: BinaryIO | None = None,
) -> tuple[Response, requests.RequestException | None]:
    """The response (body cut to `keep` bytes) and the error that broke its body off, if any."""
    started = time.perf_counter()
    deadline = started + spec.timeout
    body = spec.body.encode("utf-8") if spec.body is not None else None
    raw = session.request(
        spec.method.upper(),
        url_with_params(spec.url, spec.params),
        headers=headers,
        data=body,
        timeout=(spec.timeout, spec.timeout),
        allow_redirects=False,
        stream=True,
    )
    ttfb = time.perf_counter() - started
    stream = stream or _Stream(None)
    chunked = "chunked" in raw.headers.get("Transfer-Encoding", "").lower()
    stream.begin(raw.headers.get("Content-Type", ""), started, chunked, ttfb * 1000)
    with raw:
        kept, size, complete, broken = _read_body(raw, deadline, keep, stream, sink)
    stream.end()
    done = time.perf_counter()
    elapsed = done - started
    content_type = raw.headers.get("Content-Type", "")
    kind, parsed, text = decode_body(kept, size, content_type, truncated=size > len(kept) or not complete)
    location = raw.headers.get("Location")
    response = Response(
        status=raw.status_code,
        reason=raw.reason or "",
        headers=list(raw.raw.headers.items()) if raw.raw is not None else list(raw.headers.items()),
        body=kept,
        size=size,
        elapsed_ms=elapsed * 1000,
        ttfb_ms=ttfb * 1000,
        content_type=content_type,
        kind=kind,
        json=parsed,
        text=text,
        truncated=size > len(kept) or not complete,
        location=urljoin(spec.url, location) if location and 300 <= raw.status_code < 400 else None,
        timings=timings_of(watch, done) if watch is not None else None,
        server_timing=parse_server_timing(raw.raw.headers.getlist("Server-Timing") if raw.raw else []),
        stream=stream.kind,
        events=list(stream.events),
        events_total=stream.total,
        first_event_ms=stream.first_ms,
        transcript=stream.builder.transcript or transcript_of(parsed),
    )
    return response, broken


class _Stream:
    """A streamed body's events, parsed as the chunks arrive (nothing happens for other bodies)."""

    def __init__(
        self,
        on_event: Callable[[StreamEvent], None] | None,
        on_start: Callable[[float, str], None] | None = None,
    ) -> None:
        self.on_event, self.on_start = on_event, on_start
        self.kind: str | None = None
        self.events: collections.deque[StreamEvent] = collections.deque(maxlen=MAX_EVENTS)
        self.total = 0
        self.first_ms: float | None = None
        self.builder = TranscriptBuilder()
        self._parser: Any = None
        self._started = 0.0

    def begin(self, content_type: str, started: float, chunked: bool = False, ttfb_ms: float = 0.0) -> None:
        self.kind, self._started = stream_kind(content_type, chunked), started
        self._parser = parser_for(self.kind) if self.kind else None
        if self.kind and self.on_start is not None:
            self.on_start(ttfb_ms, self.kind)  # a stream's headers are in: its kind, its time to first byte

    def feed(self, chunk: bytes) -> None:
        if self._parser is not None:
            self._emit(self._parser.feed(chunk, self._offset()))

    def end(self) -> None:
        if self._parser is not None:
            self._emit(self._parser.close(self._offset()))

    def _offset(self) -> float:
        return (time.perf_counter() - self._started) * 1000

    def _emit(self, events: list[StreamEvent]) -> None:
        for event in events:
            if self.first_ms is None:
                self.first_ms = event.offset_ms
            self.events.append(event)
            self.total += 1
            self.builder.add(event)
            if self.on_event is not None:
                self.on_event(event)


def _read_body(
    raw: requests.Response,
    deadline: float,
    keep: int = DISPLAY_LIMIT,
    stream: _Stream | None = None,
    sink: BinaryIO | None = None,
) -> tuple[bytes, int, bool, requests.RequestException | None]:
    """(first `keep` bytes, total size, complete?, what broke it off) — stops at the deadline.

    A connection that breaks mid-body keeps what arrived: the status and headers are real. A
    streamed body (SSE, NDJSON) is read as its bytes arrive and parsed event by event.
    """
    kept = bytearray()
    size = 0
    streaming = stream is not None and stream.kind is not None
    try:
        for chunk in _chunks(raw, streaming):
            size += len(chunk)
            room = keep - len(kept)
            if room > 0:
                kept += chunk[:room]
            if streaming:
                stream.feed(chunk)  # type: ignore[union-attr]
            if sink is not None:
                sink.write(chunk[: max(0, DOWNLOAD_LIMIT - (size - len(chunk)))])
                if size >= DOWNLOAD_LIMIT:
                    return bytes(kept), size, False, None
            if time.perf_counter() > deadline:
                return bytes(kept), size, False, None
    except requests.RequestException as error:
        return bytes(kept), size, False, error
    return bytes(kept), size, True, None


def _chunks(raw: requests.Response, streaming: bool) -> Iterator[bytes]:
    """The body's chunks: 64 KB at a time, or for a stream whatever has arrived (read1)."""
    if not streaming or raw.raw is None or not hasattr(raw.raw, "read1"):
        yield from raw.iter_content(CHUNK_SIZE)
        return
    while True:
        try:
            chunk = raw.raw.read1(CHUNK_SIZE, decode_content=True)
        except (urllib3.exceptions.HTTPError, OSError) as error:
            raise requests.exceptions.ChunkedEncodingError(error) from error
        if not chunk:
            return
        yield chunk


# --- decoding for display -------------------------------------------------------------------------


def decode_body(
    data: bytes, size: int, content_type: str, *, truncated: bool = False
) -> tuple[BodyKind, object, str]:
    """(kind, parsed JSON or None, display text) for a body of which `data` is the kept prefix."""
    if size == 0:
        return "empty", None, ""
    ctype = content_type.lower()
    charset = _charset(ctype)
    if "json" in ctype or (not ctype and data.lstrip()[:1] in (b"{", b"[")):
        decoded = _decode_json(data, charset, truncated, size)
        if decoded is not None:
            return decoded
    if any(t in ctype for t in _TEXT_TYPES) or (
        not _looks_binary(data) and not ctype.startswith(("image/", "audio/", "video/"))
    ):
        text = data.decode(charset, errors="replace")
        return "text", None, text + (_truncation_notice(len(data), size) if truncated else "")
    return "binary", None, _binary_summary(data, size, content_type)


def _decode_json(
    data: bytes, charset: str, truncated: bool, size: int
) -> tuple[BodyKind, object, str] | None:
    if truncated:
        prefix = data[:PRETTY_LIMIT].decode(charset, errors="replace")
        return (
            "json",
            None,
            reindent_json_prefix(prefix) + _truncation_notice(min(len(data), PRETTY_LIMIT), size),
        )
    try:
        parsed = json.loads(data.decode(charset, errors="strict"))
    except (ValueError, RecursionError):
        return None
    return "json", parsed, json.dumps(parsed, indent=2, ensure_ascii=False)


def reindent_json_prefix(text: str) -> str:
    """Indent a prefix of a JSON document (which need not parse) two spaces per level."""
    out: list[str] = []
    depth = 0
    for match in _JSON_TOKEN.finditer(text):
        token = match.group(0)
        if token in "{[":
            depth += 1
            out.append(token + "\n" + "  " * depth)
        elif token in "}]":
            depth = max(0, depth - 1)
            out.append("\n" + "  " * depth + token)
        elif token == ",":
            out.append(",\n" + "  " * depth)
        elif token == ":":
            out.append(": ")
        else:
            out.append(token)
    return "".join(out)


def _truncation_notice(shown: int, size: int) -> str:
    return f"\n… [truncated: showing the first {human_size(shown)} of {human_size(size)}]"


def _binary_summary(data: bytes, size: int, content_type: str) -> str:
    head = " ".join(f"{b:02x}" for b in data[:32])
    return f"[binary body: {human_size(size)}, {content_type or 'no content type'}; first bytes: {head}]"


def _looks_binary(data: bytes) -> bool:
    sample = data[:4096]
    if b"\x00" in sample:
        return True
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError as error:
        return error.start < len(sample) - 4  # a multi-byte character cut at the sample's end is fine
    return False


def _charset(content_type: str) -> str:
    match = re.search(r"charset=([\w.-]+)", content_type)
    if match:
        try:
            "".encode(match.group(1))
            return match.group(1)
        except LookupError:
            pass
    return "utf-8"

"""One serialisation of the domain model: Exchange, TokenInfo, Finding, AuthInfo -> plain data.

`call --json`, the UI's JSON summaries, the history's JSON and HAR exports, `token --json` and the
deployed `/api/whoami` all use these functions, so the shape is defined once. Everything passes
through a Redactor: tokens appear masked, known secrets scrubbed.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from explorer.model import Connection, Exchange, Finding, Response, TokenInfo
from explorer.parse import url_with_params
from explorer.redact import Redactor
from explorer.tokens import describe_expiry


def exchange_to_dict(ex: Exchange, redactor: Redactor | None = None) -> dict[str, Any]:
    """The `call --json` shape: request, response, token, auth, findings, ok (plus id, error)."""
    redactor = redactor or Redactor()
    request = ex.request
    request_type = next((v for k, v in request.headers if k.lower() == "content-type"), "")
    return {
        "id": ex.id,
        "started_at": iso(ex.started_at),
        "request": {
            "method": request.method,
            "url": redactor.scrub_url(full_url(ex)),
            "headers": header_dict(redactor.scrub_headers(request.headers)),
            "body": redactor.scrub_body(request.body, request_type),
        },
        "response": _response_dict(ex.response, redactor) if ex.response else None,
        "token": token_to_dict(ex.token, redactor) if ex.token else None,
        "auth": auth_to_dict(ex.auth, redactor),
        "findings": findings_to_list(ex.findings, redactor),
        "error": redactor.scrub(ex.error) if ex.error else None,
        "retried": ex.retried,
        "auth_events": [redactor.scrub_json(e.as_dict()) for e in ex.auth_events],
        "ok": ex.ok,
    }


def _response_dict(response: Response, redactor: Redactor) -> dict[str, Any]:
    if response.kind == "json" and not response.truncated:
        body: Any = redactor.scrub_json(response.json)
    else:
        body = redactor.scrub_body(response.text, response.content_type)
    return {
        "status": response.status,
        "reason": response.reason,
        "headers": header_dict(redactor.scrub_headers(response.headers)),
        "body": body,
        "elapsed_ms": round(response.elapsed_ms, 1),
        "ttfb_ms": round(response.ttfb_ms, 1),
        "size": response.size,
        "truncated": response.truncated,
        "content_type": response.content_type,
        "location": redactor.scrub_url(response.location) if response.location else None,
        "timings": response.timings.as_dict() if response.timings else None,
        "server_timing": [
            {"name": m.name, "duration_ms": m.duration_ms, "description": redactor.scrub(m.description)}
            for m in response.server_timing
        ],
        "stream": response.stream,
        "cancelled": response.cancelled,
        **(_stream_dict(response, redactor) if response.stream else {}),
    }


def _stream_dict(response: Response, redactor: Redactor) -> dict[str, Any]:
    """A streamed body's events (the latest MAX_EVENTS, with their offsets) and the agent's transcript."""
    return {
        "events_total": response.events_total,
        "first_event_ms": None if response.first_event_ms is None else round(response.first_event_ms, 2),
        "events": [redactor.scrub_values(e.as_dict()) for e in response.events],
        "transcript": redactor.scrub_values(response.transcript.as_dict()) if response.transcript else None,
    }


def token_to_dict(token: TokenInfo, redactor: Redactor | None = None) -> dict[str, Any]:
    """A token's decoded details for JSON output (masked token, never the value)."""
    redactor = redactor or Redactor()
    return {
        "masked": token.masked,
        "kind": token.kind,
        "issuer": token.issuer,
        "audience": token.audience,
        "subject": token.subject,
        "client_id": token.client_id,
        "token_type": token.token_type,
        "issued_at": iso(token.issued_at),
        "expires_at": iso(token.expires_at),
        "expiry": describe_expiry(token),
        "scopes": token.scopes,
        "required_scopes": token.required_scopes,
        "missing_scopes": token.missing_scopes,
        "claims": redactor.scrub_json(token.claims),
    }


def auth_to_dict(auth: Any, redactor: Redactor | None = None) -> dict[str, Any] | None:
    """Where credentials came from (AuthInfo), for JSON output."""
    if auth is None:
        return None
    redactor = redactor or Redactor()
    return {
        "method": auth.method,
        "source": redactor.scrub(auth.source),
        "host": auth.host,
        "identity": redactor.scrub(auth.identity) if auth.identity else None,
        "details": redactor.scrub_json(dict(auth.details)),
    }


def header_dict(headers: list[tuple[str, str]]) -> dict[str, str]:
    """Headers as an object; repeated names are joined with ", " as HTTP allows."""
    merged: dict[str, str] = {}
    for name, value in headers:
        merged[name] = f"{merged[name]}, {value}" if name in merged else value
    return merged


def iso(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    try:
        moment = datetime.fromtimestamp(epoch, tz=timezone.utc)
    except (OverflowError, OSError, ValueError):  # an absurd claim in a foreign token
        return None
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def findings_to_list(findings: list[Finding], redactor: Redactor | None = None) -> list[dict[str, Any]]:
    redactor = redactor or Redactor()
    return [redactor.scrub_values(f.as_dict()) for f in findings]


def connection_to_dict(connection: Connection, redactor: Redactor | None = None) -> dict[str, Any]:
    """A Connection (the outcome of connecting) for JSON output."""
    redactor = redactor or Redactor()
    auth = auth_to_dict(connection.auth, redactor) or {}
    return {
        "ok": connection.ok,
        **auth,
        "token": token_to_dict(connection.token, redactor) if connection.token else None,
        "findings": findings_to_list(connection.findings, redactor),
    }


def full_url(ex: Exchange) -> str:
    """The URL as sent: the request URL with its params appended."""
    return url_with_params(ex.request.url, ex.request.params)

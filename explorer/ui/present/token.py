"""The Token pane: what a bearer token says about itself, and granted vs required scopes."""

from __future__ import annotations

from html import escape
from typing import Any

from explorer.model import TokenInfo
from explorer.redact import Redactor
from explorer.serialize import token_to_dict
from explorer.ui.present.basics import chips, code_html, countdown_html, utc_time

_TOKEN_KINDS = {
    "oauth": "Databricks OAuth token",
    "pat": "personal access token (PAT)",
    "entra": "Entra ID token (needs exchange)",
    "foreign": "token from another issuer",
    "opaque": "opaque token (not a JWT)",
    "none": "no token",
}


def scopes_html(token: TokenInfo) -> str:
    """Granted vs required scopes: required ones granted in green, missing ones in red."""
    required = set(token.required_scopes)
    granted = "".join(
        f'<span class="chip {"ok" if s in required else ""}">{escape(s)}</span>' for s in token.scopes
    )
    needed = (
        chips(token.required_scopes)
        if token.required_scopes
        else '<span class="muted">none declared by the app</span>'
    )
    rows = [("granted", granted or '<span class="muted">none</span>'), ("required", needed)]
    if token.missing_scopes:
        rows.append(("missing", chips(token.missing_scopes, "bad")))
    body = "".join(
        f'<div class="scopes"><span class="label">{k}</span><span>{v}</span></div>' for k, v in rows
    )
    verdict = (
        f'<div class="verdict bad">Missing {len(token.missing_scopes)} required scope(s)</div>'
        if token.missing_scopes
        else '<div class="verdict ok">Has every scope the app requires</div>'
        if token.required_scopes
        else ""
    )
    return f'<div class="scopebox"><div class="kv-title">Scopes</div>{verdict}{body}</div>'


def token_summary(token: TokenInfo | None, redactor: Redactor | None = None) -> dict[str, Any] | None:
    """The token as API clients see it (explorer.serialize: masked, decoded fields, scope check)."""
    return token_to_dict(token, redactor) if token is not None else None


def token_html(token: TokenInfo | None, now: float) -> str:
    """The Token tab: what the bearer token says about itself, and the scope check beside it."""
    if token is None or token.kind == "none":
        return '<div class="findings empty">No token was sent with this request.</div>'
    audience = ", ".join(token.audience) if isinstance(token.audience, list) else token.audience
    pairs = [
        ("Token", code_html(token.masked)),
        ("Kind", escape(_TOKEN_KINDS.get(token.kind, token.kind))),
        ("Subject", code_html(token.subject) if token.subject else ""),
        ("Client id", code_html(token.client_id) if token.client_id else ""),
        ("Issuer", escape(token.issuer or "")),
        ("Audience", escape(audience or "")),
        ("Type", escape(token.token_type or "")),
        ("Issued", escape(utc_time(token.issued_at))),
        (
            "Expires",
            f"{escape(utc_time(token.expires_at))} {countdown_html(token, now)}" if token.expires_at else "",
        ),
    ]
    grid = "".join(f'<div class="k">{k}</div><div class="v">{v}</div>' for k, v in pairs if v)
    return f'<div class="token"><div class="kv">{grid}</div>{scopes_html(token)}</div>'

"""`POST /oidc/v1/token`: the four grants, with the checks a real authorization server makes."""

from __future__ import annotations

import base64
import binascii
import logging
import re
from typing import Any
from urllib.parse import unquote_plus

from explorer.sandbox.identity.authority import (
    PUBLIC_CLIENT_ID,
    Authority,
    Grant,
    OAuthError,
    Principal,
    split_scopes,
)
from explorer.sandbox.identity.federation import Federation

TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
JWT_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:jwt"
PAT_TOKEN_TYPE = "urn:databricks:params:oauth:token-type:personal-access-token"
GRANT_TYPES = ("client_credentials", "authorization_code", "refresh_token", TOKEN_EXCHANGE)
_SCOPE = re.compile(r"^[A-Za-z0-9._:\-/]+$")

log = logging.getLogger(__name__)


class TokenEndpoint:
    def __init__(self, authority: Authority, federation: Federation):
        self._authority = authority
        self._federation = federation

    def handle(self, form: dict[str, str], authorization: str | None) -> dict[str, Any]:
        """The token response for a form-encoded request, else OAuthError."""
        grant_type = form.get("grant_type", "")
        self._authority.count_token_request(grant_type)
        client_id, client_secret = _client_credentials(form, authorization)
        if not grant_type:
            raise OAuthError("invalid_request", "grant_type is required")
        if grant_type == "client_credentials":
            return self._client_credentials(client_id, client_secret, form)
        if grant_type == "authorization_code":
            return self._authorization_code(client_id, form)
        if grant_type == "refresh_token":
            return self._refresh_token(client_id, form)
        if grant_type == TOKEN_EXCHANGE:
            return self._token_exchange(client_id, form)
        raise OAuthError("unsupported_grant_type", f"grant_type {grant_type!r} is not supported")

    def _client_credentials(
        self, client_id: str | None, secret: str | None, form: dict[str, str]
    ) -> dict[str, Any]:
        if not client_id or not secret:
            raise OAuthError("invalid_client", "client authentication is required (HTTP Basic or form)", 401)
        principal = self._authority.directory.check_secret(client_id, secret)
        if principal is None:
            raise OAuthError("invalid_client", "the client id or secret is not valid", 401)
        return self._issue(principal, client_id, _scopes(form, default="all-apis"))

    def _authorization_code(self, client_id: str | None, form: dict[str, str]) -> dict[str, Any]:
        for field in ("code", "redirect_uri", "code_verifier"):
            if not form.get(field):
                raise OAuthError("invalid_request", f"{field} is required")
        if client_id != PUBLIC_CLIENT_ID:
            raise OAuthError(
                "invalid_client",
                f"unknown client {client_id!r}; the public client is {PUBLIC_CLIENT_ID}",
                401,
            )
        grant = self._authority.redeem_code(
            form["code"], client_id, form["redirect_uri"], form["code_verifier"]
        )
        return self._issue(grant.principal, client_id, list(grant.scopes))

    def _refresh_token(self, client_id: str | None, form: dict[str, str]) -> dict[str, Any]:
        token = form.get("refresh_token")
        if not token:
            raise OAuthError("invalid_request", "refresh_token is required")
        grant = self._authority.use_refresh_token(token, client_id)
        access, ttl = self._authority.mint(grant.principal, grant.client_id, grant.scopes)
        log.info("refresh_token grant for %s", grant.principal.username)
        return _response(access, ttl, grant.scopes, refresh_token=token)

    def _token_exchange(self, client_id: str | None, form: dict[str, str]) -> dict[str, Any]:
        subject_token, token_type = form.get("subject_token"), form.get("subject_token_type")
        if not subject_token or not token_type:
            raise OAuthError("invalid_request", "subject_token and subject_token_type are required")
        if token_type == JWT_TOKEN_TYPE:
            principal = self._federation.exchange(subject_token, client_id)
        elif token_type == PAT_TOKEN_TYPE:
            owner = self._authority.directory.by_pat(subject_token)
            if owner is None:
                raise OAuthError("invalid_grant", "the personal access token is not valid")
            principal = owner
        else:
            raise OAuthError("invalid_request", f"subject_token_type {token_type!r} is not supported")
        return self._issue(principal, client_id or principal.username, _scopes(form, default="all-apis"))

    def _issue(self, principal: Principal, client_id: str, scopes: list[str]) -> dict[str, Any]:
        access, ttl = self._authority.mint(principal, client_id, scopes)
        refresh = None
        if "offline_access" in scopes:
            refresh = self._authority.new_refresh_token(Grant(principal, client_id, tuple(scopes)))
        log.info("issued a token for %s (scopes: %s)", principal.username, " ".join(scopes))
        return _response(access, ttl, scopes, refresh_token=refresh)


def _response(
    access: str, ttl: int, scopes: list[str] | tuple[str, ...], refresh_token: str | None
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "access_token": access,
        "token_type": "Bearer",
        "expires_in": ttl,
        "scope": " ".join(scopes),
    }
    if refresh_token:
        body["refresh_token"] = refresh_token
    return body


def _scopes(form: dict[str, str], default: str) -> list[str]:
    scopes = split_scopes(form.get("scope") or default)
    bad = [s for s in scopes if not _SCOPE.match(s)]
    if bad:
        raise OAuthError("invalid_scope", f"malformed scope {bad[0][:40]!r}")
    return scopes


def _client_credentials(form: dict[str, str], authorization: str | None) -> tuple[str | None, str | None]:
    """Client id and secret from HTTP Basic (RFC 6749 §2.3.1, form-encoded parts) or the form."""
    if authorization and authorization[:6].lower() == "basic ":
        try:
            decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise OAuthError("invalid_client", "malformed HTTP Basic credentials", 401) from None
        user, sep, password = decoded.partition(":")
        if not sep:
            raise OAuthError("invalid_client", "malformed HTTP Basic credentials", 401)
        return unquote_plus(user), unquote_plus(password)
    return form.get("client_id") or None, form.get("client_secret") or None

"""The workspace's identity authority: principals, access tokens, authorization codes, refresh tokens.

Shared by the workspace server (OAuth + REST) and every app gateway, which run in different
threads; everything mutable sits behind one lock.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from typing import Any

from explorer.sandbox.config.schema import AppSpec, PrincipalKind, SandboxConfig
from explorer.sandbox.identity.signing import SigningKey, TokenRejected

CODE_TTL_SECONDS = 300
PUBLIC_CLIENT_ID = "databricks-cli"


class OAuthError(Exception):
    """An OAuth error response: `{error, error_description}` with its HTTP status."""

    def __init__(self, error: str, description: str, status: int = 400):
        super().__init__(f"{error}: {description}")
        self.error, self.description, self.status = error, description, status


@dataclass(frozen=True)
class Principal:
    """A user (username = email) or a service principal (username = application id)."""

    kind: PrincipalKind
    username: str
    display_name: str
    id: str


@dataclass(frozen=True)
class Grant:
    """What an authorization code or a refresh token stands for."""

    principal: Principal
    client_id: str
    scopes: tuple[str, ...]
    redirect_uri: str = ""
    code_challenge: str = ""
    expires_at: float = 0.0


def split_scopes(scope: str | None) -> list[str]:
    """Space-separated scopes, de-duplicated in order."""
    return list(dict.fromkeys((scope or "").split()))


def pkce_challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii", "replace")).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


class Directory:
    """The workspace's users and service principals, and who may do what on which app."""

    def __init__(self, config: SandboxConfig):
        self._by_username: dict[str, Principal] = {}
        self._pats: dict[str, str] = {}
        self._secrets: dict[str, str] = {}
        for user in config.users:
            self._by_username[user.email] = Principal("user", user.email, user.display_name, user.id)
            self._pats.update(dict.fromkeys(user.pats, user.email))
        for sp in config.service_principals:
            self._by_username[sp.application_id] = Principal(
                "service_principal", sp.application_id, sp.name, sp.id
            )
            self._secrets[sp.application_id] = sp.secret

    def principal(self, username: str) -> Principal | None:
        return self._by_username.get(username)

    def users(self) -> list[Principal]:
        return [p for p in self._by_username.values() if p.kind == "user"]

    def principals(self) -> list[Principal]:
        """Every user and service principal (each has a home folder `/Users/<username>`)."""
        return list(self._by_username.values())

    def by_pat(self, token: str) -> Principal | None:
        owner = self._pats.get(token)
        return self._by_username.get(owner) if owner else None

    def check_secret(self, client_id: str, secret: str) -> Principal | None:
        expected = self._secrets.get(client_id, "")
        ok = hmac.compare_digest(expected.encode(), (secret or "").encode()) and bool(expected)
        return self._by_username.get(client_id) if ok else None

    @staticmethod
    def permission_levels(app: AppSpec, principal: Principal) -> set[str]:
        return {
            g.level for g in app.permissions if g.kind == principal.kind and g.principal == principal.username
        }

    def can_use(self, app: AppSpec, principal: Principal) -> bool:
        return bool(self.permission_levels(app, principal) & {"CAN_USE", "CAN_MANAGE"})

    def can_manage(self, app: AppSpec, principal: Principal) -> bool:
        return "CAN_MANAGE" in self.permission_levels(app, principal)


class Authority:
    """Mints and checks the workspace's RS256 access tokens; keeps codes and refresh tokens."""

    def __init__(self, config: SandboxConfig, host: str):
        self.config = config
        self.host = host
        self.issuer = f"{host}/oidc"
        self.key = SigningKey("sandbox-ws")
        self.directory = Directory(config)
        self._lock = threading.Lock()
        self._codes: dict[str, Grant] = {}
        self._refresh: dict[str, Grant] = {}
        self._token_requests: Counter[str] = Counter()
        self._minted: set[str] = set()  # jti of every access token issued
        self._revoked: set[str] = set()

    def __repr__(self) -> str:
        return f"Authority(issuer={self.issuer!r})"

    # --- access tokens -------------------------------------------------------------------
    def mint(
        self, principal: Principal, client_id: str, scopes: list[str] | tuple[str, ...]
    ) -> tuple[str, int]:
        """A Databricks-shaped access token and its lifetime in seconds."""
        ttl = self.config.token_ttl_seconds
        now = int(time.time())
        claims: dict[str, Any] = {
            "client_id": client_id,
            "scope": " ".join(scopes),
            "iss": self.issuer,
            "aud": self.config.workspace_id,
            "sub": principal.username,
            "iat": now,
            "exp": now + ttl,
            "jti": str(uuid.uuid4()),
        }
        with self._lock:
            self._minted.add(claims["jti"])
        return self.key.sign(claims), ttl

    def revoke_issued(self) -> int:
        """Revoke every access token issued so far (as an admin revoking sessions would); returns how many."""
        with self._lock:
            fresh = self._minted - self._revoked
            self._revoked |= fresh
            return len(fresh)

    def verify(self, token: str) -> tuple[dict[str, Any], Principal]:
        """Claims and principal of a token this workspace issued, else TokenRejected."""
        claims = self.key.verify(token, issuer=self.issuer, audience=self.config.workspace_id)
        with self._lock:
            revoked = claims.get("jti") in self._revoked
        if revoked:
            raise TokenRejected("invalid_token", "the token was revoked")
        principal = self.directory.principal(str(claims.get("sub")))
        if principal is None:
            raise TokenRejected("unknown_subject", "the token's subject is not a user of this workspace")
        return claims, principal

    # --- authorization codes -------------------------------------------------------------
    def new_code(self, grant: Grant) -> str:
        code = secrets.token_urlsafe(32)
        with self._lock:
            self._purge(self._codes)
            self._codes[code] = Grant(**{**grant.__dict__, "expires_at": time.time() + CODE_TTL_SECONDS})
        return code

    def redeem_code(self, code: str, client_id: str, redirect_uri: str, verifier: str) -> Grant:
        """Single use: a code is gone after the first attempt, right or wrong (RFC 6749 §10.5)."""
        with self._lock:
            grant = self._codes.pop(code, None)
        if grant is None or grant.expires_at < time.time():
            raise OAuthError("invalid_grant", "the authorization code is invalid, expired or already used")
        if grant.client_id != client_id:
            raise OAuthError("invalid_grant", "the authorization code was issued to another client")
        if grant.redirect_uri != redirect_uri:
            raise OAuthError("invalid_grant", "redirect_uri does not match the authorization request")
        if not hmac.compare_digest(pkce_challenge(verifier), grant.code_challenge):
            raise OAuthError(
                "invalid_grant", "PKCE verification failed: code_verifier does not match code_challenge"
            )
        return grant

    # --- refresh tokens ------------------------------------------------------------------
    def new_refresh_token(self, grant: Grant) -> str:
        token = "dor" + secrets.token_urlsafe(32)
        expires_at = time.time() + self.config.refresh_token_ttl_seconds
        with self._lock:
            self._purge(self._refresh)
            self._refresh[token] = Grant(
                grant.principal, grant.client_id, grant.scopes, expires_at=expires_at
            )
        return token

    def use_refresh_token(self, token: str, client_id: str | None) -> Grant:
        with self._lock:
            grant = self._refresh.get(token)
        if grant is None or grant.expires_at < time.time():
            raise OAuthError("invalid_grant", "the refresh token is invalid or expired")
        if client_id and client_id != grant.client_id:
            raise OAuthError("invalid_grant", "the refresh token was issued to another client")
        return grant

    @staticmethod
    def _purge(store: dict[str, Grant]) -> None:
        if len(store) > 1000:
            now = time.time()
            for key in [k for k, g in store.items() if g.expires_at < now]:
                del store[key]

    # --- statistics (sandbox-only, for tests and benchmarks) ------------------------------
    def count_token_request(self, grant_type: str) -> None:
        with self._lock:
            self._token_requests[grant_type or "(none)"] += 1

    def token_stats(self) -> dict[str, Any]:
        with self._lock:
            by_grant = dict(self._token_requests)
        return {"token_requests": sum(by_grant.values()), "token_requests_by_grant": by_grant}

    def reset_stats(self) -> None:
        with self._lock:
            self._token_requests.clear()

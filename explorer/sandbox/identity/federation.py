"""Token federation: check an external JWT against the workspace's federation policies (RFC 8693)."""

from __future__ import annotations

import logging
from typing import Any

import jwt
import requests

from explorer.sandbox.config.schema import SANDBOX_IDP, FederationPolicy
from explorer.sandbox.identity.authority import Directory, OAuthError, Principal
from explorer.sandbox.identity.idp import StandInIdP
from explorer.sandbox.identity.signing import TokenRejected, unverified_claims, verify_with_key

log = logging.getLogger(__name__)


class Federation:
    def __init__(self, policies: list[FederationPolicy], idp: StandInIdP, directory: Directory):
        self._policies = policies
        self._idp = idp
        self._directory = directory
        self._jwks_clients: dict[str, jwt.PyJWKClient] = {}

    def issuer_of(self, policy: FederationPolicy) -> str:
        return self._idp.issuer if policy.issuer == SANDBOX_IDP else policy.issuer.rstrip("/")

    def exchange(self, subject_token: str, client_id: str | None) -> Principal:
        """The principal a trusted subject token stands for, else OAuthError."""
        claims = unverified_claims(subject_token)
        if claims is None:
            raise OAuthError("invalid_grant", "subject_token is not a JWT")
        issuer = str(claims.get("iss", "")).rstrip("/")
        trusting = [p for p in self._policies if self.issuer_of(p) == issuer]
        if not trusting:
            raise OAuthError("invalid_grant", f"no federation policy trusts the issuer {issuer or '(none)'}")
        claims = self._verify(subject_token, issuer, trusting[0])
        for policy in trusting:
            principal = self._match(policy, claims, client_id)
            if principal is not None:
                log.info("token exchange: %s -> %s", claims.get("sub"), principal.username)
                return principal
        raise OAuthError(
            "access_denied",
            "no federation policy matches the subject token's subject and audience for this client",
        )

    def _verify(self, token: str, issuer: str, policy: FederationPolicy) -> dict[str, Any]:
        try:
            if issuer == self._idp.issuer:
                return self._idp.key.verify(token, issuer=issuer)
            key = self._jwks_client(policy).get_signing_key_from_jwt(token).key
            return verify_with_key(token, key, issuer=issuer)
        except TokenRejected as exc:
            raise OAuthError("invalid_grant", f"subject_token rejected: {exc}") from None
        except jwt.PyJWTError as exc:  # JWKS unreachable or no matching key
            raise OAuthError("invalid_grant", f"cannot verify subject_token: {type(exc).__name__}") from None

    def _jwks_client(self, policy: FederationPolicy) -> jwt.PyJWKClient:
        uri = policy.jwks_uri or _discover_jwks_uri(self.issuer_of(policy))
        if uri not in self._jwks_clients:
            self._jwks_clients[uri] = jwt.PyJWKClient(uri, timeout=5)
        return self._jwks_clients[uri]

    def _match(
        self, policy: FederationPolicy, claims: dict[str, Any], client_id: str | None
    ) -> Principal | None:
        audiences = claims.get("aud")
        audiences = [audiences] if isinstance(audiences, str) else list(audiences or [])
        if not set(audiences) & set(policy.audiences):
            return None
        value = claims.get(policy.subject_claim)
        if not isinstance(value, str):
            return None
        if policy.service_principal is None:
            # Account-wide federation: the claim names a workspace user.
            principal = self._directory.principal(value)
            ok = principal is not None and principal.kind == "user" and not client_id
            return principal if ok else None
        if value != policy.subject or (client_id and client_id != policy.service_principal):
            return None
        return self._directory.principal(policy.service_principal)


def _discover_jwks_uri(issuer: str) -> str:
    """The issuer's JWKS location from its OpenID discovery document."""
    try:
        response = requests.get(f"{issuer}/.well-known/openid-configuration", timeout=5)
        response.raise_for_status()
        return str(response.json()["jwks_uri"])
    except (requests.RequestException, ValueError, KeyError) as exc:
        raise OAuthError(
            "invalid_grant", f"cannot discover the signing keys of {issuer}: {type(exc).__name__}"
        ) from None

"""The stand-in external identity provider (for token-federation demos), served under `/idp/`.

It mints RS256 JWTs for any subject and audience asked for, signed with its own key and
published in its own JWKS, like a CI system's or Entra ID's OIDC issuer would.
"""

from __future__ import annotations

import time
import uuid

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from explorer.sandbox.identity.authority import OAuthError
from explorer.sandbox.identity.oauth_forms import oauth_error_response, read_form
from explorer.sandbox.identity.signing import SigningKey


class StandInIdP:
    def __init__(self, host: str, ttl_seconds: int):
        self.issuer = f"{host}/idp"
        self.token_endpoint = f"{host}/idp/token"
        self.jwks_uri = f"{host}/idp/jwks.json"
        self.key = SigningKey("sandbox-idp")
        self.ttl_seconds = ttl_seconds

    def __repr__(self) -> str:
        return f"StandInIdP(issuer={self.issuer!r})"

    def mint(self, subject: str, audience: str) -> tuple[str, int]:
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "sub": subject,
            "aud": audience,
            "iat": now,
            "nbf": now,
            "exp": now + self.ttl_seconds,
            "jti": str(uuid.uuid4()),
        }
        return self.key.sign(claims, typ="JWT"), self.ttl_seconds

    def router(self) -> APIRouter:
        router = APIRouter(prefix="/idp", tags=["stand-in identity provider"])

        @router.get("/.well-known/openid-configuration")
        def discovery() -> dict:
            return {
                "issuer": self.issuer,
                "token_endpoint": self.token_endpoint,
                "jwks_uri": self.jwks_uri,
                "id_token_signing_alg_values_supported": ["RS256"],
            }

        @router.get("/jwks.json")
        def jwks() -> dict:
            return self.key.jwks()

        @router.post("/token")
        async def token(request: Request) -> JSONResponse:
            try:
                form = await read_form(request)
                subject, audience = form.get("subject", "").strip(), form.get("audience", "").strip()
                if not subject or not audience:
                    raise OAuthError("invalid_request", "form fields 'subject' and 'audience' are required")
            except OAuthError as exc:
                return oauth_error_response(exc)
            jwt_text, ttl = self.mint(subject, audience)
            body = {"access_token": jwt_text, "token_type": "Bearer", "expires_in": ttl}
            return JSONResponse(body, headers={"Cache-Control": "no-store"})

        return router

"""RSA signing keys, JWKS documents and RS256 JWT verification with reasons a caller can act on."""

from __future__ import annotations

import secrets
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm


class TokenRejected(Exception):
    """A JWT that does not verify. `reason` is one of: malformed, bad_signature, expired, issuer, audience."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


class SigningKey:
    """One RSA key pair with a key id; signs JWTs and verifies JWTs it signed."""

    def __init__(self, kid_prefix: str):
        self._private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self._public = self._private.public_key()
        self.kid = f"{kid_prefix}-{secrets.token_hex(4)}"

    def __repr__(self) -> str:
        return f"SigningKey(kid={self.kid!r})"

    def jwks(self) -> dict[str, Any]:
        jwk = RSAAlgorithm.to_jwk(self._public, as_dict=True)
        jwk.update({"kid": self.kid, "use": "sig", "alg": "RS256"})
        return {"keys": [jwk]}

    def sign(self, claims: dict[str, Any], typ: str = "at+jwt") -> str:
        return jwt.encode(claims, self._private, algorithm="RS256", headers={"kid": self.kid, "typ": typ})

    def verify(self, token: str, *, issuer: str, audience: str | list[str] | None = None) -> dict[str, Any]:
        """Claims of a token this key signed, or TokenRejected saying what is wrong with it."""
        return verify_with_key(token, self._public, issuer=issuer, audience=audience)


def verify_with_key(
    token: str, key: Any, *, issuer: str | None, audience: str | list[str] | None = None
) -> dict[str, Any]:
    options = {"require": ["exp", "iat", "sub"], "verify_aud": audience is not None}
    try:
        return jwt.decode(
            token, key, algorithms=["RS256"], issuer=issuer, audience=audience, options=options, leeway=0
        )
    except jwt.ExpiredSignatureError:
        raise TokenRejected("expired", "the token has expired") from None
    except jwt.InvalidSignatureError:
        raise TokenRejected("bad_signature", "the token is not signed by a key this server trusts") from None
    except jwt.InvalidIssuerError:
        raise TokenRejected("issuer", "the token was issued by another issuer") from None
    except jwt.InvalidAudienceError:
        raise TokenRejected("audience", "the token is meant for another audience") from None
    except jwt.InvalidAlgorithmError:
        raise TokenRejected("bad_signature", "the token is not signed with RS256") from None
    except jwt.PyJWTError as exc:
        raise TokenRejected("malformed", f"the token is not a valid JWT ({type(exc).__name__})") from None


def unverified_claims(token: str) -> dict[str, Any] | None:
    """Claims without verification (to find the issuer first); None when it is not a JWT."""
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return None
    return claims if isinstance(claims, dict) else None

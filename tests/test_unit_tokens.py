"""tokens.py: what a pasted or minted token is, who it is for, when it expires, which scopes it lacks."""

from __future__ import annotations

import base64
import json
import secrets
import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from explorer.redact import mask
from explorer.tokens import decode_token, describe_expiry, missing_scopes

KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
NOW = 1_800_000_000.0
EFFECTIVE_APP_SCOPES = ["sql", "files.files", "iam.access-control:read", "iam.current-user:read"]


def mint(claims: dict, typ: str = "at+jwt") -> str:
    """A real RS256 JWT, signed the way the workspace signs its access tokens."""
    return jwt.encode(claims, KEY, algorithm="RS256", headers={"typ": typ, "kid": "k1"})


def databricks_claims(**overrides) -> dict:
    claims = {
        "iss": "https://adb-123.4.azuredatabricks.net/oidc",
        "aud": "1234567890",
        "sub": "alice@example.com",
        "client_id": "databricks-cli",
        "scope": "offline_access all-apis",
        "iat": int(NOW),
        "exp": int(NOW) + 3600,
        "jti": secrets.token_hex(8),
    }
    claims.update(overrides)
    return claims


def test_a_workspace_oauth_token_is_decoded_with_identity_expiry_and_scopes():
    token = mint(databricks_claims())
    info = decode_token(token)
    assert info.kind == "oauth"
    assert info.issuer == "https://adb-123.4.azuredatabricks.net/oidc"
    assert info.workspace_host == "https://adb-123.4.azuredatabricks.net"
    assert (info.audience, info.subject, info.client_id) == (
        "1234567890",
        "alice@example.com",
        "databricks-cli",
    )
    assert info.token_type == "at+jwt"
    assert (info.issued_at, info.expires_at) == (NOW, NOW + 3600)
    assert info.scopes == ["offline_access", "all-apis"]
    assert info.masked == mask(token)


def test_the_decoded_view_never_holds_the_token_or_its_signature():
    token = mint(databricks_claims())
    info = decode_token(token)
    signature = token.rsplit(".", 1)[1]
    assert token not in repr(info) and signature not in repr(info)
    assert "signature" not in info.claims


def test_base_scopes_do_not_cover_an_apps_user_authorization_scopes():
    token = mint(databricks_claims(scope="all-apis offline_access"))
    info = decode_token(token, required_scopes=EFFECTIVE_APP_SCOPES)
    assert info.required_scopes == EFFECTIVE_APP_SCOPES
    assert info.missing_scopes == [s for s in EFFECTIVE_APP_SCOPES if not s.startswith("iam.")]


def test_platform_added_iam_scopes_are_not_required_of_the_caller():
    # the gateway asks a caller for the app's own scopes; the platform adds the iam.* ones itself
    token = mint(databricks_claims(scope="sql files.files"))
    info = decode_token(token, required_scopes=EFFECTIVE_APP_SCOPES)
    assert info.missing_scopes == []


def test_missing_scopes_keeps_the_required_order_without_duplicates():
    assert missing_scopes(["a"], ["c", "a", "b", "c"]) == ["c", "b"]
    assert missing_scopes(["all-apis"], []) == []


def test_an_entra_id_token_is_recognised_and_its_app_id_is_the_client():
    token = mint(
        {
            "iss": "https://sts.windows.net/72f988bf-86f1-41af-91ab-2d7cd011db47/",
            "aud": "2ff814a6-3304-4ab8-85cb-cd0e6f879c1d",
            "appid": "11111111-2222-3333-4444-555555555555",
            "scp": "user_impersonation",
            "exp": int(NOW) + 600,
        },
        typ="JWT",
    )
    info = decode_token(token)
    assert info.kind == "entra"
    assert info.client_id == "11111111-2222-3333-4444-555555555555"
    assert info.scopes == ["user_impersonation"]


def test_an_entra_v2_token_uses_azp_as_the_client():
    token = mint(
        {"iss": "https://login.microsoftonline.com/tid/v2.0", "azp": "client-app", "scp": ["a", "b"]}
    )
    info = decode_token(token)
    assert (info.kind, info.client_id, info.scopes) == ("entra", "client-app", ["a", "b"])


def test_a_jwt_from_another_issuer_is_foreign():
    info = decode_token(mint({"iss": "https://idp.example.com", "sub": "svc", "aud": ["a", "b"]}))
    assert info.kind == "foreign"
    assert info.audience == ["a", "b"]


def test_a_personal_access_token_is_recognised_and_masked():
    pat = "dapi" + secrets.token_hex(16)
    info = decode_token(pat)
    assert info.kind == "pat"
    assert info.masked == f"dapi…{pat[-3:]}"
    assert info.claims == {} and info.scopes == []


@pytest.mark.parametrize("empty", [None, "", "   ", b""])
def test_no_token_is_kind_none(empty):
    info = decode_token(empty, required_scopes=["sql"])
    assert info.kind == "none" and info.masked == ""
    assert info.missing_scopes == ["sql"]


def test_a_pasted_bearer_prefix_is_ignored():
    token = mint(databricks_claims())
    assert decode_token(f"Bearer {token}\n").subject == "alice@example.com"


def segment(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


GARBAGE = [
    "not a token",
    "a.b.c",
    "eyJ.eyJ.",
    "...",
    segment(b'{"alg":"none"}') + "." + segment(b"[1, 2, 3]") + ".sig",  # claims not an object
    segment(b"\xff\xfe\xfd") + "." + segment(b"\x80abc") + ".x",  # not UTF-8
    segment(b'{"a":1}') + "." + segment(b"{bad json") + ".x",
    segment(b'{"a":1}') + "." + segment(b'{"a":1}') + ".x.y",  # five-part JWE shape
    "é.ü.ß",
    "eyJ" + "A" * 200_000,  # huge
    b"\x00\xff binary",
]


@pytest.mark.parametrize("garbage", GARBAGE, ids=range(len(GARBAGE)))
def test_garbage_gives_an_opaque_claims_free_view_instead_of_an_error(garbage):
    info = decode_token(garbage, required_scopes=["sql"])
    assert info.kind == "opaque"
    assert info.claims == {} and info.issuer is None and info.scopes == []
    assert info.missing_scopes == ["sql"]


def test_claims_of_the_wrong_type_are_ignored_not_trusted():
    claims = {"iss": ["x"], "sub": 5, "iat": True, "exp": "soon", "scope": 7, "client_id": None}
    token = f"{segment(b'{}')}.{segment(json.dumps(claims).encode())}.sig"
    info = decode_token(token)
    assert info.kind == "foreign"
    assert (info.issuer, info.subject, info.issued_at, info.expires_at, info.client_id) == (None,) * 5
    assert info.scopes == []


def test_an_absurd_expiry_is_dropped():
    header = segment(b'{"alg":"RS256","typ":"at+jwt"}')
    claims = segment(json.dumps({"iss": "https://h/oidc", "exp": 10**400}).encode())
    assert decode_token(f"{header}.{claims}.sig").expires_at is None


@pytest.mark.parametrize(
    ("offset", "expected"),
    [
        (3599, "expires in 59 min"),
        (3600, "expires in 1 h"),
        (5400, "expires in 1 h 30 min"),
        (45, "expires in 45 s"),
        (2 * 86400 + 3600, "expires in 2 d 1 h"),
        (-180, "expired 3 min ago"),
        (-1, "expired 1 s ago"),
    ],
)
def test_expiry_is_described_relative_to_now(offset, expected):
    info = decode_token(mint(databricks_claims(exp=NOW + offset)))
    assert describe_expiry(info, NOW) == expected


def test_a_token_without_expiry_says_so():
    assert describe_expiry(decode_token("opaque-token-value")) == "no expiry"


def test_describe_expiry_defaults_to_the_current_time():
    info = decode_token(mint(databricks_claims(exp=time.time() + 600)))
    assert describe_expiry(info).startswith("expires in ")

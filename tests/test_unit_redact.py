"""redact.py: masking, header redaction, scrubbing free text, and the logging filter."""

from __future__ import annotations

import base64
import io
import json
import logging
import secrets
import threading
from urllib.parse import quote, quote_plus

import pytest

from explorer.redact import (
    Redactor,
    install_log_filter,
    is_secret_field,
    is_secret_header,
    mask,
    redact_form,
    redact_headers,
    redact_json,
    redact_url,
    scrub,
    uninstall_log_filter,
)


def fake_jwt() -> str:
    """A JWT-shaped string with random claims and signature (signature validity is irrelevant here)."""

    def segment(value: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    claims = {"iss": "https://ws.example.com/oidc", "sub": secrets.token_hex(8), "jti": secrets.token_hex(16)}
    return f"{segment({'alg': 'RS256', 'typ': 'at+jwt'})}.{segment(claims)}.{secrets.token_urlsafe(64)}"


def fake_pat() -> str:
    return "dapi" + secrets.token_hex(16)


def test_mask_keeps_four_leading_and_three_trailing_characters_of_a_long_secret():
    token = fake_jwt()
    assert mask(token) == f"{token[:4]}…{token[-3:]}"
    assert token not in mask(token)


def test_mask_hides_short_secrets_completely_and_marks_absent_ones_empty():
    assert mask("short-secret") == "•••"
    assert mask("") == ""
    assert mask(None) == ""


def test_masking_twice_keeps_the_recognisable_form():
    once = mask(fake_jwt())
    assert mask(once) == once
    assert mask("•••") == "•••"


def test_credential_headers_are_masked_keeping_the_scheme_and_other_headers_untouched():
    token, pat = fake_jwt(), fake_pat()
    headers = [
        ("Authorization", f"Bearer {token}"),
        ("proxy-authorization", f"Basic {base64.b64encode(b'user:' + pat.encode()).decode()}"),
        ("X-Forwarded-Access-Token", token),
        ("Content-Type", "application/json"),
        ("X-Request-Id", "5b0d4f3e-1111-2222-3333-444455556666"),
    ]
    redacted = dict(redact_headers(headers))
    assert redacted["Authorization"] == f"Bearer {mask(token)}"
    assert redacted["proxy-authorization"].startswith("Basic ")
    assert redacted["X-Forwarded-Access-Token"] == mask(token)
    assert redacted["Content-Type"] == "application/json"
    assert redacted["X-Request-Id"] == "5b0d4f3e-1111-2222-3333-444455556666"
    assert token not in repr(redacted) and pat not in repr(redacted)


def test_cookies_keep_their_names_and_attributes_but_not_their_values():
    session = secrets.token_urlsafe(32)
    redacted = dict(
        redact_headers(
            [
                ("Cookie", f"__Host-databricks-app-router={session}; theme=dark"),
                ("Set-Cookie", f"session={session}; Path=/; HttpOnly; Secure"),
            ]
        )
    )
    assert redacted["Cookie"] == f"__Host-databricks-app-router={mask(session)}; theme=•••"
    assert redacted["Set-Cookie"] == f"session={mask(session)}; Path=/; HttpOnly; Secure"


@pytest.mark.parametrize(
    "name", ["Authorization", "COOKIE", "x-databricks-azure-sp-management-token", "X-Api-Key", "X-My-Token"]
)
def test_secret_header_names_are_recognised_case_insensitively(name):
    assert is_secret_header(name)


@pytest.mark.parametrize("name", ["Content-Type", "X-Databricks-Workspace-Id", "X-Request-Id", "Accept"])
def test_ordinary_header_names_are_not_secret(name):
    assert not is_secret_header(name)


def test_secret_fields_match_credential_names_but_not_lookalikes():
    for name in (
        "access_token",
        "refresh_token",
        "client_secret",
        "code",
        "code_verifier",
        "X-Forwarded-Access-Token",
    ):
        assert is_secret_field(name), name
    for name in ("token_type", "expires_in", "max_tokens", "scope", "grant_type", 42):
        assert not is_secret_field(name), name


def test_redactor_scrubs_known_secrets_and_their_url_encoded_forms():
    secret = "s3cr3t+/=" + secrets.token_urlsafe(20)
    redactor = Redactor([secret])
    text = f"client_secret={quote_plus(secret)} and raw {secret} again"
    scrubbed = redactor.scrub(text)
    assert secret not in scrubbed and quote_plus(secret) not in scrubbed
    assert scrubbed == f"client_secret={mask(quote_plus(secret))} and raw {mask(secret)} again"


def test_redactor_scrubs_any_jwt_and_pat_even_when_not_told_about_them():
    token, pat = fake_jwt(), fake_pat()
    scrubbed = Redactor().scrub(f"got {token} and {pat}.")
    assert token not in scrubbed and pat not in scrubbed
    assert mask(token) in scrubbed and mask(pat) in scrubbed
    assert scrub(f"x {token} y") == f"x {mask(token)} y"


def test_a_jwt_cut_short_by_truncation_is_still_scrubbed():
    token = fake_jwt()
    truncated = token[: token.index(".", token.index(".") + 1) - 5]  # header + part of the claims
    assert truncated not in Redactor().scrub(f'{{"token": "{truncated}')


def test_redactor_ignores_empty_and_tiny_secrets_instead_of_garbling_text():
    redactor = Redactor([None, "", "abc"])
    assert redactor.scrub("abc abc") == "abc abc"


def test_a_secret_containing_another_is_replaced_whole():
    inner = secrets.token_hex(12)
    outer = inner + secrets.token_hex(12)
    scrubbed = Redactor([inner, outer]).scrub(outer)
    assert scrubbed == mask(outer)


def test_basic_auth_credentials_are_scrubbed_in_their_base64_form():
    client_id, secret = "1b2c3d4e-app", "dose" + secrets.token_hex(16)
    redactor = Redactor([secret])
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    scrubbed = redactor.scrub(f"Authorization: Basic {basic} ({secret})")
    assert basic not in scrubbed and secret not in scrubbed
    # a Basic credential is scrubbed even when the session never learnt its secret
    assert basic not in Redactor().scrub(f"headers={{'Authorization': 'Basic {basic}'}}")


def test_a_secret_is_scrubbed_in_every_escaped_and_encoded_form():
    secret = "eyJhbGciOiJSUzI1NiJ9." + secrets.token_urlsafe(24) + "\n" + secrets.token_urlsafe(24) + "/+="
    redactor = Redactor([secret])
    forms = {
        "raw": secret,
        "json": json.dumps(secret),
        "repr": repr(secret),
        "url": quote(secret, safe=""),
        "url-plus": quote_plus(secret),
        "base64": base64.b64encode(secret.encode()).decode(),
        "second line": secret.split("\n")[1],
        "joined": secret.replace("\n", ""),
    }
    for name, text in forms.items():
        scrubbed = redactor.scrub(f"header {text!s} quoted")
        tail = secret.split("\n")[1][:12]
        assert tail not in scrubbed, name


def test_redactor_repr_reveals_nothing():
    secret = secrets.token_hex(20)
    assert secret not in repr(Redactor([secret]))


def test_redactor_is_safe_to_share_between_threads():
    redactor = Redactor()
    added = [secrets.token_hex(16) for _ in range(200)]
    errors: list[BaseException] = []

    def add_all():
        for secret in added:
            redactor.add(secret)

    def scrub_all():
        try:
            for secret in added:
                redactor.scrub(f"value {secret}")
        except BaseException as error:  # pragma: no cover - the assertion below reports it
            errors.append(error)

    threads = [threading.Thread(target=add_all), *(threading.Thread(target=scrub_all) for _ in range(3))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert all(s not in redactor.scrub(" ".join(added)) for s in added)


def test_urls_lose_credential_query_values_but_keep_the_rest():
    code, token = secrets.token_urlsafe(24), fake_jwt()
    url = f"https://app.example.com/api/cb?state=abc&code={code}&access_token={token}&page=2"
    redacted = redact_url(url)
    assert code not in redacted and token not in redacted
    assert "state=abc" in redacted and "page=2" in redacted
    assert redact_url("https://app.example.com/api/x") == "https://app.example.com/api/x"


def test_form_bodies_lose_credential_values_but_keep_their_layout():
    secret = "dose" + secrets.token_hex(16)
    body = f"grant_type=client_credentials&client_secret={secret}&scope=all-apis"
    redacted = redact_form(body)
    assert secret not in redacted
    assert redacted.startswith("grant_type=client_credentials&client_secret=")
    assert redacted.endswith("&scope=all-apis")


def test_json_values_under_credential_keys_are_masked_at_any_depth():
    token = fake_jwt()
    value = {"token_type": "Bearer", "data": [{"refresh_token": token, "name": "x"}], "expires_in": 3600}
    redacted = redact_json(value)
    assert redacted["token_type"] == "Bearer" and redacted["expires_in"] == 3600
    assert redacted["data"][0] == {"refresh_token": mask(token), "name": "x"}
    assert value["data"][0]["refresh_token"] == token  # the input is not modified


def test_scrub_body_handles_json_form_and_text_bodies():
    secret = "dose" + secrets.token_hex(16)
    redactor = Redactor()
    as_json = redactor.scrub_body(json.dumps({"client_secret": secret, "n": 1}), "application/json")
    as_form = redactor.scrub_body(f"client_secret={secret}", "application/x-www-form-urlencoded")
    assert secret not in as_json and json.loads(as_json)["n"] == 1
    assert secret not in as_form
    assert redactor.scrub_body('{"n": 1}', "application/json") == '{"n": 1}'  # layout kept when clean
    assert redactor.scrub_body(None) is None


def test_the_log_filter_scrubs_messages_arguments_and_tracebacks_of_every_logger():
    secret, token = "dose" + secrets.token_hex(16), fake_jwt()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger = logging.getLogger("explorer.tests.redact.child")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    log_filter = install_log_filter(Redactor([secret]))
    try:
        logger.info("secret %s and token %s", secret, token)
        try:
            raise RuntimeError(f"token endpoint said no to {secret}")
        except RuntimeError:
            logger.exception("failed with %r", {"Authorization": f"Bearer {token}"})
        logger.warning("bad format %s %s", secret)  # a broken format string still gets scrubbed
    finally:
        uninstall_log_filter(log_filter)
        logger.removeHandler(handler)
    output = stream.getvalue()
    assert secret not in output and token not in output
    assert mask(token) in output and "RuntimeError" in output


def test_after_uninstalling_only_pattern_scrubbing_remains():
    secret = "dose" + secrets.token_hex(16)
    log_filter = install_log_filter(Redactor([secret]))
    uninstall_log_filter(log_filter)
    record = logging.getLogger("explorer.tests.redact").makeRecord(
        "x", logging.INFO, __file__, 1, "value %s", (secret,), None
    )
    assert record.getMessage() == f"value {secret}"

"""Fast unit tests for the engine's pure parts: body decoding, finding order, error classification."""

from __future__ import annotations

import json
import socket
import ssl

import pytest
import requests
from hypothesis import given
from hypothesis import strategies as st

from explorer.diagnose import diagnose, presend_findings, sort_findings
from explorer.failures import finding_for_error
from explorer.model import AuthInfo, Exchange, Finding, RequestSpec, Response, TokenInfo
from explorer.send import decode_body, reindent_json_prefix


def test_json_is_parsed_and_pretty_printed():
    kind, parsed, text = decode_body(b'{"a":[1,2]}', 11, "application/json")

    assert kind == "json" and parsed == {"a": [1, 2]}
    assert text == json.dumps({"a": [1, 2]}, indent=2)


def test_invalid_json_falls_back_to_text():
    kind, parsed, text = decode_body(b"{not json", 9, "application/json")

    assert kind == "text" and parsed is None and text == "{not json"


def test_truncated_json_is_reindented_with_a_notice():
    prefix = b'[{"id":1,"name":"a, b"},{"id":2,"na'

    kind, parsed, text = decode_body(prefix, 10_000_000, "application/json", truncated=True)

    assert kind == "json" and parsed is None
    assert '"name": "a, b"' in text  # commas inside strings are not line breaks
    assert text.endswith("[truncated: showing the first 35 B of 9.5 MB]")


def test_binary_gets_a_summary():
    kind, _, text = decode_body(b"\x89PNG\r\n\x1a\n\x00\x00", 2048, "image/png")

    assert kind == "binary" and "2.0 KB" in text and "89 50 4e 47" in text


def test_text_respects_the_charset():
    kind, _, text = decode_body("grüß".encode("latin-1"), 4, "text/plain; charset=latin-1")

    assert kind == "text" and text == "grüß"


def test_empty_body():
    assert decode_body(b"", 0, "application/json") == ("empty", None, "")


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(),
        lambda c: st.lists(c) | st.dictionaries(st.text(), c),
    )
)
def test_reindenting_a_whole_document_keeps_it_equal(value):
    text = json.dumps(value)

    assert json.loads(reindent_json_prefix(text)) == value


@given(
    st.binary(max_size=300),
    st.sampled_from(["", "application/json", "text/plain", "application/octet-stream"]),
)
def test_decode_body_never_raises(data, content_type):
    kind, _, text = decode_body(data, len(data) + 5, content_type, truncated=True)

    assert kind in ("json", "text", "binary", "empty") and isinstance(text, str)


def test_findings_sort_errors_first_and_causes_before_symptoms():
    findings = [
        Finding("PATH_NOT_API", "warning", "m", "f"),
        Finding("REDIRECTED_TO_LOGIN", "error", "m", "f"),
        Finding("TOKEN_MISSING", "error", "m", "f"),
        Finding("TOKEN_MISSING", "warning", "m", "f"),
    ]

    assert [(f.code, f.severity) for f in sort_findings(findings)] == [
        ("TOKEN_MISSING", "error"),
        ("REDIRECTED_TO_LOGIN", "error"),
        ("PATH_NOT_API", "warning"),
    ]


def _connection_error(reason: BaseException) -> requests.exceptions.ConnectionError:
    try:
        try:
            raise reason
        except BaseException as inner:
            raise requests.exceptions.ConnectionError("wrapped") from inner
    except requests.exceptions.ConnectionError as outer:
        return outer


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (_connection_error(socket.gaierror(-2, "Name or service not known")), "NETWORK_DNS"),
        (_connection_error(ConnectionRefusedError(111, "Connection refused")), "NETWORK_CONNECT"),
        (requests.exceptions.SSLError(ssl.SSLError("CERTIFICATE_VERIFY_FAILED")), "NETWORK_TLS"),
        (requests.exceptions.ProxyError("proxy said no"), "NETWORK_PROXY"),
        (requests.exceptions.ConnectTimeout("slow connect"), "NETWORK_CONNECT"),
        (requests.exceptions.ReadTimeout("slow read"), "TIMEOUT"),
        (ValueError("invalid_client: Client authentication failed"), "AUTH_FAILED"),
    ],
)
def test_errors_are_classified(error, code):
    assert finding_for_error(error, "https://app.example.com/api/x", 5).code == code


def _exchange(status: int, *, token: TokenInfo | None, headers=(), location=None, path="/api/x") -> Exchange:
    response = Response(status, "", list(headers), b"", 0, 1.0, 1.0, location=location)
    auth = AuthInfo("token", "test") if token else None
    return Exchange("x", 0.0, RequestSpec("GET", "https://a.example.com" + path), response, auth, token)


def test_expired_token_explains_a_401():
    token = TokenInfo(masked="eyJh…abc", kind="oauth", expires_at=1.0)

    findings = diagnose(_exchange(401, token=token))

    assert findings[0].code == "TOKEN_EXPIRED" and findings[0].severity == "error"


def test_insufficient_scope_challenge_names_the_scopes():
    token = TokenInfo(masked="eyJh…abc", kind="oauth", scopes=["all-apis"])
    challenge = ("WWW-Authenticate", 'Bearer error="insufficient_scope", scope="sql files.files"')

    findings = diagnose(_exchange(403, token=token, headers=[challenge]))

    assert findings[0].code == "SCOPE_MISSING" and "sql files.files" in findings[0].message


def test_success_turns_earlier_worries_into_notes():
    findings = diagnose(_exchange(200, token=None, path="/logz"))

    assert {(f.code, f.severity) for f in findings} == {("PATH_NOT_API", "info"), ("TOKEN_MISSING", "info")}


def test_presend_warnings_for_a_pat():
    token = TokenInfo(masked="dapi…123", kind="pat")

    warned = presend_findings(RequestSpec("GET", "https://a.example.com/api/x"), token, True)

    assert [f.code for f in warned] == ["TOKEN_NOT_OAUTH"] and warned[0].severity == "warning"

"""Property tests: the parsers take anything a user (or a hostile app) can throw at them.

For every input: either a clean value, or the module's documented error type with a short,
single-line message. Nothing else escapes, nothing hangs.
"""

from __future__ import annotations

import base64
import json
import re
import string
from urllib.parse import parse_qsl, urlsplit

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from explorer.discovery import MAX_ENDPOINTS, DiscoveryError, count_operations, parse_openapi, resolve_refs
from explorer.parse import (
    InputError,
    normalize_host,
    normalize_url,
    parse_header_line,
    parse_header_lines,
    parse_json_body,
    parse_query,
    parse_scopes,
    url_with_params,
)
from explorer.tokens import decode_token

PROPS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FEW = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
KINDS = {"oauth", "pat", "entra", "foreign", "opaque", "none"}
BASE = "https://hello-1234567890.aws.databricksapps.com"


def assert_readable(error: Exception) -> None:
    message = str(error)
    assert message and len(message) <= 200
    assert not any(ch in message for ch in "\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")


def outcome(call, *args, errors=(InputError,)):
    """The call's result, or None after checking that the documented error is readable."""
    try:
        return call(*args)
    except errors as error:
        assert_readable(error)
        return None


# --- strategies --------------------------------------------------------------------------------

label = st.text(string.ascii_lowercase + string.digits, min_size=1, max_size=12).filter(
    lambda s: not s.startswith("-")
)
hosts = st.lists(label, min_size=1, max_size=4).map(".".join)
path_chars = string.ascii_letters + string.digits + "-._~/%!$&'()*+,;=:@"
paths = st.text(path_chars, max_size=40).map(lambda p: "/" + p.lstrip("/"))
ports = st.one_of(st.none(), st.integers(1, 65535))
weird_text = st.text(
    st.characters(blacklist_categories=("Cs",)) | st.sampled_from(list("/:?#[]@ \t\n\r\x00%.\\")), max_size=80
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


@st.composite
def urls(draw) -> tuple[str, str, int | None, str]:
    scheme, host, port, path = draw(st.sampled_from(["http", "https"])), draw(hosts), draw(ports), draw(paths)
    netloc = host if port is None else f"{host}:{port}"
    return f"{scheme}://{netloc}{path}", host, port, path


# --- URLs and hosts ---------------------------------------------------------------------------


@PROPS
@given(weird_text, st.one_of(st.none(), st.just(BASE), weird_text))
def test_normalize_url_returns_a_clean_url_or_a_readable_error(text, base):
    result = outcome(normalize_url, text, base)
    if result is not None:
        parts = urlsplit(result)
        assert parts.scheme in ("http", "https") and parts.hostname
        assert not any(ch.isspace() for ch in result)
        assert normalize_url(result) == result  # idempotent


@PROPS
@given(urls())
def test_well_formed_urls_keep_their_host_port_and_path(generated):
    url, host, port, path = generated
    result = normalize_url(url)
    parts = urlsplit(result)
    assert (parts.hostname, parts.port, parts.path) == (host, port, path.split("?")[0].split("#")[0])


@PROPS
@given(st.sampled_from(["/", "//", "/\\", " /", "/%2F/", "/@"]), weird_text)
def test_a_path_never_leaves_the_base_apps_host(prefix, rest):
    result = outcome(normalize_url, prefix + rest, BASE)
    if result is not None:
        assert result.startswith(BASE + "/")


@PROPS
@given(st.text(path_chars + "?#", max_size=40))
def test_clean_paths_always_join_the_base(rest):
    path = "/" + rest.lstrip("/")
    result, typed = urlsplit(normalize_url(path, BASE)), urlsplit(path)
    assert f"{result.scheme}://{result.netloc}" == BASE
    assert (result.path, result.query, result.fragment) == (typed.path, typed.query, "")


@PROPS
@given(weird_text)
def test_normalize_host_gives_an_origin_or_a_readable_error(text):
    result = outcome(normalize_host, text)
    if result is not None:
        parts = urlsplit(result)
        assert parts.scheme in ("http", "https") and parts.hostname and parts.path == ""
        assert normalize_host(result) == result


@PROPS
@given(urls(), st.lists(st.tuples(st.text(min_size=1), st.text()), max_size=5))
def test_params_round_trip_through_the_url(generated, params):
    assume(all("\x00" not in k + v for k, v in params))
    url = generated[0].split("?")[0].split("#")[0]
    sent = url_with_params(url, params)
    assert parse_qsl(urlsplit(sent).query, keep_blank_values=True) == params


# --- headers, query, JSON, scopes ------------------------------------------------------------

header_names = st.text(string.ascii_letters + string.digits + "!#$%&'*+-.^_`|~", min_size=1, max_size=20)
header_values = st.text(
    st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp"), blacklist_characters="\x85"), max_size=40
).map(str.strip)


@PROPS
@given(weird_text)
def test_any_header_line_parses_or_is_explained(line):
    result = outcome(parse_header_line, line)
    if result is not None:
        name, value = result
        assert re.fullmatch(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+", name)
        assert "\r" not in value and "\n" not in value and "\x00" not in value


@PROPS
@given(header_names, header_values)
def test_header_lines_round_trip(name, value):
    assume(value.isprintable())
    assert parse_header_line(f"{name}: {value}") == (name, value)
    assert parse_header_lines(f"\n{name}:{value}\n\n") == [(name, value)]


@PROPS
@given(weird_text)
def test_header_blocks_parse_or_name_the_line(text):
    try:
        parse_header_lines(text)
    except InputError as error:
        assert_readable(error)
        assert str(error).startswith("line ")


@PROPS
@given(
    st.one_of(
        weird_text,
        st.lists(
            st.lists(st.one_of(st.none(), st.text(max_size=10), st.integers(), st.floats()), max_size=4)
        ),
        st.dictionaries(st.text(max_size=10), st.text(max_size=10)),
        st.integers(),
    )
)
def test_query_parameters_parse_or_are_explained(value):
    result = outcome(parse_query, value)
    if result is not None:
        assert all(isinstance(k, str) and k and isinstance(v, str) for k, v in result)


@PROPS
@given(weird_text)
def test_any_body_text_parses_as_json_or_says_where_it_fails(text):
    try:
        parse_json_body(text)
    except InputError as error:
        assert_readable(error)
        try:
            json.loads(text)
        except json.JSONDecodeError as decode:  # a syntax error: the message says where it is
            assert f"line {decode.lineno} col {decode.colno}" in str(error), str(error)
        except (ValueError, RecursionError):
            pass  # NaN/Infinity, nesting or a huge integer: named, not located


@PROPS
@given(json_values, st.booleans())
def test_json_bodies_round_trip(value, pretty):
    text = json.dumps(value, indent=2 if pretty else None)
    assert parse_json_body(text) == value


@PROPS
@given(st.one_of(weird_text, st.lists(weird_text, max_size=4)))
def test_scopes_parse_or_are_explained(value):
    result = outcome(parse_scopes, value)
    if result is not None:
        assert len(result) == len(set(result))
        assert all(s and not any(ch.isspace() or ch == "," for ch in s) for s in result)


# --- token decoding ---------------------------------------------------------------------------


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@PROPS
@given(st.one_of(st.none(), weird_text, st.binary(max_size=200)))
def test_decoding_never_fails_on_any_text_or_bytes(token):
    info = decode_token(token, ["sql"])
    assert info.kind in KINDS
    if info.kind in ("opaque", "pat", "none"):
        assert info.claims == {} and info.issuer is None


@PROPS
@given(st.lists(st.binary(max_size=120), min_size=1, max_size=5))
def test_decoding_never_fails_on_random_base64_segments(segments):
    info = decode_token(".".join(b64(s) for s in segments))
    assert info.kind in KINDS


claim_values = st.one_of(
    json_values,
    st.text(max_size=30),
    st.sampled_from(["https://adb-1.azuredatabricks.net/oidc", "https://sts.windows.net/t/", "sql all-apis"]),
    st.integers(-(10**20), 10**20),
    st.lists(st.text(max_size=10), max_size=4),
)
claims_dicts = st.dictionaries(
    st.sampled_from(["iss", "aud", "sub", "client_id", "appid", "azp", "scope", "scp", "iat", "exp", "jti"])
    | st.text(max_size=8),
    claim_values,
    max_size=8,
)


@PROPS
@given(
    claims_dicts,
    st.dictionaries(st.text(max_size=5), json_values, max_size=3),
    st.binary(min_size=16, max_size=64),
)
def test_random_claims_decode_into_typed_fields_without_the_signature(claims, header, signature):
    sig = b64(signature)
    token = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}.{sig}"
    info = decode_token(token, ["sql"])
    assert info.kind in ("oauth", "entra", "foreign")
    assert info.issuer == (claims["iss"] if isinstance(claims.get("iss"), str) and claims["iss"] else None)
    assert all(isinstance(s, str) and s for s in info.scopes)
    assert info.expires_at is None or isinstance(info.expires_at, float)
    assert info.missing_scopes == ([] if "sql" in info.scopes else ["sql"])
    assume(sig not in json.dumps(claims) and sig not in json.dumps(header))
    assert sig not in repr(info) and token not in repr(info)


# --- OpenAPI documents ------------------------------------------------------------------------

SCHEMA_NAMES = ["A", "B", "C"]
refs = st.sampled_from(
    [f"#/components/schemas/{n}" for n in SCHEMA_NAMES] + ["#/nowhere", "other.json#/X", "#"]
)
schemas = st.recursive(
    st.one_of(
        st.builds(
            dict, type=st.sampled_from(["string", "integer", "number", "boolean", "null", "object", "array"])
        ),
        st.builds(lambda r: {"$ref": r}, refs),
        st.builds(lambda v: {"example": v}, json_values),
        st.builds(lambda v: {"enum": v}, st.lists(json_values, max_size=3)),
        json_values,
    ),
    lambda children: st.one_of(
        st.builds(
            lambda p, r: {"type": "object", "properties": p, "required": r},
            st.dictionaries(st.text(max_size=5), children, max_size=4),
            st.lists(st.text(max_size=5), max_size=3),
        ),
        st.builds(lambda i: {"type": "array", "items": i}, children),
        st.builds(lambda xs: {"allOf": xs}, st.lists(children, max_size=3)),
        st.builds(lambda xs: {"oneOf": xs}, st.lists(children, max_size=3)),
        st.builds(lambda xs: {"type": ["string", "null"], "anyOf": xs}, st.lists(children, max_size=2)),
    ),
    max_leaves=15,
)
parameters = st.lists(
    st.one_of(
        st.builds(
            lambda n, w, s: {"name": n, "in": w, "schema": s},
            st.text(max_size=6),
            st.sampled_from(["path", "query", "header", "body", "cookie"]),
            schemas,
        ),
        st.builds(lambda r: {"$ref": r}, st.sampled_from(["#/components/parameters/P", "#/x"])),
        json_values,
    ),
    max_size=4,
)
operations = st.fixed_dictionaries(
    {},
    optional={
        "summary": st.one_of(st.text(max_size=30), st.integers()),
        "parameters": parameters,
        "requestBody": st.one_of(
            st.builds(
                lambda t, s: {"content": {t: {"schema": s}}},
                st.sampled_from(["application/json", "application/x+json", "text/plain", "*/*"]),
                schemas,
            ),
            json_values,
        ),
    },
)
path_items = st.dictionaries(
    st.sampled_from(["get", "post", "put", "delete", "patch", "parameters", "summary"]),
    st.one_of(operations, parameters, json_values),
    max_size=4,
)
documents = st.builds(
    lambda version, paths, components, servers: {
        **version,
        "paths": paths,
        "components": {"schemas": components, "parameters": {"P": {"name": "p", "in": "query"}}},
        **servers,
    },
    st.sampled_from([{"openapi": "3.0.3"}, {"openapi": "3.1.0"}, {"swagger": "2.0"}, {}]),
    st.dictionaries(st.one_of(paths, st.text(max_size=10)), st.one_of(path_items, json_values), max_size=6),
    st.fixed_dictionaries({n: schemas for n in SCHEMA_NAMES}),
    st.sampled_from([{}, {"servers": [{"url": "/api"}]}, {"servers": "bad"}, {"basePath": "/v1"}]),
)


def check_endpoints(endpoints) -> None:
    assert [e.path for e in endpoints] == sorted(e.path for e in endpoints)
    for endpoint in endpoints:
        assert endpoint.method in {"GET", "PUT", "POST", "DELETE", "OPTIONS", "HEAD", "PATCH", "TRACE"}
        if endpoint.body_example is not None:
            json.loads(endpoint.body_example)
        json.dumps(endpoint.parameters, default=str)


@PROPS
@given(st.one_of(json_values, weird_text, st.binary(max_size=50)))
def test_anything_that_is_not_openapi_is_a_readable_discovery_error(doc):
    result = outcome(parse_openapi, doc, errors=(DiscoveryError,))
    if result is not None:
        check_endpoints(result)


@PROPS
@given(documents)
def test_openapi_shaped_documents_never_break_the_parser(doc):
    result = outcome(parse_openapi, doc, errors=(DiscoveryError,))
    if result is not None:
        check_endpoints(result)


@PROPS
@given(st.fixed_dictionaries({n: schemas for n in SCHEMA_NAMES}), schemas)
def test_resolving_cyclic_refs_terminates_with_json_output(components, schema):
    resolved = resolve_refs(schema, {"components": {"schemas": components}})
    json.dumps(resolved)


@FEW
@given(st.integers(500, 3000), st.integers(0, 2))
def test_huge_documents_with_self_referencing_schemas_are_handled(count, shape):
    node = [
        {
            "type": "object",
            "properties": {"self": {"$ref": "#/components/schemas/N"}, "x": {"type": "string"}},
        },
        {"type": "array", "items": {"$ref": "#/components/schemas/N"}},
        {"allOf": [{"$ref": "#/components/schemas/N"}, {"$ref": "#/components/schemas/N"}]},
    ][shape]
    body = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/N"}}}}
    doc = {
        "openapi": "3.0.0",
        "components": {"schemas": {"N": node}},
        "paths": {f"/api/r{i}": {"post": {"requestBody": body}} for i in range(count)},
    }
    endpoints = parse_openapi(doc)
    assert len(endpoints) == min(count, MAX_ENDPOINTS) and count_operations(doc) == count
    check_endpoints(endpoints)

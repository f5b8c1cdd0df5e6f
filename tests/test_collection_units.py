"""Pure functions of collections: variables, JSON paths, curl parsing, assertions, schema errors."""

from __future__ import annotations

import json
import re

import pytest

from explorer.collection.assertions import OpenAPIDocument, evaluate, status_matches
from explorer.collection.extract import ExtractionFailed, PathError, extract, find
from explorer.collection.files import load_collection
from explorer.collection.importers import ImportError_
from explorer.collection.importers.curl import parse_curl
from explorer.collection.storage import FolderStorage, StorageError, clean_path
from explorer.collection.validate import validate
from explorer.collection.variables import Scope, UndefinedVariable, parse_assignment, parse_dotenv, references
from explorer.model import Exchange, Finding, RequestSpec, Response


def exchange(
    status=200,
    body=b'{"id": 7, "name": "pen", "tags": ["a", "b"], "price": 2.5, "n": null}',
    headers=(),
    elapsed=12.0,
    findings=(),
):
    text = body.decode()
    try:
        parsed, kind = json.loads(text), "json"
    except ValueError:
        parsed, kind = None, "text" if body else "empty"
    response = Response(
        status=status,
        reason="OK",
        headers=[("Content-Type", "application/json"), *headers],
        body=body,
        size=len(body),
        elapsed_ms=elapsed,
        ttfb_ms=elapsed / 2,
        content_type="application/json",
        kind=kind,
        json=parsed,
        text=text,
    )
    return Exchange(
        "x", 0.0, RequestSpec("GET", "http://app.test/api/items/7"), response, None, None, list(findings)
    )


# --- variables ----------------------------------------------------------------------------------


def test_layers_resolve_in_order_collection_env_dotenv_cli_extracted():
    scope = Scope(
        [
            {"a": "collection", "b": "collection"},
            {"b": "env", "c": "env"},
            {"c": "dotenv", "d": "dotenv"},
            {"d": "cli"},
        ],
        environ={},
    )
    run = scope.with_layer({})
    run.set("e", "extracted")
    assert run.resolve("{{a}} {{b}} {{c}} {{d}} {{ e }}") == "collection env dotenv cli extracted"
    run.set("a", "extracted wins")
    assert run.resolve("{{a}}") == "extracted wins"
    assert scope.resolve("{{a}}") == "collection"  # the run's layer does not leak back


def test_undefined_variable_names_the_variable_and_where():
    with pytest.raises(UndefinedVariable) as error:
        Scope([{"a": "1"}], environ={}).resolve("{{a}}/{{missing}}", "Create item (url)")
    assert error.value.name == "missing"
    assert (
        "{{missing}}" in str(error.value)
        and "Create item (url)" in str(error.value)
        and "--var missing=" in str(error.value)
    )


def test_builtins_and_env_references():
    scope = Scope([], environ={"HOST": "h.example"})
    first, second = scope.resolve("{{$uuid}}"), scope.resolve("{{$uuid}}")
    assert re.fullmatch(r"[0-9a-f-]{36}", first) and first != second
    assert 0 <= int(scope.resolve("{{$randomInt}}")) <= 1000
    assert abs(int(scope.resolve("{{$timestamp}}")) - __import__("time").time()) < 5
    assert scope.resolve("https://{{$env.HOST}}/x") == "https://h.example/x"
    with pytest.raises(UndefinedVariable):
        scope.resolve("{{$env.NOT_SET}}")


def test_posting_dollar_brace_syntax_and_nested_values():
    scope = Scope([{"base": "{{scheme}}://h", "scheme": "https"}], environ={})
    assert scope.resolve("${base}/api") == "https://h/api"
    assert scope.resolve("$ref and $5 stay as they are") == "$ref and $5 stay as they are"
    assert references("{{a}} ${b} {{a}}") == ["a", "b"]


def test_var_assignments_and_dotenv():
    assert parse_assignment("item=pen=blue") == ("item", "pen=blue")
    with pytest.raises(ValueError, match="NAME=VALUE"):
        parse_assignment("no equals")
    values = parse_dotenv("# secrets\nexport A=1\nB='two words'\nC=\"x\"\nD=plain # comment\nnot a line\n")
    assert values == {"A": "1", "B": "two words", "C": "x", "D": "plain"}


# --- JSON paths and extractions -----------------------------------------------------------------


def test_json_paths():
    doc = {"items": [{"id": 1, "odd key": "x"}, {"id": 2}], "n": None}
    assert find(doc, "$.items[0].id") == (True, 1)
    assert find(doc, "$.items[-1].id") == (True, 2)
    assert find(doc, "$.items[*].id") == (True, [1, 2])
    assert find(doc, "$.items[0]['odd key']") == (True, "x")
    assert find(doc, "$.items.length") == (True, 2)
    assert find(doc, "$.n") == (True, None)
    assert find(doc, "$.missing") == (False, None)
    assert find(doc, "$.items[5]") == (False, None)
    with pytest.raises(PathError):
        find(doc, "items")
    with pytest.raises(PathError):
        find(doc, "$.items[")


def test_extractions_from_body_header_and_status():
    ex = exchange(headers=[("ETag", "v1")])
    assert extract({"var": "id", "json": "$.id"}, ex) == ("id", "7")
    assert extract({"var": "tags", "json": "$.tags"}, ex) == ("tags", '["a", "b"]')
    assert extract({"var": "etag", "header": "etag"}, ex) == ("etag", "v1")
    assert extract({"var": "code", "status": True}, ex) == ("code", "200")
    with pytest.raises(ExtractionFailed, match=r"\$.nope is not in the response body"):
        extract({"var": "x", "json": "$.nope"}, ex)
    with pytest.raises(ExtractionFailed, match="no Location header"):
        extract({"var": "x", "header": "Location"}, ex)


# --- assertions ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("assertion", "passed"),
    [
        ({"status": 200}, True),
        ({"status": "2xx"}, True),
        ({"status": [201, 204]}, False),
        ({"status": ["4xx", 200]}, True),
        ({"json": "$.name", "equals": "pen"}, True),
        ({"json": "$.id", "equals": "7"}, True),  # an extracted id is text
        ({"json": "$.id", "equals": 8}, False),
        ({"json": "$.price", "equals": 2.5}, True),
        ({"json": "$.tags", "contains": "b"}, True),
        ({"json": "$.name", "contains": "e"}, True),
        ({"json": "$.tags", "contains": "z"}, False),
        ({"json": "$.id", "exists": True}, True),
        ({"json": "$.nope", "exists": False}, True),
        ({"json": "$.nope", "exists": True}, False),
        ({"json": "$.id", "type": "integer"}, True),
        ({"json": "$.id", "type": "number"}, True),
        ({"json": "$.n", "type": "null"}, True),
        ({"json": "$.tags", "type": "object"}, False),
        ({"json": "$.name", "matches": "^p.n$"}, True),
        ({"header": "content-type", "matches": "json"}, True),
        ({"header": "X-Missing", "exists": False}, True),
        ({"header": "X-Missing", "exists": True}, False),
        ({"header": "Content-Type", "equals": "text/plain"}, False),
        ({"body_matches": '"name": "pen"'}, True),
        ({"elapsed_below_ms": 100}, True),
        ({"elapsed_below_ms": 5}, False),
        ({"finding": "NO_CAN_USE"}, False),
    ],
)
def test_assertion_outcomes(assertion, passed):
    outcome = evaluate(assertion, exchange())
    assert outcome.passed is passed
    if not passed:
        assert "expected" in outcome.detail and outcome.detail in str(outcome)


def test_failed_assertions_say_what_was_expected_and_what_came():
    ex = exchange(status=403, findings=[Finding("NO_CAN_USE", "error", "m", "f")])
    assert str(evaluate({"status": 200}, ex)) == "status is 200: expected 200, got 403"
    assert evaluate({"finding": "NO_CAN_USE"}, ex).passed
    failed = evaluate({"json": "$.name", "equals": "cup"}, ex)
    assert failed.detail == "expected 'cup', got 'pen'"
    typed = evaluate({"json": "$.tags", "type": "string"}, ex)
    assert typed.detail.startswith("expected string, got array")
    no_response = Exchange("x", 0.0, RequestSpec(), None, None, None, error="DNS")
    assert "expected a response, got none (DNS)" in evaluate({"status": 200}, no_response).detail


def test_malformed_regex_is_a_failed_outcome_not_a_crash():
    outcome = evaluate({"body_matches": "("}, exchange())
    assert not outcome.passed and "malformed" in outcome.detail


def test_status_classes():
    assert status_matches("2XX", 204) and status_matches(404, 404) and not status_matches("5xx", 404)


def test_openapi_schema_assertion_resolves_refs_and_reports_the_location():
    doc = {
        "openapi": "3.1.0",
        "paths": {
            "/api/items/{item_id}": {
                "get": {
                    "responses": {
                        "200": {
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Item"}}}
                        }
                    }
                }
            }
        },
        "components": {
            "schemas": {
                "Item": {
                    "type": "object",
                    "required": ["id", "name"],
                    "properties": {
                        "id": {"type": "integer"},
                        "name": {"type": "string"},
                        "tags": {"type": "array", "items": {"$ref": "#/components/schemas/Tag"}},
                    },
                },
                "Tag": {"type": "string"},
            }
        },
    }
    document = OpenAPIDocument(doc)
    assert evaluate({"openapi_schema": True}, exchange(), document).passed
    bad = exchange(body=b'{"id": "seven", "name": "pen", "tags": [1]}')
    outcome = evaluate({"openapi_schema": True}, bad, document)
    assert not outcome.passed
    assert (
        "GET /api/items/{item_id} 200" in outcome.detail
        and "$.id" in outcome.detail
        and "1 more" in outcome.detail
    )
    undocumented = evaluate({"openapi_schema": True}, exchange(status=418), document)
    assert "does not document status 418" in undocumented.detail


# --- curl -------------------------------------------------------------------------------------------


def test_curl_copy_as_curl_from_a_browser():
    request, notices = parse_curl(
        "curl 'https://app.example/api/items?limit=5' \\\n  -H 'accept: application/json' \\\n"
        "  -H 'authorization: Bearer eyJhbGciOi.abc.def' \\\n  --data-raw '{\"name\":\"pen\"}' --compressed"
    )
    assert request.method == "POST" and request.url == "https://app.example/api/items"
    assert [(p.name, p.value) for p in request.params] == [("limit", "5")]
    assert request.body.content == '{"name":"pen"}'
    assert ("authorization", "Bearer eyJhbGciOi.abc.def") in [(h.name, h.value) for h in request.headers]
    assert notices == []


def test_curl_options():
    get, _ = parse_curl("curl -G https://h/api/search -d q=a+b --data-urlencode 'x=1 2' -sS")
    assert get.method == "GET" and [(p.name, p.value) for p in get.params] == [("q", "a b"), ("x", "1 2")]
    assert get.body is None
    json_body, _ = parse_curl("curl --json '{\"a\": 1}' https://h/api/x")
    assert json_body.method == "POST" and json_body.body.content_type == "application/json"
    assert ("Accept", "application/json") in [(h.name, h.value) for h in json_body.headers]
    put, _ = parse_curl("curl -XPUT -u ada:s3cret-pass https://h/api/x -m 5")
    assert (
        put.method == "PUT"
        and put.auth.username == "ada"
        and put.auth.password == "s3cret-pass"
        and put.timeout == 5
    )
    form, _ = parse_curl("curl https://h/api/f -d a=1 -d b=2")
    assert form.body.content == "a=1&b=2" and form.body.content_type == "application/x-www-form-urlencoded"
    head, notices = parse_curl("curl -I https://h/ --frobnicate")
    assert head.method == "HEAD" and "--frobnicate" in str(notices[0])


@pytest.mark.parametrize(
    ("command", "message"),
    [
        ("wget https://h", "must start with `curl`"),
        ("curl -H", "needs a value"),
        ("curl 'https://h", "cannot read"),
        ("curl -s", "no URL"),
    ],
)
def test_curl_bad_input_is_one_clear_error(command, message):
    with pytest.raises(ImportError_, match=message):
        parse_curl(command)


# --- files and schema errors ----------------------------------------------------------------------


def test_schema_errors_name_the_field_and_the_problem():
    error = validate(
        {"name": "x", "assertions": [{"status": 200}, {"status": 99}]}, "request", "r.posting.yaml"
    )
    assert error.path == "r.posting.yaml" and error.field == "assertions[1].status"
    unknown = validate({"name": "x", "asertions": []}, "request", "r.posting.yaml")
    assert "unknown key 'asertions'" in unknown.message
    missing = validate({"method": "GET"}, "request", "r.posting.yaml")
    assert "'name' is required" in missing.message
    extraction = validate({"name": "x", "extractions": [{"var": "id"}]}, "request", "r")
    assert extraction.field == "extractions[0]"


def test_a_broken_file_is_one_error_and_the_rest_loads(tmp_path):
    (tmp_path / "collection.yaml").write_text("name: c\norder: [b.posting.yaml, a.posting.yaml]\n")
    (tmp_path / "a.posting.yaml").write_text("name: A\nurl: http://h/a\n")
    (tmp_path / "b.posting.yaml").write_text("name: B\nurl: http://h/b\n")
    (tmp_path / "broken.posting.yaml").write_text("name: X\nassertions:\n- status: 2xx\n  json: $.a\n")
    (tmp_path / "bad-yaml.posting.yaml").write_text("name: [unclosed\n")
    collection = load_collection(FolderStorage(tmp_path))
    assert [r.name for _, r in collection.requests()] == ["B", "A"]  # explicit order kept
    messages = sorted(str(e) for e in collection.errors)
    assert len(messages) == 2
    assert messages[0].startswith("bad-yaml.posting.yaml: line 2 column 1")
    assert messages[1].startswith("broken.posting.yaml (field assertions[0])")


def test_storage_paths_stay_inside_the_collection(tmp_path):
    with pytest.raises(StorageError, match="stay inside"):
        clean_path("../outside.yaml")
    with pytest.raises(StorageError, match="stay inside"):
        FolderStorage(tmp_path).write_text("/etc/x", "")


def test_auth_fields_resolve_variables_and_take_secrets_from_dotenv_or_a_prompt(monkeypatch):
    from explorer.collection.identities import ref_fields
    from explorer.collection.model import AuthRef

    monkeypatch.delenv("DATABRICKS_CLIENT_SECRET", raising=False)
    scope = Scope([{"ws": "https://w.example"}], environ={})
    ref = AuthRef("m2m", {"host": "{{ws}}", "client_id": "abc"})
    from_dotenv = ref_fields(ref, scope, {"DATABRICKS_CLIENT_SECRET": "from-dotenv-secret"})
    assert from_dotenv == {
        "host": "https://w.example",
        "client_id": "abc",
        "client_secret": "from-dotenv-secret",
    }
    asked = []
    prompted = ref_fields(ref, scope, {}, prompt=lambda label: asked.append(label) or "typed-secret")
    assert prompted["client_secret"] == "typed-secret" and len(asked) == 1  # asked once, for the secret only
    token = ref_fields(AuthRef("token", {"token_env": "BOB"}), scope, {"BOB": "bob-token-value"})
    assert token == {"token_env": "BOB", "token": "bob-token-value"}
    with pytest.raises(UndefinedVariable):
        ref_fields(AuthRef("m2m", {"host": "{{nope}}"}), scope, {})


# --- bad input: one clear error, never a crash ----------------------------------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_curl_parsing_of_any_text_is_a_request_or_one_clear_error(text):
    try:
        request, _notices = parse_curl("curl " + text)
    except ImportError_ as error:
        assert str(error) and "\n" not in str(error)
    else:
        assert request.url and request.method.isupper()


@settings(max_examples=300, deadline=None)
@given(
    st.text(max_size=80),
    st.dictionaries(st.from_regex(r"[a-z]{1,5}", fullmatch=True), st.text(max_size=20), max_size=4),
)
def test_variable_resolution_of_any_text_resolves_or_names_the_missing_variable(text, layer):
    try:
        Scope([layer], environ={}).resolve(text)
    except UndefinedVariable as error:
        assert error.name and error.name not in layer


@settings(max_examples=300, deadline=None)
@given(
    st.text(max_size=40),
    st.recursive(
        st.none() | st.integers() | st.text(max_size=5),
        lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=5), c, max_size=3),
        max_leaves=10,
    ),
)
def test_json_paths_of_any_text_find_a_value_or_say_the_path_is_malformed(path, document):
    try:
        found, _value = find(document, path)
    except PathError as error:
        assert str(error).startswith("JSON path ") and "\n" not in str(error)
    else:
        assert isinstance(found, bool)


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=300))
def test_any_request_file_loads_or_is_one_load_error(tmp_path_factory, text):
    root = tmp_path_factory.mktemp("c")
    (root / "collection.yaml").write_text("name: c\n")
    (root / "r.posting.yaml").write_text(text, encoding="utf-8")
    collection = load_collection(FolderStorage(root))
    assert len(collection.errors) + len(collection.requests()) == 1
    for error in collection.errors:
        assert error.path == "r.posting.yaml" and error.message and "\n" not in str(error)


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda c: (
        st.lists(c, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                [
                    "info",
                    "item",
                    "request",
                    "url",
                    "name",
                    "header",
                    "body",
                    "mode",
                    "raw",
                    "auth",
                    "type",
                    "bearer",
                    "key",
                    "value",
                    "variable",
                    "log",
                    "entries",
                    "method",
                    "headers",
                    "postData",
                    "text",
                    "event",
                    "script",
                    "exec",
                    "formdata",
                    "urlencoded",
                ]
            ),
            c,
            max_size=5,
        )
    ),
    max_leaves=25,
)


_postman_shaped = st.fixed_dictionaries(
    {
        "info": st.dictionaries(st.sampled_from(["name", "schema", "description"]), _json, max_size=3),
        "item": st.lists(_json, max_size=4),
    },
    optional={"variable": _json, "auth": _json, "event": _json},
)
_har_shaped = st.fixed_dictionaries(
    {"log": st.fixed_dictionaries({"entries": st.lists(_json, max_size=4)}, optional={"creator": _json})}
)


@settings(max_examples=400, deadline=None)
@given(st.one_of(_json, _postman_shaped, _har_shaped))
def test_any_postman_or_har_json_imports_or_is_one_clear_error(document):
    from explorer.collection.importers.har import from_har
    from explorer.collection.importers.postman import from_postman

    text = json.dumps(document)
    for importer in (from_postman, from_har):
        try:
            result = importer(text)
        except ImportError_ as error:
            assert str(error) and "\n" not in str(error)
        else:
            assert all(r.name for _, r in result.collection.requests())


_openapi_shaped = st.fixed_dictionaries(
    {
        "openapi": st.just("3.1.0"),
        "paths": st.dictionaries(
            st.sampled_from(["/api/a", "/api/a/{id}", "/api/b/{x}/c", "/x"]),
            st.dictionaries(st.sampled_from(["get", "post", "parameters", "delete"]), _json, max_size=3),
            max_size=3,
        ),
    },
    optional={"info": _json, "tags": _json, "servers": _json, "components": _json},
)


@settings(max_examples=300, deadline=None)
@given(_openapi_shaped)
def test_any_openapi_document_imports_without_a_crash(document):
    from explorer.collection.importers.openapi import from_openapi

    result = from_openapi(document, "http://app.example/api/openapi.json")
    assert result.collection.variables["base_url"] == "http://app.example"
    assert all(r.url.startswith("{{base_url}}") for _, r in result.collection.requests())

"""discovery.py: an app's OpenAPI document becomes endpoints with parameters and a body to prefill."""

from __future__ import annotations

import json

import pytest
from fastapi import FastAPI, Query
from pydantic import BaseModel, Field

from explorer.discovery import (
    DiscoveryError,
    api_only,
    body_skeleton,
    candidate_openapi_urls,
    parse_openapi,
    resolve_refs,
)
from explorer.sandbox.apps.sample import create_sample_app

APP = "https://hello-1234567890.aws.databricksapps.com"


class Node(BaseModel):
    name: str
    children: list[Node] = []


class ItemIn(BaseModel):
    name: str = Field(examples=["widget"])
    price: float
    kind: str = "plain"
    tree: Node | None = None


def fastapi_doc() -> dict:
    """A real FastAPI document with a recursive model, path/query params and a non-/api/ route."""
    app = FastAPI(openapi_url="/api/openapi.json")

    @app.post("/api/items/{item_id}", summary="Create an item")
    def create(item_id: int, item: ItemIn, verbose: bool = Query(False, description="More output")):
        return {}

    @app.get("/api/hello")
    def hello(name: str = "World"):
        """Say hello.

        Longer description that is not the summary."""
        return {}

    @app.get("/")
    def index():
        return {}

    return app.openapi()


def by_route(endpoints):
    return {(e.method, e.path): e for e in endpoints}


def test_a_fastapi_document_gives_sorted_endpoints_with_params_and_body():
    endpoints = parse_openapi(fastapi_doc())
    assert [(e.method, e.path) for e in endpoints] == [
        ("GET", "/"),
        ("GET", "/api/hello"),
        ("POST", "/api/items/{item_id}"),
    ]
    create = by_route(endpoints)[("POST", "/api/items/{item_id}")]
    assert create.summary == "Create an item"
    params = {p["name"]: p for p in create.parameters}
    assert params["item_id"]["in"] == "path" and params["item_id"]["required"] is True
    assert params["verbose"] == {
        "name": "verbose",
        "in": "query",
        "required": False,
        "schema": params["verbose"]["schema"],
        "description": "More output",
    }
    assert params["verbose"]["schema"]["type"] == "boolean"
    assert create.body_schema is not None and "$ref" not in json.dumps(create.body_schema)[:20]
    example = json.loads(create.body_example)
    assert example["name"] == "widget" and example["price"] == 0.0 and example["kind"] == "plain"


def test_the_recursive_model_is_cut_not_expanded_forever():
    create = by_route(parse_openapi(fastapi_doc()))[("POST", "/api/items/{item_id}")]
    text = json.dumps(create.body_schema)
    assert '"x-recursive": true' in text
    assert len(text) < 5000


def test_the_summary_falls_back_to_the_first_line_of_the_description():
    hello = by_route(parse_openapi(fastapi_doc()))[("GET", "/api/hello")]
    assert hello.summary == "Hello"  # FastAPI derives a summary from the function name
    doc = {"openapi": "3.1.0", "paths": {"/api/x": {"get": {"description": "First line.\nSecond."}}}}
    assert parse_openapi(doc)[0].summary == "First line."


def test_api_only_keeps_the_token_callable_paths():
    assert [e.path for e in api_only(parse_openapi(fastapi_doc()))] == ["/api/hello", "/api/items/{item_id}"]
    assert [e.path for e in parse_openapi(fastapi_doc(), base_path_filter="/api/")] == [
        "/api/hello",
        "/api/items/{item_id}",
    ]


def test_the_sandbox_sample_apps_document_lists_its_api():
    doc = create_sample_app("hello").openapi()
    endpoints = api_only(parse_openapi(doc))
    routes = {(e.method, e.path) for e in endpoints}
    assert {("GET", "/api/hello"), ("POST", "/api/items"), ("DELETE", "/api/items/{item_id}")} <= routes
    create = by_route(endpoints)[("POST", "/api/items")]
    assert isinstance(json.loads(create.body_example), dict)


def test_path_level_and_referenced_parameters_merge_with_operation_ones():
    doc = {
        "openapi": "3.0.3",
        "components": {
            "parameters": {
                "Limit": {"name": "limit", "in": "query", "schema": {"type": "integer", "default": 10}}
            },
            "requestBodies": {
                "Thing": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}}}
            },
            "schemas": {
                "Thing": {"type": "object", "required": ["id"], "properties": {"id": {"type": "string"}}}
            },
        },
        "paths": {
            "/api/things/{id}": {
                "parameters": [
                    {"name": "id", "in": "path", "schema": {"type": "string"}},
                    {"name": "limit", "in": "query", "description": "path level"},
                ],
                "put": {
                    "parameters": [{"$ref": "#/components/parameters/Limit"}, {"name": "broken"}, "junk"],
                    "requestBody": {"$ref": "#/components/requestBodies/Thing"},
                },
            }
        },
    }
    (put,) = parse_openapi(doc)
    params = {p["name"]: p for p in put.parameters}
    assert set(params) == {"id", "limit"}
    assert params["limit"]["schema"] == {"type": "integer", "default": 10}  # the operation's wins
    assert params["id"]["required"] is True
    assert put.body_schema == {"type": "object", "required": ["id"], "properties": {"id": {"type": "string"}}}
    assert json.loads(put.body_example) == {"id": "string"}


def test_swagger_2_documents_with_base_path_and_body_parameters():
    doc = {
        "swagger": "2.0",
        "basePath": "/api",
        "definitions": {"Pet": {"type": "object", "properties": {"name": {"type": "string"}}}},
        "paths": {
            "/pets": {
                "post": {
                    "summary": "Add a pet",
                    "parameters": [
                        {"name": "body", "in": "body", "schema": {"$ref": "#/definitions/Pet"}},
                        {"name": "dry_run", "in": "query", "type": "boolean", "default": False},
                    ],
                }
            }
        },
    }
    (post,) = parse_openapi(doc)
    assert (post.method, post.path, post.summary) == ("POST", "/api/pets", "Add a pet")
    assert [p["name"] for p in post.parameters] == ["dry_run"]
    assert post.parameters[0]["schema"] == {"type": "boolean", "default": False}
    assert json.loads(post.body_example) == {"name": "string"}


def test_a_relative_server_url_prefixes_the_paths():
    doc = {
        "openapi": "3.0.0",
        "servers": [{"url": "/api/v1/"}],
        "paths": {"/x": {"get": {}}, "/api/v1/y": {"get": {}}},
    }
    assert [e.path for e in parse_openapi(doc)] == ["/api/v1/x", "/api/v1/y"]


def test_non_json_bodies_have_no_schema_and_vendor_json_types_count():
    doc = {
        "openapi": "3.0.0",
        "paths": {
            "/api/form": {
                "post": {"requestBody": {"content": {"multipart/form-data": {"schema": {"type": "object"}}}}}
            },
            "/api/vnd": {
                "post": {
                    "requestBody": {
                        "content": {
                            "application/vnd.api+json": {
                                "schema": {"type": "array", "items": {"type": "integer"}}
                            }
                        }
                    }
                }
            },
        },
    }
    form, vnd = parse_openapi(doc)
    assert form.body_schema is None and form.body_example is None
    assert json.loads(vnd.body_example) == [0]


def test_malformed_entries_are_skipped_not_fatal():
    doc = {
        "openapi": "3.0.0",
        "paths": {
            "no-slash": {"get": {}},
            "/api/a": "not an object",
            "/api/b": {"get": "not an object", "post": {"parameters": "nope", "requestBody": 5}},
            "/api/c": {"get": {"responses": {}}, "x-extension": {}, "parameters": [None]},
            5: {"get": {}},
        },
    }
    assert [(e.method, e.path) for e in parse_openapi(doc)] == [("POST", "/api/b"), ("GET", "/api/c")]


@pytest.mark.parametrize(
    ("doc", "needle"),
    [
        ([1, 2], "expected a JSON object, got an array"),
        ("<html>sign in</html>", "Not a JSON document"),
        ({"openapi": "1.0", "paths": {}}, "Unsupported OpenAPI version"),
        ({"hello": "world"}, "no 'openapi' version and no 'paths'"),
        (None, "got null"),
    ],
)
def test_documents_that_are_not_openapi_raise_one_readable_line(doc, needle):
    with pytest.raises(DiscoveryError) as raised:
        parse_openapi(doc)
    assert needle in str(raised.value) and "\n" not in str(raised.value)


def test_the_document_may_be_given_as_text():
    assert parse_openapi(json.dumps(fastapi_doc()).encode())[0].path == "/"


def test_mutual_recursion_and_missing_or_remote_refs_are_marked():
    doc = {
        "components": {
            "schemas": {
                "A": {"type": "object", "properties": {"b": {"$ref": "#/components/schemas/B"}}},
                "B": {"type": "object", "properties": {"a": {"$ref": "#/components/schemas/A"}}},
            }
        }
    }
    resolved = resolve_refs({"$ref": "#/components/schemas/A"}, doc)
    assert resolved["properties"]["b"]["properties"]["a"] == {
        "$ref": "#/components/schemas/A",
        "x-recursive": True,
    }
    assert resolve_refs({"$ref": "#/nope"}, doc) == {"$ref": "#/nope", "x-unresolved": True}
    assert resolve_refs({"$ref": "other.json#/X"}, doc) == {"$ref": "other.json#/X", "x-unresolved": True}
    assert resolve_refs({"$ref": "#/a~1b"}, {"a/b": {"type": "string"}}) == {"type": "string"}


def test_a_ref_with_siblings_keeps_them():
    doc = {"definitions": {"S": {"type": "string"}}}
    assert resolve_refs({"$ref": "#/definitions/S", "description": "d"}, doc) == {
        "type": "string",
        "description": "d",
    }


def test_exponential_fan_out_of_refs_stays_bounded():
    # Each level references the next one ten times: 10**12 nodes if expanded naively.
    schemas = {
        f"L{i}": {"type": "object", "properties": {f"p{j}": {"$ref": f"#/defs/L{i + 1}"} for j in range(10)}}
        for i in range(12)
    }
    schemas["L12"] = {"type": "string"}
    resolved = resolve_refs({"$ref": "#/defs/L0"}, {"defs": schemas})
    assert "x-truncated" in json.dumps(resolved)  # the node budget stopped the expansion


def test_deep_plain_nesting_is_truncated():
    schema: dict = {"type": "string"}
    for _ in range(200):
        schema = {"type": "array", "items": schema}
    assert "x-truncated" in json.dumps(resolve_refs(schema, {}, max_depth=10))


@pytest.mark.parametrize(
    ("schema", "expected"),
    [
        ({"type": "string", "example": "e", "default": "d"}, "e"),
        ({"type": "string", "default": "d"}, "d"),
        ({"type": "string", "enum": ["a", "b"]}, "a"),
        ({"const": 3}, 3),
        ({"type": "string", "format": "date-time"}, "2024-01-01T00:00:00Z"),
        ({"type": "string"}, "string"),
        ({"type": ["integer", "null"]}, 0),
        ({"type": "number"}, 0.0),
        ({"type": "boolean"}, False),
        ({"type": "array", "items": {"type": "string"}}, ["string"]),
        ({"type": "array"}, []),
        ({"anyOf": [{"type": "null"}, {"type": "integer"}]}, 0),
        ({"oneOf": [{"type": "string"}, {"type": "integer"}]}, "string"),
        (
            {
                "allOf": [
                    {"properties": {"a": {"type": "integer"}}},
                    {"properties": {"b": {"type": "string"}}},
                ]
            },
            {"a": 0, "b": "string"},
        ),
        (
            {"type": "object", "required": ["z"], "properties": {"a": {}, "z": {"type": "integer"}}},
            {"z": 0, "a": None},
        ),
        ({"$ref": "#/x", "x-recursive": True}, None),
        ("not a schema", None),
    ],
)
def test_body_skeletons(schema, expected):
    assert body_skeleton(schema) == expected


def test_body_skeleton_depth_is_bounded():
    schema: dict = {"type": "integer"}
    for _ in range(100):
        schema = {"type": "object", "properties": {"n": schema}}
    json.dumps(body_skeleton(schema))  # no RecursionError, finite output
    assert "null" in json.dumps(body_skeleton(schema))


def test_candidate_urls_try_the_api_path_first():
    assert candidate_openapi_urls(f"{APP}/some/page") == [f"{APP}/api/openapi.json", f"{APP}/openapi.json"]
    assert candidate_openapi_urls(f"{APP}/docs/spec.json")[0] == f"{APP}/docs/spec.json"
    with pytest.raises(DiscoveryError, match="Unsupported scheme"):
        candidate_openapi_urls("ftp://x")

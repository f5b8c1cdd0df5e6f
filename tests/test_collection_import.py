"""Import and export against the real sandbox: the sample app's OpenAPI document, a Postman v2.1
collection (folders, variables, bearer auth) with a round trip, curl commands and HAR files."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import requests
from support.cli import run
from support.sandbox_helpers import m2m_token

from explorer.collection.files import load_collection
from explorer.collection.importers.har import from_har
from explorer.collection.storage import FolderStorage
from explorer.discovery import api_only, parse_openapi
from explorer.model import RequestSpec
from explorer.session import ExplorerSession

POSTMAN_SCHEMA = "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"


def sp_env(monkeypatch: pytest.MonkeyPatch, info: dict) -> list[str]:
    sp = info["service_principals"]["demo-sp"]
    monkeypatch.setenv("DATABRICKS_CLIENT_ID", sp["client_id"])
    monkeypatch.setenv("DATABRICKS_CLIENT_SECRET", sp["client_secret"])
    return ["--auth", "m2m", "--host", info["host"]]


def requests_of(path: Path) -> dict[str, dict]:
    collection = load_collection(FolderStorage(path))
    assert not collection.errors, collection.errors
    return {"/".join([*trail, r.name]): r.comparable() for trail, r in collection.requests()}


def test_the_sample_app_becomes_a_collection_in_one_command_and_runs_green(
    start_sandbox, clean_databricks_env, monkeypatch, tmp_path
):
    sandbox = start_sandbox()  # its own: the run creates, replaces and deletes items
    auth = sp_env(monkeypatch, sandbox.info)
    hello = sandbox.info["apps"]["hello"]["url"]
    target = tmp_path / "hello"

    code, out, err = run(["import", "openapi", hello, "--to", str(target), *auth])
    assert code == 0, err
    token = m2m_token(sandbox.info)
    document = requests.get(
        hello + "/api/openapi.json", headers={"Authorization": f"Bearer {token}"}, timeout=10
    ).json()
    operations = len(api_only(parse_openapi(document)))
    assert out.startswith(f"imported {operations} request(s) into")
    collection = load_collection(FolderStorage(target))
    tags = {t for item in document["paths"].values() for op in item.values() for t in op.get("tags", [])}
    assert {f.name for f in collection.root.items if hasattr(f, "items")} == tags
    assert {"echo", "data", "greetings", "items", "timing", "identity"} <= tags
    assert collection.variables["base_url"] == hello and collection.openapi == "{{base_url}}/api/openapi.json"
    by_name = {r.name: r for _, r in collection.requests()}
    create = by_name["Create an item"]
    assert create.method == "POST" and create.url == "{{base_url}}/api/items"
    assert json.loads(create.body.content) == {"name": "string", "price": 0.0, "tags": ["string"]}
    assert create.assertions == [{"status": 201}, {"openapi_schema": True}]
    assert by_name["Get an item"].url == "{{base_url}}/api/items/{{item_id}}"
    hello_request = by_name["Say hello"]
    assert [(p.name, p.value, p.enabled) for p in hello_request.params] == [("name", "World", False)]

    assert create.extractions == [{"var": "item_id", "json": "$.id"}]  # create -> read -> replace -> delete
    assert "Create an item: its response's id feeds {{item_id}} in later requests" in err

    code, out, err = run(["run", str(target), *auth, "--json"])
    report = json.loads(out)
    counts = report["counts"]
    assert counts["requests"] == operations and counts["assertions"] >= operations
    # Green, except where a path parameter has no value the document could give (no create to
    # chain from): that request says so with a 404 (the app's own: RESOURCE_NOT_FOUND), and nothing
    # else fails.
    chained = {e["var"] for _, r in collection.requests() for e in r.extractions}
    failed = [r for r in report["results"] if not r["passed"]]
    for result in failed:
        request = by_name[result["name"]]
        unresolved = [
            v for v in re.findall(r"\{\{(\w+)\}\}", request.url) if v != "base_url" and v not in chained
        ]
        assert unresolved and result["status"] == 404, result["name"]
        assert {"PATH_NOT_FOUND", "RESOURCE_NOT_FOUND"} & {f["code"] for f in result["findings"]}
    assert code == (1 if failed else 0), err
    in_items = [r for r in report["results"] if r["folder"] == ["items"]]
    assert len(in_items) >= 5 and all(r["passed"] for r in in_items)

    # From a file too: the document has no servers, so the base URL comes from --var.
    document_file = tmp_path / "openapi.json"
    code, out, _ = run(["call", hello + "/api/openapi.json", *auth])
    document_file.write_text(out)
    code, out, err = run(["import", "openapi", str(document_file), "--to", str(tmp_path / "from-file")])
    assert code == 0, err
    code, out, err = run(
        ["run", str(tmp_path / "from-file"), *auth, "--folder", "greetings", "--var", f"base_url={hello}"]
    )
    assert code == 0 and "1/1 requests passed" in out


def postman_collection(hello: str) -> dict:
    """Written by the Postman Collection v2.1.0 schema: info, item (folders nest), variable, auth, event."""
    return {
        "info": {
            "_postman_id": "0b7e4b0a-1d7c-4a51-9d3e-5c2f8e9b1a11",
            "name": "Sandbox via Postman",
            "description": "Written by hand.",
            "schema": POSTMAN_SCHEMA,
        },
        "auth": {"type": "bearer", "bearer": [{"key": "token", "value": "{{token}}", "type": "string"}]},
        "variable": [
            {"key": "base_url", "value": hello, "type": "string"},
            {"key": "who", "value": "Postman"},
        ],
        "event": [
            {
                "listen": "prerequest",
                "script": {"type": "text/javascript", "exec": ["pm.variables.set('t', Date.now());"]},
            }
        ],
        "item": [
            {
                "name": "Say hello",
                "event": [
                    {
                        "listen": "test",
                        "script": {
                            "type": "text/javascript",
                            "exec": ["pm.test('200', () => pm.response.to.have.status(200));", "// ok"],
                        },
                    }
                ],
                "request": {
                    "method": "GET",
                    "header": [{"key": "Accept", "value": "application/json"}],
                    "url": {
                        "raw": "{{base_url}}/api/hello?name={{who}}&debug=1",
                        "host": ["{{base_url}}"],
                        "path": ["api", "hello"],
                        "query": [
                            {"key": "name", "value": "{{who}}"},
                            {"key": "debug", "value": "1", "disabled": True},
                        ],
                    },
                },
                "response": [],
            },
            {
                "name": "echo",
                "description": "Bodies of every kind.",
                "item": [
                    {
                        "name": "Echo JSON",
                        "request": {
                            "method": "POST",
                            "header": [{"key": "X-Trace", "value": "{{$randomInt}}"}],
                            "body": {
                                "mode": "raw",
                                "raw": '{"name": "{{who}}"}',
                                "options": {"raw": {"language": "json"}},
                            },
                            "url": "{{base_url}}/api/echo",
                            "description": "A **JSON** body.",
                        },
                    },
                    {
                        "name": "Echo form",
                        "request": {
                            "method": "PUT",
                            "body": {
                                "mode": "urlencoded",
                                "urlencoded": [
                                    {"key": "a", "value": "1"},
                                    {"key": "b", "value": "two words"},
                                    {"key": "off", "value": "x", "disabled": True},
                                ],
                            },
                            "url": {
                                "raw": "{{base_url}}/api/echo",
                                "host": ["{{base_url}}"],
                                "path": ["api", "echo"],
                            },
                        },
                    },
                    {
                        "name": "nested",
                        "item": [
                            {
                                "name": "Echo multipart",
                                "request": {
                                    "method": "PATCH",
                                    "body": {
                                        "mode": "formdata",
                                        "formdata": [
                                            {"key": "field", "value": "v", "type": "text"},
                                            {"key": "upload", "src": "/tmp/x.bin", "type": "file"},
                                        ],
                                    },
                                    "url": "{{base_url}}/api/echo",
                                },
                            },
                            {
                                "name": "Any status",
                                "request": {
                                    "method": "GET",
                                    "url": {
                                        "raw": "{{base_url}}/api/status/:code",
                                        "host": ["{{base_url}}"],
                                        "path": ["api", "status", ":code"],
                                        "variable": [{"key": "code", "value": "201"}],
                                    },
                                },
                            },
                        ],
                    },
                ],
            },
            {
                "name": "Without auth",
                "request": {"method": "GET", "auth": {"type": "noauth"}, "url": "{{base_url}}/api/hello"},
            },
        ],
    }


def test_a_postman_collection_imports_runs_exports_and_reimports_equal(
    sandbox_info, clean_databricks_env, monkeypatch, tmp_path
):
    hello = sandbox_info["apps"]["hello"]["url"]
    source = tmp_path / "sandbox.postman_collection.json"
    source.write_text(json.dumps(postman_collection(hello)))
    first = tmp_path / "first"

    code, out, err = run(["import", "postman", str(source), "--to", str(first)])
    assert code == 0, err
    assert out.startswith("imported 6 request(s)")
    assert "note: collection: pre-request script (1 lines) not run" in err
    assert "note: Say hello: test script (2 lines) not run" in err
    assert "note: Echo multipart: form-data file fields upload are not imported" in err
    imported = load_collection(FolderStorage(first))
    assert imported.defaults.auth.method == "token" and imported.defaults.auth.fields == {
        "token_env": "token"
    }
    assert imported.variables == {"base_url": hello, "who": "Postman"}
    assert [i.name for i in imported.root.items] == ["Say hello", "echo", "Without auth"]

    # The bearer token comes from $token (never from a file), as the collection's auth says.
    monkeypatch.setenv("token", m2m_token(sandbox_info))
    code, out, err = run(["run", str(first), "--json"])
    report = json.loads(out)
    assert code == 0, err
    statuses = {r["name"]: r["status"] for r in report["results"]}
    assert statuses == {
        "Say hello": 200,
        "Echo JSON": 200,
        "Echo form": 200,
        "Echo multipart": 200,
        "Any status": 201,
        "Without auth": 302,
    }
    results = {r["name"]: r for r in report["results"]}
    assert results["Say hello"]["exchange"]["response"]["body"]["message"] == "Hello, Postman!"
    echoed = results["Echo form"]["exchange"]["response"]["body"]
    assert (
        echoed["body"] == "a=1&b=two+words"
        and echoed["headers"]["content-type"] == "application/x-www-form-urlencoded"
    )
    assert json.loads(results["Echo JSON"]["exchange"]["response"]["body"]["body"]) == {"name": "Postman"}
    assert "REDIRECTED_TO_LOGIN" in [f["code"] for f in results["Without auth"]["findings"]]

    exported = tmp_path / "exported.json"
    code, out, err = run(["export", "postman", str(first), "--to", str(exported)])
    assert code == 0, err
    document = json.loads(exported.read_text())
    assert (
        document["info"]["schema"] == POSTMAN_SCHEMA and document["auth"]["bearer"][0]["value"] == "{{token}}"
    )
    assert "eyJ" not in exported.read_text()
    code, _, err = run(["import", "postman", str(exported), "--to", str(tmp_path / "second")])
    assert code == 0, err
    assert requests_of(tmp_path / "second") == requests_of(first)


def test_postman_v2_0_bearer_objects_and_environments(tmp_path):
    collection = {
        "info": {
            "name": "old",
            "schema": "https://schema.getpostman.com/json/collection/v2.0.0/collection.json",
        },
        "item": [
            {
                "name": "x",
                "request": {
                    "method": "GET",
                    "url": "{{host}}/api/x",
                    "auth": {"type": "bearer", "bearer": {"token": "{{api_token}}"}},
                },
            }
        ],
    }
    environment = {
        "name": "dev",
        "values": [
            {"key": "host", "value": "https://h", "enabled": True},
            {"key": "api_token", "value": "s3cr3t-value-123", "type": "secret"},
        ],
    }
    (tmp_path / "c.json").write_text(json.dumps(collection))
    (tmp_path / "e.json").write_text(json.dumps(environment))
    code, _, err = run(
        [
            "import",
            "postman",
            str(tmp_path / "c.json"),
            "--postman-env",
            str(tmp_path / "e.json"),
            "--to",
            str(tmp_path / "out"),
        ]
    )
    assert code == 0, err
    assert "variable 'api_token' is secret and was not stored" in err
    request = load_collection(FolderStorage(tmp_path / "out")).requests()[0][1]
    assert request.auth_method.fields == {"token_env": "api_token"}
    assert (
        tmp_path / "out" / "environments" / "dev.yaml"
    ).read_text() == "name: dev\nvariables:\n  host: https://h\n"
    assert "s3cr3t" not in "".join(p.read_text() for p in (tmp_path / "out").rglob("*.yaml"))


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("{", "not JSON"),
        ('{"info": {}}', "needs `info` and `item`"),
        (
            '{"info": {"schema": "https://schema.getpostman.com/json/collection/v1.0.0/"}, "item": []}',
            "unsupported Postman schema",
        ),
    ],
)
def test_bad_postman_files_are_one_clear_error(tmp_path, source, message):
    (tmp_path / "bad.json").write_text(source)
    code, out, err = run(["import", "postman", str(tmp_path / "bad.json"), "--to", str(tmp_path / "out")])
    assert code == 2 and out == "" and message in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_a_pasted_curl_command_runs_with_its_token_from_the_environment(
    sandbox_info, clean_databricks_env, monkeypatch, tmp_path
):
    hello = sandbox_info["apps"]["hello"]["url"]
    token = m2m_token(sandbox_info)
    command = f"curl -sS '{hello}/api/hello?name=Curl' \\\n  -H 'Accept: application/json' \\\n  -H \"Authorization: Bearer {token}\""
    code, out, err = run(
        ["import", "curl", command, "--to", str(tmp_path / "c"), "--name", "Hello from curl"]
    )
    assert code == 0, err
    assert "bearer token was not stored" in err and "$DATABRICKS_TOKEN" in err
    assert token not in err
    written = "".join(p.read_text() for p in (tmp_path / "c").rglob("*.yaml"))
    assert token not in written and "auth_method:\n  method: token\n  token_env: DATABRICKS_TOKEN" in written

    monkeypatch.setenv("DATABRICKS_TOKEN", token)
    code, out, err = run(["run", str(tmp_path / "c"), "--json"])
    result = json.loads(out)["results"][0]
    assert code == 0, err
    assert result["status"] == 200 and result["exchange"]["response"]["body"]["message"] == "Hello, Curl!"


def test_the_explorers_own_har_export_becomes_requests(
    sandbox_info, clean_databricks_env, monkeypatch, tmp_path
):
    hello = sandbox_info["apps"]["hello"]["url"]
    sp = sandbox_info["service_principals"]["demo-sp"]
    session = ExplorerSession()
    try:
        assert session.connect(
            "m2m",
            {
                "host": sandbox_info["host"],
                "client_id": sp["client_id"],
                "client_secret": sp["client_secret"],
            },
        ).ok
        session.send(RequestSpec("GET", hello + "/api/hello", params=[("name", "Har")]))
        session.send(
            RequestSpec(
                "POST",
                hello + "/api/items",
                headers=[("Content-Type", "application/json")],
                body='{"name": "from har"}',
            )
        )
        _name, har = session.history.export("har")
        token = session.reveal_token()
    finally:
        session.close()
    (tmp_path / "history.har").write_text(har)
    code, out, err = run(["import", "har", str(tmp_path / "history.har"), "--to", str(tmp_path / "h")])
    assert code == 0, err
    assert "masked Authorization header was left out" in err
    written = "".join(p.read_text() for p in (tmp_path / "h").rglob("*.yaml"))
    assert token not in written and "…" not in written
    auth = sp_env(monkeypatch, sandbox_info)
    code, out, err = run(["run", str(tmp_path / "h"), *auth, "--json"])
    results = json.loads(out)["results"]
    assert code == 0, err
    assert [(r["name"], r["status"]) for r in results] == [("GET /api/hello", 200), ("POST /api/items", 201)]
    assert results[1]["exchange"]["response"]["body"]["name"] == "from har"


def test_a_browser_devtools_har_becomes_requests():
    har = {
        "log": {
            "version": "1.2",
            "creator": {"name": "WebInspector", "version": "537.36"},
            "entries": [
                {
                    "request": {
                        "method": "POST",
                        "url": "https://app-123.aws.databricksapps.com/api/items?dry=1",
                        "httpVersion": "http/2.0",
                        "headers": [
                            {"name": ":authority", "value": "app-123.aws.databricksapps.com"},
                            {"name": "content-type", "value": "application/json"},
                            {"name": "cookie", "value": "__Host-databricksapps=abc123def456"},
                            {"name": "accept-encoding", "value": "gzip"},
                            {"name": "x-requested-with", "value": "fetch"},
                        ],
                        "queryString": [{"name": "dry", "value": "1"}],
                        "postData": {"mimeType": "application/json", "text": '{"name":"pen"}'},
                    },
                    "response": {"status": 201},
                },
                {
                    "request": {
                        "method": "GET",
                        "url": "https://app-123.aws.databricksapps.com/api/items",
                        "headers": [],
                    }
                },
                {
                    "request": {
                        "method": "GET",
                        "url": "https://app-123.aws.databricksapps.com/api/items",
                        "headers": [],
                    }
                },
                {"nope": True},
            ],
        }
    }
    result = from_har(json.dumps(har))
    names = [r.name for _, r in result.collection.requests()]
    assert names == ["POST /api/items", "GET /api/items", "GET /api/items (2)"]
    post = result.collection.requests()[0][1]
    assert post.url == "https://app-123.aws.databricksapps.com/api/items"
    assert [(p.name, p.value) for p in post.params] == [("dry", "1")]
    assert [h.name for h in post.headers] == [
        "cookie",
        "x-requested-with",
    ]  # the cookie goes to the secret guard on save
    assert post.body.content == '{"name":"pen"}' and post.body.content_type == "application/json"
    assert "entry 4" in str(result.notices[0])


def test_the_demo_exports_to_postman_with_its_checks_as_test_scripts(tmp_path):
    demo = Path(__file__).resolve().parents[1] / "examples" / "sandbox-demo"
    target = tmp_path / "demo.postman_collection.json"
    code, _out, err = run(["export", "postman", str(demo), "--to", str(target)])
    assert code == 0, err
    assert "Stopped app: diagnosis includes APP_NOT_RUNNING: not expressible as a Postman test" in err
    assert "List includes it: $[*].id contains '{{item_id}}': not expressible" in err
    document = json.loads(target.read_text())

    def items(entries):
        for entry in entries:
            yield from items(entry["item"]) if "item" in entry else [entry]

    by_name = {item["name"]: item for item in items(document["item"])}
    create = "\n".join(by_name["Create an item"]["event"][0]["script"]["exec"])
    assert 'pm.test("status is 201"' in create and 'pm.collectionVariables.set("item_id"' in create
    assert 'pm.variables.replaceIn("{{item_name}}")' in create
    scripts = "\n".join(
        "(function () {\n" + "\n".join(event["script"]["exec"]) + "\n})();"
        for item in by_name.values()
        for event in item.get("event", [])
    )
    total = sum(len(r.assertions) for _, r in load_collection(FolderStorage(demo)).requests())
    left_out = err.count("not expressible as a Postman test")
    assert left_out == 5 + 4 + 1 + 2  # the diagnoses, the schema checks, one wildcard path, the stream checks
    assert scripts.count("pm.test(") == total - left_out  # every other check became a pm.test
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: the scripts' JavaScript syntax is not checked")
    (tmp_path / "tests.js").write_text(scripts)
    checked = subprocess.run(
        [node, "--check", str(tmp_path / "tests.js")], capture_output=True, text=True, timeout=60
    )
    assert checked.returncode == 0, checked.stderr

"""`python -m explorer run` against the real sandbox: the demo collection, chaining, every
assertion type passing and failing, exit codes, JUnit (parsed with junitparser), JSON, Markdown."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from junitparser import Error, Failure, JUnitXml, Skipped
from support.cli import run
from support.sandbox_helpers import m2m_token, user_token

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "examples" / "sandbox-demo"


@pytest.fixture
def sandbox_env(sandbox_info, clean_databricks_env, monkeypatch) -> dict:
    """demo-sp's credentials and the app URLs in the environment, as the demo's README says."""
    sp = sandbox_info["service_principals"]["demo-sp"]
    monkeypatch.setenv("DATABRICKS_HOST", sandbox_info["host"])
    monkeypatch.setenv("DATABRICKS_CLIENT_ID", sp["client_id"])
    monkeypatch.setenv("DATABRICKS_CLIENT_SECRET", sp["client_secret"])
    for app in ("hello", "scoped", "stopped"):
        monkeypatch.setenv(f"{app.upper()}_URL", sandbox_info["apps"][app]["url"])
    return sandbox_info


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def items(info: dict) -> list[dict]:
    token = m2m_token(info)
    url = info["apps"]["hello"]["url"] + "/api/items"
    return requests.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=10).json()


def test_the_demo_collection_runs_green_with_every_report(sandbox_env, tmp_path):
    junit, report = tmp_path / "junit.xml", tmp_path / "report.md"
    code, out, err = run(
        ["run", str(DEMO), "--env", "sandbox", "--junit", str(junit), "--report", str(report)]
    )

    assert code == 0, out + err
    lines = out.splitlines()
    assert lines[0] == "Sandbox demo · environment sandbox"
    assert lines[-1].startswith("PASSED: 15/15 requests passed")
    created = next(line for line in lines if "Create an item" in line)
    assert "POST 201" in created and "4/4 passed" in created
    assert any("Stopped app" in line and "[APP_NOT_RUNNING]" in line for line in lines)
    suite = next(iter(JUnitXml.fromfile(str(junit))))
    assert suite.tests == 15 and suite.failures == 0 and suite.errors == 0
    cases = {case.name: case for case in suite}
    assert cases["Scoped app without its scopes"].classname == "failures"
    assert "SCOPE_MISSING" in cases["Scoped app without its scopes"].system_out
    assert "fix:" in cases["Scoped app without its scopes"].system_out
    markdown = report.read_text()
    assert (
        markdown.startswith("# Run of Sandbox demo (environment `sandbox`)")
        and "| ✓ | items / Delete it | DELETE 204 |" in markdown
    )


CHAIN = {
    "collection.yaml": """
name: chain
openapi: '{{base}}/api/openapi.json'
variables: {base: '{{$env.HELLO_URL}}', item: mug}
defaults: {auth: m2m}
order: [create.posting.yaml, read.posting.yaml, delete.posting.yaml]
""",
    "create.posting.yaml": """
name: create
method: POST
url: '{{base}}/api/items'
body: {content: '{"name": "{{item}}", "price": 4, "tags": ["t1", "{{$uuid}}"]}', content_type: application/json}
assertions:
- status: 201
extractions:
- {var: id, json: $.id}
- {var: code, status: true}
- {var: kind, header: content-type}
""",
    "read.posting.yaml": """
name: read
method: GET
url: '{{base}}/api/items/{{id}}'
headers:
- {name: X-Created-With, value: '{{code}}'}
assertions:
- status: 200
- status: 2xx
- status: [200, 201]
- {json: $.id, equals: '{{id}}'}
- {json: $.tags, contains: t1}
- {json: $.name, exists: true}
- {json: $.missing, exists: false}
- {json: $.price, type: number}
- {json: $.name, matches: '^mu'}
- {header: Content-Type, exists: true}
- {header: Content-Type, matches: '{{kind}}'}
- {header: Content-Type, equals: application/json}
- {body_matches: '"name":\\s*"mug"'}
- {elapsed_below_ms: 10000}
- openapi_schema: true
""",
    "delete.posting.yaml": """
name: delete
method: DELETE
url: '{{base}}/api/items/{{id}}'
assertions:
- status: 204
""",
}

FAILING = {
    **CHAIN,
    "read.posting.yaml": """
name: read
method: GET
url: '{{base}}/api/items/{{id}}'
assertions:
- status: 404
- status: 4xx
- status: [500, 502]
- {json: $.id, equals: 0}
- {json: $.tags, contains: nope}
- {json: $.name, exists: false}
- {json: $.missing, exists: true}
- {json: $.price, type: string}
- {json: $.name, matches: '^zz'}
- {header: X-Not-There, exists: true}
- {header: Content-Type, matches: xml}
- {header: Content-Type, equals: text/html}
- {body_matches: 'never-in-the-body'}
- {elapsed_below_ms: 0.001}
- {finding: NO_CAN_USE}
extractions:
- {var: gone, json: $.nope}
""",
}


def test_a_chain_with_every_assertion_type_passes(sandbox_env, tmp_path):
    before = len(items(sandbox_env))
    code, out, err = run(["run", str(write(tmp_path, CHAIN)), "--json"])

    document = json.loads(out)
    assert code == 0, err
    assert document["passed"] is True and document["counts"]["assertions"] == 17
    read = document["results"][1]
    assert read["url"].endswith(f"/api/items/{document['results'][0]['exchange']['response']['body']['id']}")
    assert read["exchange"]["request"]["headers"]["X-Created-With"] == "201"
    assert document["results"][0]["extracted"] == ["id", "code", "kind"]
    assert all(a["passed"] for a in read["assertions"])
    assert read["exchange"]["request"]["headers"]["Authorization"].startswith("Bearer eyJh…")
    assert len(items(sandbox_env)) == before  # created, then deleted


def test_every_assertion_type_fails_with_what_was_expected_and_what_came(sandbox_env, tmp_path):
    junit = tmp_path / "junit.xml"
    code, out, _ = run(["run", str(write(tmp_path / "c", FAILING)), "--junit", str(junit)])

    assert code == 1
    assert "✗ read  GET 200" in out and "16/16 failed" in out
    assert "✗ status is 404: expected 404, got 200" in out
    assert "✗ $.price is of type string: expected string, got number 4" in out
    assert "✗ header X-Not-There is present: expected it, got no such header" in out
    assert "✗ diagnosis includes NO_CAN_USE: expected finding NO_CAN_USE, got none" in out
    assert "✗ extract gone: gone: $.nope is not in the response body" in out
    assert out.splitlines()[-1].startswith("FAILED: 2/3 requests passed")
    suite = next(iter(JUnitXml.fromfile(str(junit))))
    assert suite.tests == 3 and suite.failures == 1
    read = next(case for case in suite if case.name == "read")
    failure = next(r for r in read.result if isinstance(r, Failure))
    assert failure.message == "status is 404: expected 404, got 200"
    assert (
        "status is [500, 502]" not in failure.text
        and "status is 500 or 502: expected 500 or 502, got 200" in failure.text
    )
    assert failure.text.count("\n") == 15


def test_a_403_carries_its_diagnosis_no_can_use(sandbox_env, tmp_path, monkeypatch):
    monkeypatch.setenv("BOB_TOKEN", user_token(sandbox_env["host"], "bob@example.com", ["all-apis"]))
    collection = write(
        tmp_path,
        {
            "collection.yaml": "name: bob\n",
            "whoami.posting.yaml": "name: Bob calls hello\nurl: '{{$env.HELLO_URL}}/api/whoami'\nauth_method: {method: token, token_env: BOB_TOKEN}\nassertions:\n- status: 200\n",
        },
    )
    junit = tmp_path / "j.xml"
    code, out, _ = run(["run", str(collection), "--junit", str(junit)])

    assert code == 1
    assert "GET 403" in out and "[NO_CAN_USE]" in out and "    NO_CAN_USE:" in out and "      fix:" in out
    case = next(iter(next(iter(JUnitXml.fromfile(str(junit))))))
    assert "NO_CAN_USE" in case.system_out and "fix:" in case.system_out
    assert "BOB_TOKEN" not in out and "eyJ" not in out.replace("eyJh…", "")


def test_undefined_variables_stop_the_run_before_anything_is_sent(sandbox_env, tmp_path):
    before = len(items(sandbox_env))
    files = {**CHAIN, "read.posting.yaml": CHAIN["read.posting.yaml"].replace("{{id}}", "{{item_idd}}")}
    code, out, err = run(["run", str(write(tmp_path, files))])

    assert code == 2 and out == ""
    assert err.strip() == (
        "error: read: undefined variable {{item_idd}} in url: define it in the collection, the environment, "
        ".env or with --var item_idd=VALUE"
    )
    assert len(items(sandbox_env)) == before  # the create before it was not sent either


def test_var_dotenv_and_resolution_order(sandbox_env, tmp_path):
    collection = write(
        tmp_path,
        {
            "collection.yaml": "name: order\nvariables: {who: collection, base: '{{$env.HELLO_URL}}'}\ndefaults: {auth: m2m}\n",
            "environments/dev.yaml": "variables: {who: environment}\n",
            ".env": "who=dotenv\n",
            "hello.posting.yaml": "name: hello\nurl: '{{base}}/api/hello'\nparams: [{name: name, value: '{{who}}'}]\nassertions:\n- {json: $.message, equals: 'Hello, {{who}}!'}\n",
        },
    )

    def message(*extra: str) -> str:
        code, out, _ = run(["run", str(collection), "--json", *extra])
        assert code == 0
        return json.loads(out)["results"][0]["exchange"]["response"]["body"]["message"]

    assert message() == "Hello, dotenv!"
    assert message("--env", "dev", "--var", "who=cli") == "Hello, cli!"
    (collection / ".env").unlink()
    assert message("--env", "dev") == "Hello, environment!"
    assert message() == "Hello, collection!"


def test_bail_folder_and_usage_errors(sandbox_env, tmp_path):
    collection = write(tmp_path / "c", FAILING)
    code, out, _ = run(["run", str(collection), "--bail", "--junit", str(tmp_path / "j.xml")])
    assert code == 1 and "- delete" in out and "not run" in out
    suite = next(iter(JUnitXml.fromfile(str(tmp_path / "j.xml"))))
    assert any(isinstance(r, Skipped) for case in suite for r in case.result)

    shutil.copytree(DEMO, tmp_path / "demo")
    code, out, _ = run(["run", str(tmp_path / "demo"), "--env", "sandbox", "--folder", "failures"])
    assert code == 0 and "4/4 requests passed" in out

    assert run(["run", str(tmp_path / "demo"), "--folder", "nope"])[0] == 2
    code, _, err = run(["run", str(tmp_path / "demo"), "--env", "prod"])
    assert code == 2 and "no environment 'prod'" in err and "known: sandbox" in err
    code, _, err = run(["run", str(tmp_path / "absent")])
    assert code == 2 and "no such folder" in err
    code, _, err = run(["run", str(tmp_path / "demo"), "--var", "oops"])
    assert code == 2 and "NAME=VALUE" in err


def test_a_request_without_a_response_fails_the_run_with_an_error_testcase(sandbox_env, tmp_path):
    collection = write(
        tmp_path,
        {
            "collection.yaml": "name: n\n",
            "x.posting.yaml": "name: nowhere\nurl: http://nohost.invalid/api/x\nauth_method: none\n",
        },
    )
    code, out, _ = run(["run", str(collection), "--junit", str(tmp_path / "j.xml")])
    assert code == 1 and "---" in out and "NETWORK_DNS" in out
    case = next(iter(next(iter(JUnitXml.fromfile(str(tmp_path / "j.xml"))))))
    assert isinstance(case.result[0], Error)


def test_broken_files_exit_2_and_the_rest_still_runs(sandbox_env, tmp_path):
    collection = write(
        tmp_path,
        {
            "collection.yaml": "name: b\ndefaults: {auth: m2m}\n",
            "a.posting.yaml": "name: ok\nurl: '{{$env.HELLO_URL}}/api/hello'\nassertions: [{status: 200}]\n",
            "b.posting.yaml": "name: broken\nurl: x\nassertions: [{json: nope, equals: 1}]\n",
        },
    )
    code, out, err = run(["run", str(collection)])
    assert code == 2
    assert (
        'error: b.posting.yaml (field assertions[0].json): "nope" is not a JSON path (it must start with $)'
        in err
    )
    assert "✓ ok" in out and "1 broken file(s)" in out


def test_run_does_not_import_gradio(sandbox_env, tmp_path):
    script = (
        "import sys\nfrom explorer.__main__ import main\n"
        f"code = main(['run', {str(DEMO)!r}, '--env', 'sandbox', '--folder', 'items'])\n"
        "assert 'gradio' not in sys.modules, 'gradio imported'\nsys.exit(code)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert "6/6 requests passed" in result.stdout


POSTING_FILE = """\
name: Greet via posting
description: Saved by posting (its request format), untouched.
method: GET
url: ${BASE_URL}/api/hello
headers:
- name: Accept
  value: application/json
- name: X-Disabled
  value: not sent
  enabled: false
params:
- name: name
  value: posting
auth:
  type: bearer_token
  bearer_token:
    token: ${TOKEN}
options:
  follow_redirects: false
  verify_ssl: true
  timeout: 10.0
posting_version: 2.3.0
scripts:
  on_response: scripts/check.py
"""


def test_a_posting_request_file_runs_as_posting_wrote_it(sandbox_info, tmp_path):
    """A team using posting can open its folder: `${VAR}` from .env, bearer_token auth, options."""
    (tmp_path / "greet.posting.yaml").write_text(POSTING_FILE)
    (tmp_path / ".env").write_text(
        f"BASE_URL={sandbox_info['apps']['hello']['url']}\nTOKEN={m2m_token(sandbox_info)}\n"
    )
    code, out, err = run(["run", str(tmp_path), "--json", "--auth", "none"])

    result = json.loads(out)["results"][0]
    assert code == 0, err
    assert result["status"] == 200 and result["exchange"]["response"]["body"]["message"] == "Hello, posting!"
    sent = result["exchange"]["request"]["headers"]
    assert sent["Authorization"].startswith("Bearer eyJh…") and "X-Disabled" not in sent
    assert json.loads(out)["collection"] == tmp_path.name  # no collection.yaml: the folder's name


def test_each_identity_gets_one_token_for_the_whole_run(sandbox_env):
    """One connect per identity: the demo's 14 requests cost demo-sp one token request."""
    stats = sandbox_env["host"] + "/_sandbox/stats"
    requests.post(stats + "/reset", timeout=10).raise_for_status()
    code, out, _ = run(["run", str(DEMO), "--env", "sandbox"])
    assert code == 0, out
    assert requests.get(stats, timeout=10).json()["token_requests_by_grant"] == {"client_credentials": 1}


def test_command_line_auth_overrides_the_environments_identity(
    sandbox_info, clean_databricks_env, monkeypatch
):
    """The demo's environment reads DATABRICKS_HOST; with --auth m2m --host it need not be set."""
    sp = sandbox_info["service_principals"]["demo-sp"]
    monkeypatch.setenv("DATABRICKS_CLIENT_ID", sp["client_id"])
    monkeypatch.setenv("DATABRICKS_CLIENT_SECRET", sp["client_secret"])
    monkeypatch.setenv("HELLO_URL", sandbox_info["apps"]["hello"]["url"])
    code, _, err = run(["run", str(DEMO), "--env", "sandbox", "--folder", "items"])
    assert code == 2 and "auth: undefined variable {{$env.DATABRICKS_HOST}} in auth field host" in err
    code, out, err = run(
        [
            "run",
            str(DEMO),
            "--env",
            "sandbox",
            "--folder",
            "items",
            "--auth",
            "m2m",
            "--host",
            sandbox_info["host"],
        ]
    )
    assert code == 0, out + err
    assert "6/6 requests passed" in out


def test_malformed_files_and_urls_never_end_in_a_traceback(tmp_path):
    collection = write(
        tmp_path / "c",
        {"list.posting.yaml": "- a\n- b\n", "bad-url.posting.yaml": "name: bad url\nurl: 'http://[::1'\n"},
    )
    junit = tmp_path / "j.xml"
    code, out, err = run(
        ["run", str(collection), "--auth", "none", "--junit", str(junit), "--report", str(tmp_path / "r.md")]
    )
    assert code == 2 and "Traceback" not in err
    assert "error: list.posting.yaml: the file must hold a mapping of keys (name:, url: …), not list" in err
    assert "not sent: Malformed URL" in out
    suite = next(iter(JUnitXml.fromfile(str(junit))))
    assert suite.tests == 2 and suite.errors == 2


def test_a_token_echoed_into_a_failing_assertion_is_masked_in_every_report(
    sandbox_env, tmp_path, monkeypatch
):
    token = m2m_token(sandbox_env)
    monkeypatch.setenv("ECHOED", token)
    collection = write(
        tmp_path / "c",
        {
            "collection.yaml": "name: echo\ndefaults: {auth: m2m}\n",
            "echo.posting.yaml": "name: echo\nmethod: POST\nurl: '{{$env.HELLO_URL}}/api/echo'\n"
            "body: {content: '{{$env.ECHOED}}', content_type: text/plain}\n"
            "assertions:\n- {json: $.body, equals: something else}\n- {body_matches: '^nothing$'}\n",
        },
    )
    junit, markdown = tmp_path / "j.xml", tmp_path / "r.md"
    code, out, err = run(["run", str(collection), "--json", "--junit", str(junit), "--report", str(markdown)])
    assert code == 1
    report = json.loads(out)
    assert "expected 'something else', got 'eyJh…" in report["results"][0]["assertions"][0]["detail"]
    for text in (out, err, junit.read_text(), markdown.read_text()):
        assert token not in text and token[:40] not in text


def test_an_extracted_secret_is_passed_on_but_never_shown(sandbox_env, tmp_path):
    opaque = "opaque-session-value-0123456789"
    collection = write(
        tmp_path / "c",
        {
            "collection.yaml": f"name: login\ndefaults: {{auth: m2m}}\nvariables: {{seed: {opaque}}}\n"
            "order: [login.posting.yaml, use.posting.yaml]\n",
            "login.posting.yaml": "name: login\nmethod: POST\nurl: '{{$env.HELLO_URL}}/api/echo'\n"
            "body: {content: '{{seed}}', content_type: text/plain}\n"
            "extractions:\n- {var: access_token, json: $.body}\n",
            "use.posting.yaml": "name: use it\nurl: '{{$env.HELLO_URL}}/api/echo'\n"
            "headers:\n- {name: X-Session, value: '{{access_token}}'}\n"
            "assertions:\n- {json: $.headers.x-session, equals: '{{access_token}}'}\n",
        },
    )
    code, out, err = run(["run", str(collection), "--json"])
    assert code == 0, err
    use = json.loads(out)["results"][1]
    assert use["passed"] and use["exchange"]["request"]["headers"]["X-Session"] == "opaq…789"
    assert opaque not in out.split('"login"', 1)[1].split('"use it"', 1)[1]  # nowhere in the second request


def test_a_secret_given_with_var_is_warned_about_and_never_shown(sandbox_env, tmp_path):
    secret = "given-on-the-command-line-42"
    collection = write(
        tmp_path / "c",
        {
            "collection.yaml": "name: v\ndefaults: {auth: m2m}\n",
            "echo.posting.yaml": "name: echo\nurl: '{{$env.HELLO_URL}}/api/echo'\nparams: [{name: q, value: '{{api_secret}}'}]\n",
        },
    )
    code, out, err = run(["run", str(collection), "--var", f"api_secret={secret}", "--json"])
    assert code == 0, err
    assert "warning: --var api_secret=… is visible in shell history" in err
    assert secret not in out and secret not in err

"""snippets.py: curl / requests / SDK code for the current request, secret-free, that runs as printed.

The first part checks the text (quoting, structure, no secrets). The last part runs the
snippets for real, with bash and the project's Python, against the sandbox's sample app echo
endpoint, and checks that the app received exactly the request the explorer would send.
"""

from __future__ import annotations

import ast
import base64
import json
import os
import secrets
import subprocess
import sys

import pytest
import requests
from support.sandbox_helpers import STAND_IN_CLI

from explorer.auth import METHODS
from explorer.model import RequestSpec
from explorer.redact import Redactor
from explorer.snippets import LANGS, render_snippet

APP = "https://hello-1234567890.aws.databricksapps.com"
WORKSPACE = "https://adb-123.4.azuredatabricks.net"


def fake_jwt() -> str:
    def segment(value: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    claims = {"iss": f"{WORKSPACE}/oidc", "sub": "alice@example.com", "jti": secrets.token_hex(16)}
    return f"{segment({'alg': 'RS256', 'typ': 'at+jwt'})}.{segment(claims)}.{secrets.token_urlsafe(64)}"


def tricky_spec(**overrides) -> RequestSpec:
    """A request whose values need real quoting: quotes, spaces, $, backticks, unicode, newlines."""
    values = {
        "method": "POST",
        "url": f"{APP}/api/echo?fixed=1",
        "params": [("q", 'it\'s a "test" & $HOME `x`'), ("emoji", "☃")],
        "headers": [("X-Trace", 'a\'b "c" $(id)'), ("Accept", "application/json")],
        "body": json.dumps({"name": 'it\'s "x"\n$HOME', "n": [1, 2.5, None, True]}),
        "timeout": 12.5,
    }
    values.update(overrides)
    return RequestSpec(**values)


def secret_spec(token: str, cookie: str) -> RequestSpec:
    return tricky_spec(
        headers=[
            ("Authorization", f"Bearer {token}"),
            ("X-Forwarded-Access-Token", token),
            ("Cookie", f"session={cookie}"),
            ("X-Trace", "t"),
        ]
    )


def all_snippets(spec: RequestSpec, **kwargs):
    for method in METHODS:
        for lang in LANGS:
            yield method, lang, render_snippet(spec, method, lang, host=WORKSPACE, **kwargs)


def test_no_token_cookie_or_typed_secret_appears_in_any_snippet():
    token, cookie, typed = fake_jwt(), secrets.token_urlsafe(32), "dose" + secrets.token_hex(16)
    spec = secret_spec(token, cookie)
    spec.params.append(("client_secret", typed))
    spec.body = json.dumps({"note": f"pasted {typed} and {token}"})
    redactor = Redactor([typed])
    for method, lang, text in all_snippets(spec, profile="dev", scopes=["sql"], redactor=redactor):
        for secret in (token, cookie, typed):
            assert secret not in text, (method, lang)
        assert "X-Trace" in text


def test_python_snippets_compile_and_shell_snippets_parse():
    for method, lang, text in all_snippets(tricky_spec(), profile="it's"):
        if lang == "curl":
            check = subprocess.run(["bash", "-n"], input=text, capture_output=True, text=True, timeout=30)
            assert check.returncode == 0, (method, check.stderr)
        else:
            compile(text, f"<{method}-{lang}>", "exec")


def curl_call_argv(text: str) -> list[str]:
    """The argv bash passes to the last curl command (the request itself)."""
    last = "curl " + text.rstrip("\n").split("\ncurl ")[-1]
    printer = 'curl() { printf "%s\\0" "$@"; }\n'  # a function shadows the real curl
    env = {"PATH": os.environ["PATH"], "DATABRICKS_TOKEN": "TOKEN-FROM-ENV"}
    done = subprocess.run(["bash", "-c", printer + last], env=env, capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    return ["curl", *done.stdout.split("\0")[:-1]]


def test_curl_arguments_reach_curl_exactly_as_typed():
    spec = tricky_spec()
    argv = curl_call_argv(render_snippet(spec, "token", "curl", host=None))
    assert argv[:8] == ["curl", "-sS", "-i", "-X", "POST", "--max-time", "12.5", argv[7]]
    assert (
        argv[7]
        == f"{APP}/api/echo?fixed=1&q=it%27s%20a%20%22test%22%20%26%20%24HOME%20%60x%60&emoji=%E2%98%83"
    )
    headers = [argv[i + 1] for i, a in enumerate(argv) if a == "-H"]
    assert headers == [
        "Authorization: Bearer TOKEN-FROM-ENV",
        'X-Trace: a\'b "c" $(id)',
        "Accept: application/json",
        "Content-Type: application/json",
    ]
    assert argv[argv.index("--data-binary") + 1] == spec.body


def test_curl_get_without_body_needs_no_method_flag():
    argv = curl_call_argv(render_snippet(RequestSpec(url=f"{APP}/api/hello"), "token", "curl", host=None))
    assert argv == [
        "curl",
        "-sS",
        "-i",
        "--max-time",
        "30",
        f"{APP}/api/hello",
        "-H",
        "Authorization: Bearer TOKEN-FROM-ENV",
    ]


def test_curl_keeps_at_signs_empty_headers_and_head_requests_literal():
    spec = RequestSpec(method="POST", url=f"{APP}/api/echo", headers=[("X-Empty", "")], body="@/etc/passwd")
    argv = curl_call_argv(render_snippet(spec, "token", "curl", host=None))
    assert argv[argv.index("--data-raw") + 1] == "@/etc/passwd" and "--data-binary" not in argv
    assert "X-Empty;" in argv
    head = curl_call_argv(
        render_snippet(RequestSpec(method="HEAD", url=f"{APP}/api/x"), "token", "curl", host=None)
    )
    assert "--head" in head and "-X" not in head


def request_call(text: str) -> dict:
    """The literal arguments of the snippet's requests.request(...) call."""
    call = next(
        node
        for node in ast.walk(ast.parse(text))
        if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "request"
    )
    values = {"method": ast.literal_eval(call.args[0]), "url": ast.literal_eval(call.args[1])}
    for keyword in call.keywords:
        if keyword.arg == "headers":
            values["headers"] = {
                ast.literal_eval(k): ast.literal_eval(v)
                for k, v in zip(keyword.value.keys, keyword.value.values, strict=True)
                if k
            }
        else:
            values[keyword.arg] = ast.literal_eval(keyword.value)
    return values


def test_python_snippets_pass_every_value_through_as_a_literal():
    spec = tricky_spec()
    for lang in ("python", "sdk"):
        call = request_call(render_snippet(spec, "m2m", lang, host=WORKSPACE))
        assert call["method"] == "POST" and call["url"] == spec.url
        assert call["params"] == spec.params
        assert call["headers"] == dict(spec.headers)
        assert call["json"] == json.loads(spec.body)
        assert call["timeout"] == 12.5 and call["allow_redirects"] is False


def test_bodies_that_are_not_json_or_not_sent_as_json_go_as_data():
    text_body = tricky_spec(body="plain 'text'\n")
    declared_text = tricky_spec(headers=[("Content-Type", "text/plain")], body='{"a": 1}')
    infinite = tricky_spec(body='{"big": 1e999}')
    for spec in (text_body, declared_text, infinite):
        call = request_call(render_snippet(spec, "token", "python", host=None))
        assert call["data"] == spec.body and "json" not in call
    argv = curl_call_argv(render_snippet(text_body, "token", "curl", host=None))
    assert "Content-Type: application/json" not in argv


def test_m2m_snippets_request_custom_scopes():
    spec = RequestSpec(url=f"{APP}/api/hello")
    curl = render_snippet(spec, "m2m", "curl", host=WORKSPACE, scopes=["sql", "files.files"])
    python = render_snippet(spec, "m2m", "python", host=WORKSPACE, scopes=["sql", "files.files"])
    sdk = render_snippet(spec, "app", "sdk", host=None, scopes=["sql", "files.files"])
    assert "--data-urlencode 'scope=sql files.files'" in curl
    assert '"scope": "sql files.files"' in python
    assert 'WorkspaceClient(auth_type="oauth-m2m", scopes=["sql", "files.files"])' in sdk
    assert '"scope": "all-apis"' in render_snippet(spec, "app", "python", host=WORKSPACE)


def test_each_auth_method_takes_credentials_from_the_documented_place():
    spec = RequestSpec(url=f"{APP}/api/hello")
    assert "databricks auth token --profile 'my prof'" in render_snippet(
        spec, "profile", "curl", host=None, profile="my prof"
    )
    assert 'Config(profile="dev").authenticate()' in render_snippet(
        spec, "profile", "python", host=None, profile="dev"
    )
    assert 'WorkspaceClient(profile="dev")' in render_snippet(
        spec, "profile", "sdk", host=None, profile="dev"
    )
    for method in ("token", "user", "browser", "federated"):
        assert 'os.environ["DATABRICKS_TOKEN"]' in render_snippet(spec, method, "python", host=None)
        sdk = render_snippet(spec, method, "sdk", host=WORKSPACE)
        assert f'Config(host="{WORKSPACE}", token=os.environ["DATABRICKS_TOKEN"], auth_type="pat")' in sdk
    assert 'host=os.environ["DATABRICKS_HOST"]' in render_snippet(spec, "token", "sdk", host=None)
    assert "DATABRICKS_HOST:?" in render_snippet(spec, "m2m", "curl", host=None)


def test_unknown_languages_and_methods_are_refused_readably():
    with pytest.raises(ValueError, match="Unknown snippet language 'ruby'"):
        render_snippet(RequestSpec(url=APP), "token", "ruby", host=None)
    with pytest.raises(ValueError, match="Unknown auth method 'magic'"):
        render_snippet(RequestSpec(url=APP), "magic", "curl", host=None)


# --- run as printed, against the sandbox ------------------------------------------------------


@pytest.fixture(scope="module")
def sp(sandbox_info):
    return sandbox_info["service_principals"]["demo-sp"]


@pytest.fixture(scope="module")
def sp_token(sandbox_info, sp) -> str:
    answer = requests.post(
        f"{sandbox_info['host']}/oidc/v1/token",
        auth=(sp["client_id"], sp["client_secret"]),
        data={"grant_type": "client_credentials", "scope": "all-apis"},
        timeout=30,
    )
    answer.raise_for_status()
    return answer.json()["access_token"]


def run(text: str, lang: str, env: dict[str, str], tmp_path) -> str:
    """Run a snippet in a clean environment (plus `env`); returns its output."""
    base = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "LANG": "C.UTF-8"}
    command = ["bash", "-c", text] if lang == "curl" else [sys.executable, "-c", text]
    done = subprocess.run(
        command, env={**base, **env}, capture_output=True, text=True, timeout=120, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def echoed(output: str) -> dict:
    """The sample app's echo, from curl -i output or from the Python snippet's two prints."""
    assert output.split(None, 2)[1 if output.startswith("HTTP") else 0] == "200", output[:300]
    return json.loads(output.rstrip().splitlines()[-1])


def echo_spec(sandbox_info) -> RequestSpec:
    return tricky_spec(url=f"{sandbox_info['apps']['hello']['url']}/api/echo?fixed=1")


def assert_echo_matches(echo: dict, spec: RequestSpec) -> None:
    assert echo["method"] == spec.method
    assert echo["path"] == "/api/echo"
    assert echo["query"] == {"fixed": ["1"], "q": [spec.params[0][1]], "emoji": ["☃"]}
    assert echo["headers"]["x-trace"] == dict(spec.headers)["X-Trace"]
    assert json.loads(echo["body"]) == json.loads(spec.body)


@pytest.mark.parametrize("lang", LANGS)
def test_m2m_snippets_run_as_printed(sandbox_info, sp, lang, tmp_path):
    spec = echo_spec(sandbox_info)
    text = render_snippet(spec, "m2m", lang, host=sandbox_info["host"])
    env = {"DATABRICKS_CLIENT_ID": sp["client_id"], "DATABRICKS_CLIENT_SECRET": sp["client_secret"]}
    assert sp["client_secret"] not in text
    assert_echo_matches(echoed(run(text, lang, env, tmp_path)), spec)


@pytest.mark.parametrize("lang", LANGS)
def test_token_snippets_run_as_printed(sandbox_info, sp_token, lang, tmp_path):
    spec = echo_spec(sandbox_info)
    text = render_snippet(spec, "token", lang, host=sandbox_info["host"])
    assert sp_token not in text
    assert_echo_matches(echoed(run(text, lang, {"DATABRICKS_TOKEN": sp_token}, tmp_path)), spec)


@pytest.mark.parametrize("lang", LANGS)
def test_profile_snippets_run_as_printed_with_a_cli_profile(
    sandbox_info, databricks_cli_profile, lang, tmp_path
):
    profile = databricks_cli_profile(user="alice@example.com")  # U2M sign-in behind a databricks-cli profile
    spec = echo_spec(sandbox_info)
    text = render_snippet(spec, "profile", lang, host=sandbox_info["host"], profile=profile)
    passed = ("DATABRICKS_CONFIG_FILE", "DATABRICKS_CLI_PATH", "SANDBOX_CLI_TOKEN_CACHE")
    env = {name: os.environ[name] for name in passed}
    env["PATH"] = (
        f"{STAND_IN_CLI.parent}{os.pathsep}{os.environ['PATH']}"  # curl runs `databricks auth token`
    )
    assert_echo_matches(echoed(run(text, lang, env, tmp_path)), spec)


def test_curl_sends_an_at_sign_body_and_an_empty_header_literally(sandbox_info, sp_token, tmp_path):
    url = f"{sandbox_info['apps']['hello']['url']}/api/echo"
    spec = RequestSpec(
        method="PUT",
        url=url,
        headers=[("X-Empty", ""), ("Content-Type", "text/plain")],
        body="@/etc/hostname",
    )
    echo = echoed(
        run(
            render_snippet(spec, "token", "curl", host=None), "curl", {"DATABRICKS_TOKEN": sp_token}, tmp_path
        )
    )
    assert (echo["method"], echo["body"], echo["headers"]["x-empty"]) == ("PUT", "@/etc/hostname", "")

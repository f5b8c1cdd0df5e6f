"""Property tests: secrets vanish from text and snippets, snippets quote anything, the allowlist has no loopholes."""

from __future__ import annotations

import ast
import base64
import json
import os
import string
import subprocess

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from explorer.guard import Allowlist
from explorer.model import RequestSpec
from explorer.redact import Redactor, is_secret_header, redact_headers
from explorer.snippets import render_snippet

PROPS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SHELL = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
APP = "https://hello-1234567890.aws.databricksapps.com"

secret_text = st.text(string.ascii_letters + string.digits + "-_+/=~.", min_size=6, max_size=80)
# Secrets sit between delimiters in real text (headers, JSON, URLs, prose).
filler = st.text(" \t\n\"',;:{}[]()<>&?!#", max_size=30)


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@st.composite
def jwts(draw) -> str:
    claims = draw(st.dictionaries(st.text(max_size=8), st.text(max_size=20), max_size=5))
    header = {"alg": "RS256", "typ": draw(st.sampled_from(["at+jwt", "JWT"]))}
    signature = draw(st.binary(min_size=32, max_size=256))
    return f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}.{b64(signature)}"


@PROPS
@given(st.lists(secret_text, min_size=1, max_size=4), st.lists(filler, min_size=2, max_size=6))
def test_every_known_secret_vanishes_from_text(known, fillers):
    text = fillers[0] + "".join(
        secret + fill for secret, fill in zip(known, fillers[1:] + fillers, strict=False)
    )
    scrubbed = Redactor(known).scrub(text)
    for secret in known:
        assert secret not in scrubbed


@PROPS
@given(jwts(), filler, filler)
def test_any_jwt_vanishes_even_when_unknown(token, before, after):
    scrubbed = Redactor().scrub(before + token + after)
    assert token not in scrubbed and token.rsplit(".", 1)[1] not in scrubbed


@PROPS
@given(jwts())
def test_credential_headers_never_show_the_token(token):
    headers = [
        ("Authorization", f"Bearer {token}"),
        ("X-Forwarded-Access-Token", token),
        ("Cookie", f"s={token}"),
    ]
    assert token not in repr(redact_headers(headers))


# --- snippets ---------------------------------------------------------------------------------

safe_chars = st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\x00") | st.sampled_from(
    list("'\"$`\\!*?~&|;<>(){}[]# \t\n")
)
values = st.text(safe_chars, max_size=30)
header_names = st.text(string.ascii_letters + string.digits + "-_", min_size=1, max_size=15).filter(
    # Credential-named headers (password, secret, token, ...) are left out of snippets on purpose.
    lambda n: n.lower() != "content-type" and not is_secret_header(n)
)
header_values = st.text(
    st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp"), blacklist_characters="\x85")
    | st.sampled_from(list("'\"$`\\!")),
    max_size=30,
).map(str.strip)


@st.composite
def specs(draw) -> tuple[RequestSpec, str]:
    token = draw(jwts())
    spec = RequestSpec(
        method=draw(st.sampled_from(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])),
        url=APP + "/api/" + draw(st.text(string.ascii_letters + string.digits + "-_/", max_size=20)),
        params=draw(st.lists(st.tuples(values.filter(bool), values), max_size=3)),
        headers=[
            ("Authorization", f"Bearer {token}"),
            *draw(st.lists(st.tuples(header_names, header_values), max_size=3)),
        ],
        body=draw(
            st.one_of(st.none(), values, st.builds(json.dumps, st.dictionaries(values, values, max_size=3)))
        ),
        timeout=draw(st.sampled_from([30.0, 5.5, 120.0])),
    )
    return spec, token


def request_call(text: str) -> dict:
    call = next(
        n
        for n in ast.walk(ast.parse(text))
        if isinstance(n, ast.Call) and getattr(n.func, "attr", "") == "request"
    )
    found = {"method": ast.literal_eval(call.args[0]), "url": ast.literal_eval(call.args[1])}
    for keyword in call.keywords:
        if keyword.arg == "headers":
            found["headers"] = [
                (ast.literal_eval(k), ast.literal_eval(v))
                for k, v in zip(keyword.value.keys, keyword.value.values, strict=True)
                if k
            ]
        else:
            found[keyword.arg] = ast.literal_eval(keyword.value)
    return found


@PROPS
@given(specs(), st.sampled_from(["m2m", "app", "profile", "token", "user", "browser", "federated"]))
def test_python_snippets_carry_every_value_exactly_and_no_token(generated, method):
    spec, token = generated
    for lang in ("python", "sdk"):
        text = render_snippet(spec, method, lang, host=APP, profile="p'q")
        assert token not in text
        call = request_call(text)
        assert (call["method"], call["url"]) == (spec.method, spec.url)
        assert call.get("params", []) == spec.params
        assert call["headers"] == spec.headers[1:]
        if spec.body:  # an empty body is no body
            sent = call.get("data", call.get("json"))
            assert sent == spec.body if "data" in call else sent == json.loads(spec.body)


@SHELL
@given(specs(), st.sampled_from(["m2m", "profile", "token"]))
def test_curl_snippets_pass_every_value_to_curl_exactly_and_no_token(generated, method):
    spec, token = generated
    text = render_snippet(spec, method, "curl", host=APP, profile="p'q $x")
    assert token not in text
    last = "curl " + text.rstrip("\n").split("\ncurl ")[-1]
    printer = 'curl() { printf "%s\\0" "$@"; }\n'  # shadows the real curl: print the argv instead
    env = {"PATH": os.environ["PATH"], "TOKEN": "T", "DATABRICKS_TOKEN": "T"}
    done = subprocess.run(["bash", "-c", printer + last], env=env, capture_output=True, timeout=30)
    assert done.returncode == 0, done.stderr
    argv = done.stdout.decode("utf-8").split("\0")[:-1]
    sent_headers = [argv[i + 1] for i, a in enumerate(argv) if a == "-H"]
    assert sent_headers[0] == "Authorization: Bearer T"
    expected = [f"{k}: {v}" if v else f"{k};" for k, v in spec.headers[1:]]
    assert sent_headers[1 : 1 + len(expected)] == expected
    if spec.body:
        option = "--data-raw" if spec.body.startswith("@") else "--data-binary"
        assert argv[argv.index(option) + 1] == spec.body


# --- allowlist --------------------------------------------------------------------------------

labels = st.text(string.ascii_lowercase + string.digits + "-", min_size=1, max_size=10)


@PROPS
@given(st.text(max_size=60))
def test_the_allowlist_answers_anything_without_raising(url):
    assert Allowlist.for_deployment("https://adb-1.azuredatabricks.net").allows(url) in (True, False)


@PROPS
@given(labels, st.sampled_from(["", ".", "-", "x"]), st.sampled_from(["https", "http"]))
def test_only_the_apps_domain_and_its_subdomains_match(label, joiner, scheme):
    allowlist = Allowlist.for_deployment(None)
    host = f"{label}{joiner}databricksapps.com"
    assert allowlist.allows(f"{scheme}://{host}/api") == (joiner == ".")
    assert not allowlist.allows(f"{scheme}://databricksapps.com.{label}/api")
    assert not allowlist.allows(f"{scheme}://{label}.databricksapps.com@evil.example/api")

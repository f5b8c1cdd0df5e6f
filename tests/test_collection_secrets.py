"""No secret is ever written: save requests with every auth method and every place a secret can
hide, then search every written file for the real values."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest

from explorer.auth import METHODS
from explorer.collection.export_postman import to_postman
from explorer.collection.files import load_collection, save_collection, save_environment, save_request
from explorer.collection.importers.curl import basic_header_secret, parse_curl
from explorer.collection.importers.har import from_har
from explorer.collection.importers.postman import from_postman
from explorer.collection.model import (
    AuthRef,
    BasicAuth,
    Body,
    Collection,
    Defaults,
    Environment,
    Folder,
    Pair,
    Request,
)
from explorer.collection.secret_guard import SecretRefused
from explorer.collection.storage import FolderStorage
from explorer.redact import Redactor

TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhZGEifQ.c2lnbmF0dXJlLW9mLXRoZS10b2tlbg"
CLIENT_SECRET = "dose-sp-secret-3f9a0c1b2d4e5f60718293a4"
PAT = "dapi" + "0123456789abcdef" * 2  # built, so no token-shaped literal sits in the tree
API_KEY = "k3y-the-api-key-4b1e9d2c7a"
PASSWORD = "pa55-word-of-the-user-9"
COOKIE = "sess-cookie-value-8c2e1f4a"
SUBJECT = "idp-subject-token-5d6e7f80"
SECRETS = [TOKEN, CLIENT_SECRET, PAT, API_KEY, PASSWORD, COOKIE, SUBJECT]


def forms(secret: str) -> list[str]:
    """The shapes a secret takes in a file: as is, URL-encoded, inside Basic credentials."""
    return [
        secret,
        quote(secret, safe=""),
        quote_plus(secret),
        base64.b64encode(f"ada:{secret}".encode()).decode(),
    ]


def assert_nothing_secret_written(root: Path) -> list[Path]:
    files = [p for p in root.rglob("*") if p.is_file()]
    assert files, "nothing was written"
    for path in files:
        text = path.read_text(encoding="utf-8")
        for secret in SECRETS:
            for form in forms(secret):
                assert form not in text, f"{path.name} holds {secret[:6]}…"
    return files


@pytest.fixture
def redactor() -> Redactor:
    # What a session knows: the token it fetched, the secrets it was given.
    return Redactor([TOKEN, CLIENT_SECRET, PAT, API_KEY, PASSWORD, COOKIE, SUBJECT])


def auth_refs() -> list[AuthRef]:
    """Every auth method with every field filled in: secret fields with real secrets."""
    refs = []
    values = {"client_secret": CLIENT_SECRET, "token": TOKEN, "subject_token": SUBJECT}
    for name, method in METHODS.items():
        fields = {f.name: values.get(f.name, PAT if f.secret else "value") for f in method.fields}
        refs.append(AuthRef(name, fields))
    return refs


def every_hiding_place(auth: AuthRef) -> Request:
    basic = base64.b64encode(f"ada:{PASSWORD}".encode()).decode()
    return Request(
        name=f"as {auth.method}",
        method="POST",
        url=f"https://ada:{PASSWORD}@app.example/api/x?access_token={TOKEN}&page=2&note={API_KEY}",
        params=[Pair("token", TOKEN), Pair("client_secret", CLIENT_SECRET), Pair("q", "fine")],
        headers=[
            Pair("Authorization", f"Bearer {TOKEN}"),
            Pair("Proxy-Authorization", f"Basic {basic}"),
            Pair("X-Api-Key", API_KEY),
            Pair("Cookie", f"session={COOKIE}"),
            Pair("X-Custom", PAT),
            Pair("Accept", "application/json"),
        ],
        body=Body(
            content=json.dumps(
                {
                    "client_secret": CLIENT_SECRET,
                    "nested": {"password": PASSWORD, "list": [{"token": TOKEN}]},
                    "harmless": PAT,
                    "n": 1,
                }
            ),
            content_type="application/json",
        ),
        description=f"Notes that quote the token {TOKEN} by mistake.",
        auth_method=auth,
        auth=BasicAuth("basic", username="ada", password=PASSWORD),
    )


def test_every_auth_method_and_hiding_place_is_saved_without_secrets(tmp_path, redactor):
    storage = FolderStorage(tmp_path)
    notices = []
    for index, auth in enumerate(auth_refs()):
        notices += save_request(storage, every_hiding_place(auth), redactor, f"r{index}.posting.yaml").notices
    form = Request(
        "form",
        "POST",
        "https://app.example/api/f",
        body=Body(form_data=[Pair("client_secret", CLIENT_SECRET), Pair("password", PASSWORD)]),
    )
    notices += save_request(storage, form, redactor).notices
    posting_bearer = Request(
        "bearer", url="https://app.example/api/b", auth=BasicAuth("bearer_token", token=TOKEN)
    )
    notices += save_request(storage, posting_bearer, redactor).notices
    files = assert_nothing_secret_written(tmp_path)
    assert len(files) == len(METHODS) + 2
    text = "\n".join(str(n) for n in notices)
    for place in (
        "Authorization header's bearer token",
        "X-Api-Key header",
        "Cookie header",
        "query parameter 'token'",
        "URL's query parameter 'access_token'",
        "password in the URL",
        "JSON body's field 'client_secret'",
        "form field 'password'",
        "basic auth password",
        "bearer token was not stored",
        "notes held a secret",
        "auth field 'client_secret' is secret",
    ):
        assert place in text, place
    # What was written still loads, and says where the secrets come from now.
    collection = load_collection(storage)
    assert not collection.errors
    first = next(r for _, r in collection.requests() if r.name == "as m2m")
    assert first.auth_method == AuthRef("m2m", {"host": "value", "client_id": "value", "scopes": "value"})
    assert ("X-Api-Key", "{{x_api_key}}") in [(h.name, h.value) for h in first.headers]
    assert ("token", "{{token}}") in [(p.name, p.value) for p in first.params]
    assert "{{access_token}}" in first.url and "page=2" in first.url and "ada:" not in first.url
    assert json.loads(first.body.content)["nested"]["password"] == "{{password}}"
    assert first.auth.password == "{{password}}"
    token_request = next(r for _, r in collection.requests() if r.name == "as token")
    assert token_request.auth_method.method == "token" and "token" not in token_request.auth_method.fields


def test_a_bearer_header_becomes_the_token_method_reading_an_env_var(tmp_path, redactor):
    request = Request(
        "call", url="https://app.example/api/x", headers=[Pair("Authorization", "Bearer $MY_TOKEN")]
    )
    saved = save_request(FolderStorage(tmp_path), request, redactor)
    loaded = load_collection(FolderStorage(tmp_path)).requests()[0][1]
    assert loaded.headers == [] and loaded.auth_method == AuthRef("token", {"token_env": "MY_TOKEN"})
    assert "$MY_TOKEN" in str(saved.notices[0])


def test_a_secret_that_cannot_become_a_reference_is_refused(tmp_path, redactor):
    request = Request(
        "raw",
        method="POST",
        url="https://app.example/api/x",
        body=Body(content=f"plain text with {PAT} inside"),
    )
    with pytest.raises(SecretRefused, match="body holds a secret"):
        save_request(FolderStorage(tmp_path), request, redactor)
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_collections_environments_and_variables_are_saved_without_secrets(tmp_path, redactor):
    storage = FolderStorage(tmp_path)
    collection = Collection(
        name="c",
        defaults=Defaults(
            headers=[Pair("X-Api-Key", API_KEY)],
            auth=AuthRef("m2m", {"client_id": "id", "client_secret": CLIENT_SECRET}),
        ),
        variables={
            "client_secret": CLIENT_SECRET,
            "pasted": TOKEN,
            "base_url": "https://app.example",
            "code": "200",
        },
        root=Folder(
            "", items=[Folder("sub", items=[every_hiding_place(AuthRef("token", {"token": TOKEN}))])]
        ),
    )
    environment = Environment(
        "dev",
        {"password": PASSWORD, "api": API_KEY, "host": "https://w.example"},
        AuthRef("federated", {"subject_token": SUBJECT, "host": "h"}),
    )
    result = save_collection(storage, collection, redactor, [environment])
    save_environment(storage, Environment("other", {"pat": PAT}), redactor)
    assert_nothing_secret_written(tmp_path)
    loaded = load_collection(storage)
    assert loaded.variables == {"base_url": "https://app.example", "code": "200"}
    assert loaded.defaults.auth == AuthRef("m2m", {"client_id": "id"})
    assert any("variable 'pasted'" in str(n) for n in result.notices)


def test_imports_never_store_the_tokens_they_read(tmp_path):
    redactor = Redactor()
    request, _ = parse_curl(
        f"curl -H 'Authorization: Bearer {TOKEN}' -u ada:{PASSWORD} -b 'sid={COOKIE}' https://app.example/api/x"
    )
    for secret in basic_header_secret(request):
        redactor.add(secret)
    save_request(FolderStorage(tmp_path / "curl"), request, redactor)

    postman = {
        "info": {
            "name": "p",
            "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json",
        },
        "auth": {"type": "bearer", "bearer": [{"key": "token", "value": TOKEN, "type": "string"}]},
        "variable": [
            {"key": "api_secret", "value": CLIENT_SECRET, "type": "secret"},
            {"key": "base", "value": "https://h"},
        ],
        "item": [
            {
                "name": "x",
                "request": {
                    "method": "GET",
                    "url": "{{base}}/api/x",
                    "auth": {
                        "type": "basic",
                        "basic": [
                            {"key": "username", "value": "ada"},
                            {"key": "password", "value": PASSWORD},
                        ],
                    },
                },
            }
        ],
    }
    imported = from_postman(json.dumps(postman))
    for secret in imported.secrets:
        redactor.add(secret)
    save_collection(FolderStorage(tmp_path / "postman"), imported.collection, redactor)
    text, _ = to_postman(imported.collection, redactor)
    (tmp_path / "export.json").write_text(text)

    har = {
        "log": {
            "version": "1.2",
            "entries": [
                {
                    "request": {
                        "method": "GET",
                        "url": f"https://app.example/api/x?code={API_KEY}",
                        "headers": [
                            {"name": "Authorization", "value": f"Bearer {TOKEN}"},
                            {"name": "Cookie", "value": f"a={COOKIE}"},
                            {"name": ":authority", "value": "app.example"},
                        ],
                    }
                }
            ],
        }
    }
    save_collection(FolderStorage(tmp_path / "har"), from_har(json.dumps(har)).collection, Redactor([TOKEN]))
    assert len(assert_nothing_secret_written(tmp_path)) >= 5


# --- any request, any place: the secret never reaches the file ---------------------------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_names = st.sampled_from(
    ["Authorization", "X-Api-Key", "token", "q", "client_secret", "note", "password", "X-Custom", "data"]
)
_values = st.sampled_from(
    [
        "",
        "plain",
        "{{ref}}",
        "Bearer {{t}}",
        f"Bearer {TOKEN}",
        PAT,
        CLIENT_SECRET,
        f"pre-{API_KEY}-post",
        PASSWORD,
    ]
)
_pairs = st.lists(st.builds(Pair, _names, _values), max_size=4)


@st.composite
def requests_with_secrets(draw):
    body = draw(
        st.one_of(
            st.none(),
            st.builds(
                Body,
                content=st.builds(lambda k, v: json.dumps({k: v, "n": [v]}), _names, _values),
                content_type=st.just("application/json"),
            ),
            st.builds(Body, form_data=_pairs),
            st.builds(Body, content=_values),
        )
    )
    query = draw(st.lists(st.tuples(_names, _values), max_size=3))
    url = "https://app.example/api/x" + (
        "?" + "&".join(f"{k}={quote_plus(v)}" for k, v in query) if query else ""
    )
    auth = draw(
        st.one_of(
            st.none(),
            st.builds(
                lambda m: AuthRef(m, {"client_secret": CLIENT_SECRET, "token": TOKEN, "host": "h"}),
                st.sampled_from(list(METHODS)),
            ),
        )
    )
    return Request(
        "r",
        "POST",
        url,
        params=draw(_pairs),
        headers=draw(_pairs),
        body=body,
        description=draw(_values),
        auth_method=auth,
    )


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(request=requests_with_secrets())
def test_any_request_is_saved_without_its_secrets_or_refused(tmp_path, request):
    target = tmp_path / "r.posting.yaml"
    target.unlink(missing_ok=True)
    redactor = Redactor(SECRETS)
    try:
        save_request(FolderStorage(tmp_path), request, redactor, "r.posting.yaml")
    except SecretRefused:
        assert not target.exists()
        return
    text = target.read_text(encoding="utf-8")
    for secret in SECRETS:
        for form in forms(secret):
            assert form not in text
    assert not load_collection(FolderStorage(tmp_path)).errors

"""The request form: what the user types in the request bar becomes a RequestSpec, or a clear message."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from explorer.model import Endpoint
from explorer.ui.forms import FormError, RequestForm, build_spec, endpoint_form, params_skeleton

APP = "http://127.0.0.1:9001"


def test_a_path_is_sent_under_the_picked_app() -> None:
    spec = build_spec(RequestForm(method="get", url="/api/hello", app_url=APP))
    assert (spec.method, spec.url) == ("GET", f"{APP}/api/hello")


def test_params_and_headers_skip_comment_lines() -> None:
    form = RequestForm(
        url=f"{APP}/api/items", params="limit=5\n# offset=0\n\nq=a b", headers="# X-Off: 1\nX-Trace: abc"
    )
    spec = build_spec(form)
    assert spec.params == [("limit", "5"), ("q", "a b")]
    assert spec.headers == [("X-Trace", "abc")]


def test_a_json_body_is_validated_and_labelled() -> None:
    spec = build_spec(RequestForm(method="POST", url=f"{APP}/api/items", body='{"name": "x"}'))
    assert ("Content-Type", "application/json") in spec.headers
    assert json.loads(spec.body or "") == {"name": "x"}


def test_invalid_json_is_refused_before_sending_with_its_position() -> None:
    with pytest.raises(FormError, match=r"line 1 col 9"):
        build_spec(RequestForm(method="POST", url=f"{APP}/api/items", body='{"name" "x"}'))


def test_a_text_content_type_sends_the_body_as_typed() -> None:
    form = RequestForm(
        method="POST", url=f"{APP}/api/echo", headers="Content-Type: text/plain", body="not json"
    )
    assert build_spec(form).body == "not json"


@pytest.mark.parametrize(
    ("form", "message"),
    [
        (RequestForm(url=""), "Enter a URL"),
        (RequestForm(url="/api/x"), "is a path"),
        (RequestForm(url="ftp://host/x"), "Unsupported scheme"),
        (RequestForm(url=f"{APP}/api/items/{{item_id}}"), r"path parameter \{item_id\}"),
        (RequestForm(url=f"{APP}/api/x", headers="no colon here"), "Name: value"),
        (RequestForm(url=f"{APP}/api/x", body="{}"), "GET requests carry no body"),
        (RequestForm(method="BREW", url=f"{APP}/api/x"), "Unknown method"),
    ],
)
def test_bad_input_says_what_to_fix(form: RequestForm, message: str) -> None:
    with pytest.raises(FormError, match=message):
        build_spec(form)


@given(
    url=st.text(max_size=60),
    params=st.text(max_size=60),
    headers=st.text(max_size=60),
    body=st.text(max_size=60),
    method=st.sampled_from(["GET", "POST", "patch", "", "X"]),
)
def test_any_input_gives_a_spec_or_a_form_error(
    url: str, params: str, headers: str, body: str, method: str
) -> None:
    try:
        spec = build_spec(
            RequestForm(method=method, url=url, params=params, headers=headers, body=body, app_url=APP)
        )
    except FormError as e:
        assert str(e) and "\n" not in str(e)
    else:
        assert spec.url.startswith(("http://", "https://"))


def test_picking_an_endpoint_fills_the_request_bar() -> None:
    endpoint = Endpoint(
        method="post",
        path="/api/items",
        parameters=[
            {"name": "dry_run", "in": "query", "required": True, "schema": {"default": False}},
            {"name": "tag", "in": "query", "required": False, "schema": {}},
            {"name": "X-Trace", "in": "header", "required": False},
        ],
        body_example='{"name": ""}',
    )
    form = endpoint_form(endpoint, APP + "/")
    assert (form.method, form.url, form.body) == ("POST", f"{APP}/api/items", '{"name": ""}')
    assert form.params == "dry_run=false\n# tag="
    assert params_skeleton(Endpoint(method="GET", path="/api/x")) == ""


def test_the_essential_field_is_never_optional_and_placeholders_fit() -> None:
    from explorer.ui.authform import PLACEHOLDER_CHARS, box_names, box_view

    assert box_view("token", "token").label == "Token"
    assert box_view("profile", "profile").label == "Profile"
    for method in ("profile", "m2m", "browser", "token", "federated"):
        for name in box_names():
            assert len(box_view(method, name).placeholder) <= PLACEHOLDER_CHARS, (method, name)

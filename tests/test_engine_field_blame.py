"""A failed Connect names the form field at fault (auth.registry.FIELD_AT_FAULT): the UI marks
that field with the finding's message. Real resolutions against the sandbox, plus the table's rules."""

from __future__ import annotations

from typing import Any

import pytest
from support.ports import free_port

from explorer.auth import METHODS, blame_fields
from explorer.model import AuthEvent, Finding
from explorer.session import ExplorerSession


def sp(info: dict[str, Any]) -> dict[str, str]:
    creds = info["service_principals"]["demo-sp"]
    return {"host": info["host"], "client_id": creds["client_id"], "client_secret": creds["client_secret"]}


def fields_of(connection: Any) -> dict[str, str]:
    return {f.field: f.message for f in connection.findings if f.field}


@pytest.fixture
def session(clean_databricks_env: Any) -> Any:
    s = ExplorerSession(timeout=5)
    yield s
    s.close()


def test_a_wrong_secret_marks_the_secret_and_keeps_the_working_connection(
    session: Any, sandbox_info: dict
) -> None:
    assert session.connect("m2m", sp(sandbox_info)).ok
    failed = session.connect("m2m", {**sp(sandbox_info), "client_secret": "not-the-secret"})
    assert not failed.ok and list(fields_of(failed)) == ["client_secret"]
    assert (
        "invalid_client" in fields_of(failed)["client_secret"]
        or "not valid" in fields_of(failed)["client_secret"]
    )
    assert session.connection.ok  # the previous connection stays
    assert fields_of(session.connect("m2m", sp(sandbox_info))) == {}  # success: nothing marked


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"host": "http://127.0.0.1:{port}"}, "host"),  # nothing listens there
        ({"host": "ftp://workspace.example.com"}, "host"),  # not a workspace URL
        ({"client_id": ""}, "client_id"),  # missing
        ({"client_secret": ""}, "client_secret"),
        ({"scopes": 'all-apis "sql"'}, "scopes"),  # malformed locally
        ({"scopes": "all-apis sql~files"}, "scopes"),  # the token endpoint answers invalid_scope
    ],
)
def test_each_wrong_field_is_the_one_named(
    session: Any, sandbox_info: dict, change: dict[str, str], field: str
) -> None:
    values = {**sp(sandbox_info), **{k: v.format(port=free_port()) for k, v in change.items()}}
    connection = session.connect("m2m", values)
    assert not connection.ok
    assert field in fields_of(connection), [f.as_dict() for f in connection.findings]
    assert connection.findings[0].as_dict()["field"] == field  # also in the JSON shape (UI twin, --json)


def test_a_garbage_token_marks_the_token_box(session: Any) -> None:
    connection = session.connect("token", {"token": "definitely not a token"})
    assert list(fields_of(connection)) == ["token"] and "not a JWT" in fields_of(connection)["token"]
    assert "definitely not a token" not in str([f.as_dict() for f in connection.findings])  # masked


def test_only_fields_the_method_shows_are_named() -> None:
    network = Finding("NETWORK_CONNECT", "error", "Cannot connect to the workspace", "Check the URL.")
    refused = Finding("AUTH_FAILED", "error", "invalid_client: the client id or secret is not valid", "…")
    rejected = AuthEvent(0.0, "https://w/oidc/v1/token", "client_credentials", [], 401, 5.0, "invalid_client")
    assert [f.field for f in blame_fields("m2m", [network, refused], [rejected])] == ["host", "client_secret"]
    assert [f.field for f in blame_fields("profile", [network])] == ["profile"]
    assert [f.field for f in blame_fields("user", [refused], [rejected])] == [None]  # no form field
    assert blame_fields("m2m", [refused])[0].field is None  # no token call said invalid_client
    for method in METHODS.values():  # every rule names real fields
        for finding in blame_fields(method.name, [network, refused], [rejected]):
            assert finding.field is None or method.field(finding.field) is not None

"""The demo's connection made while its first page loads (ui/prepared.py), against the sandbox:
the first page with the same method and fields gets it, once; anything else connects itself."""

from __future__ import annotations

from typing import Any

from support.sandbox_helpers import demo_sp_fields

from explorer.ui.config import UIConfig
from explorer.ui.prepared import PreparedConnection

TRUST = UIConfig().session_trust()  # what a local UI's browser sessions run under


def test_the_first_page_with_the_same_fields_takes_the_connected_session(
    sandbox_info: dict[str, Any],
) -> None:
    fields = demo_sp_fields(sandbox_info)
    prepared = PreparedConnection("m2m", fields)
    assert prepared.take("m2m", fields) is None  # never started: nothing to wait for
    prepared.start(TRUST)
    assert prepared.take("m2m", {**fields, "client_id": "someone-else"}) is None  # other fields
    assert prepared.take("token", fields) is None  # another method
    session = prepared.take("m2m", {**fields, "scopes": ""})  # empty boxes do not count
    try:
        assert session is not None and session.connection is not None and session.connection.ok
        assert session.trust is TRUST  # the same rule as every other browser session
        assert session.connection.token is not None  # a real token from the sandbox
        assert prepared.take("m2m", fields) is None  # once only: a second page connects itself
    finally:
        if session is not None:
            session.close()


def test_a_failed_preparation_leaves_the_page_to_connect_and_say_why(sandbox_info: dict[str, Any]) -> None:
    fields = {**demo_sp_fields(sandbox_info), "client_secret": "not-" + "the-secret"}
    prepared = PreparedConnection("m2m", fields)
    prepared.start(TRUST)
    assert prepared.take("m2m", fields) is None
    prepared.close()

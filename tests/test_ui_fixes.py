"""A finding's structured fix (explorer.model.Fix) is applied by the page's apply_fix event:
the form changes (method, path, timeout) or the connection is redone with more scopes."""

from __future__ import annotations

from typing import Any

import pytest

from explorer.model import Exchange, Finding, Fix, RequestSpec
from explorer.ui.authform import box_names
from explorer.ui.config import UIConfig
from explorer.ui.forms import FormError, RequestForm
from explorer.ui.handlers import Handlers


def _ui_with(action: Fix | None) -> tuple[Handlers, Any]:
    h = Handlers(UIConfig())
    ui = h.session(None)
    tab = ui.open_tab(RequestForm(url="http://app.example/api/x", app_url="http://app.example"))
    finding = Finding("PATH_NOT_FOUND", "error", "no such path", "use another", action=action)
    tab.exchange = Exchange(
        "e1", 0.0, RequestSpec("GET", "http://app.example/api/x"), None, None, None, [finding]
    )
    return h, ui


def _apply(action: Fix | None) -> tuple[Any, ...]:
    h, ui = _ui_with(action)
    names = box_names()
    try:
        return h.apply_fix(ui, "0:1700000000", "m2m", names, [""] * len(names), ui.tab().form)
    finally:
        ui.close()


def test_use_path_raise_timeout_and_http_method_change_the_form() -> None:
    *_, verb, url, timeout = _apply(
        Fix("use_path", "Use /api/openapi.json", (("path", "/api/openapi.json"),))
    )
    assert url == "http://app.example/api/openapi.json"
    *_, verb, url, timeout = _apply(Fix("raise_timeout", "Raise the timeout to 120 s", (("seconds", "120"),)))
    assert timeout == 120.0
    *_, verb, url, timeout = _apply(Fix("use_method", "Use POST", (("method", "post"),)))
    assert verb == "POST"


def test_use_method_for_an_auth_method_picks_it() -> None:
    out = _apply(Fix("use_method", "Sign in with the browser instead", (("method", "browser"),)))
    assert out[1] == "browser"


def test_add_scopes_fills_the_scopes_box_and_reconnects() -> None:
    names = box_names()
    out = _apply(Fix("add_scopes", "Add sql to Scopes and reconnect", (("scopes", "sql files.files"),)))
    assert out[2 + names.index("scopes")] == "all-apis sql files.files"
    card = out[2 + len(names)]
    assert "conn" in card  # reconnected (here without a workspace: the card says why)


def test_a_finding_without_an_action_is_a_message() -> None:
    with pytest.raises(FormError):
        _apply(None)

"""The identity matrix deployed: the explorer runs as a Databricks App in the sandbox, and a signed-in
user's page asks "what can my app reach as itself, and what as me?" across the workspace's apps.
The grid reflects the sandbox's permissions (the explorer's service principal has CAN_USE on
`hello` and `scoped` but no user scopes; Alice has CAN_USE and a forwarded token with `sql`), the
target's identity echo shows who arrived (the app-to-app hop), the allowlist still holds, and no
token or secret appears in any output or export."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.deployed import USERS, Deployed, deployed_explorer
from support.ui_server import send_parts, ui_send

pytestmark = pytest.mark.slow
ALICE = USERS[0]
JWT = re.compile(r"eyJ[\w-]{8,}\.[\w-]{8,}\.[\w-]{8,}")


@pytest.fixture(scope="module")
def deployed() -> Iterator[Deployed]:
    with deployed_explorer() as d:
        yield d


def test_this_app_and_me_across_the_workspaces_apps(deployed: Deployed) -> None:
    client = deployed.ui_client(ALICE)
    _card, connection = client.predict(method="user", api_name="/connect")
    assert json.loads(connection)["identity"] == ALICE
    forwarded = str(client.predict(api_name="/reveal_token"))  # the real token, to search for below
    assert forwarded.count(".") == 2

    identities, _environments, rows, _note = client.predict(
        location="", environment=None, api_name="/matrix_load"
    )
    offered = [value for _label, value in identities["choices"]]
    assert {"this app", "me", "none"} <= set(offered)
    assert "apps" in [value for _label, value in rows["choices"]]

    outputs = client.predict(
        location="", environment=None, names=["this app", "me", "none"], rows="apps",
        app_path="/api/whoami", api_name="/matrix_run",
    )  # fmt: skip
    summary, grid, _left, _right, exports, data = outputs
    matrix = json.loads(data)
    assert matrix["identities"] == ["this app", "me", "none"]
    by_app = dict(zip(matrix["requests"], matrix["cells"], strict=True))
    assert set(by_app) == {"explorer", "hello", "scoped"}

    app, me, nobody = by_app["hello"]
    assert (app["status"], me["status"], nobody["status"]) == (200, 200, 302)
    assert app["seen"] == deployed.explorer_sp  # the hop: hello saw the explorer's service principal
    assert me["seen"] == ALICE  # ... or Alice (hello asks for no user scopes: no token forwarded)
    # Neither may read hello's permissions (CAN_USE only): the workspace cannot say; no token: refused.
    assert (app["predicted"], me["predicted"], nobody["predicted"]) == (None, None, False)

    app, me, nobody = by_app["scoped"]  # user authorization (sql): a service principal lacks the scope
    assert app["status"] == 403 and "SCOPE_MISSING" in app["codes"] and app["result"] == "refused"
    assert app["predicted"] is False  # predicted from the token's scopes against the app's
    assert me["status"] == 200 and me["seen"] == f"{ALICE} + user token" and me["result"] == "pass"
    assert nobody["status"] == 302

    # The explorer's own URL is not on its allowlist: refused before sending, whoever asks.
    for cell in by_app["explorer"]:
        assert cell["status"] is None and "HOST_NOT_ALLOWED" in cell["codes"]
    assert not any(c["surprise"] for row in matrix["cells"] for c in row)
    assert deployed.canary.requests == []

    # Nothing secret anywhere: the page's outputs, the exports, the app's log.
    files = [Path(f).read_text(encoding="utf-8") for f in _paths(exports)]
    assert len(files) == 3 and any(text.startswith("| request | this app | me | none |") for text in files)
    secret = deployed.info["apps"]["explorer"]["service_principal"]["client_secret"]
    for text in [summary, grid, data, json.dumps(identities), *files, deployed.log()]:
        assert forwarded not in text and secret not in text
        assert not JWT.search(text), JWT.search(text)


def _paths(exports: Any) -> list[str]:
    return [e if isinstance(e, str) else e.get("path") or e.get("name") for e in exports or []]


def test_a_tab_sends_as_this_app_and_as_me(deployed: Deployed) -> None:
    """The workbench's "Send as" deployed: the platform's identities, no identity file needed."""
    client = deployed.ui_client(ALICE)
    client.predict(method="user", api_name="/connect")
    forwarded = str(client.predict(api_name="/reveal_token"))
    whoami = deployed.info["apps"]["hello"]["url"] + "/api/whoami"
    as_app = json.loads(send_parts(ui_send(client, whoami, send_as="this app"))["summary"])
    assert as_app["response"]["status"] == 200 and as_app["sent_as"] == "this app"
    assert as_app["auth"]["method"] == "app"
    assert deployed.explorer_sp in json.dumps(as_app["response"]["body"])  # hello saw the app's principal
    as_me = send_parts(ui_send(client, whoami, send_as="me"))
    summary = json.loads(as_me["summary"])
    assert summary["response"]["status"] == 200 and summary["sent_as"] == "me" and "as me" in as_me["status"]
    assert summary["response"]["body"]["email"] == ALICE
    history = client.predict(api_name="/history")
    assert ["as me" in str(row) for row in history["data"]] == [True, False]
    secret = deployed.info["apps"]["explorer"]["service_principal"]["client_secret"]
    for text in [json.dumps(as_app), *map(str, as_me.values()), json.dumps(history, default=str)]:
        assert forwarded not in text and secret not in text
        assert not JWT.search(text), JWT.search(text)

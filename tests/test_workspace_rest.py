"""A static bearer token asks the workspace with plain REST, an SDK-made one through the SDK:
same answers, same findings, and a token-method call never imports the SDK (issue 17)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.config import Config
from support.sandbox_helpers import m2m_token, user_token

from explorer.workspace_api import ApiError, RestWorkspaceApi, SdkWorkspaceApi

REPO = Path(__file__).resolve().parent.parent


def config(info: dict[str, Any], token: str) -> Config:
    return Config(host=info["host"], token=token, auth_type="pat")


def both(info: dict[str, Any], token: str) -> tuple[RestWorkspaceApi, SdkWorkspaceApi]:
    rest = RestWorkspaceApi(info["host"], lambda: {"Authorization": f"Bearer {token}"}, timeout=10)
    return rest, SdkWorkspaceApi(config(info, token))


def test_rest_and_sdk_give_the_same_facts(sandbox_info: dict[str, Any]) -> None:
    """...and the same as the SDK's own `WorkspaceClient` services, which SdkWorkspaceApi skips."""
    token = m2m_token(sandbox_info)
    rest, sdk = both(sandbox_info, token)
    client = WorkspaceClient(config=config(sandbox_info, token))
    apps = rest.list_apps()
    assert apps == sdk.list_apps() == [a.as_dict() for a in client.apps.list()]
    assert {"hello", "scoped", "stopped"} <= {a["name"] for a in apps}
    assert rest.me() == sdk.me() and sdk.me()["userName"] == client.current_user.me().user_name
    try:
        expected: Any = sdk.app_permissions("hello")
    except ApiError as error:
        expected = error.status
    try:
        got: Any = rest.app_permissions("hello")
    except ApiError as error:
        got = error.status
    assert got == expected


def test_a_refusal_has_the_same_status_both_ways(sandbox_info: dict[str, Any]) -> None:
    bob = user_token(sandbox_info["host"], "bob@example.com", ["all-apis"])
    rest, sdk = both(sandbox_info, bob)
    statuses = []
    for api in (rest, sdk):
        with pytest.raises(ApiError) as refused:
            api.app_permissions("hello")  # Bob may not read the ACL (CAN_MANAGE needed)
        statuses.append(refused.value.status)
    assert statuses[0] == statuses[1] and statuses[0] in (403, 404)
    with pytest.raises(ApiError) as bad:
        RestWorkspaceApi(sandbox_info["host"], lambda: {"Authorization": "Bearer nope"}, 10).me()
    assert bad.value.status == 401


def test_a_token_call_never_imports_the_sdk_and_still_diagnoses(sandbox_info: dict[str, Any]) -> None:
    """A real process: `call --auth token` to a 403 (Bob, no CAN_USE) names the cause from the
    workspace's facts (read over REST), and no module of `databricks.sdk` was ever imported."""
    bob = user_token(sandbox_info["host"], "bob@example.com", ["all-apis"])
    probe = (
        "import sys; from explorer.__main__ import main; code = main(sys.argv[1:]); "
        "loaded = [m for m in sys.modules if m.startswith('databricks.sdk.')]; "
        "print('SDK loaded' if loaded else 'no SDK', file=sys.stderr); sys.exit(code)"
    )
    url = sandbox_info["apps"]["hello"]["url"] + "/api/hello"
    env = {"PATH": "/usr/bin:/bin", "BOB_TOKEN": bob, "PYTHONPATH": str(REPO), "HOME": str(REPO)}
    done = subprocess.run(
        [sys.executable, "-c", probe, "call", url, "--auth", "token", "--token-env", "BOB_TOKEN",
         "--host", sandbox_info["host"]],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr[-600:]
    assert "no SDK" in done.stderr and "NO_CAN_USE" in done.stderr
    assert bob not in done.stdout + done.stderr

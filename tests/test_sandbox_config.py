"""Sandbox configuration and app.yaml handling: pure functions, fast unit tests."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
from support.sandbox_helpers import default_config

from explorer.sandbox.apps.app_yaml import AppYamlError, read_app_yaml
from explorer.sandbox.apps.source import build_command, build_env
from explorer.sandbox.config import ConfigError, load_config


def test_default_config_has_the_documented_workspace():
    config = load_config(None)

    assert config.workspace_id == "1234567890123456" and config.auto_approve
    assert [u.email for u in config.users] == ["alice@example.com", "bob@example.com"]
    apps = {a.name: a for a in config.apps}
    assert (apps["hello"].state, apps["scoped"].state, apps["stopped"].state) == (
        "RUNNING",
        "RUNNING",
        "STOPPED",
    )
    assert apps["scoped"].user_api_scopes == ["sql", "files.files"]
    assert all(
        re.fullmatch(r"app-[0-9a-f]{6} " + name, app.service_principal.name) for name, app in apps.items()
    )
    assert config.federation_policies[0].subject == "ci-pipeline@idp"


def test_secrets_are_generated_per_load_and_never_in_reprs():
    first, second = load_config(None), load_config(None)

    pat = first.users[0].pats[0]
    secret = first.service_principals[0].secret
    assert re.fullmatch(r"dapi[0-9a-f]{32}", pat)
    assert pat != second.users[0].pats[0] and secret != second.service_principals[0].secret
    assert pat not in repr(first) and secret not in repr(first)


def test_given_secrets_and_ids_are_kept():
    config = load_config(
        {
            "users": [{"email": "c@example.com", "pats": ["dapi" + "a" * 32]}],
            "service_principals": [{"name": "sp", "application_id": "1234", "secret": "s3cret"}],
        }
    )

    assert config.users[0].pats == ["dapi" + "a" * 32] and config.users[0].display_name == "c"
    assert (config.service_principals[0].application_id, config.service_principals[0].secret) == (
        "1234",
        "s3cret",
    )


def test_permissions_name_service_principals_by_application_id_or_name():
    config = load_config(
        {
            "service_principals": [{"name": "sp", "application_id": "app-id-1"}],
            "apps": [
                {
                    "name": "a1",
                    "permissions": [{"service_principal_name": "sp", "permission_level": "can_use"}],
                },
                {
                    "name": "a2",
                    "permissions": [{"service_principal_name": "app-id-1", "permission_level": "CAN_USE"}],
                },
            ],
        }
    )

    assert [a.permissions[0].principal for a in config.apps] == ["app-id-1", "app-id-1"]


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"userz": []}, "config: unknown key(s) userz"),
        ({"token_ttl_seconds": 0}, "token_ttl_seconds: must be at least 1"),
        ({"token_ttl_seconds": "soon"}, "token_ttl_seconds: expected an integer"),
        ({"workspace_id": "abc"}, "workspace_id: expected digits"),
        ({"users": [{"display_name": "x"}]}, "users[0]: missing required key 'email'"),
        ({"users": [{"email": "a@x", "pats": ["token"]}]}, "must start with 'dapi'"),
        ({"apps": [{"name": "x1", "kind": "banana"}]}, "apps[0].kind: unknown kind 'banana'"),
        ({"apps": [{"name": "Bad_Name"}]}, "is not a valid app name"),
        ({"apps": [{"name": "x1", "state": "PAUSED"}]}, "apps[0].state: unknown state 'PAUSED'"),
        (
            {"apps": [{"name": "x1", "kind": "source", "source": "no/such/dir"}]},
            "directory 'no/such/dir' does not exist",
        ),
        ({"apps": [{"name": "x1", "kind": "upstream", "upstream": "ftp://x"}]}, "expected an http(s) URL"),
        ({"apps": [{"name": "x1"}, {"name": "x1"}]}, "duplicate app name 'x1'"),
        (
            {
                "apps": [
                    {
                        "name": "x1",
                        "permissions": [{"service_principal_name": "ghost", "permission_level": "CAN_USE"}],
                    }
                ]
            },
            "unknown service principal 'ghost'",
        ),
        (
            {"apps": [{"name": "x1", "permissions": [{"user_name": "z@x", "permission_level": "CAN_USE"}]}]},
            "unknown user",
        ),
        (
            {"apps": [{"name": "x1", "permissions": [{"permission_level": "CAN_USE"}]}]},
            "exactly one of user_name",
        ),
        ({"apps": [{"name": "x1", "service_principal": "ghost"}]}, "unknown service principal 'ghost'"),
        ({"federation_policies": [{"issuer": "sandbox-idp", "audiences": []}]}, "give at least one audience"),
        (
            {"federation_policies": [{"issuer": "nope", "audiences": ["a"]}]},
            "expected 'sandbox-idp' or an http(s) URL",
        ),
        ({"apps": "hello"}, "config.apps: expected a list"),
    ],
)
def test_bad_configs_get_readable_one_line_errors(config, message):
    with pytest.raises(ConfigError) as caught:
        load_config(config)

    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_yaml_errors_name_the_line(tmp_path: Path):
    path = tmp_path / "c.yaml"
    path.write_text("users:\n  - email: [unclosed\n", encoding="utf-8")

    with pytest.raises(ConfigError, match=r"not valid YAML \(line \d+\)"):
        load_config(path)


def test_source_dirs_resolve_against_the_config_file(tmp_path: Path):
    (tmp_path / "apps" / "mine").mkdir(parents=True)
    (tmp_path / "apps" / "mine" / "main.py").write_text("print('hi')\n", encoding="utf-8")
    path = tmp_path / "c.yaml"
    path.write_text("apps:\n  - {name: mine, kind: source, source: apps/mine}\n", encoding="utf-8")

    config = load_config(path)

    assert config.apps[0].source == (tmp_path / "apps" / "mine").resolve()


def test_default_config_helper_returns_independent_copies():
    first = default_config(token_ttl_seconds=5)
    first["apps"].append({"name": "extra"})

    assert default_config()["token_ttl_seconds"] == 3600
    assert len(default_config()["apps"]) == 3


def test_app_yaml_command_env_and_unsupported_value_from(tmp_path: Path):
    (tmp_path / "app.yaml").write_text(
        'command: ["uvicorn", "app:app", "--port", "$DATABRICKS_APP_PORT"]\n'
        "env:\n  - {name: A, value: '1'}\n  - {name: B, valueFrom: my-secret}\n",
        encoding="utf-8",
    )

    spec = read_app_yaml(tmp_path)

    assert spec.command == ["uvicorn", "app:app", "--port", "$DATABRICKS_APP_PORT"]
    assert spec.env == {"A": "1"}
    assert "valueFrom" in spec.warnings[0]


def test_without_app_yaml_the_first_python_file_runs(tmp_path: Path):
    (tmp_path / "b.py").write_text("", encoding="utf-8")
    (tmp_path / "a.py").write_text("", encoding="utf-8")

    assert read_app_yaml(tmp_path).command == ["python", "a.py"]


@pytest.mark.parametrize(
    "text", ["command: uvicorn app:app\n", "command: []\n", "- just a list\n", "env: {A: 1}\ncommand: [x]\n"]
)
def test_bad_app_yaml_is_refused(tmp_path: Path, text: str):
    (tmp_path / "app.yaml").write_text(text, encoding="utf-8")

    with pytest.raises(AppYamlError):
        read_app_yaml(tmp_path)


def test_only_the_app_port_is_substituted_and_python_is_this_interpreter():
    command = build_command(
        ["python", "-m", "x", "--port=${DATABRICKS_APP_PORT}", "$DATABRICKS_APP_PORT", "$HOME"], 8123
    )

    assert command == [sys.executable, "-m", "x", "--port=8123", "8123", "$HOME"]


def test_app_env_drops_inherited_databricks_auth_and_sets_platform_variables():
    env = build_env(
        base={"PATH": "/bin", "DATABRICKS_TOKEN": "dapi-x", "DATABRICKS_CONFIG_PROFILE": "p"},
        app_name="a1",
        port=9000,
        host="http://127.0.0.1:1",
        workspace_id="42",
        client_id="cid",
        client_secret="csecret",
        app_url="http://127.0.0.1:2",
        extra={"EXTRA": "1"},
    )

    assert "DATABRICKS_TOKEN" not in env and "DATABRICKS_CONFIG_PROFILE" not in env
    assert env["PATH"] == "/bin" and env["EXTRA"] == "1"
    assert env["DATABRICKS_CLIENT_ID"] == "cid" and env["DATABRICKS_CLIENT_SECRET"] == "csecret"
    assert (
        env["DATABRICKS_APP_PORT"]
        == env["UVICORN_PORT"]
        == env["GRADIO_SERVER_PORT"]
        == env["PORT"]
        == "9000"
    )


def test_apps_are_told_to_listen_on_loopback_only():
    env = build_env(
        base={},
        app_name="a1",
        port=9000,
        host="http://127.0.0.1:1",
        workspace_id="42",
        client_id="cid",
        client_secret="csecret",
        app_url="http://127.0.0.1:2",
        extra={},
    )

    for name in ("UVICORN_HOST", "GRADIO_SERVER_NAME", "STREAMLIT_SERVER_ADDRESS", "FLASK_RUN_HOST"):
        assert env[name] == "127.0.0.1", name

"""profiles.py: the profiles of ~/.databrickscfg, with host and auth type and never a secret."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from explorer.profiles import Profile, ProfileError, config_path, list_profiles

SECRET = "dose" + secrets.token_hex(16)
PAT = "dapi" + secrets.token_hex(16)

CONFIG = f"""
[DEFAULT]
host = https://adb-1.1.azuredatabricks.net
token = {PAT}

[dev]
host = https://adb-2.2.azuredatabricks.net

[sp]
host = https://adb-3.3.azuredatabricks.net
client_id = 1b2c3d4e
client_secret = {SECRET}

[pat]
host = https://adb-4.4.azuredatabricks.net
token = {PAT}

[azure]
host = https://adb-5.5.azuredatabricks.net
azure_client_id = abc
azure_client_secret = {SECRET}
azure_tenant_id = t

[explicit]
host = https://adb-6.6.azuredatabricks.net
auth_type = external-browser
token = {PAT}

[basic]
host = https://adb-7.7.azuredatabricks.net
username = u
password = {SECRET}

[account]
host = https://accounts.azuredatabricks.net
account_id = 00000000-aaaa
"""


def write(tmp_path: Path, text: str, name: str = "databrickscfg") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_profiles_come_in_file_order_with_host_and_inferred_auth_type(tmp_path):
    profiles = list_profiles(write(tmp_path, CONFIG))
    assert [(p.name, p.auth_type) for p in profiles] == [
        ("DEFAULT", "pat"),
        ("dev", "databricks-cli"),
        ("sp", "oauth-m2m"),
        ("pat", "pat"),
        ("azure", "azure"),
        ("explicit", "external-browser"),
        ("basic", "basic"),
        ("account", "databricks-cli"),
    ]
    assert profiles[1] == Profile("dev", "https://adb-2.2.azuredatabricks.net", "databricks-cli")
    assert profiles[-1].account_id == "00000000-aaaa"


def test_named_profiles_do_not_inherit_from_default(tmp_path):
    dev = next(p for p in list_profiles(write(tmp_path, CONFIG)) if p.name == "dev")
    assert dev is not None and dev.auth_type == "databricks-cli"  # DEFAULT's token would make it "pat"


def test_no_secret_ever_leaves_the_file(tmp_path):
    shown = repr(list_profiles(write(tmp_path, CONFIG)))
    assert SECRET not in shown and PAT not in shown


def test_default_is_listed_only_when_it_has_a_host(tmp_path):
    profiles = list_profiles(write(tmp_path, "[DEFAULT]\ntoken = x\n\n[dev]\nhost = https://h\n"))
    assert [p.name for p in profiles] == ["dev"]


def test_a_missing_file_means_no_profiles(tmp_path):
    assert list_profiles(str(tmp_path / "absent")) == []


def test_the_config_file_env_var_is_honoured(tmp_path, monkeypatch):
    path = write(tmp_path, "[only]\nhost = https://h\n")
    monkeypatch.setenv("DATABRICKS_CONFIG_FILE", path)
    assert config_path() == Path(path)
    assert [p.name for p in list_profiles()] == ["only"]


def test_without_the_env_var_the_home_file_is_used(monkeypatch):
    monkeypatch.delenv("DATABRICKS_CONFIG_FILE", raising=False)
    assert config_path() == Path("~/.databrickscfg").expanduser()


@pytest.mark.parametrize(
    "text",
    [
        "host = https://no-section\n",
        "[dev]\nhost = a\n[dev]\nhost = b\n",
        "[dev]\nhost = a\nhost = b\n",
        "[dev\nhost = a\n",
    ],
)
def test_a_malformed_file_gives_one_readable_line(tmp_path, text):
    with pytest.raises(ProfileError) as raised:
        list_profiles(write(tmp_path, text))
    message = str(raised.value)
    assert message.startswith("databrickscfg is not a valid config file") and "\n" not in message


def test_unreadable_files_give_readable_errors(tmp_path):
    binary = tmp_path / "binary"
    binary.write_bytes(b"[dev]\nhost = \xff\xfe\n")
    with pytest.raises(ProfileError, match="cannot read binary"):
        list_profiles(str(binary))
    with pytest.raises(ProfileError, match="cannot read"):
        list_profiles(str(tmp_path))  # a directory

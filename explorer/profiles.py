"""The profiles of a Databricks config file (`~/.databrickscfg` or `DATABRICKS_CONFIG_FILE`).

No SDK function lists profiles (docs/PLATFORM.md#listing-profiles), so the file is read here with configparser, the
way the SDK reads it: named profiles do not inherit `[DEFAULT]`. Only names, hosts and auth
types come out; secrets in the file stay there.
"""

from __future__ import annotations

import configparser
import os
from dataclasses import dataclass
from pathlib import Path

CONFIG_ENV = "DATABRICKS_CONFIG_FILE"
DEFAULT_PATH = "~/.databrickscfg"
# configparser's DEFAULT section would leak into every profile; give it a name no file uses.
_NO_DEFAULT_SECTION = "\x00no-default\x00"


class ProfileError(ValueError):
    """The config file exists but cannot be read. `str(error)` is one readable line."""


@dataclass(frozen=True)
class Profile:
    """One profile, without any of its secrets."""

    name: str
    host: str | None
    auth_type: str  # explicit `auth_type`, or inferred: pat, oauth-m2m, azure, basic, databricks-cli
    account_id: str | None = None


def config_path(path: str | None = None) -> Path:
    """The config file to read: `path`, else `DATABRICKS_CONFIG_FILE`, else ~/.databrickscfg."""
    chosen = path or os.environ.get(CONFIG_ENV) or DEFAULT_PATH
    return Path(chosen).expanduser()


def list_profiles(path: str | None = None) -> list[Profile]:
    """Profiles in file order; DEFAULT only when it has a host. Missing file → []."""
    file = config_path(path)
    parser = configparser.ConfigParser(interpolation=None, default_section=_NO_DEFAULT_SECTION, strict=True)
    try:
        with file.open(encoding="utf-8") as handle:
            parser.read_file(handle, source=file.name)
    except FileNotFoundError:
        return []
    except configparser.Error as error:
        raise ProfileError(f"{file.name} is not a valid config file: {_first_line(error)}") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ProfileError(f"cannot read {file.name}: {_first_line(error)}") from None
    profiles = [_profile(name, dict(parser.items(name))) for name in parser.sections()]
    return [p for p in profiles if p.name != "DEFAULT" or p.host]


def _profile(name: str, values: dict[str, str]) -> Profile:
    return Profile(
        name=name,
        host=values.get("host", "").strip() or None,
        auth_type=infer_auth_type(values),
        account_id=values.get("account_id", "").strip() or None,
    )


def infer_auth_type(values: dict[str, str]) -> str:
    """The auth type a profile declares, or the one its keys imply (as the SDK would pick)."""
    present = {key for key, value in values.items() if value.strip()}  # configparser lower-cases keys
    if "auth_type" in present:
        return values["auth_type"].strip()
    if "token" in present:
        return "pat"
    if {"client_id", "client_secret"} <= present:
        return "oauth-m2m"
    if any(key.startswith("azure_") for key in present):
        return "azure"
    if {"username", "password"} <= present:
        return "basic"
    return "databricks-cli"


def _first_line(error: Exception) -> str:
    lines = str(error).strip().splitlines()
    text = " ".join(line.strip() for line in lines[:2]) if lines else type(error).__name__
    return text[:200]

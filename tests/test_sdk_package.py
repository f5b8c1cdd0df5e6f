"""explorer.sdk_package: the SDK's package __init__ (every service module) runs only when asked for.

Each case is a fresh interpreter, as the deferral happens once per process when `explorer` is imported.
"""

from __future__ import annotations

import json
from typing import Any

from support.fresh_python import fresh_python as run
from support.sandbox_helpers import demo_sp_fields

COUNT = "len([m for m in sys.modules if m.startswith('databricks.sdk.service.')])"


def test_credentials_load_without_the_services_and_the_full_sdk_still_works() -> None:
    out = run(
        "import explorer\n"
        "from explorer.sdk_package import sdk_initialised\n"
        "from databricks.sdk.config import Config\n"
        "from databricks.sdk.core import ApiClient\n"
        "import databricks.sdk.oauth, databricks.sdk.credentials_provider\n"
        f"before = {COUNT}; deferred = not sdk_initialised()\n"
        "from databricks.sdk import WorkspaceClient, AccountClient\n"
        "import databricks.sdk as sdk\n"
        f"print(json.dumps({{'before': before, 'deferred': deferred, 'after': {COUNT}, "
        "'done': sdk_initialised(), 'same': sdk.WorkspaceClient is WorkspaceClient, "
        "'apps': hasattr(WorkspaceClient, 'apps'), 'config': sdk.config.Config is Config}))"
    )
    assert out["deferred"] and out["done"] and out["same"] and out["apps"] and out["config"]
    assert out["before"] < 10 < out["after"]  # a few services at most, then all of them


def test_a_missing_name_is_an_attribute_error_and_an_initialised_sdk_is_left_alone() -> None:
    out = run(
        "import databricks.sdk\n"  # the real package first: the deferral must not touch it
        "import explorer\n"
        "from explorer.sdk_package import defer_sdk_init, sdk_initialised\n"
        "try:\n    databricks.sdk.no_such_name\n    missing = False\n"
        "except AttributeError:\n    missing = True\n"
        "print(json.dumps({'untouched': defer_sdk_init() is None and sdk_initialised(), 'missing': missing}))"
    )
    assert out == {"untouched": True, "missing": True}


def test_an_m2m_connection_needs_no_service_module(sandbox_info: dict[str, Any]) -> None:
    """The demo's own connection (m2m) with its workspace facts, in a fresh process: the SDK's
    credential modules and its HTTP client only; none of `WorkspaceClient`'s ~60 services."""
    fields = json.dumps(demo_sp_fields(sandbox_info))
    url = sandbox_info["apps"]["hello"]["url"]
    out = run(
        "from explorer.session import ExplorerSession\n"
        "from explorer.sdk_package import sdk_initialised\n"
        f"session = ExplorerSession()\nsession.connect('m2m', json.loads({fields!r}))\n"
        f"apps = session.list_apps()[0]\nfacts = session.facts_for({url!r} + '/api/hello')\n"
        f"print(json.dumps({{'apps': len(apps), 'facts': facts is not None and facts.app is not None, 'services': {COUNT}, 'initialised': sdk_initialised()}}))"
    )
    assert out["apps"] >= 3 and out["facts"]
    assert out["services"] < 10 and out["initialised"] is False

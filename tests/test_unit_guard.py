"""guard.py: a deployed explorer sends credentials only to the Apps domain, the workspace and listed hosts."""

from __future__ import annotations

import pytest

from explorer.guard import Allowlist
from explorer.parse import InputError

WORKSPACE = "https://adb-123.4.azuredatabricks.net"


@pytest.fixture
def deployed() -> Allowlist:
    return Allowlist.for_deployment(WORKSPACE, "127.0.0.1:8000, *.corp.example, https://api.partner.io")


@pytest.mark.parametrize(
    "url",
    [
        "https://hello-1234567890.aws.databricksapps.com/api/hello",
        "https://hello-1.8.azure.databricksapps.com/api/x?y=1",
        "https://DATABRICKSAPPS.com/",
        "https://a.databricksapps.com./api",
        f"{WORKSPACE}/api/2.0/apps",
        "http://127.0.0.1:8000/api/x",
        "https://svc.corp.example/api",
        "https://deep.svc.corp.example/api",
        "https://api.partner.io/v1",
    ],
)
def test_allowed_targets(deployed, url):
    assert deployed.allows(url)


@pytest.mark.parametrize(
    "url",
    [
        "https://evil-databricksapps.com/api",
        "https://databricksapps.com.evil.io/api",
        "https://databricksapps.community/",
        "https://corp.example/",  # "*.domain" means subdomains only
        "http://127.0.0.1:8001/api",  # port pinned by the entry
        "http://127.0.0.1/api",
        "https://api.partner.io:8443/",  # a URL entry pins its scheme's default port
        "https://evil.com@hello.databricksapps.com/api",
        "https://hello.databricksapps.com@evil.com/api",
        "https://evil.com\\.databricksapps.com/api",
        "ftp://hello.databricksapps.com/",
        "hello.databricksapps.com/api",  # no scheme: not a URL a sender would use
        "",
        "https://[::1/",
    ],
)
def test_refused_targets(deployed, url):
    assert not deployed.allows(url)


def test_the_workspace_host_may_come_without_scheme_as_the_platform_sets_it():
    allowlist = Allowlist.for_deployment("adb-123.4.azuredatabricks.net")
    assert allowlist.allows(f"{WORKSPACE}/api/2.0/apps")
    assert not allowlist.allows("https://adb-999.4.azuredatabricks.net/")


def test_the_sandbox_workspace_is_matched_on_host_and_port():
    allowlist = Allowlist.for_deployment("http://127.0.0.1:8765")
    assert allowlist.allows("http://127.0.0.1:8765/oidc/v1/token")
    assert not allowlist.allows("http://127.0.0.1:9999/")


def test_from_env_reads_the_workspace_host_and_extra_hosts():
    allowlist = Allowlist.from_env({"DATABRICKS_HOST": WORKSPACE, "EXPLORER_ALLOWED_HOSTS": "[::1]:9000"})
    assert allowlist.allows(f"{WORKSPACE}/x") and allowlist.allows("http://[::1]:9000/api")
    assert Allowlist.from_env({}).patterns == ["databricksapps.com", "*.databricksapps.com"]


@pytest.mark.parametrize("entry", ["*.", "https://", "host/with/path", "exa*mple.com", "host:99999"])
def test_bad_entries_are_reported_not_ignored(entry):
    with pytest.raises(InputError, match="Allowed-host entry"):
        Allowlist.for_deployment(None, entry)


def test_refusals_are_explained_in_one_line(deployed):
    reason = deployed.explain("https://evil.example/api")
    assert "evil.example" in reason and "EXPLORER_ALLOWED_HOSTS" in reason and "\n" not in reason
    assert "not an http(s) URL" in deployed.explain("nonsense")


def test_an_empty_allowlist_allows_nothing():
    assert not Allowlist([]).allows("https://hello.databricksapps.com/api")

"""Faults through the running UI (gradio_client): each gives its finding on the page, and the very
next normal send from the same browser session succeeds — the UI stays usable."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Any
from urllib.parse import urlsplit

import pytest
from gradio_client import Client
from support.fault_servers import (
    answer_with,
    reset_mid_body,
    scripted_server,
    silent,
    tcp_forwarder,
    tls_server,
    trickle_body,
)
from support.ui_server import running_ui, send_parts, ui_send

from explorer.ui.config import UIConfig

pytestmark = [
    pytest.mark.timeout(120),
    # Gradio's own queue code trips pandas 3 deprecations; nothing the explorer can change.
    pytest.mark.filterwarnings("ignore:.*(no_silent_downcasting|copy keyword):DeprecationWarning"),
]
TIMEOUT = 1


@pytest.fixture(scope="module")
def ui_url(sandbox: Any) -> Iterator[str]:
    with running_ui(UIConfig()) as url:
        yield url


def sp_fields(info: dict[str, Any], host: str | None = None) -> dict[str, str]:
    sp = info["service_principals"]["demo-sp"]
    return {"host": host or info["host"], "client_id": sp["client_id"], "client_secret": sp["client_secret"]}


def connect(ui_url: str, fields: dict[str, str]) -> Client:
    """A new browser session, connected with m2m."""
    client = Client(ui_url, verbose=False, download_files=False)
    _card, connection = client.predict(method="m2m", **fields, api_name="/connect")
    assert json.loads(connection)["ok"]
    return client


def send(client: Client, url: str, timeout: float = TIMEOUT) -> dict[str, Any]:
    """The response digest (JSON twin of the response pane) of one send through the UI."""
    return json.loads(send_parts(ui_send(client, url, timeout=timeout, export_format="JSON"))["summary"])


def codes(summary: dict[str, Any], severity: str = "error") -> list[str]:
    return [f["code"] for f in summary["findings"] if f["severity"] == severity]


def still_usable(client: Client, info: dict[str, Any]) -> None:
    summary = send(client, info["apps"]["hello"]["url"] + "/api/hello", timeout=10)
    assert summary["ok"] and summary["response"]["body"]["message"] == "Hello, World!"


def dns_failure() -> AbstractContextManager[str]:
    from contextlib import nullcontext

    return nullcontext("https://no-such-app-1234567890.aws.invalid")


FAULTS: dict[str, tuple[Callable[[], AbstractContextManager[str]], str]] = {
    "500 with Retry-After": (lambda: scripted_server(answer_with(500, retry_after="3")), "SERVER_ERROR"),
    "502 with Retry-After": (lambda: scripted_server(answer_with(502, retry_after="3")), "SERVER_ERROR"),
    "503 with Retry-After": (lambda: scripted_server(answer_with(503, retry_after="3")), "SERVER_ERROR"),
    "slower than the timeout": (lambda: scripted_server(silent), "TIMEOUT"),
    "body slower than the timeout": (lambda: scripted_server(trickle_body(0.1)), "TIMEOUT"),
    "reset mid-body": (lambda: scripted_server(reset_mid_body()), "NETWORK_CONNECT"),
    "TLS failure": (tls_server, "NETWORK_TLS"),
    "DNS failure": (dns_failure, "NETWORK_DNS"),
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_a_fault_is_a_finding_and_the_next_send_works(ui_url, sandbox_info, fault):
    client = connect(ui_url, sp_fields(sandbox_info))
    start_server, code = FAULTS[fault]
    try:
        with start_server() as base:
            summary = send(client, base + "/api/data")

        assert codes(summary)[:1] == [code], summary["findings"]
        if code == "SERVER_ERROR":
            assert "retry after 3 s" in summary["findings"][0]["message"]
        still_usable(client, sandbox_info)
    finally:
        client.close()


def test_the_ui_keeps_working_while_the_workspace_is_down(ui_url, sandbox_info):
    parts = urlsplit(sandbox_info["host"])
    with tcp_forwarder(parts.hostname or "127.0.0.1", parts.port or 80) as workspace:
        client = connect(ui_url, sp_fields(sandbox_info, workspace.url))
        try:
            workspace.stop()
            _app, notice, apps = client.predict(current=None, api_name="/list_apps")
            # The SDK retries a refused connection until its (bounded) budget runs out; which of
            # the two a slow machine sees first is a race, both say what to check.
            assert json.loads(apps) == [] and ("NETWORK_CONNECT" in notice or "TIMEOUT" in notice)

            failing = send(client, sandbox_info["apps"]["hello"]["url"] + "/api/status/503")
            assert codes(failing)[:1] == ["SERVER_ERROR"]
            assert {"NETWORK_CONNECT", "TIMEOUT"} & set(codes(failing, "info"))
            still_usable(client, sandbox_info)
        finally:
            client.close()

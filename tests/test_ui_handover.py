"""A send is one event with one answer; a stream's send hands over to the page's follower, and the
answer comes after it, once. Gradio's own queue protocol over real HTTP, against the sandbox."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from support.ui_server import HANDED_OVER, running_ui

from bench.page_client import PageSession, connected_pages
from explorer.ui.config import UIConfig

pytestmark = pytest.mark.filterwarnings("ignore:.*(no_silent_downcasting|copy keyword):DeprecationWarning")


@pytest.fixture(scope="module")
def page(sandbox: Any, sandbox_info: dict[str, Any]) -> Iterator[PageSession]:
    """One browser session's traffic (the page's own protocol), connected as demo-sp."""
    with running_ui(UIConfig()) as url:
        session = connected_pages(url, sandbox_info, 1)[0]
        yield session
        session.close()


def form(url: str) -> dict[str, Any]:
    return {"method": "GET", "url": url, "Timeout (s)": 30, "language": "curl", "format": "JSON"}


def summary(page: PageSession, api_name: str, outputs: list[Any]) -> Any:
    value = page.named(api_name, outputs)["summary"]
    return json.loads(value) if isinstance(value, str) else value


def test_a_send_reaches_the_page_once(page: PageSession, sandbox_info: dict[str, Any]) -> None:
    outputs = page.call("send", form(sandbox_info["apps"]["hello"]["url"] + "/api/hello"))
    assert summary(page, "send", outputs)["response"]["status"] == 200
    # One answer, in the event's end: no "generating" copy of it before (a generator's would be one).
    assert page.messages.count("process_completed") == 1, page.messages
    assert "process_generating" not in page.messages, page.messages


def test_a_stream_is_handed_to_the_follower_and_answered_after_it_once(
    page: PageSession, sandbox_info: dict[str, Any]
) -> None:
    url = sandbox_info["apps"]["hello"]["url"] + "/api/ndjson?count=4&interval_ms=150"
    outputs = page.call("send", form(url))
    shown = page.named("send", outputs)
    assert HANDED_OVER in shown["status"]  # the server's "Sending…" line: the page starts its follower
    assert not isinstance(shown["summary"], str)  # no answer yet: an update that leaves it
    page.call("follow_stream", {})  # as the page's script presses the hidden button; ends with the stream
    answer = summary(page, "finish_stream", page.call("finish_stream", {"language": "curl"}))
    assert answer["ok"] and answer["response"]["status"] == 200
    assert answer["response"]["events_total"] == 4  # the whole stream, as it ended
    # Answered once: a second follower's chain (a page pressing twice) has nothing to show.
    again = page.call("finish_stream", {"language": "curl"})
    assert not isinstance(summary(page, "finish_stream", again), str)

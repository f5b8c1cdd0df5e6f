"""A browser page's traffic to the explorer UI, without a browser: Gradio's queue protocol (sse_v3).

A page keeps its HTTP connection alive and, per event, joins the queue (`POST …/queue/join`) and
reads the session's event stream (`GET …/queue/data`) until the event completes; a chained event
(`.then`) is one more join, sent by the page when the first completes. gradio_client opens new
connections per call (its TLS set-up and handshakes then dominate the server's CPU), so the
concurrency bench uses this instead: what the server spends is what real pages would cost it.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import requests


class PageSession:
    """One browser session (its own session hash, so its own server-side state) on one connection."""

    def __init__(self, ui_url: str, config: dict[str, Any], timeout: float = 60) -> None:
        self.root = ui_url.rstrip("/") + config.get("api_prefix", "/gradio_api")
        self.http = requests.Session()
        self.hash = uuid.uuid4().hex[:12]
        self.timeout = timeout
        self._components = {c["id"]: c for c in config["components"]}
        self._events = {d["api_name"]: d for d in config["dependencies"] if d.get("api_name")}
        self.messages: list[str] = []  # the last call's messages, by kind ("process_completed", …)

    def inputs(self, api_name: str) -> list[str]:
        """The event's inputs by label (`state` for the session's gr.State: the page sends null)."""
        names = []
        for component_id in self._events[api_name]["inputs"]:
            component = self._components[component_id]
            names.append("state" if component["type"] == "state" else str(component["props"].get("label")))
        return names

    def call(self, api_name: str, values: dict[str, Any]) -> list[Any]:
        """Run one event as a page would: inputs by label (missing ones empty), its outputs' data."""
        data = [None if name == "state" else values.get(name, "") for name in self.inputs(api_name)]
        event = self._events[api_name]
        joined = self.http.post(
            f"{self.root}/queue/join",
            json={
                "data": data,
                "fn_index": event["id"],
                "session_hash": self.hash,
                "event_data": None,
                "trigger_id": (event.get("targets") or [[None]])[0][0],
            },
            timeout=self.timeout,
        )
        joined.raise_for_status()
        event_id = joined.json()["event_id"]
        output: list[Any] | None = None
        self.messages = []
        with self.http.get(
            f"{self.root}/queue/data", params={"session_hash": self.hash}, stream=True, timeout=self.timeout
        ) as stream:
            for line in stream.iter_lines():  # read to the end: the connection stays reusable
                if not line.startswith(b"data:"):
                    continue
                message = json.loads(line[5:])
                if message.get("event_id") == event_id:
                    self.messages.append(str(message.get("msg")))
                if message.get("msg") == "process_completed" and message.get("event_id") == event_id:
                    if not message.get("success"):
                        raise RuntimeError(f"{api_name} failed: {str(message.get('output'))[:300]}")
                    output = message["output"]["data"]
                elif message.get("msg") == "close_stream":
                    break
        if output is None:
            raise RuntimeError(f"{api_name}: the stream ended without its result")
        return output

    def named(self, api_name: str, outputs: list[Any]) -> dict[str, Any]:
        """An event's outputs by their components' labels."""
        ids = self._events[api_name]["outputs"]
        return {
            str(self._components[i]["props"].get("label")): value
            for i, value in zip(ids, outputs, strict=True)
        }

    def close(self) -> None:
        self.http.close()


def page_config(ui_url: str) -> dict[str, Any]:
    """The page's config (components and events), as a browser loads it once."""
    response = requests.get(ui_url.rstrip("/") + "/config", timeout=30)
    response.raise_for_status()
    return response.json()


def connected_pages(ui_url: str, info: dict[str, Any], count: int) -> list[PageSession]:
    """`count` browser sessions, each connected as the sandbox's demo service principal (m2m)."""
    from concurrent.futures import ThreadPoolExecutor

    from bench.common import demo_sp_fields

    config = page_config(ui_url)

    def make(_: int) -> PageSession:
        page = PageSession(ui_url, config)
        _state, _card, connection, _form = page.call(
            "connect", {"Auth method": "m2m", **demo_sp_fields(info)}
        )
        if not json.loads(connection).get("ok"):
            raise RuntimeError("a UI session could not connect")
        return page

    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(make, range(count)))

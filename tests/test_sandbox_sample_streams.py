"""The sample app's timing header, scripted agent (OpenAI Responses shape), NDJSON and endless
heartbeat, over real HTTP through the app's gateway (and, for `/responses`, on the app itself)."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
import requests
from support.sandbox_helpers import m2m_token


@pytest.fixture(scope="module")
def hello(sandbox_info) -> tuple[str, dict[str, str]]:
    """The `hello` app's URL and a bearer header for demo-sp."""
    return sandbox_info["apps"]["hello"]["url"], {"Authorization": f"Bearer {m2m_token(sandbox_info)}"}


def sse_events(response: requests.Response) -> list[dict[str, Any]]:
    """The JSON `data:` of every event, checked against its `event:` line."""
    events, name = [], None
    for line in response.iter_lines(decode_unicode=True):
        if line.startswith("event: "):
            name = line[len("event: ") :]
        elif line.startswith("data: "):
            event = json.loads(line[len("data: ") :])
            assert event["type"] == name
            events.append(event)
    return events


def test_items_report_server_timing(hello):
    url, auth = hello

    response = requests.get(f"{url}/api/items", headers=auth, timeout=10)

    assert response.status_code == 200
    assert response.headers["Server-Timing"].startswith("db;dur=")
    assert float(response.headers["Server-Timing"].split("dur=")[1].split(";")[0]) >= 0


def test_invocations_stream_the_responses_events_word_by_word(hello):
    url, auth = hello
    body = {"input": [{"role": "user", "content": "how many widgets"}], "stream": True}

    started = time.monotonic()
    with requests.post(
        f"{url}/api/invocations", json=body, headers=auth, stream=True, timeout=30
    ) as response:
        first_delta_at = None
        events, name = [], None
        for line in response.iter_lines(decode_unicode=True):
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                events.append(json.loads(line[6:]))
                if name == "response.output_text.delta" and first_delta_at is None:
                    first_delta_at = time.monotonic() - started
    total = time.monotonic() - started

    types = [e["type"] for e in events]
    deltas = [e["delta"] for e in events if e["type"] == "response.output_text.delta"]
    completed = events[-1]["response"]
    calls = [e["item"] for e in events if e["type"] == "response.output_item.done"]

    assert response.headers["content-type"].startswith("text/event-stream")
    assert types[0] == "response.created" and types[-1] == "response.completed"
    assert [e["sequence_number"] for e in events] == list(range(len(events)))
    assert "response.function_call_arguments.delta" in types
    assert calls[0]["type"] == "function_call" and calls[0]["name"] == "lookup_items"
    assert json.loads(calls[0]["arguments"]) == {"query": "how many widgets"}
    assert len(deltas) > 5 and "".join(deltas) == completed["output"][-1]["content"][0]["text"]
    assert first_delta_at is not None and first_delta_at < total - 0.05  # streamed, not buffered
    assert completed["status"] == "completed"
    assert completed["usage"]["input_tokens"] == 3
    assert completed["usage"]["total_tokens"] == 3 + completed["usage"]["output_tokens"]


def test_invocations_without_stream_answer_the_whole_response(hello):
    url, auth = hello

    response = requests.post(
        f"{url}/api/invocations", json={"input": "hello agent"}, headers=auth, timeout=30
    )

    body = response.json()
    assert response.status_code == 200 and body["object"] == "response" and body["status"] == "completed"
    assert [item["type"] for item in body["output"]] == ["function_call", "function_call_output", "message"]
    assert "hello agent" in body["output"][-1]["content"][0]["text"]


def test_background_invocations_are_polled_until_completed(hello):
    url, auth = hello
    direct = requests.post(
        f"{url}/api/invocations", json={"input": "poll me"}, headers=auth, timeout=30
    ).json()

    queued = requests.post(
        f"{url}/api/invocations", json={"input": "poll me", "background": True}, headers=auth, timeout=10
    ).json()
    seen = [queued["status"]]
    deadline = time.monotonic() + 15
    while seen[-1] != "completed" and time.monotonic() < deadline:
        time.sleep(0.05)
        polled = requests.get(f"{url}/api/invocations/{queued['id']}", headers=auth, timeout=10).json()
        seen.append(polled["status"])

    assert queued["background"] is True and queued["output"] == []
    assert seen[0] == "queued" and seen[-1] == "completed"
    assert polled["id"] == queued["id"]
    assert polled["output"][-1]["content"][0]["text"] == direct["output"][-1]["content"][0]["text"]
    missing = requests.get(f"{url}/api/invocations/resp_nope", headers=auth, timeout=10)
    assert missing.status_code == 404


def test_bad_invocations_are_refused(hello):
    url, auth = hello

    both = requests.post(
        f"{url}/api/invocations",
        json={"input": "x", "stream": True, "background": True},
        headers=auth,
        timeout=10,
    )
    no_input = requests.post(f"{url}/api/invocations", json={"stream": True}, headers=auth, timeout=10)

    assert both.status_code == 400
    assert no_input.status_code == 422


def test_responses_outside_api_answer_in_the_same_shape(sandbox):
    # On the app itself: its gateway lets bearer tokens reach /api/ only (see the token_paths tests).
    upstream = sandbox.apps["hello"].upstream_url

    with requests.post(
        f"{upstream}/responses", json={"input": "mlflow style", "stream": True}, stream=True, timeout=30
    ) as response:
        events = sse_events(response)
    plain = requests.post(f"{upstream}/responses", json={"input": "mlflow style"}, timeout=30).json()

    assert events[-1]["type"] == "response.completed"
    assert events[-1]["response"]["output"][-1] == plain["output"][-1] | {
        "id": events[-1]["response"]["output"][-1]["id"]
    }


def test_ndjson_arrives_one_object_per_line(hello):
    url, auth = hello

    with requests.get(
        f"{url}/api/ndjson", params={"count": 4, "interval_ms": 30}, headers=auth, stream=True, timeout=10
    ) as response:
        lines = [json.loads(line) for line in response.iter_lines() if line]

    assert response.headers["content-type"] == "application/x-ndjson"
    assert lines == [{"n": n, "of": 4, "square": n * n} for n in range(4)]


def test_cancelling_the_heartbeat_through_the_gateway_ends_it_in_the_app(hello):
    url, auth = hello
    before = requests.get(f"{url}/api/stats", headers=auth, timeout=10).json()["heartbeat"]

    response = requests.get(
        f"{url}/api/heartbeat", params={"interval_ms": 50}, headers=auth, stream=True, timeout=10
    )
    lines = response.iter_lines(decode_unicode=True)  # kept: dropping it would close the stream
    beats = 0
    while beats < 3:
        beats += next(lines).startswith("event: heartbeat")
    during = requests.get(f"{url}/api/stats", headers=auth, timeout=10).json()["heartbeat"]
    response.close()  # the client hangs up mid-stream

    deadline = time.monotonic() + 10
    after = during
    while time.monotonic() < deadline:
        after = requests.get(f"{url}/api/stats", headers=auth, timeout=10).json()["heartbeat"]
        if after["disconnected"] > before["disconnected"] and after["active"] == before["active"]:
            break
        time.sleep(0.05)

    assert response.headers["content-type"].startswith("text/event-stream")
    assert during["active"] == before["active"] + 1 and during["started"] == before["started"] + 1
    assert after["disconnected"] == before["disconnected"] + 1  # the gateway closed the app's stream
    assert after["active"] == before["active"]
    settled = requests.get(f"{url}/api/stats", headers=auth, timeout=10).json()["heartbeat"]["events"]
    time.sleep(0.3)
    assert requests.get(f"{url}/api/stats", headers=auth, timeout=10).json()["heartbeat"]["events"] == settled

"""An agent's answer, assembled from its stream as it arrives.

Recognised shapes: the OpenAI Responses streaming events (what MLflow's agent server and
Databricks' agent server send: `response.output_text.delta`, `response.output_item.added` with a
`function_call`, `response.function_call_arguments.delta`, `response.completed` with `usage`) and
Chat Completions chunks (`choices[0].delta.content` / `.tool_calls`, a final `usage`, `[DONE]`).
"""

from __future__ import annotations

import json
from typing import Any

from explorer.model import StreamEvent, Transcript

MAX_TEXT = 1024 * 1024


PENDING = ("queued", "in_progress")


def background_id(body: Any) -> str | None:
    """The id to poll when `body` is a Responses object still running in the background."""
    if not isinstance(body, dict) or body.get("object") != "response":
        return None
    if body.get("status") not in PENDING or not isinstance(body.get("id"), str):
        return None
    ident = body["id"]
    return ident if ident.replace("_", "").replace("-", "").isalnum() and len(ident) <= 200 else None


def transcript_of(body: Any) -> Transcript | None:
    """The transcript of a finished (non-streamed) Responses object: its output text and tool calls."""
    if not isinstance(body, dict) or body.get("object") != "response":
        return None
    t = Transcript("responses", done=body.get("status") not in PENDING)
    for item in body.get("output") or []:
        if not isinstance(item, dict):
            continue
        if item.get("type") == "function_call":
            t.tool_calls.append(
                {"name": str(item.get("name", "")), "arguments": str(item.get("arguments", ""))}
            )
        for part in item.get("content") or [] if item.get("type") == "message" else []:
            if isinstance(part, dict) and part.get("type") == "output_text":
                t.text += str(part.get("text", ""))[:MAX_TEXT]
    if isinstance(body.get("usage"), dict):
        t.usage = body["usage"]
    return t


class TranscriptBuilder:
    """Feed it events; `transcript` is None until an event has one of the recognised shapes."""

    def __init__(self) -> None:
        self.transcript: Transcript | None = None
        self._tools: dict[str, dict[str, str]] = {}
        self._last_token_ms: float | None = None

    def add(self, event: StreamEvent) -> None:
        if event.data.strip() == "[DONE]":
            if self.transcript is not None:
                self.transcript.done = True
            return
        try:
            data = json.loads(event.data)
        except ValueError:
            return
        if not isinstance(data, dict):
            return
        kind = data.get("type") or event.event
        if isinstance(kind, str) and kind.startswith("response."):
            self._responses(kind, data, event.offset_ms)
        elif isinstance(data.get("choices"), list):
            self._chat(data, event.offset_ms)

    # --- the Responses shape -----------------------------------------------------------------------

    def _responses(self, kind: str, data: dict[str, Any], at: float) -> None:
        t = self._start("responses")
        if kind == "response.output_text.delta":
            self._text(t, str(data.get("delta", "")), at)
        elif kind == "response.output_item.added":
            item = data.get("item") or {}
            if isinstance(item, dict) and item.get("type") == "function_call":
                key = str(item.get("id") or item.get("call_id") or len(self._tools))
                self._tools[key] = {
                    "name": str(item.get("name", "")),
                    "arguments": str(item.get("arguments", "")),
                }
        elif kind == "response.function_call_arguments.delta":
            key = str(data.get("item_id") or "")
            if key in self._tools:
                self._tools[key]["arguments"] += str(data.get("delta", ""))
        elif kind in ("response.completed", "response.done", "response.failed"):
            usage = (
                (data.get("response") or {}).get("usage") if isinstance(data.get("response"), dict) else None
            )
            if isinstance(usage, dict):
                t.usage = usage
            t.done = True
        self._finish(t)

    # --- the Chat Completions shape ----------------------------------------------------------------

    def _chat(self, data: dict[str, Any], at: float) -> None:
        t = self._start("chat")
        for choice in data["choices"][:1]:
            delta = choice.get("delta") if isinstance(choice, dict) else None
            if not isinstance(delta, dict):
                continue
            if isinstance(delta.get("content"), str):
                self._text(t, delta["content"], at)
            for call in delta.get("tool_calls") or []:
                if not isinstance(call, dict):
                    continue
                key = str(call.get("index", call.get("id", len(self._tools))))
                function = call.get("function") or {}
                tool = self._tools.setdefault(key, {"name": "", "arguments": ""})
                tool["name"] = tool["name"] or str(function.get("name") or "")
                tool["arguments"] += str(function.get("arguments") or "")
            if choice.get("finish_reason"):
                t.done = True
        if isinstance(data.get("usage"), dict):
            t.usage = data["usage"]
        self._finish(t)

    # --- shared --------------------------------------------------------------------------------------

    def _start(self, shape: str) -> Transcript:
        if self.transcript is None:
            self.transcript = Transcript(shape)
        return self.transcript

    def _text(self, t: Transcript, delta: str, at: float) -> None:
        if not delta:
            return
        if t.first_token_ms is None:
            t.first_token_ms = at
        self._last_token_ms = at
        if len(t.text) < MAX_TEXT:
            t.text += delta[: MAX_TEXT - len(t.text)]

    def _finish(self, t: Transcript) -> None:
        t.tool_calls = list(self._tools.values())
        tokens = t.usage.get("output_tokens") or t.usage.get("completion_tokens")
        span = (self._last_token_ms or 0) - (t.first_token_ms or 0)
        if isinstance(tokens, int) and tokens > 0 and span > 0:
            t.tokens_per_second = tokens / (span / 1000)

"""A deterministic agent-like endpoint in the OpenAI Responses shape, as MLflow's agent server serves it.

There is no model: the answer is scripted from the last user message, with one tool call before
it, and streamed word by word. `POST /api/invocations` and `POST /responses` take
`{"input": "text" | [{"role", "content"}], "stream": false, "background": false}`:

- `stream: true`: Server-Sent Events (`response.created`, `response.output_item.added`,
  `response.function_call_arguments.delta`, `response.output_text.delta`, ..., `response.completed`
  with `usage`);
- `stream: false`: the whole response object;
- `background: true`: the response object at once with `status: queued`; poll
  `GET /api/invocations/{id}` until `status: completed`.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, HTTPException
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

MODEL = "sandbox-scripted-agent"
TOOL = "lookup_items"
WORD_DELAY_SECONDS = 0.02
MAX_BACKGROUND = 500
_RESPONSES = {200: {"content": {"application/json": {}, "text/event-stream": {}}}}


class InputMessage(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: str = Field("user", description="user, assistant, system or developer")
    content: str | list[dict[str, Any]] = Field("", description="Text, or content parts such as input_text")


class InvocationRequest(BaseModel):
    model_config = ConfigDict(extra="allow")  # model, tools, ... are accepted and ignored
    input: str | list[InputMessage] = Field(..., description="The conversation so far")
    stream: bool = Field(False, description="Answer with Server-Sent Events")
    background: bool = Field(False, description="Answer at once with an id to poll")


def _question(request: InvocationRequest) -> str:
    if isinstance(request.input, str):
        return request.input
    for message in reversed(request.input):
        if message.role == "user":
            if isinstance(message.content, str):
                return message.content
            return " ".join(str(p.get("text", "")) for p in message.content if isinstance(p, dict))
    return ""


def _new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:24]}"


class ScriptedRun:
    """One response: its items and the events that build them, in order."""

    def __init__(self, question: str, background: bool = False):
        self.id = _new_id("resp")
        self.created_at = int(time.time())
        self.background = background
        self.question = " ".join(question.split())[:500]
        words = self.question.split()
        self.arguments = json.dumps({"query": self.question})
        self.call_id = _new_id("call")
        self.tool_output = json.dumps({"matches": len(words), "source": "sandbox"})
        shown = self.question if self.question else "nothing"
        self.text = (
            f"You asked about {shown}. The tool found {len(words)} matching words. "
            "This answer is scripted by the sandbox, not generated."
        )
        self.words = self.text.split(" ")
        self.usage = {
            "input_tokens": len(words),
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": len(self.words),
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": len(words) + len(self.words),
        }
        self.status = "queued" if background else "in_progress"
        self._fc_id, self._msg_id = _new_id("fc"), _new_id("msg")

    def function_call(self, status: str = "completed") -> dict[str, Any]:
        arguments = self.arguments if status == "completed" else ""
        return {
            "type": "function_call",
            "id": self._fc_id,
            "call_id": self.call_id,
            "name": TOOL,
            "arguments": arguments,
            "status": status,
        }

    def function_call_output(self) -> dict[str, Any]:
        return {"type": "function_call_output", "call_id": self.call_id, "output": self.tool_output}

    def message(self, status: str = "completed") -> dict[str, Any]:
        content = (
            [{"type": "output_text", "text": self.text, "annotations": []}] if status == "completed" else []
        )
        return {
            "type": "message",
            "id": self._msg_id,
            "role": "assistant",
            "status": status,
            "content": content,
        }

    def response(self, complete: bool) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "response",
            "created_at": self.created_at,
            "status": "completed" if complete else self.status,
            "model": MODEL,
            "background": self.background,
            "output": [self.function_call(), self.function_call_output(), self.message()] if complete else [],
            "usage": self.usage if complete else None,
            "error": None,
        }

    async def events(self) -> AsyncIterator[dict[str, Any]]:
        """The Responses streaming events, with a small delay before every word."""
        yield {"type": "response.created", "response": self.response(complete=False)}
        yield {"type": "response.in_progress", "response": self.response(complete=False)}
        yield {
            "type": "response.output_item.added",
            "output_index": 0,
            "item": self.function_call("in_progress"),
        }
        yield {
            "type": "response.function_call_arguments.delta",
            "item_id": self._fc_id,
            "output_index": 0,
            "delta": self.arguments,
        }
        yield {
            "type": "response.function_call_arguments.done",
            "item_id": self._fc_id,
            "output_index": 0,
            "arguments": self.arguments,
        }
        yield {"type": "response.output_item.done", "output_index": 0, "item": self.function_call()}
        yield {"type": "response.output_item.done", "output_index": 1, "item": self.function_call_output()}
        yield {"type": "response.output_item.added", "output_index": 2, "item": self.message("in_progress")}
        part = {"type": "output_text", "text": "", "annotations": []}
        where = {"item_id": self._msg_id, "output_index": 2, "content_index": 0}
        yield {"type": "response.content_part.added", **where, "part": part}
        for i, word in enumerate(self.words):
            await asyncio.sleep(WORD_DELAY_SECONDS)
            yield {"type": "response.output_text.delta", **where, "delta": word if i == 0 else " " + word}
        yield {"type": "response.output_text.done", **where, "text": self.text}
        yield {"type": "response.content_part.done", **where, "part": {**part, "text": self.text}}
        yield {"type": "response.output_item.done", "output_index": 2, "item": self.message()}
        yield {"type": "response.completed", "response": self.response(complete=True)}


async def _sse(run: ScriptedRun) -> AsyncIterator[str]:
    sequence = 0
    async for event in run.events():
        event = {"type": event["type"], "sequence_number": sequence, **event}
        sequence += 1
        yield f"event: {event['type']}\ndata: {json.dumps(event)}\n\n"


class Agent:
    """The endpoints, and the background runs (bounded, oldest dropped first)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._runs: OrderedDict[str, tuple[ScriptedRun, bool]] = OrderedDict()
        self._tasks: set[asyncio.Task[None]] = set()

    def router(self) -> APIRouter:
        router = APIRouter(tags=["agent"])
        for path, summary in (
            ("/api/invocations", "Ask the scripted agent (Responses shape; stream, background)"),
            ("/responses", "The same agent where MLflow's agent server serves it (outside /api/)"),
        ):
            router.add_api_route(
                path,
                self.invoke,
                methods=["POST"],
                summary=summary,
                responses=_RESPONSES,
                operation_id="invoke" if path.startswith("/api/") else "responses",
            )
        router.add_api_route(
            "/api/invocations/{response_id}",
            self.poll,
            methods=["GET"],
            summary="A background response: queued, in_progress, then completed",
        )
        return router

    async def invoke(self, request: InvocationRequest) -> Any:
        if request.stream and request.background:
            raise HTTPException(400, "stream and background cannot both be true in the sandbox")
        run = ScriptedRun(_question(request), background=request.background)
        if request.stream:
            return StreamingResponse(
                _sse(run), media_type="text/event-stream", headers={"Cache-Control": "no-cache"}
            )
        if request.background:
            with self._lock:
                self._runs[run.id] = (run, False)
                while len(self._runs) > MAX_BACKGROUND:
                    self._runs.popitem(last=False)
            task = asyncio.create_task(self._finish(run))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            return run.response(complete=False)
        async for _ in run.events():  # the same pace as a stream, answered at the end
            pass
        return run.response(complete=True)

    async def _finish(self, run: ScriptedRun) -> None:
        await asyncio.sleep(WORD_DELAY_SECONDS)
        run.status = "in_progress"
        async for _ in run.events():
            pass
        with self._lock:
            if run.id in self._runs:
                self._runs[run.id] = (run, True)

    def poll(self, response_id: str) -> dict[str, Any]:
        with self._lock:
            found = self._runs.get(response_id)
        if found is None:
            raise HTTPException(404, f"response {response_id} not found")
        run, complete = found
        return run.response(complete=complete)

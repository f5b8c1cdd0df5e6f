"""The explorer UI for gradio_client tests: `running_ui` serves it in-process on a free port, and
`ui_send` drives its `send` event once (every output, as the page would show them)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from explorer.launch import serve
from explorer.ui.config import UIConfig
from support.ports import free_port


@contextlib.contextmanager
def running_ui(config: UIConfig) -> Iterator[str]:
    """Serve the UI with `config` on a free loopback port; yields its URL and closes it afterwards."""
    blocks, url = serve(config, "127.0.0.1", free_port())
    try:
        yield url
    finally:
        blocks.close()


# The server's "Sending…" line: a send handed its stream to the page's follower (Handlers.send).
HANDED_OVER = 'class="sending-text" data-started'


def ui_send(
    client: Any,
    url: str,
    *,
    method: str = "GET",
    body: str = "",
    timeout: float = 30,
    export_format: str = "HAR",
    headers: dict[str, str] | None = None,
    send_as: str | None = None,
) -> Any:
    """The outputs of one send through the UI's `send` event (SEND_OUTPUTS; `send_parts` names them).

    `send_as`: the tab's "Send as" (an identity's name); left out, the tab's own choice stands."""
    who = {} if send_as is None else {"send_as": send_as}
    outputs = client.predict(
        **who,
        method=method,
        url=url,
        params="",
        header_lines="",  # not `headers`: gradio_client keeps that name for HTTP headers
        body=body,
        timeout=timeout,
        app_url="",
        snippet_language="curl",
        export_format=export_format,
        api_name="/send",
        headers=headers,  # HTTP headers of this call (what the Apps gateway would forward)
    )
    if HANDED_OVER in str(outputs):  # a stream: as on the page, its follower, then its answer
        client.predict(api_name="/follow_stream", headers=headers)
        outputs = client.predict("curl", api_name="/finish_stream", headers=headers)
    return outputs


# A send's outputs as gradio_client gives them (layout blocks such as tabs are not among them):
# the tab strip, its JSON twin, then the response pane, then the snippet and the History table.
SEND_OUTPUTS = (
    "tabstrip", "tabs_data", "status", "pretty", "table", "raw", "response_headers", "token", "claims",
    "diagnosis", "banner", "stream", "summary", "snippet", "history",
)  # fmt: skip


def send_parts(outputs: Any) -> dict[str, Any]:
    """A send's outputs by name (SEND_OUTPUTS)."""
    assert len(outputs) == len(SEND_OUTPUTS), f"a send has {len(SEND_OUTPUTS)} outputs, got {len(outputs)}"
    return dict(zip(SEND_OUTPUTS, outputs, strict=True))

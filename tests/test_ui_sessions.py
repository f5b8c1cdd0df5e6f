"""Idle browser sessions expire with their files; active ones stay (issue 17: memory when deployed).

Real UI servers (in this process) with a short idle time, scripted with gradio_client against the
sandbox; the session's export folder on disk is what must go with an expired session.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from gradio_client import Client
from support.sandbox_helpers import demo_sp_fields
from support.ui_server import running_ui, send_parts, ui_send

from explorer.ui.config import IDLE_SECONDS, UIConfig, _idle_seconds

TMP = Path(tempfile.gettempdir())


def _export_folders() -> list[Path]:
    """The export folders in the temp directory now (one level: pathlib's glob raises when a folder
    it listed is gone before it reads it, and other tests' sessions remove theirs meanwhile)."""
    return [folder for folder in TMP.glob("explorer-export-*") if folder.is_dir()]


def _holds(folder: Path, pattern: str) -> bool:
    """Whether `folder` holds a file named like `pattern`; a folder that vanished holds none."""
    try:
        return any(folder.glob(pattern))
    except FileNotFoundError:
        return False


def _export(client: Client, info: dict[str, Any]) -> set[Path]:
    """Connect, send, Export: the session's own export folder (found by the file's session token)."""
    client.predict(method="m2m", **demo_sp_fields(info), api_name="/connect")
    ui_send(client, info["apps"]["hello"]["url"] + "/api/hello")
    download, note = client.predict(fmt="HAR", api_name="/export_history")
    assert "1 exchange" in note
    value = download.get("value", download) if isinstance(download, dict) else download
    served = Path(value["path"] if isinstance(value, dict) else value).name  # Gradio's copy keeps the name
    token = served.split("-")[2]  # explorer-export-<session token>-<file>
    mine = {folder for folder in _export_folders() if _holds(folder, f"explorer-export-{token}-*")}
    assert mine, "the session wrote its export file in a folder of its own"
    return mine


def test_an_idle_session_is_closed_and_its_export_files_removed(sandbox_info: dict[str, Any]) -> None:
    # 5 s, not less: the state is stored (its lifetime renewed) at most every idle/4, so on a loaded
    # machine a shorter one could expire between the export and the look for its folder
    with running_ui(UIConfig(idle_seconds=5)) as url:
        client = Client(url, verbose=False, download_files=False)
        mine = _export(client, sandbox_info)
        deadline = time.monotonic() + 25
        while time.monotonic() < deadline and any(f.exists() for f in mine):
            time.sleep(0.5)
        assert not any(f.exists() for f in mine), "an idle session's export folder outlived it"
        client.close()


def test_an_active_session_outlives_the_idle_time(sandbox_info: dict[str, Any]) -> None:
    with running_ui(UIConfig(idle_seconds=3)) as url:
        client = Client(url, verbose=False, download_files=False)
        mine = _export(client, sandbox_info)
        for _ in range(8):  # an event every 0.75 s for 6 s: twice the idle time
            client.predict(api_name="/history")
            time.sleep(0.75)
        assert all(f.exists() for f in mine), "an active session was expired"
        status = send_parts(ui_send(client, sandbox_info["apps"]["hello"]["url"] + "/api/hello"))["status"]
        assert ">200<" in status  # still connected: the same engine session
        client.close()


def test_the_idle_time_comes_from_the_environment_or_a_default() -> None:
    assert _idle_seconds({}) == IDLE_SECONDS
    assert _idle_seconds({"EXPLORER_SESSION_IDLE_SECONDS": "600"}) == 600
    assert _idle_seconds({"EXPLORER_SESSION_IDLE_SECONDS": "soon"}) == IDLE_SECONDS
    assert _idle_seconds({"EXPLORER_SESSION_IDLE_SECONDS": "-5"}) == IDLE_SECONDS

"""The screenshot index the session's end writes (tests/conftest.py → support.browser.write_index)."""

from __future__ import annotations

import json
from pathlib import Path

from support.browser import write_index


def test_the_index_lists_each_png_under_the_story_that_saved_it(tmp_path: Path) -> None:
    for name in ("ui-a.png", "ui-b.png", "old.png"):
        (tmp_path / name).write_bytes(b"\x89PNG\r\n")
    story = "tests/test_ui_x.py::test_<script>alert(1)</script>"
    entries = [{"png": "ui-a.png", "story": story, "at": 1}, {"png": "ui-b.png", "story": "t::b", "at": 2}]
    (tmp_path / ".shots-gw0.jsonl").write_text("\n".join(json.dumps(e) for e in entries) + "\nnot json\n")
    (tmp_path / ".shots-gw1.jsonl").write_text(
        json.dumps({"png": "gone.png", "story": "t::c", "at": 3}) + "\n"
    )
    index = write_index(tmp_path)
    assert index == tmp_path / "index.html"
    page = index.read_text()
    assert "<script>" not in page and "&lt;script&gt;" in page  # story names are escaped
    assert page.index("ui-a.png") < page.index("t::b") < page.index("ui-b.png")
    assert "gone.png" not in page and "Not saved by this run" in page and "old.png" in page
    readme = (tmp_path / "README").read_text().splitlines()
    assert readme[1:] == [f"ui-a.png\t{story}", "ui-b.png\tt::b"]


def test_no_screenshots_no_index(tmp_path: Path) -> None:
    assert write_index(tmp_path) is None and not (tmp_path / "index.html").exists()

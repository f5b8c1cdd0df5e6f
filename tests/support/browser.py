"""Debian's Chromium for the browser tests: where it is, how it must be started, where shots go."""

from __future__ import annotations

import html
import json
import os
import shutil
import time
from pathlib import Path

import pytest

# Run as root in a closed network: no sandbox, no GPU, nothing that phones home.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def chromium_or_skip() -> str:
    """The chromium executable; a skip with the reason when missing, but a failure under CI."""
    found = "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else shutil.which("chromium")
    if found:
        return found
    if os.environ.get("CI") == "true":
        pytest.fail("Debian's chromium is required under CI (apt-get install -y chromium)")
    pytest.skip("Debian's chromium is not installed (apt-get install -y chromium)")


# Every screenshot a story saves is noted (one line per shot, per xdist worker), so the session's
# end can index them: test-artifacts/index.html lists each PNG with the story that made it.
MANIFEST_GLOB = ".shots-*.jsonl"


def save_shot(page: object, name: str, **options: object) -> Path:
    """`page`'s screenshot as test-artifacts/<name>.png, noted with the story (test) taking it."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), **options)  # type: ignore[attr-defined]
    story = os.environ.get("PYTEST_CURRENT_TEST", "").rsplit(" (", 1)[0]
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    line = json.dumps({"png": path.name, "story": story, "at": time.time()})
    with (ARTIFACTS / f".shots-{worker}.jsonl").open("a", encoding="utf-8") as manifest:
        manifest.write(line + "\n")
    return path


def write_index(artifacts: Path = ARTIFACTS) -> Path | None:
    """test-artifacts/index.html: every PNG this run saved, grouped by story, with a thumbnail; the
    files in the folder no story of this run saved are listed apart (left from an earlier run)."""
    shots: dict[str, dict[str, object]] = {}
    for manifest in sorted(artifacts.glob(MANIFEST_GLOB)):
        for line in manifest.read_text(encoding="utf-8").splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if (artifacts / str(entry.get("png"))).exists():
                shots[str(entry["png"])] = entry  # the latest shot of a name wins (a rerun)
    if not shots and not list(artifacts.glob("*.png")):
        return None
    by_story: dict[str, list[str]] = {}
    for png, entry in sorted(shots.items(), key=lambda item: float(item[1].get("at") or 0)):
        by_story.setdefault(str(entry.get("story") or "(unknown story)"), []).append(png)
    older = sorted(p.name for p in artifacts.glob("*.png") if p.name not in shots)
    parts = [
        "<!doctype html><meta charset='utf-8'><title>Browser story screenshots</title>",
        "<style>body{font:14px system-ui;margin:24px}img{max-width:480px;border:1px solid #ccc;"
        "display:block;margin:4px 0 14px}code{font-size:13px}</style>",
        f"<h1>Browser story screenshots</h1><p>{len(shots)} PNG(s) from {len(by_story)} story(ies).</p>",
    ]
    for story, pngs in by_story.items():
        parts.append(f"<h2><code>{html.escape(story)}</code></h2>")
        for png in pngs:
            name = html.escape(png, quote=True)
            parts.append(
                f"<div><a href='{name}'>{name}</a><img src='{name}' alt='{name}' loading='lazy'></div>"
            )
    if older:
        parts.append("<h2>Not saved by this run</h2><ul>")
        parts += [f"<li><a href='{html.escape(n, quote=True)}'>{html.escape(n)}</a></li>" for n in older]
        parts.append("</ul>")
    index = artifacts / "index.html"
    index.write_text("\n".join(parts) + "\n", encoding="utf-8")
    lines = [f"{png}\t{story}" for story, pngs in by_story.items() for png in pngs]
    (artifacts / "README").write_text(
        "Screenshots of the browser stories (PNG, then the story that saved it); open index.html.\n"
        + "\n".join(lines)
        + "\n",
        encoding="utf-8",
    )
    return index

"""Gradio's build files served from memory (explorer.ui.assets): the same bytes as the files on disk,
compressed once, immutable for the browser; everything else still Gradio's to answer."""

from __future__ import annotations

import gzip
import re
from collections.abc import Iterator

import brotli
import pytest
import requests
from support.ui_server import running_ui

from explorer.ui.assets import BUILD_DIR, CACHE_CONTROL, pick_encoding
from explorer.ui.config import UIConfig


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("gzip, deflate, br, zstd", "br"),  # Chromium
        ("gzip, deflate", "gzip"),
        ("br;q=0, gzip", "gzip"),
        ("BR;Q=0.5", "br"),
        ("*", "br"),
        ("*;q=0", "identity"),
        ("*;q=0, gzip;q=0.1", "gzip"),
        ("identity", "identity"),
        ("", "identity"),
        ("gzip;q=oops", "identity"),  # an unreadable weight refuses, never raises
        (" , ;", "identity"),
    ],
)
def test_the_encoding_is_picked_from_accept_encoding(header: str, expected: str) -> None:
    assert pick_encoding(header) == expected


def test_without_brotli_gzip_is_the_best_offered() -> None:
    assert pick_encoding("br, gzip", offered=("gzip",)) == "gzip"


@pytest.fixture(scope="module")
def page() -> Iterator[tuple[str, list[str]]]:
    """The UI served as `python -m explorer` serves it, and the build files its page loads first."""
    with running_ui(UIConfig()) as url:
        html = requests.get(url, timeout=10).text
        names = sorted(set(re.findall(r"\./assets/([\w.-]+\.(?:js|css))", html)))
        yield url, names


def test_every_build_file_of_the_page_is_its_bytes_on_disk_compressed_and_immutable(page) -> None:
    url, names = page
    assert names, "the page names its build files"
    for name in names:
        expected = (BUILD_DIR / name).read_bytes()
        for accept, decode in (("br", brotli.decompress), ("gzip", gzip.decompress), ("identity", bytes)):
            answer = requests.get(
                f"{url}assets/{name}", headers={"Accept-Encoding": accept}, stream=True, timeout=10
            )
            body = answer.raw.read()  # as sent: not decoded by requests
            assert answer.status_code == 200, name
            assert answer.headers.get("content-encoding", "identity") == accept
            assert decode(body) == expected, name
            assert int(answer.headers["content-length"]) == len(body)
            assert answer.headers["cache-control"] == CACHE_CONTROL.decode()
            assert answer.headers["x-content-type-options"] == "nosniff"
        kind = "text/css" if name.endswith(".css") else "javascript"
        assert kind in answer.headers["content-type"]


def test_head_answers_headers_only(page) -> None:
    url, names = page
    answer = requests.head(f"{url}assets/{names[0]}", headers={"Accept-Encoding": "gzip"}, timeout=10)
    assert answer.status_code == 200 and answer.content == b""
    assert answer.headers["content-encoding"] == "gzip" and int(answer.headers["content-length"]) > 0


def test_anything_else_is_still_gradios_to_answer(page) -> None:
    url, names = page
    assert requests.get(f"{url}assets/no-such-file.js", timeout=10).status_code == 404
    for escape in ("..%2f..%2fblocks.py", "%2e%2e/%2e%2e/blocks.py", "../../blocks.py"):
        answer = requests.get(f"{url}assets/{escape}", timeout=10)
        assert answer.status_code in (403, 404), escape
        assert b"import" not in answer.content
    posted = requests.post(f"{url}assets/{names[0]}", timeout=10)
    assert posted.status_code == 405  # Gradio's own answer: the middleware serves GET and HEAD only
    config = requests.get(f"{url}config", timeout=10)
    assert config.status_code == 200 and "components" in config.json()

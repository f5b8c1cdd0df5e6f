"""Run a snippet in a fresh interpreter (for what happens once per process, such as imports)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]


def fresh_python(code: str) -> dict[str, Any]:
    """`code` (with `json` and `sys` imported) run from the repo; the JSON its last line printed."""
    done = subprocess.run(
        [sys.executable, "-c", f"import json, sys\n{code}"],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-1500:]
    return json.loads(done.stdout.strip().splitlines()[-1])

"""The layering is checked, not hoped for: import-linter's contracts (pyproject.toml) hold."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_the_import_contracts_hold() -> None:
    lint = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run([str(lint)], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "BROKEN" not in result.stdout and result.stdout.count("KEPT") >= 3


def test_every_finding_code_the_code_base_uses_is_in_the_catalogue() -> None:
    import re

    from explorer.codes import CODES

    used = set()
    for path in (REPO / "explorer").rglob("*.py"):
        if "sandbox" in path.parts:
            continue
        text = path.read_text(encoding="utf-8")
        used |= set(re.findall(r'Finding\(\s*"([A-Z_]+)"', text))
    assert used and used <= set(CODES), used - set(CODES)

"""Run the `explorer` command line in-process, capturing what it prints."""

from __future__ import annotations

import io

from explorer.cli import Output, main


def run(argv: list[str]) -> tuple[int, str, str]:
    """Run `explorer <argv>`; returns (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, Output(out, err))
    return code, out.getvalue(), err.getvalue()

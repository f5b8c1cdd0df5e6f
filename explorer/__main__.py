"""Entry point: `python -m explorer [--demo] | sandbox … | call/token/apps/endpoints/snippet …`.

Dispatches before importing anything heavy, so command-line commands never import Gradio.
"""

from __future__ import annotations

import sys

from explorer.commands import CLI_COMMANDS


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    command = args[0] if args else ""
    if command == "sandbox":
        from explorer.sandbox.command import main as sandbox_main

        return sandbox_main(args[1:])
    if command in CLI_COMMANDS:
        from explorer.cli import main as cli_main

        return cli_main(args)
    from explorer.launch import main as ui_main

    return ui_main(args)


if __name__ == "__main__":
    sys.exit(main())

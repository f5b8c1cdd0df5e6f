"""The program's commands with their one-line help: declared once, imported by nothing heavy.

`python -m explorer --help` lists them (explorer.launch), `__main__` dispatches by them, and the
command line's sub-parsers take their help from here.
"""

from __future__ import annotations

# command -> one line of help, in the order --help lists them
CLI_COMMANDS: dict[str, str] = {
    "call": "send one request",
    "token": "get a token and show its details (masked)",
    "apps": "list the workspace's apps",
    "endpoints": "list an app's /api/ endpoints",
    "snippet": "print the request as curl / Python / SDK code",
    "run": "run a collection (assertions, chaining, reports)",
    "import": "import OpenAPI, Postman, curl or HAR as a collection",
    "export": "export a collection as Postman v2.1",
    "matrix": "send a collection as several identities, side by side (an access audit)",
    "load": "load run on Locust: users, duration, percentiles, errors by finding",
}
OTHER_COMMANDS: dict[str, str] = {
    "sandbox": "run the offline stand-in workspace (OAuth server, apps, gateways)",
}


def command_list() -> str:
    """The commands as --help shows them."""
    rows = {**CLI_COMMANDS, **OTHER_COMMANDS}
    width = max(len(name) for name in rows)
    lines = [f"  {name:<{width}}  {help_}" for name, help_ in rows.items()]
    return "commands (python -m explorer COMMAND --help for each):\n" + "\n".join(lines)

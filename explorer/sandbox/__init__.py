"""The sandbox: a local, protocol-faithful stand-in Databricks workspace, OAuth server and Apps gateway.

    from explorer.sandbox import Sandbox
    with Sandbox(config=None, port=0) as sb:    # None | YAML path | parsed dict
        sb.host, sb.info

`Sandbox` is imported on first use, so `python -m explorer sandbox --help` stays quick.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from explorer.sandbox.launcher import AutoApproveExposed, Sandbox, SandboxError

__all__ = ["AutoApproveExposed", "Sandbox", "SandboxError"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from explorer.sandbox import launcher

        return getattr(launcher, name)
    raise AttributeError(f"module 'explorer.sandbox' has no attribute {name!r}")

"""The SDK's package, initialised only when something asks for what its `__init__` defines.

`databricks/sdk/__init__.py` imports every service module of the SDK (about 60, ~0.8 s of CPU here)
to define `WorkspaceClient` and `AccountClient`. The explorer's connections need only a few of its
modules (`config`, `credentials_provider`, `oauth`, `core`'s `ApiClient`: ~0.15 s), and importing a
submodule runs its package's `__init__` first. So, once per process, before anything imports the SDK:

    defer_sdk_init()   # explorer/__init__.py does this

puts the package in `sys.modules` without running its `__init__`. Its submodules import as usual;
the first time anyone asks the package for something else (`from databricks.sdk import
WorkspaceClient`, `databricks.sdk.AccountClient`, ...), the real `__init__` runs, once, into the same
module, and the name is there. Code that uses the full SDK therefore works unchanged; it just pays
for it when it first needs it. Nothing happens when the SDK is missing or already imported.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import threading
from types import ModuleType

PACKAGE = "databricks.sdk"


def defer_sdk_init(package: str = PACKAGE) -> ModuleType | None:
    """Register `package` uninitialised (see the module's docstring); the module, or None if left alone."""
    if package in sys.modules:
        return None
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return None
    if spec is None or spec.loader is None or spec.submodule_search_locations is None:
        return None
    module = importlib.util.module_from_spec(spec)
    lock = threading.RLock()

    def complete(name: str) -> object:
        """PEP 562's module __getattr__: a submodule imports by itself; anything else runs __init__."""
        if not name.startswith("__") and importlib.util.find_spec(f"{package}.{name}") is not None:
            return importlib.import_module(f"{package}.{name}")
        with lock:
            if module.__dict__.get("__getattr__") is complete:
                del module.__dict__["__getattr__"]
                try:
                    spec.loader.exec_module(module)  # type: ignore[union-attr]
                except BaseException:
                    module.__dict__["__getattr__"] = complete  # a later access tries again
                    raise
        try:
            return module.__dict__[name]
        except KeyError:
            raise AttributeError(f"module {package!r} has no attribute {name!r}") from None

    module.__dict__["__getattr__"] = complete
    sys.modules[package] = module
    parent, _, child = package.rpartition(".")
    if parent:
        setattr(importlib.import_module(parent), child, module)
    return module


def sdk_initialised(package: str = PACKAGE) -> bool:
    """Whether the package's own `__init__` has run (it has when it was never deferred)."""
    module = sys.modules.get(package)
    return module is not None and "__getattr__" not in module.__dict__

"""Import Gradio without its type-stub writer: about half of `import gradio` (issue 17).

Gradio's component metaclass (`gradio.component_meta.ComponentMeta`) calls `create_or_modify_pyi`
for every component class it defines, at import: it reads the class's source file, parses it whole
with `ast`, renders a Jinja template of the class's event methods and compares the result with (or
writes it to) a `.pyi` stub beside the file. The stubs are for type checkers editing Gradio itself;
nothing at run time reads them. With ~80 classes, several in one large file, that is ~1.7 s of the
~3.5 s `import gradio` takes on the 2-core machine (measured in `bench/`, the "Gradio's import" row).

`install()` (run by `explorer.ui`, before any of its modules imports Gradio) adds a finder for
that one module that, once the module has run, replaces `create_or_modify_pyi` with a function
that does nothing. Everything else about Gradio is unchanged. If Gradio is already imported, or a
later Gradio has no such function, nothing is changed.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import Any

MODULE = "gradio.component_meta"
STUB_WRITER = "create_or_modify_pyi"


def skip_stub(*_args: Any, **_kwargs: Any) -> None:
    """Gradio's stub writer, replaced: the stubs are for editing Gradio, not for running it."""


class _SkipStubWriter(importlib.abc.MetaPathFinder):
    """Finds `gradio.component_meta` as usual, then disarms its stub writer once it has run."""

    def find_spec(
        self, name: str, path: Sequence[str] | None = None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if name != MODULE:
            return None
        uninstall()  # one module, once
        spec = importlib.machinery.PathFinder.find_spec(name, path, target)
        loader = spec.loader if spec is not None else None
        run = getattr(loader, "exec_module", None)
        if run is None:
            return spec

        def exec_module(module: ModuleType) -> None:
            run(module)
            if callable(getattr(module, STUB_WRITER, None)):
                setattr(module, STUB_WRITER, skip_stub)

        loader.exec_module = exec_module  # type: ignore[union-attr]  # this spec's loader only
        return spec


_FINDER = _SkipStubWriter()


def install() -> None:
    """Skip Gradio's stub writer in this process, if Gradio is not imported yet."""
    if MODULE not in sys.modules and _FINDER not in sys.meta_path:
        sys.meta_path.insert(0, _FINDER)


def uninstall() -> None:
    """Stop watching for the import (done by the finder itself once it has found the module)."""
    try:
        sys.meta_path.remove(_FINDER)
    except ValueError:
        pass

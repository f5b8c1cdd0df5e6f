"""explorer.ui.gradio_import: Gradio imports without writing or reading its type stubs, and works.

Each case is a fresh interpreter: the finder acts once per process, on Gradio's first import. An
audit hook counts what the import opens: Gradio's stub writer opens each component's `.pyi`.
"""

from __future__ import annotations

from typing import Any

from support.fresh_python import fresh_python

COUNT_STUB_OPENS = (
    "opened = []\n"
    "sys.addaudithook(lambda event, args: event == 'open' and str(args[0]).endswith('.pyi') and opened.append(1))\n"
)
WORKS = (
    "import gradio as gr\n"
    "with gr.Blocks() as blocks:\n"
    "    box = gr.Textbox()\n"
    "    button = gr.Button('Go')\n"
    "    button.click(lambda text: text.upper(), box, box, api_name='shout')\n"
    "import gradio.component_meta as meta\n"
    "from explorer.ui import gradio_import\n"
    "print(json.dumps({'stub_opens': len(opened), 'writer': meta.create_or_modify_pyi.__module__,\n"
    "    'click': 'click' in [e.event_name for e in gr.Button.EVENTS], 'fns': len(blocks.fns),\n"
    "    'finder_left': gradio_import._FINDER in sys.meta_path}))\n"
)


def run(code: str) -> dict[str, Any]:
    return fresh_python(f"{COUNT_STUB_OPENS}{code}{WORKS}")


def test_gradio_imported_after_explorer_ui_skips_its_stubs_and_still_builds_events() -> None:
    out = run("import explorer.ui\n")
    assert out["stub_opens"] == 0
    assert out["writer"] == "explorer.ui.gradio_import"
    assert out["click"] is True and out["fns"] == 1  # the metaclass still made the listeners
    assert out["finder_left"] is False  # it acted once and removed itself


def test_gradio_imported_first_is_left_as_it_is() -> None:
    out = run("import gradio\nimport explorer.ui\n")
    assert out["stub_opens"] > 10  # Gradio's own behaviour: one stub per component class, at least
    assert out["writer"] == "gradio.component_meta"
    assert out["click"] is True and out["fns"] == 1
    assert out["finder_left"] is False  # installed too late: never added


def test_the_deployed_server_module_imports_gradio_the_same_way() -> None:
    out = run("import explorer.server\n")
    assert out["stub_opens"] == 0 and out["writer"] == "explorer.ui.gradio_import"

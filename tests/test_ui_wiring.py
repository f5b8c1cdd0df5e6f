"""events.processed_here / postprocessed_value: what the send event hands the page is what
Gradio's own postprocessing would have handed it (the event is wired with it off)."""

from __future__ import annotations

from typing import Any

import gradio as gr
import pytest

from explorer.ui.events import postprocessed_value

TABLES: list[dict[str, Any]] = [
    {"headers": ["Name", "Value"], "data": [["a", "1"], ["b", "2"]]},
    {"headers": ["Name", "Value", "Extra"], "data": [["a", "1"]]},  # more headers than columns
    {"headers": ["Name"], "data": [["a", "1", "x"]]},  # fewer: Gradio numbers the rest
    {"headers": [], "data": [["a", "1"]]},  # none: the component's own
    {"headers": ["Name", "Value"], "data": []},  # empty
    {"data": [["a", 1, None, 2.5]]},
    {"headers": ["Name"], "data": [["a"]], "metadata": {"display_value": [["A"]], "styling": [[""]]}},
]


@pytest.mark.parametrize("value", TABLES)
def test_a_table_is_what_gradio_would_send(value: dict[str, Any]) -> None:
    table = gr.Dataframe(headers=["Key", "Val"], render=False)
    assert postprocessed_value(table, value) == table.postprocess(value).model_dump()


@pytest.mark.parametrize(
    ("component", "value"),
    [
        (gr.Code(render=False), "  {'a': 1}\n"),
        (gr.Textbox(render=False), 42),
        (gr.HTML(render=False), "<b>x</b>"),
        (gr.JSON(render=False), {"a": [1, 2]}),
        (gr.Dataframe(render=False), None),
    ],
)
def test_other_components_postprocess_as_gradio_does(component: Any, value: Any) -> None:
    expected = component.postprocess(value)
    expected = expected.model_dump() if hasattr(expected, "model_dump") else expected
    assert postprocessed_value(component, value) == expected


def test_processed_here_runs_the_components_own_methods_in_the_handlers_thread() -> None:
    from explorer.ui.events import processed_here

    timeout, code, table = (
        gr.Number(minimum=1, render=False),
        gr.Code(render=False),
        gr.Dataframe(render=False),
    )
    seen: list[Any] = []

    def handler(seconds: Any) -> tuple[Any, Any]:
        seen.append(seconds)
        return gr.Code(value="  x = 1\n", language="python"), {"headers": ["a"], "data": [["1"]]}

    shown_code, shown_table = processed_here(handler, [timeout], [code, table])(30)
    assert seen == [timeout.preprocess(30)]
    assert (
        shown_code["__type__"] == "update" and shown_code["value"] == "x = 1"
    )  # Code strips, as Gradio does
    assert shown_code["language"] == "python"
    assert shown_table == table.postprocess({"headers": ["a"], "data": [["1"]]}).model_dump()

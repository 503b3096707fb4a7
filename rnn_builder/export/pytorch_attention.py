"""An Attention node in the exported ``model.py``: a submodule ``Attention`` (its source is
``torch_files/attention_module.py``, copied in once), called over whole sequences, or for one
step inside a feedback loop, with the memory and the values read whole whatever the step
(``PortSpec.whole_axis``). ``pytorch_forms.ATTENTION`` is made of these."""

from __future__ import annotations

from pathlib import Path

from rnn_builder.export.pytorch_source import Source
from rnn_builder.export.torch_names import module_name
from rnn_builder.graph.model import Node

MODULE_FILE = Path(__file__).with_name("torch_files") / "attention_module.py"


def helpers() -> str:
    """The ``Attention`` class, as the exported model holds it."""
    text = MODULE_FILE.read_text(encoding="utf-8")
    return text.partition("# --- begin helpers ---\n")[2]


def module(src: Source, node: Node, layered: bool) -> str:
    query = src.report.shapes.inputs[(node.id, "query")].width
    key = src.report.shapes.inputs[(node.id, "memory")].width
    score, units = node.params["score"], node.params["units"]
    return f'Attention("{score}", {query}, {key}, {units})'


def _arguments(src: Source, node: Node) -> str:
    """The memory, the values (or None) and the memory's lengths, all whole."""
    memory_key = src.source(node.id, "memory")
    values_key = src.source(node.id, "values")
    memory = src.floats(memory_key, whole=True)
    values = "None" if values_key is None else src.floats(values_key, whole=True)
    axis = src.report.port_axes.get(memory_key)
    return f'{memory}, {values}, lengths.get("{axis}")'


def forward(src: Source, node: Node) -> None:
    query = src.floats(src.source(node.id, "query"))
    context, alignment = src.name(node.id, "context"), src.name(node.id, "alignment")
    call = f"self.{module_name(node.id)}({query}, {_arguments(src, node)})"
    src.emit(f"{context}, {alignment} = {call}")
    src.emit(f"# {node.id}: context {src.shape_text((node.id, 'context'))}, alignment (T, B, S)")


def expression(src: Source, node: Node, in_loop: bool) -> str:
    """One step inside a feedback loop: the context ``(B, d)``."""
    query = src.floats(src.source(node.id, "query"))
    return f"self.{module_name(node.id)}.step({query}, {_arguments(src, node)})"

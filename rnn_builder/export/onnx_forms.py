"""What a node type is in ONNX: its :class:`OnnxForm`, found through the registry.

A node type names its form here by ``onnx_name`` (as ``op_name`` names its operation), or a
plug-in returns its own from ``onnx_form()``; the exporter asks :func:`form_of` and never looks
at a type's name. A type with no form is refused in one line.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from rnn_builder.errors import ExportError
from rnn_builder.export import onnx_nodes as nodes
from rnn_builder.export.onnx_attention import emit_attention
from rnn_builder.export.onnx_nodes import Emitter, ExportContext, OnnxCell
from rnn_builder.graph.model import Node


@dataclass(frozen=True)
class OnnxForm:
    """How one node type is written in ONNX (values laid out as ``onnx_nodes`` says).

    * ``emit(ctx, node, inputs)``: its ONNX nodes over whole sequences ``(T, B, d)``; returns
      the names of its outputs by port. Inside a feedback ``Loop`` the same function writes one
      step ``(1, B, d)``, except for cells and types that shift time.
    * ``step(ctx, node, inputs)``: a cell's one step inside a ``Loop``: ``inputs`` hold ``x``
      ``(1, B, d)`` and the states ``h_0`` (``c_0``…) ``(B, H)``; it returns the new states as
      ``h_n`` (``c_n``…). ``onnx_loop.cell_by_steps`` makes a whole-sequence ``emit`` of it.
    * ``initial(ctx, node, steps)``: for a type that shifts time, what it gives at step 0 (see
      ``onnx_nodes.delay_initial``).
    """

    emit: Emitter
    step: Emitter | None = None
    initial: Callable[[ExportContext, Node, int | None], str] | None = None


def cell_form(spec: OnnxCell) -> OnnxForm:
    """The form of a cell that one of ONNX's own RNN ops runs."""
    return OnnxForm(
        emit=partial(nodes.emit_cell_over_sequence, spec=spec),
        step=partial(nodes.emit_cell, spec=spec),
    )


def _rnn_attributes(node: Node) -> dict:
    directions = 2 if node.params["bidirectional"] else 1
    return {"activations": [node.params["nonlinearity"].capitalize()] * directions}


EMBEDDING = OnnxForm(nodes.emit_embedding)
DENSE = OnnxForm(nodes.emit_dense)
CONCAT = OnnxForm(nodes.emit_concat)
LAST_STEP = OnnxForm(nodes.emit_last_step)
MEAN_OVER_TIME = OnnxForm(nodes.emit_mean_over_time)
REPEAT = OnnxForm(nodes.emit_repeat)
DELAY = OnnxForm(nodes.emit_delay, initial=nodes.delay_initial)
OUTPUT = OnnxForm(nodes.emit_output)
ATTENTION = OnnxForm(emit_attention)
RNN = cell_form(OnnxCell("RNN", (0,), _rnn_attributes))
LSTM = cell_form(OnnxCell("LSTM", (0, 3, 1, 2)))
# linear_before_reset: PyTorch's r ⊙ (W_hn h + b_hn)
GRU = cell_form(OnnxCell("GRU", (1, 0, 2), lambda node: {"linear_before_reset": 1}))


def form_of(ctx: ExportContext, node: Node) -> OnnxForm:
    """The node's type's ONNX form; :class:`ExportError` (one line) when it has none."""
    node_type = ctx.graph.node_type(node.id)
    form = node_type.onnx_form() or globals().get(node_type.onnx_name or "-")
    if not isinstance(form, OnnxForm):
        raise ExportError(
            f"{ctx.graph.describe(node.id)} cannot be exported to ONNX: its type "
            f"'{node_type.title}' has no ONNX form yet"
        )
    return form


def emit_node(ctx: ExportContext, node: Node, inputs: dict[str, str]) -> dict[str, str]:
    """The node's ONNX nodes over whole sequences (or one step of a Loop, see OnnxForm)."""
    form = form_of(ctx, node)
    ctx.builder.scope = node.id
    return form.emit(ctx, node, inputs)

"""How the built-in node types are written in ONNX, mirroring ``rnn_builder.engine.ops`` one node
at a time (``onnx_forms`` gives each type its functions from here).

Values keep the executor's layouts: sequences time-major ``(T, B, d)``, token ids int64
``(T, B)`` (``-1`` for "no token"), vectors ``(B, d)``. Inside a feedback Loop every sequence is
one step, ``(1, B, d)``, so the same emitters serve whole sequences and single steps (as the
ops do). Token ids read by anything but an Embedding become one-hot vectors as in
``ops.dense``; ``-1`` matches no class, so it reads as zeros there too.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from onnx import TensorProto

from rnn_builder.export.onnx_builder import OnnxBuilder
from rnn_builder.graph.model import Graph, Node
from rnn_builder.graph.validation import ValidationReport

Array = np.ndarray

ACTIVATION_OPS = {"tanh": "Tanh", "relu": "Relu", "sigmoid": "Sigmoid"}


@dataclass
class ExportContext:
    """What an emitter needs besides its node: where to put ONNX nodes, the graph and its
    report, the weights, and per time axis its length and (for input axes) the lengths of the
    sequences in the batch."""

    builder: OnnxBuilder
    graph: Graph
    report: ValidationReport
    weights: dict[str, Array]
    axis_lengths: dict[str, str] = field(default_factory=dict)  # axis → int64 [1]
    sequence_lengths: dict[str, str] = field(default_factory=dict)  # input axis → int32 [B]
    batch_size: str = ""  # int64 [1]

    def input_shape(self, node_id: str, port: str):
        return self.report.shapes.inputs[(node_id, port)]

    def source_axis(self, node_id: str, port: str = "x") -> str | None:
        (edge,) = self.graph.edges_into(node_id, port)
        return self.report.port_axes.get((edge.src_node, edge.src_port))

    def param(self, node_id: str, name: str) -> Array:
        return self.weights[f"{node_id}.{name}"]

    def with_builder(self, builder: OnnxBuilder) -> ExportContext:
        """The same context emitting elsewhere (into a Loop's body)."""
        return dataclasses.replace(self, builder=builder)


def as_float(ctx: ExportContext, value: str, node_id: str, port: str) -> str:
    """Token ids as one-hot float vectors (``-1`` gives zeros), real values unchanged."""
    shape = ctx.input_shape(node_id, port)
    if not shape.is_tokens:
        return value
    b = ctx.builder
    classes = b.const(np.arange(shape.vocabulary), np.int64, "classes")
    hits = b.op("Equal", [b.unsqueeze(value, -1), classes], "one_hot")
    return b.op("Cast", [hits], "one_hot", to=TensorProto.FLOAT)


Emitter = Callable[[ExportContext, Node, dict[str, str]], dict[str, str]]


def emit_embedding(ctx: ExportContext, node: Node, inputs: dict[str, str]) -> dict[str, str]:
    # A zero row appended to the table: Gather reads index -1 as the last row, so "no token"
    # comes out as zeros, as in EmbeddingOp, with no mask to multiply.
    table = ctx.param(node.id, "weight")
    padded = np.concatenate([table, np.zeros((1, table.shape[1]), table.dtype)])
    weight = ctx.builder.weight(padded, f"{node.id}.weight")
    return {"y": ctx.builder.op("Gather", [weight, inputs["tokens"]], "y", axis=0)}


def emit_dense(ctx: ExportContext, node: Node, inputs: dict[str, str]) -> dict[str, str]:
    b = ctx.builder
    x = as_float(ctx, inputs["x"], node.id, "x")
    weight_t = b.weight(ctx.param(node.id, "weight").T, f"{node.id}.weight_transposed")
    bias = b.weight(ctx.param(node.id, "bias"), f"{node.id}.bias")
    z = b.op("Add", [b.op("MatMul", [x, weight_t], "product"), bias], "affine")
    activation = node.params["activation"]
    if activation == "identity":
        return {"y": z}
    if activation == "softmax":
        return {"y": b.op("Softmax", [z], "y", axis=-1)}
    return {"y": b.op(ACTIVATION_OPS[activation], [z], "y")}


def emit_concat(ctx: ExportContext, node: Node, inputs: dict[str, str]) -> dict[str, str]:
    a = as_float(ctx, inputs["a"], node.id, "a")
    b_ = as_float(ctx, inputs["b"], node.id, "b")
    return {"y": ctx.builder.op("Concat", [a, b_], "y", axis=-1)}


def emit_last_step(ctx: ExportContext, node: Node, inputs: dict[str, str]) -> dict[str, str]:
    """Each sequence's own last step, ``lengths - 1`` (at least 0) as in ``Run.last_steps``."""
    b = ctx.builder
    x = as_float(ctx, inputs["x"], node.id, "x")
    lengths = ctx.sequence_lengths.get(ctx.source_axis(node.id))
    if lengths is None:  # every sequence on this axis fills it
        return {"y": b.op("Gather", [x, b.const(-1, np.int64, "last")], "y", axis=0)}
    last = b.op(
        "Sub", [b.op("Cast", [lengths], "lengths", to=TensorProto.INT64), b.const(1, np.int64)]
    )
    last = b.op("Max", [last, b.const(0, np.int64)], "last")
    index = b.op(
        "Expand",
        [b.unsqueeze(last, 0, 2), b.concat_shape(1, b.dim(x, 1), b.dim(x, 2))],
        "last",
    )
    picked = b.op("GatherElements", [x, index], "picked", axis=0)
    return {"y": b.squeeze(picked, 0)}


def emit_mean_over_time(ctx: ExportContext, node: Node, inputs: dict[str, str]) -> dict[str, str]:
    """The mean over each sequence's real steps, padding excluded, as in MeanOverTimeOp."""
    b = ctx.builder
    x = as_float(ctx, inputs["x"], node.id, "x")
    lengths = ctx.sequence_lengths.get(ctx.source_axis(node.id))
    if lengths is None:
        steps = b.op("Cast", [b.dim(x, 0)], "steps", to=TensorProto.FLOAT)
        return {"y": b.op("Div", [b.op("ReduceSum", [x, b.axes(0)], "sum", keepdims=0), steps])}
    mask = step_mask(ctx, x, lengths)
    total = b.op("ReduceSum", [b.op("Mul", [x, mask]), b.axes(0)], "sum", keepdims=0)
    count = b.op("Cast", [b.unsqueeze(lengths, 1)], "count", to=TensorProto.FLOAT)
    count = b.op("Max", [count, b.const(1.0)], "count")
    return {"y": b.op("Div", [total, count], "y")}


def real_steps(ctx: ExportContext, x: str, lengths: str) -> str:
    """``(T, B, 1)`` bool: true at each sequence's real steps, false at its padding."""
    b = ctx.builder
    steps = b.squeeze(b.dim(x, 0), 0)
    times = b.op("Range", [b.const(0, np.int64), steps, b.const(1, np.int64)], "times")
    wide = b.op("Cast", [lengths], "lengths", to=TensorProto.INT64)
    return b.unsqueeze(b.op("Less", [b.unsqueeze(times, 1), wide], "real"), 2)


def step_mask(ctx: ExportContext, x: str, lengths: str) -> str:
    """``(T, B, 1)`` float: 1 at each sequence's real steps, 0 at its padding."""
    return ctx.builder.op("Cast", [real_steps(ctx, x, lengths)], "mask", to=TensorProto.FLOAT)


def emit_repeat(ctx: ExportContext, node: Node, inputs: dict[str, str]) -> dict[str, str]:
    b = ctx.builder
    x = inputs["x"]
    shape = b.concat_shape(ctx.axis_lengths[node.id], b.dim(x, 0), b.dim(x, 1))
    return {"y": b.op("Expand", [b.unsqueeze(x, 0), shape], "y")}


def delay_initial(ctx: ExportContext, node: Node, steps: int | None) -> str:
    """What a Delay's first step sees, for the whole batch: ``(B, d)``, or ``(B,)`` for token
    ids (``steps=None``); with ``steps=1`` one step ``(1, B, ...)`` of a sequence."""
    b = ctx.builder
    shape = ctx.input_shape(node.id, "x")
    start = node.params["initial"] == "start_token"
    lead = [steps] if steps is not None else []
    if shape.is_tokens:
        token = node.params["start_token"] if start else -1
        return b.op("Expand", [b.const(token, np.int64), b.concat_shape(*lead, ctx.batch_size)])
    row = np.zeros(shape.width, np.float32)
    if start:
        row[node.params["start_token"]] = 1.0
    size = b.concat_shape(*lead, ctx.batch_size, shape.width)
    return b.op("Expand", [b.const(row, what="initial"), size], "initial")


def emit_delay(ctx: ExportContext, node: Node, inputs: dict[str, str]) -> dict[str, str]:
    """A Delay outside any feedback loop: the sequence shifted one step later."""
    b = ctx.builder
    earlier = b.op(
        "Slice",
        [inputs["x"], b.const([0], np.int64), b.const([-1], np.int64), b.axes(0)],
        "earlier",
    )
    return {"y": b.op("Concat", [delay_initial(ctx, node, 1), earlier], "y", axis=0)}


def emit_output(ctx: ExportContext, node: Node, inputs: dict[str, str]) -> dict[str, str]:
    """The prediction OutputOp.predict gives: probabilities, a sigmoid, or the value."""
    b = ctx.builder
    x = as_float(ctx, inputs["x"], node.id, "x")
    loss = node.params["loss"]
    if loss == "cross_entropy":
        return {"prediction": b.op("Softmax", [x], "prediction", axis=-1)}
    if loss == "binary_cross_entropy":
        return {"prediction": b.op("Sigmoid", [x], "prediction")}
    return {"prediction": x}


# --- recurrent cells ---------------------------------------------------------------------------


@dataclass(frozen=True)
class OnnxCell:
    """One of ONNX's ``RNN`` / ``LSTM`` / ``GRU`` ops as a cell type uses it: the op, our gate
    blocks (PyTorch's order) taken in ONNX's order (LSTM i,f,g,o → i,o,f,c; GRU r,z,n → z,r,h),
    and the op's attributes for a node's parameters."""

    op_type: str
    gate_order: tuple[int, ...]
    attributes: Callable[[Node], dict] = lambda node: {}


def cell_tensors(ctx: ExportContext, node: Node, spec: OnnxCell) -> tuple[str, str, str]:
    """W, R and B of ONNX's RNN/LSTM/GRU from our PyTorch-layout weights (gates reordered)."""
    suffixes = ("", "_reverse") if node.params["bidirectional"] else ("",)
    hidden = node.params["hidden_size"]
    order = list(spec.gate_order)

    def reordered(tensor: Array) -> Array:
        blocks = tensor.reshape(len(order), hidden, *tensor.shape[1:])
        return blocks[order].reshape(tensor.shape)

    def stacked(name: str) -> Array:
        return np.stack([reordered(ctx.param(node.id, f"{name}{s}")) for s in suffixes])

    b = ctx.builder
    w = b.weight(stacked("weight_ih"), f"{node.id}.W")
    r = b.weight(stacked("weight_hh"), f"{node.id}.R")
    biases = np.concatenate([stacked("bias_ih"), stacked("bias_hh")], axis=1)
    return w, r, b.weight(biases, f"{node.id}.B")


def to_onnx_state(ctx: ExportContext, node: Node, state: str) -> str:
    """Our ``(B, D·H)`` state, forward half first, as ONNX's ``[D, B, H]``."""
    b = ctx.builder
    if not node.params["bidirectional"]:
        return b.unsqueeze(state, 0)
    split = b.op("Reshape", [state, b.const([0, 2, node.params["hidden_size"]], np.int64)])
    return b.op("Transpose", [split], "state", perm=[1, 0, 2])


def from_onnx_state(ctx: ExportContext, node: Node, state: str) -> str:
    b = ctx.builder
    if not node.params["bidirectional"]:
        return b.squeeze(state, 0)
    by_batch = b.op("Transpose", [state], "state", perm=[1, 0, 2])
    return b.op("Reshape", [by_batch, b.const([0, -1], np.int64)], "state")


def emit_cell(
    ctx: ExportContext,
    node: Node,
    inputs: dict[str, str],
    lengths: str | None = None,
    *,
    spec: OnnxCell,
) -> dict[str, str]:
    """One ONNX RNN/LSTM/GRU op over the sequence ``inputs["x"]``; ``h_0``/``c_0`` in our
    layout when given. ``lengths`` (int32 ``[B]``) makes ONNX stop each sequence at its own
    end, which is what our mask does to the final state (padded steps keep it unchanged)."""
    b = ctx.builder
    bidirectional = node.params["bidirectional"]
    x = as_float(ctx, inputs["x"], node.id, "x")
    w, r, bias = cell_tensors(ctx, node, spec)
    states = [f"{s}_0" for s in ctx.graph.node_type(node.id).cell.states]
    initial = [to_onnx_state(ctx, node, inputs[p]) if p in inputs else "" for p in states]
    attrs: dict = {
        "hidden_size": node.params["hidden_size"],
        "direction": "bidirectional" if bidirectional else "forward",
        "layout": 0,  # time-major; ONNX Runtime's CPU kernels refuse layout=1
        **spec.attributes(node),
    }
    onnx_inputs = [x, w, r, bias, lengths or "", *initial]
    while onnx_inputs[-1] == "":  # trailing optional inputs are left out
        onnx_inputs.pop()
    results = b.op(spec.op_type, onnx_inputs, "cell", outputs=len(states) + 1, **attrs)
    y = results[0]  # [T, D, B, H]
    if bidirectional:
        by_step = b.op("Transpose", [y], "y", perm=[0, 2, 1, 3])
        y = b.op("Reshape", [by_step, b.const([0, 0, -1], np.int64)], "y")
    else:
        y = b.squeeze(y, 1)
    outputs = {"y": y}
    for state, result in zip(states, results[1:], strict=True):
        outputs[f"{state[:-2]}_n"] = from_onnx_state(ctx, node, result)
    if lengths is not None:
        outputs["y"] = _padded_steps_as_ours(ctx, node, x, inputs, outputs, lengths)
    return outputs


def _padded_steps_as_ours(
    ctx: ExportContext,
    node: Node,
    x: str,
    inputs: dict[str, str],
    outputs: dict[str, str],
    lengths: str,
) -> str:
    """ONNX's cells put zeros at padded steps; ours carry the state through them: the final
    state going forward, and (reading backwards, padding comes first) the initial state of the
    reverse direction. Copied in so that the whole output matches, not just the real steps."""
    b = ctx.builder
    hidden = node.params["hidden_size"]
    fill = outputs["h_n"]
    if node.params["bidirectional"]:
        forward = b.op(
            "Slice",
            [fill, b.const([0], np.int64), b.const([hidden], np.int64), b.axes(1)],
            "forward_final",
        )
        if "h_0" in inputs:
            end = b.const([2 * hidden], np.int64)
            reverse = b.op("Slice", [inputs["h_0"], b.const([hidden], np.int64), end, b.axes(1)])
        else:
            reverse = b.op("Expand", [b.const(0.0), b.concat_shape(ctx.batch_size, hidden)])
        fill = b.op("Concat", [forward, reverse], "fill", axis=1)
    return b.op("Where", [real_steps(ctx, x, lengths), outputs["y"], fill], "y")


def emit_cell_over_sequence(
    ctx: ExportContext, node: Node, inputs: dict[str, str], *, spec: OnnxCell
) -> dict[str, str]:
    lengths = ctx.sequence_lengths.get(ctx.report.node_axes.get(node.id, ""))
    return emit_cell(ctx, node, inputs, lengths, spec=spec)

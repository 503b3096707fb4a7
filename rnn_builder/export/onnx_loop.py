"""A feedback loop (nodes tied through a Delay) as an ONNX ``Loop``, one iteration a step.

This is the executor's ``_loop_forward`` at inference (``train=False``): the members run step
by step in the order of ``Executor.plan``; a Delay gives its initial value at step 0 and then
what its source gave one step earlier, fed back as the executor feeds it back greedily — the
most likely class one-hot (ONNX's ArgMax, like NumPy's, takes the first of equal scores), 0/1
for a binary output, the value for regression, token ids unchanged. Cells carry their states
from one iteration to the next; on an input axis with padding a cell keeps its state through
the padded steps (``Where`` on the step's mask), as the cell's mask does.

The loop-carried values are the Delays' next inputs and the cells' states, in our layout
``(B, d)``; every sequence the members produce is a scan output, stacked by ONNX to
``(T, B, d)``. Vectors and same-axis sequences from outside are read from the outer scope.
"""

from __future__ import annotations

import numpy as np
from onnx import TensorProto, helper

from ..errors import ExportError
from ..nodes import SEQ
from .onnx_builder import OnnxBuilder
from .onnx_nodes import ExportContext, delay_initial, emit_cell, emit_node


def emit_loop(
    ctx: ExportContext,
    order: list[str],
    axis: str,
    feedback_outputs: dict[str, str],
    values: dict[tuple[str, str], str],
) -> None:
    """Emit the Loop for the members ``order`` on ``axis``; their outputs go into ``values``."""
    graph, report, outer = ctx.graph, ctx.report, ctx.builder
    members = set(order)
    outer.scope = order[0]
    body = OnnxBuilder(outer)
    body.scope = f"{order[0]}/step"
    inner = ctx.with_builder(body, in_loop=True)
    iteration, condition = body.name("iteration"), body.name("condition")
    lengths = ctx.sequence_lengths.get(axis)
    real_step = None
    if lengths is not None:  # (B, 1) bool: this step is inside each sequence
        wide = body.op("Cast", [lengths], "lengths", to=TensorProto.INT64)
        real_step = body.unsqueeze(body.op("Less", [iteration, wide], "real_step"), 1)

    carried: list[tuple[str, str, str, int]] = []  # (initial outside, inside, out, elem type)
    step_values: dict[tuple[str, str], str] = {}

    def carry(initial: str, tokens: bool) -> str:
        inside = body.name("carried")
        elem = TensorProto.INT64 if tokens else TensorProto.FLOAT
        carried.append((initial, inside, "", elem))
        return inside

    def read(edge) -> str:
        key = (edge.src_node, edge.src_port)
        if edge.src_node in members:
            if key not in step_values:
                raise ExportError(
                    f"{graph.describe(edge.dst_node)} reads '{edge.src_port}' of "
                    f"{graph.describe(edge.src_node)} inside their feedback loop, which ONNX "
                    "export does not support"
                )
            return step_values[key]
        if report.shapes.outputs[key].kind == SEQ:  # same axis: this step of it
            step = body.op("Gather", [values[key], iteration], "step", axis=0)
            return body.unsqueeze(step, 0)
        return values[key]  # a vector, from the outer scope

    state_slots: dict[str, dict[str, int]] = {}
    delay_slots: dict[str, int] = {}
    for node_id in order:
        node = graph.node(node_id)
        body.scope = f"{node_id}/step"
        if node.type_name == "delay":
            tokens = ctx.input_shape(node_id, "x").is_tokens
            outer.scope = node_id
            delay_slots[node_id] = len(carried)
            inside = carry(delay_initial(ctx, node, None), tokens)
            step_values[(node_id, "y")] = body.unsqueeze(inside, 0)
            continue
        inputs = {edge.dst_port: read(edge) for edge in graph.edges_into(node_id)}
        if node.type_name not in ("rnn", "lstm", "gru"):
            for port, value in emit_node(inner, node, inputs).items():
                step_values[(node_id, port)] = value
            continue
        if node.params["bidirectional"]:
            raise ExportError(
                f"{graph.describe(node_id)} is bidirectional inside a feedback loop and cannot "
                "run step by step"
            )
        slots = state_slots.setdefault(node_id, {})
        for state in ("h_0", "c_0") if node.type_name == "lstm" else ("h_0",):
            outer.scope = node_id
            if state in inputs and inputs[state] in step_values.values():
                raise ExportError(
                    f"{graph.describe(node_id)} takes its initial state from inside its own "
                    "feedback loop, which ONNX export does not support"
                )
            start = inputs.get(state) or outer.op(
                "Expand",
                [outer.const(0.0), outer.concat_shape(ctx.batch_size, node.params["hidden_size"])],
                "zeros",
            )
            slots[state] = len(carried)
            inputs[state] = carry(start, tokens=False)
        outputs = emit_cell(inner, node, inputs)
        for state, final in (("h_0", "h_n"), ("c_0", "c_n")):
            if state not in slots:
                continue
            new = outputs[final]
            if real_step is not None:  # padded steps keep the state unchanged
                new = body.op("Where", [real_step, new, inputs[state]], final)
            initial, inside, _, elem = carried[slots[state]]
            carried[slots[state]] = (initial, inside, new, elem)
        step_values[(node_id, "y")] = body.unsqueeze(carried[slots["h_0"]][2], 0)

    for delay_id, slot in delay_slots.items():
        (edge,) = graph.edges_into(delay_id, "x")
        body.scope = f"{delay_id}/step"
        value = body.squeeze(read(edge), 0)
        tokens = ctx.input_shape(delay_id, "x").is_tokens
        fed = value if tokens else _feedback(inner, feedback_outputs.get(delay_id), value)
        initial, inside, _, elem = carried[slot]
        carried[slot] = (initial, inside, fed, elem)

    scanned = [key for key in step_values if report.shapes.outputs[key].kind == SEQ]
    scan_outputs = [body.squeeze(step_values[key], 0) for key in scanned]
    condition_out = body.op("Identity", [condition], "condition")

    def info(name: str, elem: int = TensorProto.FLOAT, shape: list | None = None):
        return helper.make_tensor_value_info(name, elem, shape)

    def batch_shape(elem: int) -> list:  # ONNX Runtime wants the rank of carried values
        return ["B"] if elem == TensorProto.INT64 else ["B", None]

    body_graph = helper.make_graph(
        body.nodes,
        f"{order[0]}_step",
        [info(iteration, TensorProto.INT64, []), info(condition, TensorProto.BOOL, [])]
        + [info(inside, elem, batch_shape(elem)) for _, inside, _, elem in carried],
        [info(condition_out, TensorProto.BOOL, [])]
        + [info(out, elem, batch_shape(elem)) for _, _, out, elem in carried]
        + [info(name) for name in scan_outputs],
    )
    outer.scope = order[0]
    trip_count = outer.squeeze(ctx.axis_lengths[axis], 0)
    results = outer.op(
        "Loop",
        # a condition that stays true: optional in ONNX, but the reference evaluator needs it
        [trip_count, outer.const(True, np.bool_, "always"), *(i for i, *_ in carried)],
        "loop",
        outputs=len(carried) + len(scan_outputs),
        body=body_graph,
    )
    results = results if isinstance(results, list) else [results]
    finals, sequences = results[: len(carried)], results[len(carried) :]
    for key, value in zip(scanned, sequences, strict=True):
        values[key] = value
    for node_id, slots in state_slots.items():
        for state, final in (("h_0", "h_n"), ("c_0", "c_n")):
            if state in slots:
                values[(node_id, final)] = finals[slots[state]]


def _feedback(ctx: ExportContext, output_id: str | None, value: str) -> str:
    """What the free-running loop feeds back (see ``Executor._feedback``), for ``(B, d)``."""
    if output_id is None:
        return value
    b = ctx.builder
    node = ctx.graph.node(output_id)
    loss = node.params["loss"]
    if loss == "binary_cross_entropy":
        positive = b.op("Greater", [value, b.const(0.0)], "positive")
        return b.op("Cast", [positive], "fed_back", to=TensorProto.FLOAT)
    if loss != "cross_entropy":
        return value
    chosen = b.op("ArgMax", [value], "chosen", axis=-1, keepdims=1)
    width = ctx.input_shape(output_id, "x").width
    hits = b.op("Equal", [chosen, b.const(np.arange(width), np.int64, "classes")], "one_hot")
    return b.op("Cast", [hits], "fed_back", to=TensorProto.FLOAT)

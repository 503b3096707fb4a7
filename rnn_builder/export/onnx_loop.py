"""A feedback loop (nodes tied through a Delay) as an ONNX ``Loop``, one iteration a step.

This is the executor's ``_loop_forward`` at inference (``train=False``): the members run step
by step in the order of the plan's step-loop segment (``rnn_builder.graph.plan``); a Delay
gives its initial value at step 0 and then what its source gave one step earlier, fed back as
the executor feeds it back greedily — the most likely class one-hot (ONNX's ArgMax, like
NumPy's, takes the first of equal scores), 0/1 for a binary output, the value for regression,
token ids unchanged. Cells carry their states
from one iteration to the next; on an input axis with padding a cell keeps its state through
the padded steps (``Where`` on the step's mask), as the cell's mask does.

The loop-carried values are the Delays' next inputs and the cells' states, in our layout
``(B, d)``; every sequence the members produce is a scan output, stacked by ONNX to
``(T, B, d)``. Vectors and same-axis sequences from outside are read from the outer scope,
a step at a time, and a sequence an input reads whole (``PortSpec.whole_axis``: an attention's
memory, on another axis) whole.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from onnx import TensorProto, helper

from rnn_builder.errors import ExportError
from rnn_builder.export.onnx_builder import OnnxBuilder
from rnn_builder.export.onnx_forms import emit_node, form_of
from rnn_builder.export.onnx_nodes import ExportContext
from rnn_builder.graph.nodes import SEQ


def _final(state_port: str) -> str:
    """``h_0`` → ``h_n``: the output port of the state an initial-state port starts."""
    return f"{state_port[:-2]}_n"


@dataclass
class _Carried:
    """A loop-carried value: its initial value (outer scope), its name inside the body at the
    start of a step, and what the step hands on to the next."""

    initial: str
    inside: str
    elem: int  # TensorProto element type
    out: str = ""


def emit_loop(
    ctx: ExportContext,
    order: list[str],
    axis: str,
    feedback_outputs: dict[str, str],
    values: dict[tuple[str, str], str],
) -> None:
    """Emit the Loop for the members ``order`` on ``axis``; their outputs go into ``values``."""
    _LoopEmitter(ctx, order, axis, feedback_outputs, values).emit()


def cell_by_steps(ctx: ExportContext, node, inputs: dict[str, str]) -> dict[str, str]:
    """A whole-sequence ``emit`` for a cell whose ONNX form has only a ``step``: a ``Loop`` of
    that one cell over its axis, keeping its state through padded steps as our mask does (a
    cell with no ONNX op of its own, such as a plug-in's). Not for a bidirectional cell."""
    values = {(e.src_node, e.src_port): inputs[e.dst_port] for e in ctx.graph.edges_into(node.id)}
    emit_loop(ctx, [node.id], ctx.report.node_axes[node.id], {}, values)
    ports = [p.name for p in ctx.graph.node_type(node.id).outputs]
    return {port: values[(node.id, port)] for port in ports if (node.id, port) in values}


class _LoopEmitter:
    def __init__(self, ctx, order, axis, feedback_outputs, values) -> None:
        self.ctx, self.order, self.axis = ctx, order, axis
        self.feedback_outputs, self.values = feedback_outputs, values
        self.graph, self.outer = ctx.graph, ctx.builder
        self.members = set(order)
        self.body = OnnxBuilder(self.outer)
        self.inner = ctx.with_builder(self.body)
        self.body.scope = f"{order[0]}/step"
        self.iteration = self.body.name("iteration")
        self.condition = self.body.name("condition")
        self.carried: list[_Carried] = []
        self.step_values: dict[tuple[str, str], str] = {}  # one step, (1, B, d)
        self.state_slots: dict[str, dict[str, int]] = {}  # cell → state port → carried index
        self.delay_slots: dict[str, int] = {}
        self.real_step = None
        lengths = ctx.sequence_lengths.get(axis)
        if lengths is not None:  # (B, 1) bool: this step is inside each sequence
            wide = self.body.op("Cast", [lengths], "lengths", to=TensorProto.INT64)
            less = self.body.op("Less", [self.iteration, wide], "real_step")
            self.real_step = self.body.unsqueeze(less, 1)

    def emit(self) -> None:
        for node_id in self.order:
            node = self.graph.node(node_id)
            self.body.scope = f"{node_id}/step"
            self.outer.scope = node_id
            node_type = self.graph.node_type(node_id)
            if node_type.shifts_time:
                self._delay(node)
            elif node_type.cell is not None:
                self._cell(node)
            elif not node_type.is_step_local(node.info()):  # validation refuses it too
                raise ExportError(
                    f"{self.graph.describe(node_id)} reads later steps and cannot run step by "
                    "step inside a feedback loop"
                )
            else:
                inputs = {e.dst_port: self._read(e) for e in self.graph.edges_into(node_id)}
                for port, value in emit_node(self.inner, node, inputs).items():
                    self.step_values[(node_id, port)] = value
        for delay_id, slot in self.delay_slots.items():
            (edge,) = self.graph.edges_into(delay_id, "x")
            self.body.scope = f"{delay_id}/step"
            value = self.body.squeeze(self._read(edge), 0)
            if not self.ctx.input_shape(delay_id, "x").is_tokens:  # ids are fed back as they are
                value = _feedback(self.inner, self.feedback_outputs.get(delay_id), value)
            self.carried[slot].out = value
        self._finish()

    def _carry(self, initial: str, elem: int = TensorProto.FLOAT) -> int:
        self.carried.append(_Carried(initial, self.body.name("carried"), elem))
        return len(self.carried) - 1

    def _read(self, edge) -> str:
        key = (edge.src_node, edge.src_port)
        if edge.dst_port in self.graph.node_type(edge.dst_node).whole_axis_ports():
            return self.values[key]  # read whole, from the outer scope (validated: not a member)
        if edge.src_node in self.members:
            if key not in self.step_values:
                raise ExportError(
                    f"{self.graph.describe(edge.dst_node)} reads '{edge.src_port}' of "
                    f"{self.graph.describe(edge.src_node)} inside their feedback loop, which "
                    "ONNX export does not support"
                )
            return self.step_values[key]
        if self.ctx.report.shapes.outputs[key].kind == SEQ:  # same axis: this step of it
            step = self.body.op("Gather", [self.values[key], self.iteration], "step", axis=0)
            return self.body.unsqueeze(step, 0)
        return self.values[key]  # a vector, from the outer scope

    def _delay(self, node) -> None:
        tokens = self.ctx.input_shape(node.id, "x").is_tokens
        elem = TensorProto.INT64 if tokens else TensorProto.FLOAT
        initial = form_of(self.ctx, node).initial
        if initial is None:
            raise ExportError(
                f"{self.graph.describe(node.id)} shifts time, but its type's ONNX form gives no "
                "initial value"
            )
        slot = self.delay_slots[node.id] = self._carry(initial(self.ctx, node, None), elem)
        self.step_values[(node.id, "y")] = self.body.unsqueeze(self.carried[slot].inside, 0)

    def _cell(self, node) -> None:
        graph, body = self.graph, self.body
        step = form_of(self.ctx, node).step
        if step is None:
            raise ExportError(
                f"{graph.describe(node.id)} is a cell whose type's ONNX form has no step, so it "
                "cannot run inside a Loop"
            )
        if not graph.node_type(node.id).is_step_local(node.info()):
            raise ExportError(
                f"{graph.describe(node.id)} is bidirectional inside a feedback loop and cannot "
                "run step by step"
            )
        inputs = {e.dst_port: self._read(e) for e in graph.edges_into(node.id)}
        slots = self.state_slots[node.id] = {}
        for state in (f"{s}_0" for s in graph.node_type(node.id).cell.states):
            if inputs.get(state) in self.step_values.values():
                raise ExportError(
                    f"{graph.describe(node.id)} takes its initial state from inside its own "
                    "feedback loop, which ONNX export does not support"
                )
            width = self.ctx.report.shapes.outputs[(node.id, _final(state))].width
            start = inputs.get(state) or self.outer.op(
                "Expand",
                [self.outer.const(0.0), self.outer.concat_shape(self.ctx.batch_size, width)],
                "zeros",
            )
            slots[state] = self._carry(start)
            inputs[state] = self.carried[slots[state]].inside
        outputs = step(self.inner, node, inputs)
        for state, slot in slots.items():
            new = outputs[_final(state)]
            if self.real_step is not None:  # padded steps keep the state unchanged
                new = body.op("Where", [self.real_step, new, inputs[state]], _final(state))
            self.carried[slot].out = new
        self.step_values[(node.id, "y")] = body.unsqueeze(self.carried[slots["h_0"]].out, 0)

    def _finish(self) -> None:
        """The body graph, the Loop node, and the loop's results into ``values``."""
        body, outer, report = self.body, self.outer, self.ctx.report
        scanned = [key for key in self.step_values if report.shapes.outputs[key].kind == SEQ]
        scan_outputs = [body.squeeze(self.step_values[key], 0) for key in scanned]
        condition_out = body.op("Identity", [self.condition], "condition")

        def info(name: str, elem: int = TensorProto.FLOAT, shape: list | None = None):
            return helper.make_tensor_value_info(name, elem, shape)

        def batch_shape(elem: int) -> list:  # ONNX Runtime wants the rank of carried values
            return ["B"] if elem == TensorProto.INT64 else ["B", None]

        body_graph = helper.make_graph(
            body.nodes,
            f"{self.order[0]}_step",
            [
                info(self.iteration, TensorProto.INT64, []),
                info(self.condition, TensorProto.BOOL, []),
            ]
            + [info(c.inside, c.elem, batch_shape(c.elem)) for c in self.carried],
            [info(condition_out, TensorProto.BOOL, [])]
            + [info(c.out, c.elem, batch_shape(c.elem)) for c in self.carried]
            + [info(name) for name in scan_outputs],
        )
        outer.scope = self.order[0]
        trip_count = outer.squeeze(self.ctx.axis_lengths[self.axis], 0)
        # a condition that stays true: optional in ONNX, but the reference evaluator needs it
        always = outer.const(True, np.bool_, "always")
        results = outer.op(
            "Loop",
            [trip_count, always, *(c.initial for c in self.carried)],
            "loop",
            outputs=len(self.carried) + len(scan_outputs),
            body=body_graph,
        )
        results = results if isinstance(results, list) else [results]
        finals, sequences = results[: len(self.carried)], results[len(self.carried) :]
        for key, value in zip(scanned, sequences, strict=True):
            self.values[key] = value
        for node_id, slots in self.state_slots.items():
            for state, slot in slots.items():
                self.values[(node_id, _final(state))] = finals[slot]


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

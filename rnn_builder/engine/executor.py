"""The executor: runs a valid graph forward and backward (exact backpropagation through time).

It runs the graph's plan (:mod:`rnn_builder.graph.plan`), segment after segment: a
whole-sequence segment computes all copies of its node in one call on whole sequences — one
matrix product for a Dense layer or a cell's input projection over all steps — and a step-loop
segment computes the copies a feedback loop ties together step by step, node after node inside
each step, in the order the plan lays out. Backward runs the segments in reverse. While
training, a Delay whose input also feeds an Output is *teacher forced*: it reads that Output's
target instead of the prediction, and the plan for that forced set has no loop through it, so
the loop runs whole-sequence too; at inference the loop runs free, feeding back the predicted
class (one-hot of the argmax, or a sample at a temperature), 0/1 for binary outputs, or the
value for regression.

Parameters live in one flat buffer (and gradients in another), each tensor a view named
``<node_id>.<pytorch_name>``, so that optimizers update everything in a few array operations.
"""

from __future__ import annotations

import zlib

import numpy as np

from rnn_builder.engine import ops as operations
from rnn_builder.engine.ops import CellOp, DelayOp, Op, OpLayout, dense
from rnn_builder.engine.run import Batch, Run
from rnn_builder.engine.runtime import runtime
from rnn_builder.errors import GraphInvalidError, WeightsFileError
from rnn_builder.graph.model import Graph
from rnn_builder.graph.nodes import SEQ
from rnn_builder.graph.plan import Segment, feedback_outputs, plan_for
from rnn_builder.graph.validation import ValidationReport, validate
from rnn_builder.values import names_mismatch

Array = np.ndarray


class ParameterStore:
    """All trainable tensors as views into one flat buffer, and their gradients likewise."""

    def __init__(self, shapes: dict[str, tuple[int, ...]], dtype) -> None:
        sizes = [int(np.prod(shape)) for shape in shapes.values()]
        self.flat = np.zeros(sum(sizes), dtype=dtype)
        self.grad_flat = np.zeros_like(self.flat)
        self.values: dict[str, Array] = {}
        self.grads: dict[str, Array] = {}
        offset = 0
        for (name, shape), size in zip(shapes.items(), sizes, strict=True):
            self.values[name] = self.flat[offset : offset + size].reshape(shape)
            self.grads[name] = self.grad_flat[offset : offset + size].reshape(shape)
            offset += size

    def for_node(self, node_id: str) -> tuple[dict[str, Array], dict[str, Array]]:
        prefix = f"{node_id}."
        values = {k[len(prefix) :]: v for k, v in self.values.items() if k.startswith(prefix)}
        grads = {k[len(prefix) :]: v for k, v in self.grads.items() if k.startswith(prefix)}
        return values, grads


class Executor:
    """Runs a graph: forward, backward, parameters. See the module docstring."""

    def __init__(
        self, graph: Graph, dtype=np.float32, seed: int = 0, report: ValidationReport | None = None
    ) -> None:
        report = report if report is not None else validate(graph)
        if not report.ok:
            first = report.errors[0].message
            raise GraphInvalidError(f"the graph cannot run: {first}", tuple(report.errors))
        self.graph = graph.copy()  # the structure this executor was built for
        self.report = report
        self.dtype = np.dtype(dtype)
        shapes = {
            f"{node_id}.{name}": shape
            for node_id, tensors in report.parameter_shapes.items()
            for name, shape in tensors.items()
        }
        self.store = ParameterStore(shapes, self.dtype)
        self._trainable_upstream = self._nodes_with_trainable_upstream()
        self.ops: dict[str, Op] = {}
        for node in self.graph:
            node_type = self.graph.registry.get(node.type_name)
            params, grads = self.store.for_node(node.id)
            self.ops[node.id] = operation_of(node_type)(
                node, node_type, self._layout(node.id), params, grads
            )
        self.outputs_on_axis: dict[str, list[str]] = {}
        for node in self.graph.outputs():
            if node.id in report.node_axes:
                self.outputs_on_axis.setdefault(report.node_axes[node.id], []).append(node.id)
        self.feedback_outputs = feedback_outputs(self.graph)
        self.initialise(seed)

    # --- structure ------------------------------------------------------------------------

    def _layout(self, node_id: str) -> OpLayout:
        report = self.report
        inputs = report.shapes.node_inputs(self.graph, node_id)
        outputs = report.shapes.node_outputs(self.graph, node_id)
        source_axis = None
        input_axes = {}
        for edge in self.graph.edges_into(node_id):
            axis = report.port_axes.get((edge.src_node, edge.src_port))
            source_axis = source_axis or axis
            if axis is not None:
                input_axes[edge.dst_port] = axis
        grad_ports = frozenset(
            edge.dst_port
            for edge in self.graph.edges_into(node_id)
            if edge.src_node in self._trainable_upstream
        )
        return OpLayout(
            inputs, outputs, report.node_axes.get(node_id), source_axis, grad_ports, input_axes
        )

    def _nodes_with_trainable_upstream(self) -> set[str]:
        """Nodes whose output depends on some weight: only their gradients are worth computing."""
        found = {node for node in self.report.parameter_shapes}
        changed = True
        while changed:
            changed = False
            for edge in self.graph.edges:
                if edge.src_node in found and edge.dst_node not in found:
                    found.add(edge.dst_node)
                    changed = True
        return found

    def axis_of(self, node_id: str) -> str | None:
        return self.report.node_axes.get(node_id)

    def forced_delays(self, batch: Batch, train: bool) -> frozenset[str]:
        """The Delays teacher forced on ``batch``: while training, those tied to an Output
        whose target the batch holds."""
        if not train:
            return frozenset()
        return frozenset(
            delay
            for delay, output in self.feedback_outputs.items()
            if self.ops[output].settings["target"] in batch.targets
        )

    # --- parameters ------------------------------------------------------------------------

    def initialise(self, seed: int = 0) -> None:
        """Fresh weights; each node's depend only on the seed and its id, not on other nodes."""
        for node_id, op in self.ops.items():
            rng = np.random.default_rng([seed, zlib.crc32(node_id.encode("utf-8"))])
            op.initialise(rng)

    @property
    def parameters(self) -> dict[str, Array]:
        """Live views of every parameter, ``<node_id>.<pytorch_name>``."""
        return self.store.values

    @property
    def gradients(self) -> dict[str, Array]:
        return self.store.grads

    def get_parameters(self) -> dict[str, Array]:
        return {name: value.copy() for name, value in self.store.values.items()}

    def set_parameters(self, values: dict[str, Array], strict: bool = True) -> None:
        """Set parameters by name (cast to :attr:`dtype`), every one checked before any is
        set; raises :class:`WeightsFileError` with one line, the weights unchanged."""
        expected = self.store.values
        mismatch = names_mismatch(expected, values) if strict else None
        if mismatch:
            raise WeightsFileError(mismatch)
        checked = {}
        for name, value in values.items():  # all checked before any is set: all or nothing
            if name not in expected:
                continue
            value = np.asarray(value)
            if value.shape != expected[name].shape:
                raise WeightsFileError(
                    f"'{name}' has shape {value.shape}, but this graph needs {expected[name].shape}"
                )
            if not np.isfinite(value).all():
                raise WeightsFileError(f"'{name}' holds NaN or infinite values")
            largest = float(np.abs(value).max(initial=0))
            if largest > float(np.finfo(self.dtype).max):  # a cast would warn, give infinities
                raise WeightsFileError(
                    f"'{name}' holds values beyond {np.dtype(self.dtype).name}'s range "
                    f"(up to {largest:.0e})"
                )
            checked[name] = value
        for name, value in checked.items():
            expected[name][...] = value

    def gradient_norms(self) -> dict[str, float]:
        return {name: float(np.linalg.norm(g)) for name, g in self.store.grads.items()}

    # --- running ----------------------------------------------------------------------------

    def forward(
        self,
        batch: Batch,
        train: bool = True,
        temperature: float | None = None,
        rng: np.random.Generator | None = None,
    ) -> Run:
        """Run the graph on a batch. With ``train``, Delays tied to an Output with a target in
        the batch are teacher forced; otherwise feedback loops run free (sampling at
        ``temperature`` when given, else taking the most likely class)."""
        run = Run(self, batch, train, temperature, rng)
        run.forced = self.forced_delays(batch, train)
        with runtime().pass_settings():
            for segment in plan_for(self.graph, self.report, run.forced).segments:
                if segment.is_loop:
                    self._loop_forward(run, segment)
                else:
                    self._node_forward(run, segment.node)
        return run

    def backward(self, run: Run) -> Run:
        """Gradients of ``run.loss`` into :attr:`gradients` (overwritten, not accumulated)."""
        self.store.grad_flat[...] = 0.0
        run.grads = {}
        with runtime().pass_settings():
            for segment in reversed(plan_for(self.graph, self.report, run.forced).segments):
                if segment.is_loop:
                    self._loop_backward(run, segment)
                else:
                    self._node_backward(run, segment.node)
        return run

    def loss_and_gradients(self, batch: Batch) -> Run:
        return self.backward(self.forward(batch, train=True))

    # --- whole-sequence nodes -----------------------------------------------------------------

    def _inputs_of(self, run: Run, node_id: str) -> dict[str, Array]:
        inputs = {}
        for edge in self.graph.edges_into(node_id):
            inputs[edge.dst_port] = run.values[(edge.src_node, edge.src_port)]
        return inputs

    def _node_forward(self, run: Run, node_id: str) -> None:
        op = self.ops[node_id]
        if node_id in run.forced:
            inputs = {"x": self.teacher_input(run, node_id)}
        else:
            inputs = self._inputs_of(run, node_id)
        outputs, cache = op.forward(run, inputs)
        run.caches[node_id] = cache
        for port, value in outputs.items():
            run.values[(node_id, port)] = value

    def teacher_input(self, run: Run, delay_id: str) -> Array:
        """What a teacher-forced Delay reads: its Output's targets (one-hot for classes)."""
        output = self.ops[self.feedback_outputs[delay_id]]
        target = np.asarray(run.batch.targets[output.settings["target"]])
        if output.settings["loss"] == "cross_entropy":
            return dense(target.astype(np.int64), output.width("x"), run.dtype)
        return target.astype(run.dtype)

    def _node_backward(self, run: Run, node_id: str) -> None:
        op = self.ops[node_id]
        grads = {p.name: run.grads.get((node_id, p.name)) for p in op.node_type.outputs}
        if op.node_type.outputs and all(g is None for g in grads.values()):
            return  # nothing downstream depends on this node's outputs
        input_grads = op.backward(run, run.caches[node_id], grads)
        if node_id in run.forced:
            return  # teacher forcing: the target, not the prediction, was fed back
        for edge in self.graph.edges_into(node_id):
            grad = input_grads.get(edge.dst_port)
            if grad is not None:
                self._accumulate(run, (edge.src_node, edge.src_port), grad)

    @staticmethod
    def _accumulate(run: Run, key: tuple[str, str], grad: Array) -> None:
        current = run.grads.get(key)  # (copies keep the layout: see cell_layout.feature_major)
        run.grads[key] = grad.copy(order="K") if current is None else current + grad

    # --- step loops, step by step ----------------------------------------------------------

    def _loop_forward(self, run: Run, loop: Segment) -> None:
        steps = run.length(loop.axis)
        members = set(loop.nodes)
        buffers: dict[tuple[str, str], Array] = {}
        caches: dict[str, list] = {n: [None] * steps for n in loop.nodes}
        states: dict[str, dict[str, Array]] = {}
        for t in range(steps):
            run.step = t
            for node_id in loop.nodes:
                op = self.ops[node_id]
                if isinstance(op, DelayOp):
                    value = self._delay_step(run, op, buffers, members, t)
                    self._store(buffers, (node_id, "y"), t, steps, value)
                    continue
                inputs = {}
                whole = op.node_type.whole_axis_ports()
                for edge in self.graph.edges_into(node_id):
                    key = (edge.src_node, edge.src_port)
                    if edge.dst_port in whole:  # read whole from outside the loop (validated)
                        inputs[edge.dst_port] = run.values[key]
                    elif key in buffers or edge.src_node in members:
                        inputs[edge.dst_port] = buffers[key][t : t + 1]
                    elif self.report.shapes.outputs[key].kind == SEQ:
                        inputs[edge.dst_port] = run.values[key][t : t + 1]
                    else:
                        inputs[edge.dst_port] = run.values[key]
                if isinstance(op, CellOp):
                    for port, final in zip(op.state_ports, op.final_ports, strict=True):
                        if t > 0:
                            inputs[port] = states[node_id][final]
                outputs, cache = op.forward(run, inputs)
                caches[node_id][t] = cache
                for port, value in outputs.items():
                    if isinstance(op, CellOp) and port in op.final_ports:
                        states.setdefault(node_id, {})[port] = value
                    else:
                        self._store(buffers, (node_id, port), t, steps, value[0])
        run.step = None
        run.values.update(buffers)
        for node_id, finals in states.items():
            for port, value in finals.items():
                run.values[(node_id, port)] = value
        run.caches[("loop", loop.nodes[0])] = caches

    @staticmethod
    def _store(buffers, key, t: int, steps: int, value: Array) -> None:
        if key not in buffers:
            buffers[key] = np.empty((steps, *value.shape), dtype=value.dtype)
        buffers[key][t] = value

    def _delay_step(self, run: Run, op: DelayOp, buffers, members, t: int) -> Array:
        (edge,) = self.graph.edges_into(op.id, "x")
        key = (edge.src_node, edge.src_port)
        source = buffers.get(key) if edge.src_node in members else run.values.get(key)
        tokens = source is not None and source.dtype.kind in "iu"
        if t == 0:
            width = op.in_shapes["x"].width
            return op.initial(run.batch_size, width, run.dtype, tokens)
        return self.fed_back(run, op.id, source[t - 1])

    def _feeds_back_a_choice(self, delay_id: str) -> bool:
        output_id = self.feedback_outputs.get(delay_id)
        return output_id is not None and self.ops[output_id].settings["loss"] != "mse"

    def fed_back(self, run: Run, delay_id: str, value: Array) -> Array:
        """What a free-running loop feeds back: the chosen class one-hot, 0/1, or the value."""
        output_id = self.feedback_outputs.get(delay_id)
        if output_id is None or value.dtype.kind in "iu":
            return value
        loss = self.ops[output_id].settings["loss"]
        if loss == "binary_cross_entropy":
            return (value > 0).astype(value.dtype)
        if loss != "cross_entropy":
            return value
        if run.temperature:
            scores = value / run.temperature
            probabilities = np.exp(scores - scores.max(axis=-1, keepdims=True))
            probabilities /= probabilities.sum(axis=-1, keepdims=True)
            cumulative = probabilities.cumsum(axis=-1)
            draws = run.rng.random((value.shape[0], 1))
            chosen = np.minimum((cumulative < draws).sum(axis=-1), value.shape[-1] - 1)
        else:
            chosen = value.argmax(axis=-1)
        one_hot = np.zeros_like(value)
        one_hot[np.arange(value.shape[0]), chosen] = 1.0
        return one_hot

    def _loop_backward(self, run: Run, loop: Segment) -> None:
        caches = run.caches[("loop", loop.nodes[0])]
        steps = run.length(loop.axis)
        members = set(loop.nodes)
        grads: dict[tuple[str, str], Array] = {}
        for node_id in loop.nodes:
            for port in self.ops[node_id].node_type.outputs:
                key = (node_id, port.name)
                outer = run.grads.get(key)
                if self.report.shapes.outputs[key].kind == SEQ:
                    grads[key] = (
                        np.zeros_like(run.values[key], dtype=run.dtype)
                        if outer is None
                        else outer.copy()
                    )
                else:
                    grads[key] = outer  # a final state: reaches the last step only
        for t in range(steps - 1, -1, -1):
            run.step = t
            for node_id in reversed(loop.nodes):
                op = self.ops[node_id]
                if isinstance(op, DelayOp):
                    (edge,) = self.graph.edges_into(node_id, "x")
                    if self._feeds_back_a_choice(node_id):
                        continue  # a chosen class or 0/1 has no gradient
                    if t > 0 and edge.src_node in members:
                        grads[(edge.src_node, edge.src_port)][t - 1] += grads[(node_id, "y")][t]
                    elif t > 0:
                        self._accumulate_step(
                            run,
                            (edge.src_node, edge.src_port),
                            t - 1,
                            grads[(node_id, "y")][t],
                            steps,
                        )
                    continue
                output_grads = {}
                for port in op.node_type.outputs:
                    key = (node_id, port.name)
                    if isinstance(op, CellOp) and port.name in op.final_ports:
                        output_grads[port.name] = grads[key]
                    else:
                        output_grads[port.name] = grads[key][t : t + 1]
                input_grads = op.backward(run, caches[node_id][t], output_grads)
                if isinstance(op, CellOp) and t > 0:  # the state's gradient goes to step t-1
                    for port, final in zip(op.state_ports, op.final_ports, strict=True):
                        grads[(node_id, final)] = input_grads.pop(port, None)
                whole = op.node_type.whole_axis_ports()
                for edge in self.graph.edges_into(node_id):
                    grad = input_grads.get(edge.dst_port)
                    if grad is None:
                        continue
                    key = (edge.src_node, edge.src_port)
                    if edge.dst_port in whole:  # a sequence of another axis, read whole
                        self._accumulate(run, key, grad)
                    elif edge.src_node in members:
                        grads[key][t] += grad[0]
                    elif self.report.shapes.outputs[key].kind == SEQ:
                        self._accumulate_step(run, key, t, grad[0], steps)
                    else:
                        self._accumulate(run, key, grad)
        run.step = None

    @staticmethod
    def _accumulate_step(run: Run, key, t: int, grad: Array, steps: int) -> None:
        if key not in run.grads:
            run.grads[key] = np.zeros((steps, *grad.shape), dtype=grad.dtype)
        run.grads[key][t] += grad


def operation_of(node_type) -> type[Op]:
    """The class that runs a node type: a plug-in's own, or the one its ``op_name`` names."""
    return node_type.operation() or getattr(operations, node_type.op_name)

"""How much memory a run of a graph holds at once, worked out before anything is allocated, and
the budget it must fit in.

A graph within every parameter limit can still be far too large for the machine: a vocabulary of
1,000,000 embedded in 100,000 dimensions is 10¹¹ weights (400 GB in float32), and a network
that does fit took 15.6 GB and 73 s for one training step (issue 22). NumPy then raises
``MemoryError`` from deep inside the executor, or the system kills the process. So validation
estimates the peak before anything runs and refuses (or warns) with the figure and what to
shrink.

What is counted is what the code holds at its peak, read from the engine (the formulas name
the arrays they count; ``tests/test_footprint.py`` holds the estimate to the memory a real
training step allocates, traced, within a stated factor):

* the weights: the executor's flat parameter buffer and its gradient buffer, always both
  (``engine.executor.ParameterStore``);
* when training: the optimizer's state (Adam: ``m``, ``v`` and a scratch buffer; momentum and
  RMSprop one), the trainer's two copies (the best epoch's weights and the last good ones, put
  back on a NaN), and the optimizer step's temporaries;
* the batch as ``training.data.make_batch`` builds it (float64 and int64), and per node what a
  pass keeps until its backward pass ends: every output, the caches (a cell's stacked
  ``[x; 1; h]`` columns for every step and its gates and their derivatives, per direction), and
  when training the gradient of every output that a weight lies upstream of;
* on top of that, the largest temporary any one node makes (a cell's weight-gradient product
  reads contiguous copies of its gates and columns; a Dense layer fed by a cell multiplies step
  by step and sums a ``(T, units, inputs)`` product).

Not counted: the data set itself (its examples, before batching), Python's own objects, and the
allocator's slack. These are small beside a network that comes near the budget, and the budget
leaves room for them (``graph.budget``, which also says the problems in words).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from rnn_builder.graph.model import Graph
from rnn_builder.graph.nodes import SEQ, NodeInfo, Shape
from rnn_builder.graph.report import ValidationReport

# Optimizer state in copies of the weights, and the most its ``step`` holds on top at once
# (``engine.optim``: Adam's m, v and scratch, and ``(1 - β₁) g``; SGD's ``lr · g``; Nesterov's
# ``g + m b``; RMSprop's ``(1 - α) g²`` and ``√s``).
OPTIMIZER_STATE = {"sgd": 0, "momentum": 1, "nesterov": 1, "rmsprop": 1, "adam": 3}
OPTIMIZER_TEMPORARIES = {"sgd": 1, "momentum": 1, "nesterov": 2, "rmsprop": 2, "adam": 1}
TRAINER_COPIES = 2  # the best epoch's weights and the last good ones (training.trainer)
# ``engine.overlap``'s: a weight-gradient product of at least OVERLAP_MACS multiply-adds over at
# least CHUNKS steps is summed in CHUNKS parts (a test holds these equal to the engine's).
OVERLAP_MACS = 20_000_000
CHUNKS = 6
INT_BYTES = 8  # token ids and class numbers are int64; the batch's floats are float64


@dataclass(frozen=True)
class Workload:
    """What a run of the graph will be: its batch size, the length of each time axis (by axis
    id; an axis left out has its nodes' own ``steps``), whether it trains (``optimizer``; None:
    forward passes only, as evaluate, predict and the exports run), and in what precision.
    ``weight_copies``: further copies of the weights the caller holds (an export writes its
    model's). ``what``: how messages call it ("training", "evaluating", ...)."""

    batch_size: int = 1
    lengths: Mapping[str, int] = field(default_factory=dict)
    optimizer: str | None = None
    weight_decay: bool = False
    float_bytes: int = 4
    weight_copies: int = 0
    what: str = "running one example"

    def key(self) -> tuple:
        """A hashable form, for caching a report per workload."""
        return (
            self.batch_size,
            tuple(sorted(self.lengths.items())),
            self.optimizer,
            self.weight_decay,
            self.float_bytes,
            self.weight_copies,
            self.what,
        )


@dataclass(frozen=True)
class MemoryEstimate:
    """The peak a run holds, in bytes, by what holds it."""

    parameters: int  # how many weights
    weights: int  # the parameters and their gradient buffer
    training_state: int  # optimizer state, the trainer's copies, the caller's copies
    activations: int  # the batch and what the pass keeps (values, caches, gradients)
    temporary: int  # the largest temporary on top of all that (a node's, or the optimizer's)
    first_draw: int = 0  # initialisation: a tensor drawn in float64 beside the two buffers
    by_node: dict[str, int] = field(default_factory=dict)  # activations and temporaries
    weights_by_node: dict[str, int] = field(default_factory=dict)  # bytes per node
    batch_size: int = 1
    lengths: dict[str, int] = field(default_factory=dict)
    optimizer_temporary: bool = False  # the largest temporary is the optimizer step's

    @property
    def total(self) -> int:
        """The peak: while the weights are first drawn, or during a step."""
        running = self.weights + self.training_state + self.activations + self.temporary
        return max(self.weights + self.first_draw, running)


def estimate_workload(graph: Graph, workload: Workload, report: ValidationReport) -> MemoryEstimate:
    """The most memory, in bytes, that running ``graph`` as ``workload`` says holds at once
    (``validation.estimate_memory`` takes the batch size and lengths as they are)."""
    return _Estimator(graph, report, workload).run()


class _Estimator:
    def __init__(self, graph: Graph, report: ValidationReport, workload: Workload) -> None:
        self.graph, self.report, self.workload = graph, report, workload
        self.batch = max(1, int(workload.batch_size))
        self.floats = workload.float_bytes
        self.lengths = {a.id: a.default_steps for a in report.axes.values()}
        for axis, length in workload.lengths.items():
            if axis in self.lengths and isinstance(length, int) and length >= 1:
                self.lengths[axis] = length
        self.training = workload.optimizer is not None
        self.trainable = self._trainable_upstream() if self.training else set()
        self.wired_outputs = {(e.src_node, e.src_port) for e in graph.edges}
        self.incoming: dict[str, list] = {}  # once, rather than a scan of every wire per node
        for edge in graph.edges:
            self.incoming.setdefault(edge.dst_node, []).append(edge)

    def run(self) -> MemoryEstimate:
        graph, report, floats = self.graph, self.report, self.floats
        parameters = report.parameter_count
        weights_by_node = {
            node: sum(math.prod(shape) for shape in tensors.values())
            for node, tensors in report.parameter_shapes.items()
        }
        weights = 2 * parameters * floats  # ParameterStore: values and gradients
        copies = self.workload.weight_copies
        step = 0  # the optimizer step's temporaries
        if self.training:
            name = self.workload.optimizer
            copies += OPTIMIZER_STATE.get(name, 3) + TRAINER_COPIES
            step = OPTIMIZER_TEMPORARIES.get(name, 2)
            if self.workload.weight_decay:  # g = grads + decay · params, beside them
                step += 2
        largest_tensor = max(
            (math.prod(s) for t in report.parameter_shapes.values() for s in t.values()),
            default=0,
        )
        kept_total = self._batch_bytes()
        by_node: dict[str, int] = {}
        temporary = 0
        for node in graph:
            kept, passing = self._node(node.id)
            kept += self._gradients_kept(node.id)
            by_node[node.id] = kept + passing
            kept_total += kept
            temporary = max(temporary, passing)
        return MemoryEstimate(
            parameters=parameters,
            weights=weights,
            training_state=copies * parameters * floats,
            activations=kept_total,
            temporary=max(temporary, step * parameters * floats),
            first_draw=8 * largest_tensor,  # initialise draws in float64, then stores it
            by_node=by_node,
            weights_by_node={n: w * floats for n, w in weights_by_node.items()},
            batch_size=self.batch,
            lengths=dict(self.lengths),
            optimizer_temporary=step * parameters * floats > temporary,
        )

    # --- what the data and the ports hold --------------------------------------------------

    def _trainable_upstream(self) -> set[str]:
        """Nodes a weight lies upstream of: their outputs get gradients (as the executor's)."""
        after: dict[str, list[str]] = {}
        for edge in self.graph.edges:
            after.setdefault(edge.src_node, []).append(edge.dst_node)
        found = set(self.report.parameter_shapes)
        waiting = list(found)
        while waiting:
            for node in after.get(waiting.pop(), ()):
                if node not in found:
                    found.add(node)
                    waiting.append(node)
        return found

    def steps(self, node_id: str) -> int:
        axis = self.report.node_axes.get(node_id)
        return self.lengths.get(axis, 1) if axis is not None else 1

    def source_steps(self, node_id: str) -> int:
        """The steps of the sequence a node reads (Last step, Mean over time)."""
        for edge in self.incoming.get(node_id, ()):
            axis = self.report.port_axes.get((edge.src_node, edge.src_port))
            if axis is not None:
                return self.lengths.get(axis, 1)
        return self.steps(node_id)

    def value(self, shape: Shape | None, steps: int, as_floats: bool = False) -> int:
        """Bytes of one port's value for the batch: ``(T, B, width)``, ``(B, width)``, or
        ``(T, B)`` int64 token ids (as floats: their one-hot rows)."""
        if shape is None or shape.width is None:
            return 0
        rows = self.batch * (steps if shape.kind == SEQ else 1)
        if shape.is_tokens and not as_floats:
            return rows * INT_BYTES
        return rows * shape.width * self.floats

    def _batch_bytes(self) -> int:
        """The batch as ``make_batch`` stacks it: float64 features and values, int64 ids and
        classes, a float64 mask per padded axis (and the pass's float mask)."""
        total = 0
        graph, report = self.graph, self.report
        for node in graph.inputs():
            spec = graph.node_type(node.id).input_spec(node)
            if spec is None:
                continue
            kind, width, tokens = spec
            rows = self.batch * (self.steps(node.id) if kind == SEQ else 1)
            total += rows * (1 if tokens else width) * 8
        for node in graph.outputs():
            shape = report.shapes.inputs.get((node.id, "x"))
            if shape is None or shape.width is None:
                continue
            rows = self.batch * self.steps(node.id)
            classes = node.params.get("loss") == "cross_entropy"
            total += rows * (1 if classes else shape.width) * 8
        for axis in report.axes:
            total += self.batch * self.lengths[axis] * (8 + self.floats)
        return total

    def _gradients_kept(self, node_id: str) -> int:
        """The executor keeps the gradient of every output a weight lies upstream of, until
        the backward pass ends (``Run.grads``), as large as the value."""
        if node_id not in self.trainable:
            return 0
        steps = self.steps(node_id)
        return sum(
            self.value(shape, steps, as_floats=True)
            for port, shape in self.report.shapes.node_outputs(self.graph, node_id).items()
            if (node_id, port) in self.wired_outputs
        )

    # --- per node: (kept until the backward pass ends, the largest temporary) ----------------

    def _node(self, node_id: str) -> tuple[int, int]:
        graph = self.graph
        node = graph.node(node_id)
        node_type = graph.node_type(node_id)
        inputs = self.report.shapes.node_inputs(graph, node_id)
        outputs = self.report.shapes.node_outputs(graph, node_id)
        steps = self.steps(node_id)
        if node_type.cell is not None:
            return self._cell(node_id, node_type, node.params, inputs, steps)
        rule = _RULES.get(node_type.op_name)
        if rule is not None:
            return rule(self, node_id, node.params, inputs, outputs, steps)
        # a plug-in operation: its outputs kept, twice that passing through
        out = sum(self.value(s, steps, True) for s in outputs.values())
        into = sum(self.value(s, steps, True) for s in inputs.values())
        return out, 2 * (out + into)

    def _cell(self, node_id, node_type, params, inputs, steps) -> tuple[int, int]:
        """``engine.cells``, per direction. Kept: Z ``(T+1, K, B)`` with ``K = D+1+H`` (the
        ``[x_t; 1; h_{t-1}]`` columns, the outputs among them) and per step rows of H for the
        gates and their derivatives (LSTM ``acts`` 4, ``factors`` 4, ``dc_dh`` 1; GRU
        ``acts`` 3, ``factors`` 4; Elman ``factors`` 1). Forward, passing: the fused weights
        (two copies at once), LSTM's ``cs`` and ``tanh(c)``, GRU's ``recurrent``. Backward:
        ``dhs`` and the gates' gradients (R rows: LSTM and GRU 4H, Elman H), ``W_hhᵀ``, and
        the weight-gradient product (``overlap.Products``): contiguous copies of the gradients
        and of Z, and one ``(R, K)`` result per chunk, all held until they are summed; then
        the sum put back in order, and ``dx`` (copied again by the executor)."""
        x = inputs.get("x")
        if x is None or x.width is None:
            return 0, 0
        hidden = params.get("hidden_size", 0)
        directions = len(node_type.directions(NodeInfo(node_id, node_id, params)))
        width = x.width
        gates = node_type.cell.gate_count
        kept_rows, forward_rows, gradient_rows = {
            "LSTMCell": (9, 2, 4),
            "GRUCell": (7, 3, 4),
            "ElmanCell": (1, 1, 1),
        }.get(getattr(node_type, "kernel_name", ""), (2 * gates + 1, gates, gates))
        batch, floats = self.batch, self.floats
        columns_width = width + 1 + hidden
        columns = (steps + 1) * columns_width * batch * floats
        row = hidden * steps * batch * floats  # one row of H for every step
        kept = directions * (columns + kept_rows * row)
        if directions > 1:  # the directions' outputs joined into a new array
            kept += 2 * row
        weights = gates * hidden * columns_width * floats
        one_hot = steps * width * batch * floats if x.is_tokens else 0
        forward = one_hot + forward_rows * row + 2 * weights
        if not self.training:
            return kept, forward
        rows = gradient_rows * hidden
        result = rows * columns_width * floats  # one chunk's (R, K) product
        chunked = rows * columns_width * steps * batch >= OVERLAP_MACS and steps >= CHUNKS
        if chunked:
            chunk = math.ceil(steps / CHUNKS) * batch * floats
            products = (CHUNKS + 1) * result + (rows + columns_width) * chunk
        else:
            products = 2 * result + (rows + columns_width) * steps * batch * floats
        recurrent_t = gates * hidden * hidden * floats
        gradients = row + gradient_rows * row  # dhs and the gates' gradients
        dx = 0 if x.is_tokens else steps * width * batch * floats
        backward = gradients + max(
            recurrent_t + products, 2 * result + gates * hidden * width * floats + 2 * dx
        )
        if directions > 1:  # the first direction's dhs and dx wait for the second's
            backward += row + dx
        return kept, max(forward, backward)


# --- the rules of the built-in operations (engine.ops), by op_name -----------------------------


def _sequence_input(est: _Estimator, node_id, params, inputs, outputs, steps):
    # token ids are the batch's own array; features are converted to the pass's floats
    return est.value(outputs.get("y"), steps, True) if not params.get("vocabulary") else 0, 0


def _vector_input(est, node_id, params, inputs, outputs, steps):
    return est.value(outputs.get("y"), steps), 0


def _embedding(est, node_id, params, inputs, outputs, steps):
    y = est.value(outputs.get("y"), steps)
    # backward: np.add.at reads dy[valid] (a copy) and tokens[valid]
    return y, (y + est.batch * steps * INT_BYTES) if est.training else 0


def _dense(est: _Estimator, node_id, params, inputs, outputs, steps):
    """``ops.DenseOp``: the output (softmax makes a second); the input as one-hot rows when it
    is token ids (kept in the cache); backward: ``dz``, and, for an input a cell hands on
    feature-major, a ``(T, units, inputs)`` product summed over steps and ``dx`` by step."""
    x, y = inputs.get("x"), outputs.get("y")
    if x is None or x.width is None or y is None or y.width is None:
        return 0, 0
    out = est.value(y, steps)
    kept = out + (est.value(x, steps, True) if x.is_tokens else 0)
    forward = out if params.get("activation") == "softmax" else 0
    if not est.training:
        return kept, forward
    x_value = est.value(x, steps, True)
    dz = out if params.get("activation") != "identity" else 0
    weight = y.width * x.width * est.floats
    if x.kind == SEQ and _from_a_cell(est, node_id):  # (T, units, inputs), then dx by step
        backward = dz + max(steps * weight, out + 2 * x_value)
    else:
        backward = dz + max(weight, 2 * x_value)
    return kept, max(forward, backward)


def _from_a_cell(est: _Estimator, node_id: str) -> bool:
    """Whether the input is a one-direction cell's ``y``, which Dense reads feature-major."""
    for edge in est.incoming.get(node_id, ()):
        source = est.graph.node(edge.src_node)
        node_type = est.graph.node_type(edge.src_node)
        return (
            node_type.cell is not None
            and edge.src_port == "y"
            and not source.params.get("bidirectional")
        )
    return False


def _concat(est, node_id, params, inputs, outputs, steps):
    y = est.value(outputs.get("y"), steps)
    one_hot = sum(est.value(s, steps, True) for s in inputs.values() if s.is_tokens)
    return y, one_hot


def _last_step(est, node_id, params, inputs, outputs, steps):
    source = est.source_steps(node_id)
    x = inputs.get("x")
    one_hot = est.value(x, source, True) if x is not None and x.is_tokens else 0
    dx = est.value(x, source, True) if est.training else 0  # zeros but at the last steps
    return est.value(outputs.get("y"), 1), max(one_hot, dx)


def _mean_over_time(est, node_id, params, inputs, outputs, steps):
    source = est.source_steps(node_id)
    x = est.value(inputs.get("x"), source, True)
    # the weights (T, B, 1) kept; x · weights, and backward the weights · dy
    return est.value(outputs.get("y"), 1) + source * est.batch * est.floats, x


def _repeat(est, node_id, params, inputs, outputs, steps):
    return est.value(outputs.get("y"), steps), 0


def _delay(est, node_id, params, inputs, outputs, steps):
    y = est.value(outputs.get("y"), steps, True)
    return y, y if est.training else 0


def _output(est: _Estimator, node_id, params, inputs, outputs, steps):
    """``losses``: cross-entropy keeps the probabilities and the gradient; MSE the difference
    (the gradient) and the predictions, with the targets cast; binary cross-entropy the
    probabilities and the gradient, and per-element terms passing."""
    x = inputs.get("x")
    scores = est.value(x, steps, True)
    one_hot = scores if x is not None and x.is_tokens else 0
    passing = {"cross_entropy": 0, "mse": 1, "binary_cross_entropy": 3}.get(params.get("loss"), 1)
    return 2 * scores + one_hot, passing * scores


def _attention(est: _Estimator, node_id, params, inputs, outputs, steps):
    """``ops.AttentionOp`` (``engine.kernels.attention``) over ``steps`` query steps and the S
    steps of its memory's axis. Kept: the context, the alignment ``(B, T, S)``, the keys
    ``(B, S, ·)`` (the memory itself for dot) and, for additive, ``tanh`` of every pair
    ``(B, T, S, units)``. Passing: the scores and their softmax's temporaries, three of
    ``(B, T, S)``; backward adds that pair-sized gradient for additive and the gradients of
    the keys and values."""
    memory = inputs.get("memory")
    if memory is None or memory.width is None:
        return 0, 0
    axis = next(
        (
            est.report.port_axes.get((e.src_node, e.src_port))
            for e in est.incoming.get(node_id, ())
            if e.dst_port == "memory"
        ),
        None,
    )
    memory_steps = est.lengths.get(axis, 1) if axis is not None else 1
    query = inputs.get("query")
    values = inputs.get("values") or memory
    pairs = est.batch * steps * memory_steps * est.floats
    units = params.get("units", 0) if params.get("score") == "additive" else 0
    key_width = units or (
        query.width if params.get("score") == "general" and query and query.width else 0
    )
    keys = est.batch * memory_steps * key_width * est.floats
    hidden = pairs * units
    one_hot = sum(est.value(s, steps, True) for s in inputs.values() if s.is_tokens)
    kept = est.value(outputs.get("context"), steps) + pairs + keys + hidden + one_hot
    passing = 3 * pairs
    if est.training:
        gradients = est.batch * memory_steps * (key_width + (values.width or 0)) * est.floats
        passing = 3 * pairs + hidden + gradients
    return kept, passing


_RULES = {
    "AttentionOp": _attention,
    "SequenceInputOp": _sequence_input,
    "VectorInputOp": _vector_input,
    "EmbeddingOp": _embedding,
    "DenseOp": _dense,
    "ConcatOp": _concat,
    "LastStepOp": _last_step,
    "MeanOverTimeOp": _mean_over_time,
    "RepeatOp": _repeat,
    "DelayOp": _delay,
    "OutputOp": _output,
}

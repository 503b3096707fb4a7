"""Live stepping: one batch walked through the unrolled network a step at a time.

The walk is the plan (:mod:`rnn_builder.graph.plan`) that the executor runs, cut into *steps*
of time. The executor computes a whole-sequence segment in one call; the walk takes the
segments that follow one another on one time axis together, a time step at a time: step ``t``
computes copy ``t`` of each of them (every node of a step loop at ``t``), in the plan's order,
so that a person sees the network run as it is drawn unrolled, column by column. Where a copy
needs later steps (a bidirectional cell's reverse direction, a node that reverses time) it
waits for them: the walk is the topological order of the unrolled DAG that takes the earliest
step first. A vector node is a step of its own. Each :meth:`Stepper.step` computes the next
step and returns it; afterwards every copy's values can be read — a cell's hidden and cell
state and its gate activations, a Dense layer's output, an Output's prediction. Stepping to the
end gives exactly what a whole-sequence :meth:`~rnn_builder.engine.executor.Executor.forward`
gives (tested).

Without ``teacher``, feedback loops run free, as at inference; with it, they read the targets.

:meth:`Stepper.back` undoes the last step from what that step changed, so that a step back
costs less than a step, not a replay from the start. A walk writes each row of a sequence (or,
for a bidirectional cell, each direction's columns of it) once, into arrays made of zeros, so
undoing a step zeroes what it wrote (known before the walk starts), drops the arrays it added
(the newest keys), and puts back the states its cells replaced; recording that costs a step
almost nothing. Walking back to a position leaves exactly what walking forward to it leaves
(tested on every template, with padding and both directions).
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

import numpy as np

from rnn_builder.engine.executor import Executor
from rnn_builder.engine.ops import CellOp, DelayOp, DenseOp, OutputOp, SequenceInputOp, dense
from rnn_builder.engine.run import Batch, Run, recorded
from rnn_builder.graph.unroll import UnrolledKey, UnrolledSegment, unroll

Array = np.ndarray


# What one step changed: how many values it added (the newest keys), the states its cells
# replaced (``None``: added), and the predictions as they were (``None``: it made none).
_Undo = tuple[int, list[tuple[tuple[str, str], tuple[Array, ...] | None]], dict | None]


@dataclass(frozen=True)
class Step:
    """One step of the walk: its axis and index (``None`` for a vector node), the copies
    computed in it, and the segments of the plan they belong to (in the plan's order)."""

    axis: str | None
    t: int | None
    copies: tuple[UnrolledKey, ...]
    segments: tuple[UnrolledSegment, ...]


class _CellPlan:
    """What every step of one direction of a cell needs, looked up once."""

    def __init__(self, op: CellOp, key: UnrolledKey, stepper: Stepper) -> None:
        self.op, self.step = op, op.cell.step
        self.direction = 1 if key.direction == "reverse" else 0
        self.suffix = op.suffixes[self.direction]
        self.state_key = (key.node, key.direction)
        self.x_source = stepper._x_source[key.node]
        # an input known in full at the first step: its side of every step is one product
        self.projects = isinstance(stepper.executor.ops[self.x_source[0]], SequenceInputOp)
        self.y = (key.node, "y")
        run = stepper.run
        self.mask = run.masks.get(op.axis)
        self.steps = run.length(op.axis)
        self.last = 0 if self.direction == 1 else self.steps - 1
        self.width = op.hidden * len(op.suffixes)
        self.columns = (  # of the output this direction fills (None: all of it)
            slice(self.direction * op.hidden, (self.direction + 1) * op.hidden)
            if len(op.suffixes) > 1
            else None
        )


class Stepper:
    def __init__(
        self,
        executor: Executor,
        batch: Batch,
        teacher: bool = False,
        temperature: float | None = None,
        rng: np.random.Generator | None = None,
    ) -> None:
        self.executor = executor
        self.batch = batch
        self.teacher = teacher
        self.run = Run(executor, batch, train=teacher, temperature=temperature, rng=rng)
        self.forced = self.run.forced = executor.forced_delays(batch, teacher)
        self.unrolled = unroll(executor.graph, self.run.lengths, executor.report, self.forced)
        self.steps = self._cut(self.unrolled)
        self._looped = {
            node for segment in self.unrolled.plan if segment.is_loop for node in segment.nodes
        }
        report = executor.report
        self.wiring = {  # (port, source, read a step at a time: not a vector, not whole)
            node_id: [
                (
                    edge.dst_port,
                    (edge.src_node, edge.src_port),
                    report.shapes.outputs[(edge.src_node, edge.src_port)].kind == "seq"
                    and edge.dst_port not in executor.graph.node_type(node_id).whole_axis_ports(),
                )
                for edge in executor.graph.edges_into(node_id)
            ]
            for node_id in executor.graph.nodes
        }
        self._x_source = {  # where each node reads its port x
            node_id: source
            for node_id, wires in self.wiring.items()
            for port, source, _ in wires
            if port == "x"
        }
        handlers = {node_id: self._handler(op) for node_id, op in executor.ops.items()}
        cell_plans: dict[tuple[str, str], _CellPlan] = {}
        for step in self.steps:
            for key in step.copies:
                op, where = executor.ops[key.node], (key.node, key.direction)
                if key.t is not None and isinstance(op, CellOp) and where not in cell_plans:
                    cell_plans[where] = _CellPlan(op, key, self)
        self._calls = [  # what each step calls, and with what, chosen once
            [
                (
                    self._vector_copy if key.t is None else handlers[key.node],
                    cell_plans.get((key.node, key.direction), executor.ops[key.node]),
                    key,
                )
                for key in step.copies
            ]
            for step in self.steps
        ]
        self._writes = [self._writes_of(step, cell_plans) for step in self.steps]
        self._predicts = [  # steps with a vector Output, which sets run.predictions
            any(k.t is None and isinstance(executor.ops[k.node], OutputOp) for k in step.copies)
            for step in self.steps
        ]
        self._state_keys = [  # the cell states each step replaces
            [
                (key.node, key.direction)
                for key in step.copies
                if (key.node, key.direction) in cell_plans
            ]
            for step in self.steps
        ]
        self._prepared_from: Array | None = None
        self.reset()

    # --- public ---------------------------------------------------------------------------------

    def reset(self) -> None:
        """Back to before the first step; the weights are taken afresh (they may have trained)."""
        self.position = 0
        weights = self.executor.store.flat
        if self._prepared_from is None or not np.array_equal(weights, self._prepared_from):
            self.prepared = {  # the weights arranged for single steps (unchanged: kept)
                node_id: op.prepare_steps()
                for node_id, op in self.executor.ops.items()
                if isinstance(op, CellOp | DenseOp)
            }
            self._prepared_from = weights.copy()
        self.values: dict[tuple[str, str], Array] = {}  # filled a row a step (see back)
        self._undo: list[_Undo] = []  # one record per step taken
        self.details: dict[UnrolledKey, dict[str, Array]] = {}
        self.states: dict[tuple[str, str], tuple[Array, ...]] = {}
        self._projected: dict[tuple[str, str], Array] = {}  # see _CellPlan.projects
        self.run.predictions = {}
        self.run.memo.clear()

    @property
    def done(self) -> bool:
        return self.position >= len(self.steps)

    def step(self) -> Step:
        """Compute the next step and return it."""
        position = self.position
        if position >= len(self._calls):
            raise IndexError("the sequence has been stepped to its end; reset() to start again")
        count, states, keys = len(self.values), self.states, self._state_keys[position]
        replaced = [(k, states.get(k)) for k in keys] if keys else []
        predictions = dict(self.run.predictions) if self._predicts[position] else None
        for handler, with_what, key in self._calls[position]:
            handler(with_what, key)
        self._undo.append((len(self.values) - count, replaced, predictions))
        self.position = position + 1
        return self.steps[position]

    def back(self) -> Step:
        """Undo the last step (see the module docstring) and return it."""
        if self.position == 0:
            raise IndexError("nothing has been stepped yet")
        self.position -= 1
        step = self.steps[self.position]
        added, replaced, predictions = self._undo.pop()
        self.run.memo.clear()  # what ops kept from values this step back rewrites in place
        for key in step.copies:
            self.details.pop(key, None)
        values = self.values
        for where, t, columns in self._writes[self.position]:
            array = values.get(where)
            if array is None or self._aliased(where, array):
                continue
            row = array if t is None else array[t]
            if columns is None:
                row[...] = 0
            else:
                row[..., columns] = 0
        for _ in range(added):  # the newest keys are the ones this step added
            values.popitem()
        for where, state in replaced:
            if state is None:
                self.states.pop(where, None)
            else:
                self.states[where] = state
        if predictions is not None:
            self.run.predictions = predictions
        return step

    def _aliased(self, where: tuple[str, str], array: Array) -> bool:
        """An MSE output's prediction is its input's array itself: that input's own step
        zeroes it (an Output reading a whole input sequence must not zero the input)."""
        source = self._x_source.get(where[0])
        return where[1] == "prediction" and source is not None and self.values.get(source) is array

    def run_to_end(self) -> None:
        while not self.done:
            self.step()

    def detail(self, key: UnrolledKey) -> dict[str, Array]:
        """What one copy computed: its outputs and, for cells, ``h``, ``c`` and the gates."""
        return self.details[key]

    def value(self, node_id: str, port: str) -> Array:
        """A port's value over every step computed so far (later steps are not yet filled)."""
        return self.values[(node_id, port)]

    def records(self, name: str) -> dict[str, Array]:
        """What each node keeps per step under ``name`` (``NodeType.records``), by node id, as
        far as walked: ``(T, B, …)``, rows after the steps computed still zeros."""
        return recorded(self.executor.graph, self.values, name)

    @property
    def alignments(self) -> dict[str, Array]:
        """Each attention's alignment weights walked so far, by node id: ``(T_query, B,
        T_memory)`` as in ``Run.alignments``, its rows filled up to the query steps computed
        (zeros after them). ``detail(UnrolledKey(node, t))["alignment"]`` is row ``t``
        ``(B, T_memory)``; stepping back zeroes it again."""
        return self.records("alignment")

    # --- the walk -----------------------------------------------------------------------------

    def _writes_of(
        self, step: Step, cell_plans
    ) -> list[tuple[tuple[str, str], int | None, slice | None]]:
        """What ``step`` writes in place: (value key, row or ``None`` for a whole final state,
        columns or ``None`` for all of them)."""
        writes = []
        for key in step.copies:
            op = self.executor.ops[key.node]
            if key.t is None or isinstance(op, SequenceInputOp):
                continue  # a vector's values, an input's sequence: added, never written over
            plan = cell_plans.get((key.node, key.direction))
            if plan is not None:
                writes.append((plan.y, key.t, plan.columns))
                if key.t == plan.last:
                    writes += [((key.node, port), None, plan.columns) for port in op.final_ports]
            elif isinstance(op, OutputOp):
                writes.append(((key.node, "prediction"), key.t, None))
            else:
                ports = (*op.node_type.outputs, *op.node_type.records)
                writes += [((key.node, port.name), key.t, None) for port in ports]
        return writes

    @staticmethod
    def _cut(unrolled) -> list[Step]:
        """The plan as steps of time (see the module docstring): consecutive segments on one
        axis are walked together, each copy as soon as the copies it reads are computed,
        earliest step first; a vector node is a step of its own."""
        steps: list[Step] = []
        runs: list[list[UnrolledSegment]] = []
        for segment in unrolled.plan:
            if runs and segment.axis is not None and runs[-1][0].axis == segment.axis:
                runs[-1].append(segment)
            else:
                runs.append([segment])
        for run in runs:
            segment_of = {key: segment for segment in run for key in segment.copies}
            rank = {key: i for i, key in enumerate(segment_of)}  # the plan's order within a step
            for copies in _time_major(unrolled, segment_of, rank):
                segments = tuple(dict.fromkeys(segment_of[key] for key in copies))
                steps.append(Step(run[0].axis, copies[0].t, copies, segments))
        return steps

    def _inputs_at(self, node_id: str, t: int | None) -> dict[str, Array]:
        values = self.values
        return {
            port: values[source][t : t + 1] if (sequence and t is not None) else values[source]
            for port, source, sequence in self.wiring[node_id]
        }

    def _put(
        self, node_id: str, port: str, t: int, value: Array, width: slice | None = None
    ) -> Array:
        """Store ``value`` as step ``t`` of a port's values; returns that stored step."""
        values = self.values.get((node_id, port))
        if values is None:
            steps = self.run.length(self.executor.axis_of(node_id))
            shape = (steps, *value.shape)
            if width is not None:
                shape = (*shape[:-1], self.executor.ops[node_id].out_shapes[port].width)
            values = self.values[(node_id, port)] = np.zeros(shape, dtype=value.dtype)
        if width is None:
            values[t] = value
            return values[t]
        values[t, ..., width] = value
        return values[t, ..., width]

    def _handler(self, op):
        """How one copy of a node is computed (chosen once per node, not per copy)."""
        for kind, handler in (
            (SequenceInputOp, self._input_copy),
            (CellOp, self._cell_step),
            (DelayOp, self._delay_copy),
            (DenseOp, self._dense_copy),
            (OutputOp, self._output_copy),
        ):
            if isinstance(op, kind):
                return handler
        if op.axis is not None:
            steps, reads = self.run.length(op.axis), op.node_type.source_steps
            if any(reads(t, steps) != (t,) for t in range(steps)):
                return self._whole_copy
        return self._generic_copy

    def _vector_copy(self, op, key: UnrolledKey) -> None:
        """A vector node: everything it reads is complete."""
        outputs, _ = op.forward(self.run, self._inputs_at(key.node, None))
        for port, value in outputs.items():
            self.values[(key.node, port)] = value
        self.details[key] = dict(outputs)
        if isinstance(op, OutputOp) and key.node in self.run.predictions:
            self.details[key] = {"prediction": self.run.predictions[key.node]}

    def _input_copy(self, op, key: UnrolledKey) -> None:
        if (key.node, "y") not in self.values:
            outputs, _ = op.forward(self.run, {})
            self.values[(key.node, "y")] = outputs["y"]
        self.details[key] = {"y": self.values[(key.node, "y")][key.t]}

    def _delay_copy(self, op, key: UnrolledKey) -> None:
        value = self._delay_step(op, key.t)
        self._put(key.node, "y", key.t, value)
        self.details[key] = {"y": value}

    def _dense_copy(self, op, key: UnrolledKey) -> None:
        t, where = key.t, (key.node, "y")
        x_t = self.values[self._x_source[key.node]][t]
        stored = self.values.get(where)
        if stored is None:  # the first step: its result gives the shape of every row
            y = op.step(self.run, self.prepared[key.node], x_t)
            self.details[key] = {"y": self._put(key.node, "y", t, y)}
        else:  # computed straight into this step's row
            self.details[key] = {"y": op.step(self.run, self.prepared[key.node], x_t, stored[t])}

    def _output_copy(self, op, key: UnrolledKey) -> None:
        t, where = key.t, (key.node, "prediction")
        source = self.values[self._x_source[key.node]]
        if op.settings["loss"] == "mse" and source.dtype.kind == "f":
            # the prediction is the input itself: the same array, filled as its source is
            self.values[where] = source
            self.details[key] = {"prediction": source[t]}
            return
        x = dense(source[t], op.width("x"), self.run.dtype)
        prediction = x if op.settings["loss"] == "mse" else op.predict(x)
        self.details[key] = {"prediction": self._put(key.node, "prediction", t, prediction)}

    def _generic_copy(self, op, key: UnrolledKey) -> None:
        run, t = self.run, key.t
        run.step = t  # so that ops see the mask of this step only
        try:
            outputs, _ = op.forward(run, self._inputs_at(key.node, t))
        finally:
            run.step = None
        if "y" in outputs and outputs["y"].shape[0] != 1:  # Repeat: one step of its copies
            outputs = {"y": outputs["y"][:1]}
        for port, value in outputs.items():
            self._put(key.node, port, t, value[0])
        self.details[key] = {port: value[0] for port, value in outputs.items()}

    def _whole_copy(self, op, key: UnrolledKey) -> None:
        """A copy that reads other steps than its own (``NodeType.source_steps``, e.g. one that
        reverses time): its op runs on the whole inputs as computed so far and row ``t`` is kept.
        The unrolled DAG puts every step it may read before it, so those rows are filled."""
        inputs = {port: self.values[source] for port, source, _ in self.wiring[key.node]}
        outputs, _ = op.forward(self.run, inputs)
        for port, value in outputs.items():
            self._put(key.node, port, key.t, value[key.t])
        self.details[key] = {port: value[key.t] for port, value in outputs.items()}

    def _cell_step(self, plan: _CellPlan, key: UnrolledKey) -> None:
        run, t, op = self.run, key.t, plan.op
        state = self.states.get(plan.state_key)
        if state is None:
            inputs = self._inputs_at(key.node, t)
            state = op.initial_states(
                run, {p: v for p, v in inputs.items() if p != "x"}, run.batch_size, plan.direction
            )
        prepared = self.prepared[key.node][plan.suffix]
        x_t = projected = None
        if plan.projects:
            every_step = self._projected.get(plan.state_key)
            if every_step is None:
                x = dense(self.values[plan.x_source], op.width("x"), run.dtype)
                every_step = self._projected[plan.state_key] = op.cell.project(prepared, x)
            projected = every_step[t]
        else:
            x_t = self.values[plan.x_source][t]
            if x_t.dtype.kind in "iu":  # token ids straight into a cell
                x_t = dense(x_t, op.width("x"), run.dtype)
        outputs = self.values.get(plan.y)
        if outputs is None:
            outputs = self.values[plan.y] = np.zeros(
                (plan.steps, run.batch_size, plan.width), dtype=run.dtype
            )
        row = outputs[t] if plan.columns is None else outputs[t, :, plan.columns]
        if plan.mask is None:  # h straight into its row of the output
            _, new_state, detail = plan.step(prepared, x_t, state, row, projected)
        else:  # padded steps keep the state
            _, new_state, detail = plan.step(prepared, x_t, state, projected=projected)
            m = plan.mask[t]
            new_state = tuple(
                m * new + (1.0 - m) * old for new, old in zip(new_state, state, strict=True)
            )
            row[...] = new_state[0]
            new_state = (row, *new_state[1:])
            detail = {**detail, "h": row}
        self.states[plan.state_key] = new_state
        if t == plan.last:
            for k, port in enumerate(op.final_ports):
                part = new_state[k]
                if plan.columns is None:
                    self.values[(key.node, port)] = part
                else:
                    current = self.values.get((key.node, port))
                    if current is None:
                        current = np.zeros((run.batch_size, plan.width), dtype=part.dtype)
                    current[:, plan.columns] = part
                    self.values[(key.node, port)] = current
        self.details[key] = detail

    def _delay_step(self, op: DelayOp, t: int) -> Array:
        executor, run = self.executor, self.run
        (edge,) = executor.graph.edges_into(op.id, "x")
        source_key = (edge.src_node, edge.src_port)
        if op.id in self.forced:
            source = executor.teacher_input(run, op.id)
            forced = True
        else:
            source = self.values.get(source_key)
            forced = False
        tokens = source is not None and source.dtype.kind in "iu"
        if t == 0:
            return op.initial(run.batch_size, op.in_shapes["x"].width, run.dtype, tokens)
        previous = source[t - 1]
        in_loop = op.id in self._looped
        return previous if (forced or not in_loop) else executor.fed_back(run, op.id, previous)


def _time_major(unrolled, members: dict, rank: dict[UnrolledKey, int]):
    """The copies ``members`` in a topological order of the unrolled DAG that takes the
    earliest step first (then the plan's order), grouped into runs of one step. Edges into
    teacher-forced Delays are not waited for: those read their targets."""
    dag, forced = unrolled.dag, unrolled.forced
    waiting: dict[UnrolledKey, int] = {}
    ready: list[tuple[int, int, UnrolledKey]] = []
    for key in members:
        count = 0
        if key.node not in forced:
            count = sum(1 for source, _ in dag.in_edges(key) if source in members)
        waiting[key] = count
        if count == 0:
            heapq.heappush(ready, (_t(key), rank[key], key))
    group: list[UnrolledKey] = []
    while ready:
        _, _, key = heapq.heappop(ready)
        if group and group[-1].t != key.t:
            yield tuple(group)
            group = []
        group.append(key)
        for target in dag.successors(key):
            if target in waiting and target.node not in forced:
                waiting[target] -= dag.number_of_edges(key, target)
                if waiting[target] == 0:
                    heapq.heappush(ready, (_t(target), rank[target], target))
    if group:
        yield tuple(group)


def _t(key: UnrolledKey) -> int:
    return -1 if key.t is None else key.t

"""Unrolling: the folded graph expanded over time into the DAG that runs and is drawn.

For given lengths of the time axes, every node whose values are sequences becomes one copy per
step, keyed ``UnrolledKey(node, t, direction)``; nodes with vector values appear once
(``t=None``). A bidirectional cell has a ``forward`` and a ``reverse`` copy at each step, since
the two run in opposite orders; every other node has direction ``""``.

Edges of the unrolled DAG (a ``networkx.MultiDiGraph``; the attribute ``kind`` says which):

* ``data``: a wire of the folded graph at one step — from ``(u, s)`` to ``(v, t)`` for each step
  ``s`` that ``v``'s type reads at ``t`` (``NodeType.source_steps``: ``t`` itself, unless the
  type reorders time), or for every step ``s`` of ``u``'s axis into a port that reads its
  sequence whole (``PortSpec.whole_axis``: each copy of an attention reads every step of its
  memory, on another axis); from a vector to the first step of a cell's initial-state port (the
  last step for the reverse direction) or to every step of a Repeat; from the last step (Last
  step) or every step (Mean over time) into a reducer; from a cell's last step to the
  consumers of its final state;
* ``state``: a cell's recurrence, from ``(cell, t-1)`` to ``(cell, t)`` (``t+1`` to ``t`` in
  reverse);
* ``delay``: a Delay's input at ``t-1`` to the Delay at ``t``.

Every copy of a node shares that node's weights; :attr:`UnrolledGraph.sharing` counts them.

The DAG carries its plan (:mod:`rnn_builder.graph.plan`): :attr:`UnrolledGraph.plan` holds each
segment with its copies in the order they run, and the schedule is those copies one segment
after another. So what is drawn, stepped and run is one order: a topological order of the DAG
(less the edges into teacher-forced Delays, which read their targets instead).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, NamedTuple

import networkx as nx

from rnn_builder import collector
from rnn_builder.errors import GraphInvalidError, UnrollError
from rnn_builder.graph.model import Graph
from rnn_builder.graph.nodes import MAX_STEPS, SEQ, VEC, Shape
from rnn_builder.graph.plan import Plan, Segment, plan_for
from rnn_builder.graph.validation import ValidationReport, validate

MAX_UNROLLED_NODES = 2_000_000


class UnrolledKey(NamedTuple):
    """One copy of a node: at step ``t`` (``None`` for vector nodes), in a direction."""

    node: str
    t: int | None
    direction: str = ""

    def label(self) -> str:
        """``lstm@3``, ``gru@2:reverse``, ``dense``."""
        if self.t is None:
            return self.node
        suffix = f":{self.direction}" if self.direction == "reverse" else ""
        return f"{self.node}@{self.t}{suffix}"


@dataclass(frozen=True)
class WeightSharing:
    """How many copies of a node use its one set of weights."""

    node: str
    copies: int  # copies per direction: the number of uses of each weight
    directions: int
    parameters: int  # distinct trainable numbers of the node (all directions)

    @property
    def unshared_parameters(self) -> int:
        """What the copies would need if each had weights of its own."""
        return self.parameters * self.copies


@dataclass(frozen=True)
class UnrolledSegment:
    """A segment of the plan laid out in the unrolled DAG: its copies in the order they run
    (a step loop: step after step, its nodes in order inside each step; a reverse direction
    from the last step to the first), and the length of its axis."""

    segment: Segment
    copies: tuple[UnrolledKey, ...]
    steps: int | None  # None: a vector node, run once

    @property
    def kind(self) -> str:
        return self.segment.kind

    @property
    def nodes(self) -> tuple[str, ...]:
        return self.segment.nodes

    @property
    def axis(self) -> str | None:
        return self.segment.axis

    @property
    def is_loop(self) -> bool:
        return self.segment.is_loop

    def label(self, graph: Graph) -> str:
        """``whole sequence · reader · 20 steps``, ``step loop · decoder → scores ↻ previous
        · 12 steps``, ``once · head``: what runs, in the nodes' names."""
        segment = self.segment
        name = {n: graph.node(n).name for n in segment.nodes}
        if self.steps is None:
            return f"once · {name[segment.node]}"
        steps = f"{self.steps} step{'s' if self.steps != 1 else ''}"
        if not segment.is_loop:
            directions = {key.direction for key in self.copies}
            both = ", both ways" if len(directions) > 1 else ""
            return f"{segment.kind} · {name[segment.node]} · {steps}{both}"
        body = " → ".join(name[n] for n in segment.nodes if n not in segment.delays)
        back = ", ".join(name[n] for n in segment.delays)
        return f"{segment.kind} · {body} ↻ {back} · {steps}"


@dataclass
class UnrolledGraph:
    """The time-indexed DAG of a graph for given axis lengths, with its plan and schedule."""

    graph: Graph
    report: ValidationReport
    steps: dict[str, int]
    dag: nx.MultiDiGraph
    plan: tuple[UnrolledSegment, ...]
    sharing: dict[str, WeightSharing] = field(default_factory=dict)
    forced: frozenset[str] = frozenset()  # the teacher-forced Delays the plan was made for

    @cached_property
    def schedule(self) -> list[UnrolledKey]:
        """Every copy in the order it runs: the plan's segments one after another."""
        return [key for segment in self.plan for key in segment.copies]

    def segment_of(self, key: UnrolledKey) -> UnrolledSegment:
        """The segment that runs a copy."""
        for segment in self.plan:
            if key.node in segment.nodes:
                return segment
        raise KeyError(key)

    @property
    def node_count(self) -> int:
        return self.dag.number_of_nodes()

    @property
    def edge_count(self) -> int:
        return self.dag.number_of_edges()

    def edge_counts(self) -> dict[str, int]:
        counts = {"data": 0, "state": 0, "delay": 0}
        for _u, _v, kind in self.dag.edges(data="kind"):
            counts[kind] += 1
        return counts

    @property
    def parameter_count(self) -> int:
        return self.report.parameter_count

    @property
    def shared_parameter_count(self) -> int:
        """Parameters used by more than one copy (the weights shared across time)."""
        return sum(s.parameters for s in self.sharing.values() if s.copies > 1)

    @property
    def unshared_parameter_count(self) -> int:
        """Parameters an unrolled network would need if no copy shared weights."""
        return sum(s.unshared_parameters for s in self.sharing.values())

    def copies_of(self, node_id: str) -> list[UnrolledKey]:
        return [k for k in self.schedule if k.node == node_id]

    def steps_of(self, t: int, axis: str | None = None) -> list[UnrolledKey]:
        """Copies at step ``t`` (of one axis, or of every axis)."""
        axes = self.report.node_axes
        return [k for k in self.schedule if k.t == t and (axis is None or axes.get(k.node) == axis)]

    def summary(self) -> dict[str, Any]:
        return {
            "steps": dict(self.steps),
            "nodes": self.node_count,
            "edges": self.edge_count,
            "edge_kinds": self.edge_counts(),
            "parameters": self.parameter_count,
            "shared_parameters": self.shared_parameter_count,
            "unshared_parameters": self.unshared_parameter_count,
        }

    def to_json(self) -> dict[str, Any]:
        nodes = []
        for key in self.schedule:
            data = self.dag.nodes[key]
            nodes.append(
                {
                    "id": key.label(),
                    "node": key.node,
                    "t": key.t,
                    "direction": key.direction,
                    "type": data["type"],
                    "axis": data["axis"],
                }
            )
        edges = [
            {
                "from": u.label(),
                "to": v.label(),
                "kind": data["kind"],
                "src_port": data["src_port"],
                "dst_port": data["dst_port"],
            }
            for u, v, data in self.dag.edges(data=True)
        ]
        return {
            **self.summary(),
            "sharing": {
                node: {"copies": s.copies, "directions": s.directions, "parameters": s.parameters}
                for node, s in self.sharing.items()
            },
            "plan": [
                {
                    "kind": segment.kind,
                    "nodes": list(segment.nodes),
                    "axis": segment.axis,
                    "steps": segment.steps,
                    "label": segment.label(self.graph),
                }
                for segment in self.plan
            ],
            "schedule": [k.label() for k in self.schedule],
            "unrolled_nodes": nodes,
            "unrolled_edges": edges,
        }

    def to_dot(self) -> str:
        """Graphviz text: copies in columns by step, state and delay edges dashed."""
        lines = ["digraph unrolled {", "  rankdir=LR;", '  node [shape=box, fontname="Helvetica"];']
        by_step: dict[int | None, list[UnrolledKey]] = {}
        for key in self.schedule:
            by_step.setdefault(key.t, []).append(key)
            name = self.graph.node(key.node).name
            step = "" if key.t is None else f"\\nt={key.t}"
            if key.direction == "reverse":
                step += " (reverse)"
            lines.append(f'  {_dot_id(key.label())} [label="{_dot_escape(name)}{step}"];')
        for t, keys in by_step.items():
            if t is not None:
                ids = " ".join(_dot_id(k.label()) for k in keys)
                lines.append(f"  {{ rank=same; {ids} }}")
        styles = {"data": "", "state": " [style=dashed]", "delay": " [style=dotted]"}
        for u, v, kind in self.dag.edges(data="kind"):
            lines.append(f"  {_dot_id(u.label())} -> {_dot_id(v.label())}{styles[kind]};")
        lines.append("}")
        return "\n".join(lines) + "\n"


def _dot_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def _dot_id(text: str) -> str:
    return f'"{_dot_escape(text)}"'


def axis_lengths(report: ValidationReport, steps: int | Mapping[str, int] | None) -> dict[str, int]:
    """Resolve ``steps`` (one length for every axis, or lengths by axis id) against the axes:
    the one place that decides how long each time axis is, and the limits (1 to
    :data:`MAX_STEPS`), for the unroller, the executor's passes and the views alike."""
    lengths = {axis.id: axis.default_steps for axis in report.axes.values()}
    if steps is None:
        pass
    elif isinstance(steps, Mapping):
        for axis_id, length in steps.items():
            if axis_id not in lengths:
                known = ", ".join(lengths) or "none"
                raise UnrollError(f"there is no time axis '{axis_id}' (axes: {known})")
            lengths[axis_id] = length
    else:
        lengths = dict.fromkeys(lengths, steps)
    for axis_id, length in lengths.items():
        if isinstance(length, bool) or not isinstance(length, int):
            raise UnrollError(f"the length of axis '{axis_id}' must be a whole number")
        if not 1 <= length <= MAX_STEPS:
            raise UnrollError(
                f"the length of axis '{axis_id}' must be between 1 and {MAX_STEPS}, not {length}"
            )
    return lengths


def unroll(
    graph: Graph,
    steps: int | Mapping[str, int] | None = None,
    report: ValidationReport | None = None,
    forced: frozenset[str] = frozenset(),
) -> UnrolledGraph:
    """Unroll a valid graph over ``steps`` (for every axis, or by axis id; defaults from the
    nodes' ``steps`` parameters), laying out its plan with the Delays ``forced`` teacher forced
    (none: loops run free, as at inference). Raises :class:`GraphInvalidError` on an invalid
    graph."""
    report = report if report is not None else validate(graph)
    if not report.ok:
        errors = report.errors
        raise GraphInvalidError(
            f"the graph cannot be unrolled while it has {len(errors)} "
            f"problem{'s' if len(errors) != 1 else ''}; first: {errors[0].message}",
            tuple(errors),
        )
    lengths = axis_lengths(report, steps)
    # tens of thousands of small acyclic objects would otherwise start repeated full
    # collections (measured: half the time of a 20,000-copy unroll)
    with collector.paused():
        return _Unroller(graph, report, lengths).run(plan_for(graph, report, forced))


class _Unroller:
    def __init__(self, graph: Graph, report: ValidationReport, lengths: dict[str, int]) -> None:
        self.graph = graph
        self.report = report
        self.lengths = lengths
        self.dag = nx.MultiDiGraph()
        self.edges: list[tuple[UnrolledKey, UnrolledKey, str, dict[str, str]]] = []
        self._directions = {
            node.id: graph.registry.get(node.type_name).directions(node.info()) for node in graph
        }

    def length(self, node_id: str) -> int:
        return self.lengths[self.report.node_axes[node_id]]

    def directions(self, node_id: str) -> tuple[str, ...]:
        return self._directions[node_id]

    def run(self, plan: Plan) -> UnrolledGraph:
        graph, report = self.graph, self.report
        total = sum(
            self.length(n.id) * len(self.directions(n.id)) if report.is_per_step(n.id) else 1
            for n in graph
        )
        if total > MAX_UNROLLED_NODES:
            raise UnrollError(
                f"unrolling would make {total:,} copies (at most {MAX_UNROLLED_NODES:,}): "
                "choose fewer steps"
            )
        for node in graph:
            node_type = graph.registry.get(node.type_name)
            attrs = {"type": node.type_name, "axis": report.node_axes.get(node.id)}
            if not report.is_per_step(node.id):
                self.dag.add_node(UnrolledKey(node.id, None), **attrs)
                continue
            length = self.length(node.id)
            for direction in self.directions(node.id):
                copies = [UnrolledKey(node.id, t, direction) for t in range(length)]
                self.dag.add_nodes_from(copies, **attrs)
                if node_type.recurrent:
                    pairs = itertools.pairwise(copies)
                    for before, after in pairs:
                        if direction == "reverse":
                            before, after = after, before
                        self._edge(before, after, "state", "state", "state")
        for edge in graph.edges:
            self._expand(edge)
        self.dag.add_edges_from(self.edges)
        laid_out = tuple(self._lay_out(segment) for segment in plan)
        return UnrolledGraph(
            graph, report, self.lengths, self.dag, laid_out, self._sharing(), plan.forced
        )

    def _lay_out(self, segment: Segment) -> UnrolledSegment:
        """A segment's copies in the order they run."""
        if segment.axis is None:
            return UnrolledSegment(segment, (UnrolledKey(segment.node, None),), None)
        length = self.lengths[segment.axis]
        if segment.is_loop:  # step by step, every node of the loop at each step
            copies = tuple(
                UnrolledKey(node, t, d)
                for t in range(length)
                for node in segment.nodes
                for d in self.directions(node)
            )
        else:  # each direction along its own way through time
            copies = tuple(
                UnrolledKey(segment.node, t, d)
                for d in self.directions(segment.node)
                for t in (range(length - 1, -1, -1) if d == "reverse" else range(length))
            )
        return UnrolledSegment(segment, copies, length)

    def _edge(self, u: UnrolledKey, v: UnrolledKey, kind: str, src_port: str, dst_port: str):
        attrs = {"kind": kind, "src_port": src_port, "dst_port": dst_port}
        self.edges.append((u, v, f"{src_port}->{dst_port}", attrs))

    def _sources_at(self, node_id: str, t: int) -> list[UnrolledKey]:
        return [UnrolledKey(node_id, t, d) for d in self.directions(node_id)]

    def _final(self, node_id: str) -> list[UnrolledKey]:
        """The copies holding a per-step node's final state (last step; step 0 in reverse)."""
        last = self.length(node_id) - 1
        return [
            UnrolledKey(node_id, 0 if d == "reverse" else last, d) for d in self.directions(node_id)
        ]

    def _expand(self, edge) -> None:
        graph, report = self.graph, self.report
        src, sp, dst, dp = edge
        shape = report.shapes.outputs.get((src, sp), Shape())
        src_per_step = report.is_per_step(src)
        dst_per_step = report.is_per_step(dst)
        dst_type = graph.node_type(dst)
        dst_port = dst_type.input_port(dp)

        def link(u: UnrolledKey, v: UnrolledKey, kind: str = "data") -> None:
            self._edge(u, v, kind, sp, dp)

        if shape.kind == SEQ and dst_per_step and dst_port is not None and dst_port.whole_axis:
            sources = [u for s in range(self.length(src)) for u in self._sources_at(src, s)]
            for t in range(self.length(dst)):
                for v in self._sources_at(dst, t):
                    for u in sources:
                        link(u, v)
        elif shape.kind == SEQ and dst_per_step:
            length = self.length(dst)
            for t in range(length):
                for source_t in dst_type.source_steps(t, length):
                    for u in self._sources_at(src, source_t):
                        for v in self._sources_at(dst, t):
                            link(u, v, "delay" if dst_type.shifts_time else "data")
        elif shape.kind == SEQ:  # into a reducer
            length = self.length(src)
            steps = [length - 1] if dst_type.reduces_time == "last" else range(length)
            for t in steps:
                for u in self._sources_at(src, t):
                    link(u, UnrolledKey(dst, None))
        elif shape.kind == VEC:
            sources = self._final(src) if src_per_step else [UnrolledKey(src, None)]
            if not dst_per_step:
                targets = [UnrolledKey(dst, None)]
            elif dst_port is not None and dst_port.role == "initial_state":
                last = self.length(dst) - 1
                targets = [
                    UnrolledKey(dst, last if d == "reverse" else 0, d) for d in self.directions(dst)
                ]
            else:  # broadcast to every step (Repeat)
                targets = [
                    UnrolledKey(dst, t, d)
                    for t in range(self.length(dst))
                    for d in self.directions(dst)
                ]
            for u in sources:
                for v in targets:
                    link(u, v)

    def _sharing(self) -> dict[str, WeightSharing]:
        sharing = {}
        for node_id, tensors in self.report.parameter_shapes.items():
            directions = len(self.directions(node_id))
            copies = self.length(node_id) if self.report.is_per_step(node_id) else 1
            parameters = sum(math.prod(shape) for shape in tensors.values())
            sharing[node_id] = WeightSharing(node_id, copies, directions, parameters)
        return sharing

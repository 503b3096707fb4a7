"""Unrolling: the folded graph expanded over time into the DAG that runs and is drawn.

For given lengths of the time axes, every node whose values are sequences becomes one copy per
step, keyed ``UnrolledKey(node, t, direction)``; nodes with vector values appear once
(``t=None``). A bidirectional cell has a ``forward`` and a ``reverse`` copy at each step, since
the two run in opposite orders; every other node has direction ``""``.

Edges of the unrolled DAG (a ``networkx.MultiDiGraph``; the attribute ``kind`` says which):

* ``data``: a wire of the folded graph at one step — from ``(u, s)`` to ``(v, t)`` for each step
  ``s`` that ``v``'s type reads at ``t`` (``NodeType.source_steps``: ``t`` itself, unless the
  type reorders time); from a vector to the first step of a cell's initial-state port (the
  last step for the reverse direction) or to every step of a Repeat; from the last step (Last
  step) or every step (Mean over time) into a reducer; from a cell's last step to the
  consumers of its final state;
* ``state``: a cell's recurrence, from ``(cell, t-1)`` to ``(cell, t)`` (``t+1`` to ``t`` in
  reverse);
* ``delay``: a Delay's input at ``t-1`` to the Delay at ``t``.

Every copy of a node shares that node's weights; :attr:`UnrolledGraph.sharing` counts them.
A topological order of the DAG (time-major where the dependencies allow) is the schedule.
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import networkx as nx

from rnn_builder import collector
from rnn_builder.errors import GraphInvalidError, UnrollError
from rnn_builder.graph.model import Graph
from rnn_builder.graph.nodes import MAX_STEPS, SEQ, VEC, Shape
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


@dataclass
class UnrolledGraph:
    """The time-indexed DAG of a graph for given axis lengths, with its schedule."""

    graph: Graph
    report: ValidationReport
    steps: dict[str, int]
    dag: nx.MultiDiGraph
    schedule: list[UnrolledKey]
    sharing: dict[str, WeightSharing] = field(default_factory=dict)

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


def _time_major_order(
    nodes: list[UnrolledKey], edges: list[tuple], order: dict[str, int]
) -> list[UnrolledKey]:
    """A topological order that runs step 0 of everything it can before step 1, and within a
    step follows the folded graph's node order (Kahn's algorithm with a priority queue)."""

    def rank(key: UnrolledKey) -> tuple[int, int, str]:
        return (-1 if key.t is None else key.t, order[key.node], key.direction)

    waiting = dict.fromkeys(nodes, 0)
    successors: dict[UnrolledKey, list[UnrolledKey]] = {key: [] for key in nodes}
    for u, v, *_ in edges:
        waiting[v] += 1
        successors[u].append(v)
    ready = [(rank(key), key) for key, count in waiting.items() if count == 0]
    heapq.heapify(ready)
    schedule = []
    while ready:
        _, key = heapq.heappop(ready)
        schedule.append(key)
        for successor in successors[key]:
            waiting[successor] -= 1
            if waiting[successor] == 0:
                heapq.heappush(ready, (rank(successor), successor))
    if len(schedule) != len(nodes):  # validation should make this impossible
        graph = nx.DiGraph((u, v) for u, v, *_ in edges)
        cycle = nx.find_cycle(graph)
        raise UnrollError(
            "the unrolled graph has a cycle ("
            + " → ".join(u.label() for u, *_ in cycle)
            + "); please report this graph"
        )
    return schedule


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
) -> UnrolledGraph:
    """Unroll a valid graph over ``steps`` (for every axis, or by axis id; defaults from the
    nodes' ``steps`` parameters). Raises :class:`GraphInvalidError` on an invalid graph."""
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
        return _Unroller(graph, report, lengths).run()


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

    def run(self) -> UnrolledGraph:
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
        order = {node_id: i for i, node_id in enumerate(graph.nodes)}
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
        schedule = _time_major_order(list(self.dag), self.edges, order)
        return UnrolledGraph(graph, report, self.lengths, self.dag, schedule, self._sharing())

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

        if shape.kind == SEQ and dst_per_step:
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

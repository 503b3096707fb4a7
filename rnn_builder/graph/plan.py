"""The plan: how a checked graph runs, as ordered segments of its unrolled DAG.

Every copy of a node on one time axis uses the same weights and, unless a feedback loop ties
it to other nodes' copies, depends on other nodes only at its own step. So most nodes run as a
*whole-sequence* segment: all their copies in one call (one matrix product for a Dense layer
or a cell's input projection over all steps), or a vector node's one copy. The nodes that a
feedback loop ties together (a strongly connected part of the folded graph, each cycle through
a Delay) form a *step-loop* segment: step by step along their axis, node after node inside each
step. Segments follow a topological order of the folded graph, ties broken by the graph's node
order, so the same graph always gives the same plan.

While training, a Delay whose input also feeds an Output (:func:`feedback_outputs`) may be
*teacher forced*: it reads that Output's target instead of the prediction. The plan for a set
of forced Delays cuts the edges into them, which breaks their loops into whole-sequence
segments. A plan depends only on the checked graph and the forced set: :func:`plan_for` builds
it once per report and forced set and keeps it on the report. The unroller lays each segment's
copies out for given axis lengths (:class:`~rnn_builder.graph.unroll.UnrolledSegment`), the
executor runs the segments, live stepping walks them, and the unrolled view draws them.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx

from rnn_builder.graph.model import Graph
from rnn_builder.graph.validation import ValidationReport, validate

WHOLE_SEQUENCE = "whole sequence"
STEP_LOOP = "step loop"


@dataclass(frozen=True)
class Segment:
    """Nodes that run together: one node's copies in one call (``WHOLE_SEQUENCE``; a vector
    node once), or the nodes of a feedback loop step by step in ``nodes`` order
    (``STEP_LOOP``) on ``axis``."""

    kind: str
    nodes: tuple[str, ...]
    axis: str | None  # None: a vector node, run once
    delays: tuple[str, ...] = ()  # a step loop: the Delays that feed it back

    @property
    def is_loop(self) -> bool:
        return self.kind == STEP_LOOP

    @property
    def node(self) -> str:
        """The first node (a whole-sequence segment's only one)."""
        return self.nodes[0]


@dataclass(frozen=True)
class Plan:
    """The segments of a graph in the order they run, with the Delays teacher forced."""

    segments: tuple[Segment, ...]
    forced: frozenset[str] = frozenset()

    def loop_of(self, node_id: str) -> Segment | None:
        """The step loop a node runs in, or ``None`` if it runs whole-sequence."""
        for segment in self.segments:
            if segment.is_loop and node_id in segment.nodes:
                return segment
        return None

    def __iter__(self):
        return iter(self.segments)

    def __len__(self) -> int:
        return len(self.segments)


def plan_for(
    graph: Graph, report: ValidationReport | None = None, forced: frozenset[str] = frozenset()
) -> Plan:
    """The plan of a valid graph with the Delays ``forced`` teacher forced; built once per
    report (that is, per revision of the graph) and forced set."""
    report = report if report is not None else validate(graph)
    forced = frozenset(forced)
    cached = report.plans.get(forced)
    if cached is None:
        cached = report.plans[forced] = _build(graph, report, forced)
    return cached


def feedback_outputs(graph: Graph) -> dict[str, str]:
    """For each Delay, the Output fed by the same value: the target it can be forced to."""
    tied = {}
    for node in graph:
        if not graph.node_type(node.id).shifts_time:
            continue
        sources = graph.edges_into(node.id, "x")
        if not sources:
            continue
        src = sources[0]
        for edge in graph.edges_out_of(src.src_node, src.src_port):
            if graph.node_type(edge.dst_node).is_output:
                tied[node.id] = edge.dst_node
                break
    return tied


def _build(graph: Graph, report: ValidationReport, forced: frozenset[str]) -> Plan:
    order = {node_id: i for i, node_id in enumerate(graph.nodes)}
    folded = nx.DiGraph()
    folded.add_nodes_from(graph.nodes)
    folded.add_edges_from((e.src_node, e.dst_node) for e in graph.edges if e.dst_node not in forced)
    condensed = nx.condensation(folded)
    segments = []
    for component in nx.lexicographical_topological_sort(
        condensed, key=lambda c: min(order[n] for n in condensed.nodes[c]["members"])
    ):
        nodes = sorted(condensed.nodes[component]["members"], key=order.__getitem__)
        if len(nodes) == 1 and not folded.has_edge(nodes[0], nodes[0]):
            node = nodes[0]
            segments.append(Segment(WHOLE_SEQUENCE, (node,), report.node_axes.get(node)))
            continue
        # inside a step, a Delay reads the step before: without the edges into Delays the loop
        # is acyclic, and its topological order is the order within each step
        inner = folded.subgraph(nodes).copy()
        delays = tuple(n for n in nodes if graph.node_type(n).shifts_time)
        inner.remove_edges_from([(u, v) for u, v in inner.edges if v in delays])
        step_order = tuple(nx.lexicographical_topological_sort(inner, key=order.__getitem__))
        axis = next(report.node_axes[n] for n in step_order if n in report.node_axes)
        segments.append(Segment(STEP_LOOP, step_order, axis, delays))
    return Plan(tuple(segments), forced)

"""Shape inference: what kind and width of value flows through every port of a graph.

Each node type's ``infer`` says what it knows of its outputs from what is known of its inputs;
this module runs those rules to a fixpoint with a worklist, so shapes flow around feedback
loops (a cell knows its output width before its input is known). A node whose parameters are
out of range infers nothing, so that one bad value does not spread odd shapes downstream; a port
with several wires uses the first (validation reports the rest).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from rnn_builder.graph.nodes import UNKNOWN, NodeType, Shape

PortKey = tuple[str, str]  # (node id, port name)


class GraphView(Protocol):
    """What shape inference reads of a graph (:class:`rnn_builder.graph.model.Graph` is one). Named
    here instead of imported: the graph infers shapes itself (``connect`` asks what kind a port
    carries), so importing it back would make the two modules a cycle."""

    @property
    def nodes(self) -> Mapping[str, Any]: ...

    @property
    def edges(self) -> Sequence[Any]: ...

    def node(self, node_id: str) -> Any: ...

    def node_type(self, node_id: str) -> NodeType: ...


@dataclass
class ShapeMap:
    """Inferred shapes of every output port, and of every wired input port."""

    outputs: dict[PortKey, Shape] = field(default_factory=dict)
    inputs: dict[PortKey, Shape] = field(default_factory=dict)

    def node_inputs(self, graph: GraphView, node_id: str) -> dict[str, Shape]:
        node_type = graph.node_type(node_id)
        return {
            p.name: self.inputs[(node_id, p.name)]
            for p in node_type.inputs
            if (node_id, p.name) in self.inputs
        }

    def node_outputs(self, graph: GraphView, node_id: str) -> dict[str, Shape]:
        node_type = graph.node_type(node_id)
        return {p.name: self.outputs.get((node_id, p.name), UNKNOWN) for p in node_type.outputs}


def params_in_range(graph: GraphView, node_id: str) -> bool:
    node, node_type = graph.node(node_id), graph.node_type(node_id)
    return all(
        spec.range_problem(node.params[spec.name]) is None
        for spec in node_type.params
        if spec.name in node.params
    )


def infer_shapes(graph: GraphView) -> ShapeMap:
    """Infer every port's shape; never raises on a bad graph (unknowns stay ``UNKNOWN``)."""
    feeds: dict[PortKey, PortKey] = {}  # input port -> the output port wired to it (first wire)
    successors: dict[str, set[str]] = {node_id: set() for node_id in graph.nodes}
    for edge in graph.edges:
        feeds.setdefault((edge.dst_node, edge.dst_port), (edge.src_node, edge.src_port))
        successors[edge.src_node].add(edge.dst_node)

    result = ShapeMap()
    usable = {node_id: params_in_range(graph, node_id) for node_id in graph.nodes}
    queue = deque(graph.nodes)
    queued = set(queue)
    # Each output shape only gains information (unknown -> known), so the loop ends; the bound
    # guards against a node type whose rule is not monotone.
    budget = 8 * (len(graph.nodes) + len(graph.edges)) + 16
    while queue and budget > 0:
        budget -= 1
        node_id = queue.popleft()
        queued.discard(node_id)
        node, node_type = graph.node(node_id), graph.node_type(node_id)
        inputs: dict[str, Shape] = {}
        for port in node_type.inputs:
            source = feeds.get((node_id, port.name))
            if source is not None:
                inputs[port.name] = result.outputs.get(source, UNKNOWN)
        outputs = node_type.infer(node.info(), inputs) if usable[node_id] else {}
        changed = False
        for port in node_type.outputs:
            shape = outputs.get(port.name, UNKNOWN)
            if result.outputs.get((node_id, port.name)) != shape:
                result.outputs[(node_id, port.name)] = shape
                changed = True
        if changed:
            for successor in successors[node_id]:
                if successor not in queued:
                    queue.append(successor)
                    queued.add(successor)
    for port_key, source in feeds.items():
        result.inputs[port_key] = result.outputs.get(source, UNKNOWN)
    return result

"""The time axes of a graph: which node starts each axis, which axis every sequence lives on,
and the check that sequences meet on one axis only. A part of the validator
(:class:`~rnn_builder.graph.checks.Validator`).

The one sanctioned crossing is an input port that reads a sequence whole (``PortSpec.
whole_axis``, an attention's memory): it is left out of the node's axis, of the sequences that
must meet on one axis, and of what feeds a feedback loop from outside (a decoder that attends
to its encoder still generates its own axis); a node's whole-axis inputs must share one axis.
"""

from __future__ import annotations

from collections import deque

import networkx as nx

from rnn_builder.graph.nodes import INPUTS_CATEGORY, SEQ, Shape
from rnn_builder.graph.report import TimeAxis
from rnn_builder.graph.shapes import params_in_range


class TimeAxes:
    """Time axes, for :class:`~rnn_builder.graph.checks.Validator`: ``assign_axes`` names the
    axis of every node and checks that sequences meet on one axis only."""

    def assign_axes(self) -> None:
        graph, report = self.graph, self.report
        shapes = report.shapes
        port_axes = report.port_axes
        for node in graph:
            node_type = graph.registry.get(node.type_name)
            if node_type.starts_axis and params_in_range(graph, node.id):
                kind = "input" if node_type.category == INPUTS_CATEGORY else "repeat"
                report.axes[node.id] = TimeAxis(node.id, kind, node.params["steps"])
                for port in node_type.outputs:
                    if shapes.outputs.get((node.id, port.name), Shape()).kind == SEQ:
                        port_axes[(node.id, port.name)] = node.id
        self._propagate_axes()
        # A loop through a Delay that no sequence from outside enters generates its own axis,
        # named after its first Delay. Decided per loop (strongly connected component), so the
        # answer does not depend on the order in which nodes were added.
        generated = False
        for component in self._loops(self.folded):
            delays = [
                n
                for n in graph.nodes
                if n in component
                and graph.node_type(n).shifts_time
                and self.incoming[n]
                and params_in_range(graph, n)
            ]
            if not delays or not a_cycle(self.folded.subgraph(component)):
                continue
            fed_from_outside = any(
                edge.dst_node in component
                and edge.src_node not in component
                and shapes.outputs.get((edge.src_node, edge.src_port), Shape()).kind == SEQ
                and not self._reads_whole(edge)
                for edge in graph.edges
            )
            if fed_from_outside:
                continue
            delay = graph.node(delays[0])
            report.axes[delay.id] = TimeAxis(delay.id, "generator", delay.params["steps"])
            port_axes[(delay.id, "y")] = delay.id
            generated = True
        if generated:
            self._propagate_axes()
        self._check_axes_meet()

    def _propagate_axes(self) -> None:
        graph, shapes, port_axes = self.graph, self.report.shapes, self.report.port_axes
        queue = deque(graph.nodes)
        queued = set(queue)
        while queue:
            node_id = queue.popleft()
            queued.discard(node_id)
            node_type = graph.node_type(node_id)
            if node_type.starts_axis:
                continue
            axis = next(
                (a for a in self._input_axes(node_id) if a is not None),
                None,
            )
            if axis is None:
                continue
            for port in node_type.outputs:
                key = (node_id, port.name)
                if shapes.outputs.get(key, Shape()).kind == SEQ and key not in port_axes:
                    port_axes[key] = axis
                    for succ in self.folded.successors(node_id):
                        if succ not in queued:
                            queue.append(succ)
                            queued.add(succ)

    def _input_axes(self, node_id: str, whole: bool = False) -> list[str | None]:
        """Axes of the sequences wired into a node (None where not yet known): those read a
        step at a time, which set its axis, or (``whole``) those read whole at every step."""
        shapes, port_axes = self.report.shapes, self.report.port_axes
        axes = []
        for edge in self.incoming[node_id]:
            if self._reads_whole(edge) != whole:
                continue
            if shapes.outputs.get((edge.src_node, edge.src_port), Shape()).kind == SEQ:
                axes.append(port_axes.get((edge.src_node, edge.src_port)))
        return axes

    def _reads_whole(self, edge) -> bool:
        """Whether the wire goes into a port that reads its sequence whole (``whole_axis``)."""
        return edge.dst_port in self.graph.node_type(edge.dst_node).whole_axis_ports()

    def _check_axes_meet(self) -> None:
        graph, report = self.graph, self.report
        for node in graph:
            node_type = graph.registry.get(node.type_name)
            inputs = report.shapes.node_inputs(graph, node.id)
            outputs = report.shapes.node_outputs(graph, node.id)
            if node_type.starts_axis:
                if node.id in report.axes:
                    report.node_axes[node.id] = node.id
                continue
            known = [a for a in self._input_axes(node.id) if a is not None]
            if node_type.is_per_step(inputs, outputs) and known:
                report.node_axes[node.id] = known[0]
            if len(set(known)) > 1:
                names = " and ".join(f"'{graph.node(a).name}'" for a in dict.fromkeys(known))
                self.add(
                    "axis_mismatch",
                    f"{self.describe(node.id)} joins sequences on different time axes (from "
                    f"{names}), which can have different lengths. Sequences may only meet on "
                    "one axis; to pass information between axes, go through a vector "
                    "(Last step, or a cell's h_n into another cell's h_0), or let an "
                    "Attention read the other axis's sequence whole as its memory.",
                    node.id,
                )
            whole = [a for a in self._input_axes(node.id, whole=True) if a is not None]
            if len(set(whole)) > 1:
                names = " and ".join(f"'{graph.node(a).name}'" for a in dict.fromkeys(whole))
                self.add(
                    "axis_mismatch",
                    f"{self.describe(node.id)} reads whole sequences on different time axes "
                    f"(from {names}): what it reads whole at every step (an attention's "
                    "memory and values) must be one sequence's steps, on one axis.",
                    node.id,
                )


def a_cycle(subgraph: nx.DiGraph) -> list[str]:
    """The nodes of one cycle in a strongly connected subgraph, in order ([] if none)."""
    try:
        edges = nx.find_cycle(subgraph)
    except nx.NetworkXNoCycle:
        return []
    return [u for u, _v, *_ in edges]

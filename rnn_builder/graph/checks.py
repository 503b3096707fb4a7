"""The validator: each check of :func:`~rnn_builder.graph.validation.validate`, in the order
they run, adding a ``Problem`` for each thing found.
"""

from __future__ import annotations

from dataclasses import replace

import networkx as nx

from rnn_builder.graph.budget import budget_problems, memory_budget, memory_problems
from rnn_builder.graph.footprint import Workload
from rnn_builder.graph.layouts import layout_of
from rnn_builder.graph.model import Graph
from rnn_builder.graph.nodes import SEQ, VEC, Shape
from rnn_builder.graph.report import CODES, Problem, Severity, ValidationReport
from rnn_builder.graph.shapes import infer_shapes, params_in_range
from rnn_builder.graph.time_axes import TimeAxes, a_cycle
from rnn_builder.graph.wiring import KIND_WORDS


class Validator(TimeAxes):
    """Runs every check on one graph and builds its report (see :func:`run`)."""

    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        self.report = ValidationReport()
        self.problems = self.report.problems
        self.folded = nx.DiGraph()
        self.folded.add_nodes_from(graph.nodes)
        self.folded.add_edges_from((e.src_node, e.dst_node) for e in graph.edges)
        self.incoming: dict[str, list] = {node_id: [] for node_id in graph.nodes}
        for edge in graph.edges:  # once, rather than a scan of every wire per node
            self.incoming[edge.dst_node].append(edge)

    def add(
        self,
        code: str,
        message: str,
        node: str | None = None,
        port: str | None = None,
        severity: Severity = "error",
        nodes: tuple[str, ...] = (),
    ) -> None:
        assert code in CODES, code
        self.problems.append(Problem(code, message, node, port, severity, nodes))

    def describe(self, node_id: str) -> str:
        return self.graph.describe(node_id)

    def run(self) -> ValidationReport:
        graph = self.graph
        if not graph.nodes:
            self.add(
                "empty_graph",
                "The graph is empty: drag an input, a recurrent cell and an Output from the "
                "palette and wire them.",
            )
            return self.report
        self.report = replace(self.report, shapes=infer_shapes(graph))  # the same problems list
        self.check_params()
        self.check_ports()
        self.check_node_rules()
        self.check_cycles()
        self.assign_axes()
        self.check_reachability()
        self.check_advice()
        if self.report.ok:
            self.check_undetermined()
        self.collect_parameter_shapes()
        if self.report.ok:
            self.check_memory()
        if self.report.ok:  # the same problems list: a report is one value from here on
            self.report = replace(self.report, layout=layout_of(graph, self.report.node_axes))
        return self.report

    # --- checks -----------------------------------------------------------------------------

    def check_params(self) -> None:
        for node in self.graph:
            node_type = self.graph.registry.get(node.type_name)
            for spec in node_type.params:
                problem = spec.range_problem(node.params[spec.name])
                if problem is not None:
                    self.add(
                        "param_out_of_range",
                        f"{self.describe(node.id)}: {problem}.",
                        node.id,
                    )

    def check_ports(self) -> None:
        shapes = self.report.shapes
        for node in self.graph:
            node_type = self.graph.registry.get(node.type_name)
            for position, port in enumerate(node_type.inputs):
                wires = [e for e in self.incoming[node.id] if e.dst_port == port.name]
                kinds = " or a ".join(KIND_WORDS[k] for k in sorted(port.kinds))
                if not wires and port.required:
                    if position == 0 and sum(p.required for p in node_type.inputs) == 1:
                        message = (
                            f"{self.describe(node.id)} has no input: connect a {kinds} to its "
                            f"{port.name} port."
                        )
                    else:
                        message = (
                            f"{self.describe(node.id)} has nothing at its {port.name} port: "
                            f"connect a {kinds} to it."
                        )
                    self.add("missing_input", message, node.id, port.name)
                if len(wires) > 1:
                    sources = ", ".join(self.describe(w.src_node) for w in wires)
                    self.add(
                        "multiple_inputs",
                        f"{self.describe(node.id)} receives {len(wires)} wires at {port.name} "
                        f"(from {sources}): an input takes one wire, so remove the others "
                        "(use Concat to join values).",
                        node.id,
                        port.name,
                    )
                for wire in wires[:1]:
                    kind = shapes.outputs.get((wire.src_node, wire.src_port), Shape()).kind
                    if kind is not None and kind not in port.kinds:
                        self.add(
                            "kind_mismatch",
                            f"{self.describe(node.id)} takes a {kinds} at {port.name}, but "
                            f"{self.describe(wire.src_node)} gives a {KIND_WORDS[kind]}"
                            f"{_KIND_HINTS[kind]}.",
                            node.id,
                            port.name,
                        )

    def check_node_rules(self) -> None:
        shapes = self.report.shapes
        for node in self.graph:
            if not params_in_range(self.graph, node.id):
                continue
            node_type = self.graph.registry.get(node.type_name)
            inputs = shapes.node_inputs(self.graph, node.id)
            for found in node_type.check(node.info(), inputs):
                self.add(found.code, found.message, node.id, found.port, found.severity)

    def check_cycles(self) -> None:
        graph = self.graph
        delays = {n.id for n in graph if graph.registry.get(n.type_name).shifts_time}
        without_delays = self.folded.subgraph(n for n in self.folded if n not in delays)
        for component in self._loops(without_delays):
            cycle = a_cycle(without_delays.subgraph(component))
            if not cycle:
                continue
            path = " → ".join(graph.node(n).name for n in (*cycle, cycle[0]))
            self.add(
                "cycle_without_delay",
                f"Feedback loop without a Delay: {path}. A step cannot depend on itself; put a "
                "Delay on the loop so that each step sees the previous one.",
                cycle[0],
                nodes=tuple(cycle),
            )
        shapes = self.report.shapes
        for component in self._loops(self.folded):
            if not (component & delays) or not a_cycle(self.folded.subgraph(component)):
                continue
            delay = next(n for n in graph.nodes if n in component and n in delays)
            for node_id in (n for n in graph.nodes if n in component):
                node = graph.node(node_id)
                node_type = graph.registry.get(node.type_name)
                if not node_type.is_step_local(node.info()):
                    self.add(
                        "feedback_not_causal",
                        f"{self.describe(node_id)} reads later steps (a bidirectional "
                        "cell's reverse direction does) but sits on the feedback loop through "
                        f"{self.describe(delay)}, where they have not been produced yet: make "
                        "it unidirectional or move it off the loop.",
                        node_id,
                        nodes=tuple(n for n in graph.nodes if n in component),
                    )
            for edge in graph.edges:  # a sequence read whole, from inside the loop
                if edge.src_node not in component or edge.dst_node not in component:
                    continue
                if edge.dst_port in graph.node_type(edge.dst_node).whole_axis_ports():
                    self.add(
                        "feedback_not_causal",
                        f"{self.describe(edge.dst_node)} reads every step of "
                        f"{self.describe(edge.src_node)} at each of its own steps ({edge.dst_port}"
                        f"), but both sit on the feedback loop through {self.describe(delay)}, "
                        "where later steps have not been produced yet: take it from outside the "
                        "loop (an encoder's y).",
                        edge.dst_node,
                        edge.dst_port,
                        nodes=tuple(n for n in graph.nodes if n in component),
                    )
            for edge in graph.edges:  # one problem per loop: the first vector on it
                if edge.src_node not in component or edge.dst_node not in component:
                    continue
                if shapes.outputs.get((edge.src_node, edge.src_port), Shape()).kind == VEC:
                    self.add(
                        "feedback_not_causal",
                        f"The feedback loop through {self.describe(delay)} passes through a "
                        f"vector ({self.describe(edge.src_node)} → {self.describe(edge.dst_node)}"
                        "): a vector stands for the whole sequence, so a step would depend on "
                        "later steps. Keep a feedback loop on sequences.",
                        edge.dst_node,
                        edge.dst_port,
                        nodes=tuple(n for n in graph.nodes if n in component),
                    )
                    break

    @staticmethod
    def _loops(graph: nx.DiGraph) -> list[set[str]]:
        """The strongly connected parts that hold a cycle (a single node only with a
        self-loop): the usual graph has none, and checking each node alone would be slow."""
        return [
            c
            for c in nx.strongly_connected_components(graph)
            if len(c) > 1 or graph.has_edge(next(iter(c)), next(iter(c)))
        ]

    def check_reachability(self) -> None:
        graph = self.graph
        inputs = [n.id for n in graph.inputs()]
        outputs = [n.id for n in graph.outputs()]
        if not inputs:
            self.add(
                "no_input",
                "The graph has no input: add a Sequence input or a Vector input for the data "
                "to enter.",
            )
        if not outputs:
            self.add(
                "no_output",
                "The graph has no Output: add one to say what the network predicts and how it "
                "is scored (its loss).",
            )
        useful: set[str] = set()
        unwired = {p.node for p in self.problems if p.code == "missing_input"}
        for output in outputs:
            ancestors = nx.ancestors(self.folded, output)
            useful |= ancestors | {output}
            if (ancestors | {output}) & unwired:
                continue  # the missing wire is the cause, and is reported already
            if inputs and not any(i in ancestors for i in inputs):
                self.add(
                    "unreachable_output",
                    f"{self.describe(output)} is not reached from any input, so no data can "
                    "get to it: wire a path from an input to it.",
                    output,
                )
        if outputs and not any(output in unwired for output in outputs):
            # (while an Output waits for its wire, everything upstream looks unused: no noise)
            for node in graph:
                if node.id not in useful:
                    self.add(
                        "unused_node",
                        f"{self.describe(node.id)} leads to no Output, so its result is "
                        "unused; wire it on towards an Output or delete it.",
                        node.id,
                        severity="warning",
                    )

    def check_advice(self) -> None:
        graph = self.graph
        targets: dict[str, str] = {}
        for node in graph.outputs():
            target = graph.node_type(node.id).target(node)
            if target in targets:
                self.add(
                    "duplicate_target",
                    f"{self.describe(node.id)} and {self.describe(targets[target])} are "
                    f"both compared with the target '{target}'; give each output its own "
                    "target unless that is what you mean.",
                    node.id,
                    severity="warning",
                )
            targets.setdefault(target, node.id)
        for edge in graph.edges:
            src = graph.node(edge.src_node)
            dst = graph.node(edge.dst_node)
            if (
                src.params.get("activation") == "softmax"
                and graph.node_type(dst.id).is_output
                and dst.params["loss"] == "cross_entropy"
            ):
                self.add(
                    "double_softmax",
                    f"{self.describe(src.id)} applies a softmax, and the cross-entropy of "
                    f"{self.describe(dst.id)} applies one again, which slows learning: set "
                    "the Dense activation to identity.",
                    src.id,
                    severity="warning",
                )
            if (
                graph.node_type(dst.id).reduces_time == "last"
                and edge.src_port == "y"
                and src.params.get("bidirectional") is True
            ):
                self.add(
                    "bidirectional_last_step",
                    f"{self.describe(dst.id)} takes the last step of bidirectional "
                    f"{self.describe(src.id)}, whose reverse half has then read only the last "
                    "element. Use the cell's h_n, which holds both directions' final states.",
                    dst.id,
                    severity="warning",
                )

    def check_undetermined(self) -> None:
        shapes = self.report.shapes
        for node in self.graph:
            node_type = self.graph.registry.get(node.type_name)
            unknown = [
                p.name
                for p in node_type.outputs
                if not shapes.outputs.get((node.id, p.name), Shape()).known
            ]
            per_step_unknown = any(
                shapes.outputs.get((node.id, p.name), Shape()).kind == SEQ
                and (node.id, p.name) not in self.report.port_axes
                for p in node_type.outputs
            )
            if unknown or per_step_unknown:
                port = unknown[0] if unknown else None
                self.add(
                    "shape_undetermined",
                    f"The {'width' if unknown else 'time axis'} of {self.describe(node.id)} "
                    "cannot be worked out: it depends on itself around a loop. Put a layer with "
                    "a fixed width (a Dense or a cell) on the loop.",
                    node.id,
                    port,
                )

    def check_memory(self) -> None:
        """Whether running one example fits the machine's memory budget (``footprint``)."""
        budget = memory_budget()
        self.problems += budget_problems(budget)
        self.problems += memory_problems(self.graph, self.report, Workload(), budget)

    def collect_parameter_shapes(self) -> None:
        graph, shapes = self.graph, self.report.shapes
        for node in graph:
            node_type = graph.registry.get(node.type_name)
            if not node_type.has_weights or not params_in_range(graph, node.id):
                continue
            inputs = shapes.node_inputs(graph, node.id)
            if any(not s.known for s in inputs.values()) or not inputs:
                continue
            self.report.parameter_shapes[node.id] = node_type.parameter_shapes(node.info(), inputs)


_KIND_HINTS = {
    SEQ: " (Last step or Mean over time turns a sequence into a vector)",
    VEC: " (Repeat turns a vector into a sequence)",
}

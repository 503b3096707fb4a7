"""Validation: every problem of a graph, each tied to the node and port it concerns.

``validate(graph)`` never raises on a bad graph; it returns a :class:`ValidationReport` with
the problems (a code, a message for someone learning, the node and port), the inferred shapes,
the time axes and the trainable parameter shapes. The checks, in the order they run:

* parameters in range;
* every required input wired, at most one wire per input, sequences only into sequence ports;
* each node type's own rules (state widths, vocabularies, loss widths, ...);
* every cycle passes through a Delay, and a loop stays on one time axis, step by step (no
  vector or bidirectional cell on a loop, or a step would depend on later steps);
* two sequences that meet share a time axis;
* every output is reachable from an input; unused nodes are warned about;
* advice that is not an error (softmax before cross-entropy, last step of a bidirectional cell).

Time axes. A sequence input and a Repeat start an axis (named by their node id); cells, dense
layers, Delay and Concat keep their input's axis. A Delay on a feedback loop that no other
sequence reaches starts a *generator* axis: a decoder generating from its own output.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field, replace
from typing import Literal

import networkx as nx

from rnn_builder.graph.model import Graph
from rnn_builder.graph.nodes import INPUTS_CATEGORY, SEQ, VEC, Shape
from rnn_builder.graph.shapes import PortKey, ShapeMap, infer_shapes, params_in_range

Severity = Literal["error", "warning"]

# Every code validation can report, with what it means. Tests provoke each one.
CODES: dict[str, str] = {
    "empty_graph": "the graph has no nodes",
    "no_input": "the graph has no input node",
    "no_output": "the graph has no Output node",
    "param_out_of_range": "a parameter value outside its allowed range",
    "missing_input": "a required input port has no wire",
    "multiple_inputs": "an input port has more than one wire",
    "kind_mismatch": "a sequence meets a vector port, or the other way round",
    "width_mismatch": "a state wired with the wrong width",
    "tokens_required": "an Embedding fed real-valued features",
    "vocabulary_mismatch": "an Embedding and its tokens disagree on the vocabulary",
    "start_token_out_of_range": "a Delay's start token outside its input's width",
    "loss_width": "cross-entropy over fewer than two classes",
    "cycle_without_delay": "a feedback loop with no Delay on it",
    "feedback_not_causal": "a feedback loop through a vector or a bidirectional cell",
    "axis_mismatch": "two sequences on different time axes meet",
    "shape_undetermined": "a width that cannot be worked out",
    "unreachable_output": "an Output that no input reaches",
    "unused_node": "a node that leads to no Output (warning)",
    "double_softmax": "a softmax layer before a cross-entropy output (warning)",
    "bidirectional_last_step": "Last step of a bidirectional cell's sequence (warning)",
    "duplicate_target": "two outputs compared with the same target (warning)",
}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a graph."""

    code: str
    message: str
    node: str | None = None
    port: str | None = None
    severity: Severity = "error"
    nodes: tuple[str, ...] = ()  # every node concerned (the nodes on a cycle), node first

    def __str__(self) -> str:
        return self.message

    def to_json(self) -> dict:
        return {
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
            "node": self.node,
            "port": self.port,
            "nodes": list(self.nodes or ((self.node,) if self.node else ())),
        }


@dataclass(frozen=True)
class TimeAxis:
    """A clock that sequences live on. Its id is the id of the node that starts it."""

    id: str
    kind: Literal["input", "repeat", "generator"]
    default_steps: int


@dataclass(frozen=True)
class ValidationReport:
    """What :func:`validate` found: problems, shapes, time axes and parameters. A value: it is
    shared (cached on the graph, handed to the unroller, the executor, the data, the worker's
    copy) and never changed after :func:`validate` returns it."""

    problems: list[Problem] = field(default_factory=list)
    shapes: ShapeMap = field(default_factory=ShapeMap)
    axes: dict[str, TimeAxis] = field(default_factory=dict)
    port_axes: dict[PortKey, str] = field(default_factory=dict)  # sequence outputs -> axis id
    node_axes: dict[str, str] = field(default_factory=dict)  # per-step nodes -> axis id
    parameter_shapes: dict[str, dict[str, tuple[int, ...]]] = field(default_factory=dict)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def parameter_count(self) -> int:
        return sum(
            math.prod(shape)
            for tensors in self.parameter_shapes.values()
            for shape in tensors.values()
        )

    def problems_for(self, node_id: str) -> list[Problem]:
        return [p for p in self.problems if p.node == node_id or node_id in p.nodes]

    def is_per_step(self, node_id: str) -> bool:
        return node_id in self.node_axes


def validate(graph: Graph) -> ValidationReport:
    """Check a graph and return every problem found; never raises on a bad graph.

    The report is kept on the graph until its next edit (``graph.revision``; copies of the
    graph share it), so that asking again — the problems panel, Start, the executor, the data,
    the unroller — costs nothing."""
    cached = graph.checked
    if cached is not None and cached[0] == graph.revision:
        return cached[1]
    revision = graph.revision
    report = _Validator(graph).run()
    graph.checked = (revision, report)
    return report


class _Validator:
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
                kinds = " or a ".join(_KIND_WORDS[k] for k in sorted(port.kinds))
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
                            f"{self.describe(wire.src_node)} gives a {_KIND_WORDS[kind]}"
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
            cycle = _a_cycle(without_delays.subgraph(component))
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
            if not (component & delays) or not _a_cycle(self.folded.subgraph(component)):
                continue
            delay = next(n for n in graph.nodes if n in component and n in delays)
            for node_id in (n for n in graph.nodes if n in component):
                node = graph.node(node_id)
                node_type = graph.registry.get(node.type_name)
                if not node_type.is_step_local(node.info()):
                    self.add(
                        "feedback_not_causal",
                        f"{self.describe(node_id)} is bidirectional but sits on the feedback "
                        f"loop through {self.describe(delay)}: its reverse direction reads "
                        "steps that have not been produced yet. Make it unidirectional.",
                        node_id,
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
            if not delays or not _a_cycle(self.folded.subgraph(component)):
                continue
            fed_from_outside = any(
                edge.dst_node in component
                and edge.src_node not in component
                and shapes.outputs.get((edge.src_node, edge.src_port), Shape()).kind == SEQ
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

    def _input_axes(self, node_id: str) -> list[str | None]:
        """Axes of the sequences wired into a node (None where not yet known)."""
        shapes, port_axes = self.report.shapes, self.report.port_axes
        axes = []
        for edge in self.incoming[node_id]:
            if shapes.outputs.get((edge.src_node, edge.src_port), Shape()).kind == SEQ:
                axes.append(port_axes.get((edge.src_node, edge.src_port)))
        return axes

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
                    "(Last step, or a cell's h_n into another cell's h_0).",
                    node.id,
                )

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


_KIND_WORDS = {SEQ: "sequence", VEC: "vector"}
_KIND_HINTS = {
    SEQ: " (Last step or Mean over time turns a sequence into a vector)",
    VEC: " (Repeat turns a vector into a sequence)",
}


def _a_cycle(subgraph: nx.DiGraph) -> list[str]:
    """The nodes of one cycle in a strongly connected subgraph, in order ([] if none)."""
    try:
        edges = nx.find_cycle(subgraph)
    except nx.NetworkXNoCycle:
        return []
    return [u for u, _v, *_ in edges]

"""What validation finds, as values: every code it can report, a ``Problem`` tied to a node
and port, the ``TimeAxis`` sequences live on, and the frozen ``ValidationReport``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

from rnn_builder.graph.layouts import Layout
from rnn_builder.graph.shapes import PortKey, ShapeMap

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
    "width_mismatch": "a state wired with the wrong width, or a dot attention's unequal widths",
    "tokens_required": "an Embedding fed real-valued features",
    "vocabulary_mismatch": "an Embedding and its tokens disagree on the vocabulary",
    "start_token_out_of_range": "a Delay's start token outside its input's width",
    "loss_width": "cross-entropy over fewer than two classes",
    "cycle_without_delay": "a feedback loop with no Delay on it",
    "feedback_not_causal": (
        "a feedback loop through a vector or a bidirectional cell, or a whole sequence read "
        "from inside its own loop"
    ),
    "axis_mismatch": "two sequences on different time axes meet (but at a whole-axis port)",
    "shape_undetermined": "a width that cannot be worked out",
    "unreachable_output": "an Output that no input reaches",
    "unused_node": "a node that leads to no Output (warning)",
    "double_softmax": "a softmax layer before a cross-entropy output (warning)",
    "bidirectional_last_step": "Last step of a bidirectional cell's sequence (warning)",
    "duplicate_target": "two outputs compared with the same target (warning)",
    "memory_exceeded": "a run that needs more memory than this machine's budget",
    "memory_large": "a run that needs more than half the memory budget (warning)",
    "memory_budget_unreadable": "the memory budget's override is not a size (warning)",
}

# The codes of the memory a run needs: a graph's own report has those of running one example;
# a report for a workload (``validate(graph, workload)``) has that workload's instead.
MEMORY_CODES = frozenset({"memory_exceeded", "memory_large"})


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a graph."""

    code: str
    message: str
    node: str | None = None
    port: str | None = None
    severity: Severity = "error"
    nodes: tuple[str, ...] = ()  # every node concerned (the nodes on a cycle), node first
    fix: str | None = None  # "fit": fitting the graph to its data mends it (training.binding)

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
            **({"fix": self.fix} if self.fix else {}),
        }


@dataclass(frozen=True)
class TimeAxis:
    """A clock that sequences live on. Its id is the id of the node that starts it."""

    id: str
    kind: Literal["input", "repeat", "generator"]
    default_steps: int


@dataclass(frozen=True)
class ValidationReport:
    """What :func:`validate` found: problems, shapes, time axes, parameters and the layout. A
    value: it is shared (cached on the graph, handed to the unroller, the executor, the data,
    the worker's copy) and never changed after :func:`validate` returns it."""

    problems: list[Problem] = field(default_factory=list)
    shapes: ShapeMap = field(default_factory=ShapeMap)
    axes: dict[str, TimeAxis] = field(default_factory=dict)
    port_axes: dict[PortKey, str] = field(default_factory=dict)  # sequence outputs -> axis id
    node_axes: dict[str, str] = field(default_factory=dict)  # per-step nodes -> axis id
    parameter_shapes: dict[str, dict[str, tuple[int, ...]]] = field(default_factory=dict)
    layout: Layout | None = None  # which classic layout the graph is (None: it has errors)
    # plan.plan_for's plans of the checked graph, by teacher-forced set: built once per report
    plans: dict[frozenset[str], object] = field(default_factory=dict, compare=False, repr=False)
    # validate(graph, workload)'s reports for workloads, by workload and budget: once each
    for_workloads: dict[tuple, object] = field(default_factory=dict, compare=False, repr=False)

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

"""Validation: every problem of a graph, each tied to the node and port it concerns.

``validate(graph)`` never raises on a bad graph; it returns a :class:`ValidationReport` with
the problems (a code, a message for someone learning, the node and port), the inferred shapes,
the time axes and the trainable parameter shapes. The checks, in the order they run:

* parameters in range;
* every required input wired, at most one wire per input, sequences only into sequence ports;
* each node type's own rules (state widths, vocabularies, loss widths, ...);
* every cycle passes through a Delay, and a loop stays on one time axis, step by step (no
  vector or bidirectional cell on a loop, or a step would depend on later steps);
* two sequences that meet share a time axis, but for a port that reads a sequence whole
  (``PortSpec.whole_axis``: an attention's memory), the one sanctioned crossing, which must not
  come from inside its own feedback loop;
* every output is reachable from an input; unused nodes are warned about;
* advice that is not an error (softmax before cross-entropy, last step of a bidirectional cell);
* the memory a run needs, against the machine's budget (``footprint``): running one example
  (the weights, their gradients, one example's values), or, given a :class:`Workload` — a batch
  size, the axes' lengths, training or not — that workload.

Time axes. A sequence input and a Repeat start an axis (named by their node id); cells, dense
layers, Delay and Concat keep their input's axis. A Delay on a feedback loop that no other
sequence reaches starts a *generator* axis: a decoder generating from its own output.

The report's values are in ``report``, the checks in ``checks`` and ``time_axes``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from rnn_builder.graph.budget import memory_budget, memory_problems
from rnn_builder.graph.checks import Validator
from rnn_builder.graph.footprint import MemoryEstimate, Workload, estimate_workload
from rnn_builder.graph.layouts import Layout
from rnn_builder.graph.model import Graph
from rnn_builder.graph.report import (
    CODES,
    MEMORY_CODES,
    Problem,
    Severity,
    TimeAxis,
    ValidationReport,
)


def validate(graph: Graph, workload: Workload | None = None) -> ValidationReport:
    """Check a graph and return every problem found; never raises on a bad graph.

    Without ``workload``, the memory checked is that of running one example at the axes' own
    lengths, which anything that runs the graph needs; with it, that of the workload instead
    (training a project's batches, say), as far as the graph is otherwise valid.

    The report is kept on the graph until its next edit (``graph.revision``; copies of the
    graph share it), so that asking again — the problems panel, Start, the executor, the data,
    the unroller — costs nothing; a workload's, on that report, per workload and budget."""
    cached = graph.checked
    if cached is not None and cached[0] == graph.revision:
        report = cached[1]
    else:
        revision = graph.revision
        report = Validator(graph).run()
        graph.checked = (revision, report)
    if workload is None or not report.ok:
        return report
    budget = memory_budget()
    key = (workload.key(), budget.bytes)
    found = report.for_workloads.get(key)
    if found is None:
        problems = [p for p in report.problems if p.code not in MEMORY_CODES]
        problems += memory_problems(graph, report, workload, budget)
        ok = all(p.severity != "error" for p in problems)
        found = replace(report, problems=problems, layout=report.layout if ok else None)
        report.for_workloads[key] = found
    return found


def estimate_memory(
    graph: Graph,
    batch_size: int = 1,
    lengths: Mapping[str, int] | None = None,
    optimizer: str | None = None,
    report: ValidationReport | None = None,
    *,
    weight_decay: bool = False,
    float_bytes: int = 4,
    weight_copies: int = 0,
) -> MemoryEstimate:
    """The most memory, in bytes, that running ``graph`` on batches of ``batch_size`` with its
    time axes ``lengths`` long holds at once: training with ``optimizer``, or forward passes
    only (None). ``report``: the graph's, if at hand (its shapes and axes are read)."""
    workload = Workload(
        batch_size, dict(lengths or {}), optimizer, weight_decay, float_bytes, weight_copies
    )
    return estimate_workload(graph, workload, report if report is not None else validate(graph))


def classify(graph: Graph, report: ValidationReport | None = None) -> Layout | None:
    """The layout of a valid graph, or ``None`` if the graph has errors: the report's."""
    return (report if report is not None else validate(graph)).layout


__all__ = [
    "CODES",
    "Problem",
    "Severity",
    "TimeAxis",
    "ValidationReport",
    "Workload",
    "classify",
    "estimate_memory",
    "validate",
]

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

The report's values are in ``report``, the checks in ``checks`` and ``time_axes``.
"""

from __future__ import annotations

from rnn_builder.graph.checks import Validator
from rnn_builder.graph.layouts import Layout
from rnn_builder.graph.model import Graph
from rnn_builder.graph.report import CODES, Problem, Severity, TimeAxis, ValidationReport


def validate(graph: Graph) -> ValidationReport:
    """Check a graph and return every problem found; never raises on a bad graph.

    The report is kept on the graph until its next edit (``graph.revision``; copies of the
    graph share it), so that asking again — the problems panel, Start, the executor, the data,
    the unroller — costs nothing."""
    cached = graph.checked
    if cached is not None and cached[0] == graph.revision:
        return cached[1]
    revision = graph.revision
    report = Validator(graph).run()
    graph.checked = (revision, report)
    return report


def classify(graph: Graph, report: ValidationReport | None = None) -> Layout | None:
    """The layout of a valid graph, or ``None`` if the graph has errors: the report's."""
    return (report if report is not None else validate(graph)).layout


__all__ = ["CODES", "Problem", "Severity", "TimeAxis", "ValidationReport", "classify", "validate"]

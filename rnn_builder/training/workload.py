"""What running a project will hold: its batch size, the lengths of its time axes and whether it
trains, as a :class:`~rnn_builder.graph.footprint.Workload` for ``validate(graph, workload)``,
which checks its memory against the machine's budget before anything is made.

The batch size is the training settings'; the lengths are the data's longest sequences, which
a built-in task knows from its options without making the data (``Task.longest``), mapped to
the time axes as ``training.data.make_batch`` measures them. Data that cannot be told (none
chosen, a task unknown) leaves the axes at their nodes' own ``steps``; the data's own problem
is reported where the data is made, as before.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from rnn_builder.errors import RNNBuilderError
from rnn_builder.files.project import Project
from rnn_builder.graph.footprint import Workload
from rnn_builder.graph.model import Graph
from rnn_builder.graph.validation import ValidationReport, validate

Purpose = Literal["train", "evaluate", "predict", "step", "export"]

EVALUATION_BATCH = 256  # ``trainer.evaluate``'s batches when the command line evaluates
EXPORT_BATCH = 7  # the larger of the two batches an export's check runs (``export.checks``)
# An export holds the weights again: the model it writes (ONNX initialisers, the safetensors
# bytes) and the engine that checks it (ONNX Runtime's session, PyTorch's module).
EXPORT_WEIGHT_COPIES = 3
WHAT = {
    "train": "training",
    "evaluate": "evaluating",
    "predict": "predicting",
    "step": "stepping through an example",
    "export": "exporting and checking",
}


def axis_lengths_from_data(
    graph: Graph, report: ValidationReport, longest: Mapping[str, int]
) -> dict[str, int]:
    """Each time axis's length from the data's longest sequences (by input id and target
    name): an input's axis from that input, another axis (a Repeat's, a generator's) from the
    target of an Output on it, as ``make_batch`` pads them. Axes the data does not reach are
    left out (they keep their nodes' ``steps``)."""
    lengths = {}
    for axis in report.axes:
        if axis in longest:
            lengths[axis] = int(longest[axis])
            continue
        for node in graph.outputs():
            target = graph.node_type(node.id).target(node)
            if report.node_axes.get(node.id) == axis and target in longest:
                lengths[axis] = int(longest[target])
                break
    return lengths


def data_longest(project: Project, base: Path | None = None) -> dict[str, int]:
    """The longest sequence of each input and target of the project's data, from its task, by
    the key the graph reads it under (the data's binding); empty when the data cannot say."""
    from rnn_builder.training.tasks import task_of

    try:
        task, options = task_of(project, base, reading=False)  # from what the options keep
        longest = task.longest(options)
    except (RNNBuilderError, ValueError, TypeError):
        return {}
    keys = options.get("_keys") or {}
    return {keys.get(field, field): length for field, length in longest.items()}


def workload_of(project: Project, base: Path | None = None, purpose: Purpose = "train") -> Workload:
    """What ``purpose`` will hold for this project: training its batches (the settings' batch
    size and optimizer; truncated BPTT runs chunks of that many steps), evaluating in batches of
    :data:`EVALUATION_BATCH`, predicting or stepping one example (stepping in float64, as the
    editor explains in it), or exporting (the check's batches and the exported copies)."""
    graph, settings = project.graph, project.training
    report = validate(graph)
    lengths = axis_lengths_from_data(graph, report, data_longest(project, base))
    what = WHAT[purpose]
    if purpose == "train":
        if settings.truncated_bptt:
            lengths = {axis: min(n, settings.truncated_bptt) for axis, n in lengths.items()}
        return Workload(
            settings.batch_size,
            lengths,
            settings.optimizer,
            settings.weight_decay > 0,
            what=what,
        )
    if purpose == "evaluate":
        return Workload(EVALUATION_BATCH, lengths, what=what)
    if purpose == "step":
        return Workload(1, lengths, float_bytes=8, what=what)
    if purpose == "export":
        return Workload(EXPORT_BATCH, lengths, weight_copies=EXPORT_WEIGHT_COPIES, what=what)
    return Workload(1, lengths, what=what)


def validate_for(
    project: Project, base: Path | None = None, purpose: Purpose = "train"
) -> ValidationReport:
    """The project's graph checked, with the memory ``purpose`` will hold."""
    return validate(project.graph, workload_of(project, base, purpose))

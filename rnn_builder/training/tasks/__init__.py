"""Built-in tasks and user data, each a data set that a template (or any fitting graph) trains on.

A project's ``dataset`` reference names the data: a built-in task (``kind: builtin``), a CSV time
series (``kind: csv``, the file in ``name``), a text (``kind: text``), or a person's labelled
texts, tagged tokens, sequence pairs or numeric sequences (``tasks.own``, ``own_columns``,
``own_numbers``). :func:`load_dataset`
turns the reference into a :class:`~rnn_builder.training.data.Dataset` bound to the graph: its
fields renamed to the nodes that take them (``training.binding``), refused in words when they
do not fit. :func:`check_data` says what does not fit without reading any data.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rnn_builder.errors import DataError
from rnn_builder.files.data_options import TASK_OF_KIND
from rnn_builder.files.data_paths import DataFolder, data_folder
from rnn_builder.files.project import DatasetReference, Project
from rnn_builder.graph.report import Problem
from rnn_builder.graph.validation import validate
from rnn_builder.training.binding import (
    Binding,
    DataCheck,
    ParamChange,
    bind,
    fit_changes,
    reads_ahead,
)
from rnn_builder.training.data import Dataset, OnDemandExamples, Split
from rnn_builder.training.tasks.adding import AddingProblem
from rnn_builder.training.tasks.base import Task
from rnn_builder.training.tasks.entities import Entities
from rnn_builder.training.tasks.music import Arpeggio
from rnn_builder.training.tasks.numbers import Numbers
from rnn_builder.training.tasks.own import LabelledText, SequencePairs, TaggedTokens
from rnn_builder.training.tasks.own_numbers import NumericSequences
from rnn_builder.training.tasks.reversal import Reversal
from rnn_builder.training.tasks.sentiment import Sentiment
from rnn_builder.training.tasks.series import SeriesForecast
from rnn_builder.training.tasks.spirals import TwoSpirals
from rnn_builder.training.tasks.text import TextModel

TASKS: dict[str, Task] = {
    task.name: task
    for task in (
        TwoSpirals(),
        Arpeggio(),
        Sentiment(),
        Entities(),
        Numbers(),
        AddingProblem(),
        TextModel(),
        SeriesForecast(),
        Reversal(),
    )
}
# a person's files only (no template trains on one by default)
OWN_TASKS = (LabelledText(), TaggedTokens(), SequencePairs(), NumericSequences())
FILE_TASKS: dict[str, Task] = {task.name: task for task in OWN_TASKS}
KIND_TASKS = TASK_OF_KIND  # the task that reads each kind of file


Base = Path | DataFolder | None  # the project's folder; a plain one allows no file outside


def task_of(
    project: Project, base: Base = None, reading: bool = True
) -> tuple[Task, dict[str, Any]]:
    """The task a project trains on and its options (file paths resolved against ``base``,
    refused outside it unless it allows them when the caller will read the file, ``reading``:
    ``files.data_paths``; ``_keys``: each field's key as the graph reads it, by the binding,
    when the graph is valid)."""
    task, options = _task_and_options(project, base, reading)
    check = _check(project, task, options)
    if check is not None:
        options["_keys"] = check.binding.keys(project.graph)
    return task, options


def _task_and_options(
    project: Project, base: Base, reading: bool = True
) -> tuple[Task, dict[str, Any]]:
    """The task and its options; the data file's path among them, checked against the
    project's folder when it will be read (``reading``)."""
    reference = project.dataset
    if reference is None:
        raise DataError("this project has no data chosen: pick a task or a file to train on")
    options = dict(reference.options)
    if reference.kind == "builtin":
        task = TASKS.get(reference.name)
        if task is None:
            raise DataError(
                f"there is no built-in task '{reference.name}' (tasks: {', '.join(TASKS)})"
            )
        return task, options
    task = {**TASKS, **FILE_TASKS}[KIND_TASKS[reference.kind]]
    if reference.name:
        folder = data_folder(base)
        if folder is None:  # no project folder: read as given, from the working folder
            options["path"] = reference.name
            return task, options
        location = folder.check(reference.name) if reading else folder.locate(reference.name)
        options["path"] = str(location.path)
        if location.outside:  # allowed: read, but never quoted
            options["_outside"] = True
    return task, options


def load_dataset(project: Project, seed: int | None = None, base: Base = None) -> Dataset:
    """The project's data, generated or read, checked against its graph; what the task worked
    out (alphabet, normalisation, chosen columns) is kept with the project."""
    dataset = make_dataset(project, seed, base)
    keep_options(project, dataset)
    return dataset


def make_dataset(project: Project, seed: int | None = None, base: Base = None) -> Dataset:
    """:func:`load_dataset` without changing the project (safe on a copy, in any thread)."""
    task, options = _task_and_options(project, base)
    try:
        dataset = task.generate(project.training.seed if seed is None else seed, options)
    except DataError as error:
        if options.get("_outside") and error.quotes_file:
            raise DataError(_unquoted(error, task, options["path"]), quotes_file=False) from None
        raise
    report = validate(project.graph)
    explicit = project.dataset.binding if project.dataset is not None else {}
    check = bind(dataset.spec, project.graph, report, explicit, f"the {task.title} data")
    if not check.ok:
        raise DataError(check.errors[0].message)
    return bound(dataset, check.binding, project)


def _unquoted(error: DataError, task: Task, path: str) -> str:
    """A refusal of a file outside the project's folder, without what the file holds (a CSV
    error quoted the first line of /etc/passwd)."""
    line = getattr(error, "line", None)
    where = f"'{path}'" + (f", line {line}" if line is not None else "")
    return (
        f"{where}: cannot be read as {task.title.lower()} data (the reason is not shown: it "
        "would quote a file outside the project's folder; read it yourself with 'rnn-builder "
        "data FILE', or open it in the app's data view, to see why)"
    )


def bound(dataset: Dataset, binding: Binding, project: Project) -> Dataset:
    """``dataset`` with every example's fields under the keys the graph reads them by."""
    keys = binding.keys(project.graph)
    dataset.info["options"]["_keys"] = keys
    target = keys.get(dataset.target, dataset.target)
    if all(k == v for k, v in keys.items()):
        dataset.target = target
        return dataset

    def renamed(split: Split) -> Split:
        if isinstance(split.examples, OnDemandExamples):
            return Split(split.examples.renamed(keys))
        return Split([{keys.get(k, k): v for k, v in e.items()} for e in split.examples])

    return Dataset(
        dataset.name,
        dataset.spec,
        renamed(dataset.train),
        renamed(dataset.validation),
        dataset.metric,
        target,
        dataset.info,
    )


def _trained_on(project: Project, reference: DatasetReference) -> Project:
    """A copy of ``project`` that trains on ``reference`` (to ask what it would bind)."""
    scratch = project.copy()
    scratch.dataset = DatasetReference.checked(reference)
    return scratch


def check_data(
    project: Project, base: Base = None, reference: DatasetReference | None = None
) -> DataCheck | None:
    """What does not fit between the project's data (or ``reference``, as if it were the
    project's) and its graph, without reading the data (the widths of a file's data come from
    what reading it worked out, kept in its options). None when there is no data to check
    against, or the graph has errors of its own."""
    if reference is not None:
        project = _trained_on(project, reference)
    if project.dataset is None:
        return None
    try:
        task, options = _task_and_options(project, base, reading=False)
    except DataError as error:
        return DataCheck(None, Binding(), [Problem("data_not_read", str(error))])
    if task.not_read(options):
        message = (
            f"The {task.title} data has not been read yet, so its vocabulary and classes are not "
            "known: read it in the data view (or with the data command)"
        )
        return DataCheck(None, Binding(), [Problem("data_not_read", message, severity="warning")])
    return _check(project, task, options)


def _check(project: Project, task: Task, options: dict[str, Any]) -> DataCheck | None:
    report = validate(project.graph)
    if not report.ok or task.not_read(options):
        return None
    try:
        spec = task.spec(options)
    except (DataError, ValueError, TypeError, KeyError) as error:
        return DataCheck(None, Binding(), [Problem("data_not_read", f"The data options: {error}")])
    explicit = project.dataset.binding if project.dataset is not None else {}
    what = f"the {task.title} data"
    check = bind(spec, project.graph, report, explicit, what)
    if task.predicts_next_step:
        check.problems.extend(reads_ahead(project.graph, report, what))
    return check


def with_binding(
    project: Project, reference: DatasetReference, base: Base = None
) -> DatasetReference:
    """``reference`` with the binding it finds in ``project``'s graph kept in it (what the
    editor and ``edit --data`` store when data is chosen); the fields it names itself stay as
    they are. As given when the graph has problems of its own or the file is not read yet."""
    check = check_data(project, base, reference)
    if check is None or check.spec is None:
        return reference
    return DatasetReference(
        reference.kind,
        reference.name,
        reference.options,
        {**check.binding.as_dict(), **reference.binding},
    )


def fit_data(
    project: Project, base: Base = None, reference: DatasetReference | None = None
) -> tuple[DatasetReference, list[ParamChange]]:
    """What fitting the graph to the project's data (or to ``reference``, as if it were the
    project's) changes: the data reference with the binding the fit makes, and the parameters
    to set (none when the graph fits). A field bound to a node the graph no longer has
    (removed, or replaced by another) is bound afresh by the rules, so one fit mends it.
    Raises :class:`DataError` in words when there is nothing to fit to: no data, a file not
    read yet, or a graph with problems of its own."""
    if reference is not None:
        project = _trained_on(project, reference)
    reference = project.dataset
    if reference is None:
        raise DataError("this project has no data chosen: pick a task or a file to train on")
    graph = project.graph
    check = check_data(project, base)
    if check is not None and check.spec is not None:
        inputs = {n.id for n in graph.inputs()}
        outputs = {n.id for n in graph.outputs()}
        spec = check.spec
        kept = {
            f: n
            for f, n in reference.binding.items()
            if (f in spec.inputs and n in inputs) or (f in spec.targets and n in outputs)
        }
        if kept != reference.binding:
            check = check_data(
                project,
                base,
                DatasetReference(reference.kind, reference.name, reference.options, kept),
            )
    if check is None or check.spec is None:
        problem = check.problems[0].message if check is not None and check.problems else None
        raise DataError(problem or "the graph has problems of its own: fix them before fitting")
    changes = fit_changes(check.spec, graph, validate(graph), check.binding)
    fitted = DatasetReference(
        reference.kind, reference.name, reference.options, check.binding.as_dict()
    )
    return fitted, changes


def keep_options(project: Project, dataset: Dataset) -> None:
    """Keep what the task worked out while making ``dataset`` with ``project``'s data source."""
    project.keep_dataset_options(dataset.info["options"])


__all__ = [
    "FILE_TASKS",
    "KIND_TASKS",
    "TASKS",
    "Task",
    "bound",
    "check_data",
    "fit_data",
    "keep_options",
    "load_dataset",
    "make_dataset",
    "task_of",
    "with_binding",
]

"""Built-in tasks and user data, each a data set that a template (or any fitting graph) trains on.

A project's ``dataset`` reference names the data: a built-in task (``kind: builtin``), a CSV time
series (``kind: csv``, the file in ``name``) or a text (``kind: text``). :func:`load_dataset`
turns the reference into a :class:`~rnn_builder.training.data.Dataset` and
checks that it fits the graph.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rnn_builder.errors import DataError
from rnn_builder.files.project import Project
from rnn_builder.graph.validation import validate
from rnn_builder.training.data import Dataset, check_fits
from rnn_builder.training.tasks.adding import AddingProblem
from rnn_builder.training.tasks.base import Task
from rnn_builder.training.tasks.entities import Entities
from rnn_builder.training.tasks.music import Arpeggio
from rnn_builder.training.tasks.numbers import Numbers
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
    )
}
KIND_TASKS = {"csv": "csv_series", "text": "language_model"}


def task_of(project: Project, base: Path | None = None) -> tuple[Task, dict[str, Any]]:
    """The task a project trains on and its options (file paths resolved against ``base``)."""
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
    task = TASKS[KIND_TASKS[reference.kind]]
    if reference.name:
        path = Path(reference.name)
        if not path.is_absolute() and base is not None:
            path = base / path
        options["path"] = str(path)
    return task, options


def load_dataset(project: Project, seed: int | None = None, base: Path | None = None) -> Dataset:
    """The project's data, generated or read, checked against its graph; what the task worked
    out (alphabet, normalisation, chosen columns) is kept with the project."""
    dataset = make_dataset(project, seed, base)
    keep_options(project, dataset)
    return dataset


def make_dataset(project: Project, seed: int | None = None, base: Path | None = None) -> Dataset:
    """:func:`load_dataset` without changing the project (safe on a copy, in any thread)."""
    task, options = task_of(project, base)
    dataset = task.generate(project.training.seed if seed is None else seed, options)
    report = validate(project.graph)
    check_fits(dataset.spec, project.graph, report, f"the {task.title} data")
    return dataset


def keep_options(project: Project, dataset: Dataset) -> None:
    """Keep what the task worked out while making ``dataset`` with ``project``'s data source."""
    project.keep_dataset_options(dataset.info["options"])


__all__ = ["KIND_TASKS", "TASKS", "Task", "keep_options", "load_dataset", "make_dataset", "task_of"]

"""A person's own input, read and run as ``predict`` does: one parser for the CLI and the GUI.

``rnn-builder predict --input TEXT`` and the app's probe box both go through
:func:`read_input` (the project's task turns the text into an example: words for a token task,
numbers or a CSV file for a series, a chord for music) and :func:`predict` (the network's
prediction on that one example, in the task's words). So what the app shows for a typed
sentence is what the command line prints for it, by construction rather than by care.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rnn_builder.engine.executor import Executor
from rnn_builder.errors import DataError
from rnn_builder.files.project import Project
from rnn_builder.training.data import make_batch
from rnn_builder.training.tasks import Task, task_of
from rnn_builder.training.tasks.base import keyed

Array = np.ndarray


@dataclass(frozen=True)
class TypedInput:
    """What was typed, as the task reads it: the example and the options to decode with."""

    text: str
    task: Task
    options: dict[str, Any]
    example: dict[str, Array]


def reads_typed_input(task: Task) -> bool:
    """Whether a task can turn typed text into an example (the adding problem cannot)."""
    return type(task).encode is not Task.encode


def read_input(project: Project, text: str, base: Path | None = None) -> TypedInput:
    """Read ``text`` as the project's task reads typed input.

    Raises :class:`~rnn_builder.errors.DataError` with the reason (an unknown word, a bad
    number, a chord that does not exist) when it cannot. The project's data options must hold
    what the data set worked out (an alphabet, a normalisation): load the data set first.
    """
    task, options = task_of(project, base)
    if not reads_typed_input(task):
        raise DataError(f"the {task.title} task does not read typed input")
    if not text.strip():
        hint = f", like '{task.example_input}'" if task.example_input else ""
        raise DataError(f"type an input for the {task.title} task{hint}")
    return TypedInput(text, task, options, keyed(task.encode(text, options), options))


def prediction(executor: Executor, example: dict[str, Array]) -> tuple[Array, str]:
    """The first Output's prediction on one example (steps first for a sequence) and its id."""
    batch = make_batch([example], executor.report, executor.graph)
    run = executor.forward(batch, train=False)
    output, value = next(iter(run.predictions.items()))
    per_step = output in executor.report.node_axes
    return (value[:, 0] if per_step else value[0]), output


def predict(executor: Executor, typed: TypedInput) -> str:
    """The prediction on a typed input, in the task's words (what ``predict`` prints)."""
    value, _output = prediction(executor, typed.example)
    return typed.task.decode(value, typed.example, typed.options)

"""What a project keeps beside its file — trained weights (``.npz``) and training runs
(``.runs.json``) — read for a document, each checked and left out with its reason when it does
not fit (the project itself still opens)."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import NamedTuple

import numpy as np

from rnn_builder.errors import DataError, WeightsFileError
from rnn_builder.files.companions import runs_problem as runs_problem_of
from rnn_builder.files.companions import weights_problem as weights_problem_of
from rnn_builder.files.project import Project
from rnn_builder.files.serialization import MAX_FILE_BYTES
from rnn_builder.files.weights_file import read_weights
from rnn_builder.graph.model import Graph
from rnn_builder.graph.validation import validate
from rnn_builder.training.runs import RunRecord, runs_from_json
from rnn_builder.training.tasks.files import read_text


def weights_path(project_path: Path) -> Path:
    return project_path.with_suffix(".npz")


def runs_path(project_path: Path) -> Path:
    return project_path.with_suffix(".runs.json")


# Runs hold a few curves of floats; far more than years of training would write.
MAX_RUNS_BYTES = 64_000_000
MAX_RECOVERY_BYTES = MAX_FILE_BYTES + MAX_RUNS_BYTES  # a project and its runs


def parameter_shapes(graph: Graph) -> dict[str, tuple[int, ...]]:
    """``<node_id>.<name>`` -> shape of every parameter the graph has as it stands."""
    return {
        f"{node}.{name}": tuple(shape)
        for node, tensors in validate(graph).parameter_shapes.items()
        for name, shape in tensors.items()
    }


def read_weights_beside(
    path: Path, graph: Graph
) -> tuple[dict[str, np.ndarray] | None, str | None]:
    """Weights from an ``.npz``, checked before they are read (those of an earlier graph are
    kept, within a budget); ``(weights or None, why they were left out or None)``."""
    if not path.is_file():
        return None, None
    try:
        return read_weights(path, parameter_shapes(graph), strict=False), None
    except WeightsFileError as error:
        return None, f"The trained weights were not loaded: {error}"


def read_runs_beside(path: Path) -> tuple[list, str | None]:
    """Training runs from JSON beside a project; ``(runs, why they were left out or None)``."""
    if not path.is_file():
        return [], None
    try:
        return runs_from_json(json.loads(read_text(path, "the runs file", MAX_RUNS_BYTES))), None
    except DataError as error:
        return [], f"The training runs were not loaded: {error}"
    except (ValueError, RecursionError) as error:
        return [], f"The training runs were not loaded: '{path}' is damaged ({error})"


class Contents(NamedTuple):
    """What is kept with a project beside its graph, read before a document takes it."""

    weights: dict[str, np.ndarray] | None
    runs: list[RunRecord]
    problems: list[str]  # companions left out, and why
    unsaved: bool  # the weights are not in the project's file (recovered ones)


def read_companions(path: Path, project: Project) -> Contents:
    """Weights and runs saved with a project, if they are there, fit to read and the ones it
    was saved with (one that is not is left out, with its reason in ``problems``: the project
    itself opens). A set cut short, or a file put beside it since, is not the project's
    (``files.companions``)."""
    weights_file, runs_file = weights_path(path), runs_path(path)
    weights, weights_problem = read_weights_beside(weights_file, project.graph)
    runs, runs_problem = read_runs_beside(runs_file)
    weights_problem = weights_problem or weights_problem_of(project, weights_file, weights)
    runs_problem = runs_problem or runs_problem_of(project, runs_file, MAX_RUNS_BYTES)
    if weights_problem:
        weights = None
    if runs_problem:
        runs = []
    return Contents(weights, runs, [p for p in (weights_problem, runs_problem) if p], False)


def weights_bytes(weights: dict[str, np.ndarray]) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **weights)
    return buffer.getvalue()

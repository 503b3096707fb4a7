"""RNN Builder's core: recurrent networks as graphs, checked, classified, unrolled in time,
trained, run and exported.

This package never imports Qt (a test enforces it): everything the GUI does to a graph can be
done here and through ``python -m rnn_builder``. Its names are the library's one stable way in,
wherever the modules behind them move (``tests/test_public_api.py`` resolves every one, and runs
the README's example)::

    from rnn_builder import Executor, Trainer, load_dataset, new_project

The graph and the project files are imported with the package (the app and every command need
them). What runs, trains and exports a graph — NumPy kernels, the trainer, ``onnx`` — is
imported when one of its names is first used, so that ``import rnn_builder`` stays light: a
command that only validates never loads them, nor does the app until it trains or exports.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from rnn_builder.errors import (
    DataError,
    ExportError,
    GraphError,
    GraphInvalidError,
    ProjectFileError,
    RNNBuilderError,
    WeightsFileError,
    WiringError,
)
from rnn_builder.files.project import DatasetReference, Project, TrainingSettings
from rnn_builder.files.serialization import load, save
from rnn_builder.files.templates import new_project, template_names
from rnn_builder.graph.layouts import Layout
from rnn_builder.graph.model import Edge, Graph, Node
from rnn_builder.graph.plan import Plan, plan_for
from rnn_builder.graph.registry import NodeRegistry, default_registry
from rnn_builder.graph.unroll import UnrolledGraph, UnrolledKey, unroll
from rnn_builder.graph.validation import Problem, ValidationReport, classify, validate

__version__ = "0.1.0"

# The project file's reader and writer under names that say what they read in a namespace that
# also loads datasets and weights (``load`` and ``save`` stay, for the code that uses them).
load_project = load
save_project = save

# name → the module that defines it, imported on first use (see the module docstring)
_LAZY = {
    "Batch": "rnn_builder.engine.run",
    "Run": "rnn_builder.engine.run",
    "Executor": "rnn_builder.engine.executor",
    "Stepper": "rnn_builder.engine.stepping",
    "Dataset": "rnn_builder.training.data",
    "load_dataset": "rnn_builder.training.tasks",
    "Trainer": "rnn_builder.training.trainer",
    "Report": "rnn_builder.training.trainer",
    "TrainingResult": "rnn_builder.training.trainer",
    "Evaluation": "rnn_builder.training.trainer",
    "evaluate": "rnn_builder.training.trainer",
    "read_input": "rnn_builder.training.predict",
    "predict": "rnn_builder.training.predict",
    "save_weights": "rnn_builder.files.weights_file",
    "load_weights": "rnn_builder.export.weights_import",
    "export_onnx": "rnn_builder.export.onnx",
    "save_onnx": "rnn_builder.export.onnx",
    "check_onnx": "rnn_builder.export.onnx_check",
    "export_pytorch": "rnn_builder.export.pytorch",
}

if TYPE_CHECKING:  # the same names for type checkers and editors (a test keeps the two equal)
    from rnn_builder.engine.executor import Executor
    from rnn_builder.engine.run import Batch, Run
    from rnn_builder.engine.stepping import Stepper
    from rnn_builder.export.onnx import export_onnx, save_onnx
    from rnn_builder.export.onnx_check import check_onnx
    from rnn_builder.export.pytorch import export_pytorch
    from rnn_builder.export.weights_import import load_weights
    from rnn_builder.files.weights_file import save_weights
    from rnn_builder.training.data import Dataset
    from rnn_builder.training.predict import predict, read_input
    from rnn_builder.training.tasks import load_dataset
    from rnn_builder.training.trainer import (
        Evaluation,
        Report,
        Trainer,
        TrainingResult,
        evaluate,
    )


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'rnn_builder' has no attribute '{name}'")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # once: the next use is a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "Batch",
    "DataError",
    "Dataset",
    "DatasetReference",
    "Edge",
    "Evaluation",
    "Executor",
    "ExportError",
    "Graph",
    "GraphError",
    "GraphInvalidError",
    "Layout",
    "Node",
    "NodeRegistry",
    "Plan",
    "Problem",
    "Project",
    "ProjectFileError",
    "RNNBuilderError",
    "Report",
    "Run",
    "Stepper",
    "Trainer",
    "TrainingResult",
    "TrainingSettings",
    "UnrolledGraph",
    "UnrolledKey",
    "ValidationReport",
    "WeightsFileError",
    "WiringError",
    "__version__",
    "check_onnx",
    "classify",
    "default_registry",
    "evaluate",
    "export_onnx",
    "export_pytorch",
    "load",
    "load_dataset",
    "load_project",
    "load_weights",
    "new_project",
    "plan_for",
    "predict",
    "read_input",
    "save",
    "save_onnx",
    "save_project",
    "save_weights",
    "template_names",
    "unroll",
    "validate",
]

"""Checked, not hoped: import an exported ``model.py``, load its ``weights.safetensors`` strictly
and compare its predictions with our executor's on the project's validation examples (the same
two batches as the ONNX check, one of them padded). Needs torch, imported only when checking.
"""

from __future__ import annotations

import contextlib
import importlib.util
import itertools
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np

from rnn_builder.engine.executor import Executor
from rnn_builder.engine.run import Batch
from rnn_builder.errors import ExportError
from rnn_builder.export.checks import TOLERANCE, CheckResult, two_batches
from rnn_builder.files.project import Project
from rnn_builder.training.data import make_batch
from rnn_builder.training.tasks import make_dataset

if TYPE_CHECKING:
    import torch

_loaded = itertools.count()


def load_model(folder: Path) -> tuple[ModuleType, torch.nn.Module]:
    """The exported folder's ``model`` module (imported under a fresh name, so that two exports
    never share one) and its ``Model`` with the exported weights, loaded strictly."""
    from safetensors.torch import load_file

    folder = Path(folder)
    name = f"rnn_builder_exported_model_{next(_loaded)}"
    spec = importlib.util.spec_from_file_location(name, folder / "model.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and pickling-free tools look modules up here
    spec.loader.exec_module(module)
    model = module.Model()
    model.load_state_dict(load_file(str(folder / "weights.safetensors")), strict=True)
    return module, model


def torch_batch(batch: Batch, dtype: torch.dtype | None = None) -> dict[str, Any]:
    """Our :class:`Batch` as the exported ``forward``'s keyword arguments (floats as
    ``dtype``, float32 by default)."""
    import torch

    dtype = torch.float32 if dtype is None else dtype

    def tensor(value) -> torch.Tensor:
        value = torch.from_numpy(np.ascontiguousarray(value))
        return value.to(dtype) if value.is_floating_point() else value.long()

    return {
        "inputs": {k: tensor(v) for k, v in batch.inputs.items()},
        "targets": {k: tensor(v) for k, v in batch.targets.items()},
        "lengths": {
            axis: torch.from_numpy(np.asarray(mask).sum(axis=0).astype(np.int64))
            for axis, mask in batch.masks.items()
        },
        "steps": dict(batch.steps),
    }


def check_pytorch(
    project: Project, executor: Executor, folder: Path, base: Path | None = None
) -> CheckResult:
    """Compare the export in ``folder`` with ``executor.forward(train=False)``; ``executor``
    holds the weights it was exported with. A model that fails to load or run (a plug-in's
    form that writes wrong code) is :class:`ExportError`, naming what it raised, in one line."""
    import torch

    dataset = make_dataset(project, project.training.seed, base)
    examples = dataset.validation.examples or dataset.train.examples
    with _the_model_runs("load"):
        _module, model = load_model(folder)
    model.eval()
    graph, report = executor.graph, executor.report
    result = CheckResult(0.0, f"PyTorch {torch.__version__}", tolerance=TOLERANCE)
    sequence_ids = [n.id for n in graph.sequence_inputs()]
    for extra, chosen in enumerate(two_batches(examples, graph)):
        batch = make_batch(chosen, report, graph)
        batch.steps = {
            a.id: a.default_steps + extra for a in report.axes.values() if a.kind != "input"
        }
        expected = executor.forward(batch, train=False).predictions
        arguments = torch_batch(batch)
        with torch.no_grad(), _the_model_runs("run"):
            got = model.predictions(model(**arguments))
        for output_id, prediction in expected.items():
            if output_id not in got:
                raise ExportError(f"the exported model gives no output '{output_id}'")
            result.compared(got[output_id].double().numpy(), prediction)
        lengths = {k: int(np.asarray(batch.inputs[k]).shape[0]) for k in sequence_ids}
        lengths.update(batch.steps)
        result.batches.append((lengths, len(chosen)))
    return result


@contextlib.contextmanager
def _the_model_runs(what: str) -> Iterator[None]:
    """What the exported model.py raises (our checks run the user's plug-ins' code too) as
    :class:`ExportError`: the check failed, in one line, rather than an "internal error"."""
    try:
        yield
    except Exception as error:  # any exception of the generated code
        message = str(error).strip().splitlines()[0] if str(error).strip() else ""
        raise ExportError(
            f"the exported model fails when PyTorch {'loads' if what == 'load' else 'runs'} "
            f"it: {type(error).__name__}" + (f": {message}" if message else "")
        ) from error

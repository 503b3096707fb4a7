"""Checked, not hoped: run an exported model and our executor on the same data and compare.

Two batches of the project's validation examples, with different batch sizes and different
sequence lengths; the second cuts its sequences to unequal lengths, so padding is always
exercised where the graph reads sequences. Time axes that no input sets (Repeat, generating
decoders) get different step counts in the two batches too. Predictions are compared whole,
padded steps included; the result is the largest absolute difference. The model runs in ONNX
Runtime, or in ``onnx``'s reference evaluator where ONNX Runtime is not installed.

The feeds are the inputs the runtime lists (``session.get_inputs()``), as a user builds them:
a model that reads an input the list leaves out (an input with an initializer's default) fails
the check, since a user's feeds would leave it out too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import onnx

from rnn_builder.engine.executor import Executor
from rnn_builder.engine.run import Batch
from rnn_builder.errors import RNNBuilderError
from rnn_builder.export.checks import (
    TOLERANCE as TOLERANCE,  # re-exported: the tolerance of both checks
)
from rnn_builder.export.checks import CheckResult, two_batches
from rnn_builder.files.project import Project
from rnn_builder.training.data import make_batch
from rnn_builder.training.tasks import make_dataset


class OnnxCheckError(RNNBuilderError):
    """The exported model could not be run to check it."""


def check_onnx(
    project: Project,
    model: onnx.ModelProto,
    executor: Executor,
    base: Path | None = None,
    threads: int = 1,
) -> CheckResult:
    """Compare ``model`` with ``executor.forward(train=False)`` on the project's validation data
    (see the module docstring). ``executor`` holds the weights the model was exported with."""
    dataset = make_dataset(project, project.training.seed, base)
    examples = dataset.validation.examples or dataset.train.examples
    return compare(model, executor, examples, threads)


def compare(
    model: onnx.ModelProto, executor: Executor, examples: list[dict], threads: int = 1
) -> CheckResult:
    """:func:`check_onnx` on any examples (dicts of arrays by input node id, as in a data set)."""
    graph, report = executor.graph, executor.report
    run = _runner(model, threads)
    result = CheckResult(0.0, run.name)
    sequence_ids = [n.id for n in graph.sequence_inputs()]
    # onnx.reference ignores sequence_lens (onnx 1.23): padded batches cannot be checked there
    padded = run.name == "ONNX Runtime"
    if not padded:
        result.note = "padding not checked: the reference evaluator ignores sequence lengths"
    for extra, chosen in enumerate(two_batches(examples, graph, padded)):
        batch = make_batch(chosen, report, graph)
        batch.steps = {
            a.id: a.default_steps + extra for a in report.axes.values() if a.kind != "input"
        }
        expected = executor.forward(batch, train=False).predictions
        feeds = _feeds(batch, chosen, sequence_ids)
        if set(feeds) != set(run.inputs):
            raise OnnxCheckError(
                f"{run.name} lists the exported model's inputs as "
                f"{', '.join(sorted(run.inputs)) or 'none'}, but it reads "
                f"{', '.join(sorted(feeds))}: feeds built from its list would be wrong"
            )
        got = run(feeds)
        for output_id, prediction in expected.items():
            value = np.asarray(got[output_id], np.float64)
            if value.shape != prediction.shape:  # e.g. onnx.reference's Loop stacks wrongly
                raise OnnxCheckError(
                    f"{run.name} gives output '{output_id}' the shape {value.shape}, where our "
                    f"executor gives {prediction.shape}"
                )
            result.compared(value, prediction)
        lengths = {k: int(np.asarray(batch.inputs[k]).shape[0]) for k in sequence_ids}
        lengths.update(batch.steps)
        result.batches.append((lengths, len(chosen)))
    return result


def _feeds(batch: Batch, examples: list[dict], sequence_ids: list[str]) -> dict[str, Any]:
    feeds: dict[str, Any] = {}
    for key, value in batch.inputs.items():
        value = np.asarray(value)
        feeds[key] = value.astype(np.int64 if value.dtype.kind in "iu" else np.float32)
    for key in sequence_ids:
        feeds[f"{key}_lengths"] = np.array([len(e[key]) for e in examples], np.int32)
    for axis, steps in batch.steps.items():
        feeds[f"{axis}_steps"] = np.array(steps, np.int64)
    return feeds


class _Runner:
    name = ""
    inputs: tuple[str, ...] = ()  # the inputs the runtime asks for, as a user sees them

    def __call__(self, feeds: dict[str, Any]) -> dict[str, np.ndarray]:
        raise NotImplementedError


def _runner(model: onnx.ModelProto, threads: int) -> _Runner:
    """ONNX Runtime when importable, else ``onnx.reference`` (slow, but needs nothing more)."""
    names = [o.name for o in model.graph.output]
    try:
        import onnxruntime
    except ImportError:
        from onnx.reference import ReferenceEvaluator

        evaluator = ReferenceEvaluator(model)
        defaults = {t.name for t in model.graph.initializer}

        class Reference(_Runner):
            name = "onnx reference evaluator"
            inputs = tuple(i.name for i in model.graph.input if i.name not in defaults)

            def __call__(self, feeds):
                try:
                    results = evaluator.run(None, feeds)
                except Exception as error:  # its kernels raise whatever NumPy raises
                    raise OnnxCheckError(
                        f"onnx's reference evaluator cannot run the exported model "
                        f"({_first_line(error)}): install onnxruntime to check it"
                    ) from None
                return dict(zip(names, results, strict=True))

        return Reference()
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    try:
        session = onnxruntime.InferenceSession(
            model.SerializeToString(), options, providers=["CPUExecutionProvider"]
        )
    except Exception as error:  # ORT raises its own exception types, not importable by name
        raise OnnxCheckError(
            f"ONNX Runtime refuses the exported model: {_first_line(error)}"
        ) from None

    class Runtime(_Runner):
        name = "ONNX Runtime"
        inputs = tuple(i.name for i in session.get_inputs())

        def __call__(self, feeds):
            try:
                results = session.run(names, feeds)
            except Exception as error:  # as above: ORT's own exception types
                raise OnnxCheckError(
                    f"ONNX Runtime fails running the exported model: {_first_line(error)}"
                ) from None
            return dict(zip(names, results, strict=True))

    return Runtime()


def _first_line(error: Exception) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__

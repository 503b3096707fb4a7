"""An empty sequence (length 0) in a padded batch: the executor keeps a cell's initial state
through it and gives an empty attention memory no weight anywhere; the exported models must do
the same, and their checks must notice when they do not (a NaN once passed as a difference of
0: Python's ``max`` drops it)."""

from __future__ import annotations

import numpy as np
import pytest

from rnn_builder.engine.executor import Executor
from rnn_builder.export.checks import CheckResult
from rnn_builder.files.templates import new_project
from rnn_builder.training.data import make_batch
from rnn_builder.training.tasks import make_dataset

# a cell read to its last step, a bidirectional cell, attention of both kinds over the memory;
# with the fields on the input's time axis (a tagger's tags are as long as its words)
TEMPLATES = {
    "many_to_one": ["words"],
    "bidirectional_tagger": ["words", "tags"],
    "translation_attention": ["letters"],
    "translation_bahdanau": ["letters"],
}


def with_an_empty_sequence(name: str) -> tuple[Executor, list[dict]]:
    project = new_project(name)
    executor = Executor(project.graph, seed=0)
    data = make_dataset(project, 0)
    examples = [dict(example) for example in data.validation.examples[:4]]
    for field in TEMPLATES[name]:
        examples[1][field] = np.asarray(examples[1][field])[:0]
    return executor, examples


def test_a_nan_or_an_infinity_is_no_match():
    result = CheckResult(0.0, "test")
    result.compared(np.array([1.0, 2.0]), np.array([1.0, 2.0 + 1e-7]))
    assert result.ok and 0 < result.max_difference < 1e-6
    result.compared(np.array([np.nan, 2.0]), np.array([1.0, 2.0]))
    assert not result.ok and result.max_difference == np.inf
    again = CheckResult(0.0, "test")
    again.compared(np.array([1.0]), np.array([np.inf]))
    assert not again.ok


@pytest.mark.parametrize("name", TEMPLATES)
def test_the_onnx_model_gives_an_empty_sequence_what_the_executor_does(name):
    pytest.importorskip("onnxruntime")  # the reference evaluator ignores sequence lengths
    from rnn_builder.export.onnx import export_onnx
    from rnn_builder.export.onnx_check import compare

    executor, examples = with_an_empty_sequence(name)
    expected = executor.forward(make_batch(examples, executor.report, executor.graph), False)
    assert all(np.isfinite(v).all() for v in expected.predictions.values())
    result = compare(export_onnx(executor), executor, examples)
    assert result.ok, result.summary()


@pytest.mark.parametrize("name", TEMPLATES)
def test_the_pytorch_model_runs_and_trains_on_an_empty_sequence(name, tmp_path):
    """It gives the executor's predictions (packing takes no empty sequence; a softmax of only
    −∞ is NaN), and a training step's gradients are finite."""
    torch = pytest.importorskip("torch")
    from rnn_builder.export.pytorch import export_pytorch
    from rnn_builder.export.pytorch_check import load_model, torch_batch

    executor, examples = with_an_empty_sequence(name)
    project = new_project(name)
    export_pytorch(project, executor, tmp_path / "export")
    _module, model = load_model(tmp_path / "export")
    batch = make_batch(examples, executor.report, executor.graph)
    expected = executor.forward(batch, train=False).predictions
    model.eval()
    with torch.no_grad():
        got = model.predictions(model(**torch_batch(batch)))
    result = CheckResult(0.0, "PyTorch")
    for output_id, prediction in expected.items():
        result.compared(got[output_id].double().numpy(), prediction)
    assert result.ok, result.summary()
    model.train()
    model(**torch_batch(batch))["loss"].backward()
    grads = [p.grad for p in model.parameters() if p.grad is not None]
    assert grads and all(bool(torch.isfinite(g).all()) for g in grads)

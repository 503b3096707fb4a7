"""The gradient's travel back through time, measured on its own (issue 24): ‖∂L_T/∂h_t‖, the last
step's loss followed back, and a diagnosis that says what that measure shows — not the false
"exploding gradient" the whole loss's norms gave a well-trained tagger."""

from __future__ import annotations

import numpy as np
import pytest

from rnn_builder.engine.executor import Executor
from rnn_builder.engine.run import Batch
from rnn_builder.files.templates import new_project
from rnn_builder.graph.model import Graph
from rnn_builder.training.connectivity import connectivity, diagnose
from rnn_builder.training.data import make_batch
from rnn_builder.training.tasks import TASKS, load_dataset
from rnn_builder.training.trainer import Trainer


def build(cell: str) -> Graph:
    """The adding problem's graph with ``cell``: values → cell → h_n → Dense(1) → MSE."""
    graph = Graph()
    graph.add_node("sequence_input", node_id="values", params={"features": 2})
    graph.add_node(cell, node_id="memory", params={"hidden_size": 32})
    graph.add_node("dense", node_id="readout", params={"units": 1})
    graph.add_node("output", node_id="total", params={"loss": "mse", "target": "sum"})
    graph.connect("values", "y", "memory", "x")
    graph.connect("memory", "h_n", "readout", "x")
    graph.connect("readout", "y", "total", "x")
    return graph


def _norms(run, node="memory"):
    return np.asarray(run.state_grad_norms[node]["forward"])


def test_the_measure_is_the_last_steps_loss_alone_followed_back():
    """The same as ignoring every target but each sentence's last one (an independent way to
    take only that loss), step for step."""
    project = new_project("many_to_many_equal")
    dataset = load_dataset(project)
    executor = Executor(project.graph, seed=3)
    batch = make_batch(dataset.validation.examples[:16], executor.report, executor.graph)
    measured = np.asarray(connectivity(executor, batch)["tagger"]["forward"])
    targets = np.array(batch.targets["tags"])
    lengths = (targets >= 0).sum(axis=0)
    only_last = np.full_like(targets, -1)
    columns = np.arange(targets.shape[1])
    only_last[lengths - 1, columns] = targets[lengths - 1, columns]
    alone = Batch(batch.inputs, {"tags": only_last}, batch.masks)
    run = executor.forward(alone, train=True)
    executor.backward(run)
    np.testing.assert_allclose(measured, _norms(run, "tagger"), rtol=1e-5)


def test_a_trained_tagger_is_not_diagnosed_as_exploding():
    """A plain RNN tagger trained to a low loss: its whole loss's norm falls from the first
    step to the last because the losses do (the first/last ratio is in the hundreds), while the
    last step's loss followed back flows. The diagnosis rests on the second."""
    project = new_project("many_to_many_equal")
    project.training.epochs = 15
    dataset = load_dataset(project)
    executor = Executor(project.graph, seed=project.training.seed)
    result = Trainer(executor, dataset, project.training).train()
    assert result.val_metric > 0.97
    batch = make_batch(dataset.validation.examples[:64], executor.report, executor.graph)
    run = executor.forward(batch, train=True)
    executor.backward(run)
    whole = _norms(run, "tagger")
    grad_norm = float(np.linalg.norm(executor.store.grad_flat))
    flow = np.asarray(connectivity(executor, batch)["tagger"]["forward"])
    assert whole[0] / whole[-1] > 100  # what made the old diagnosis cry "exploding"
    found = diagnose(flow, grad_norm, gated=False)
    assert found.kind == "flows", found
    assert grad_norm < 1.0


def test_a_tanh_rnn_on_the_adding_problem_vanishes_and_is_told_its_own_remedies():
    dataset = TASKS["adding"].generate(0, {"steps": 100, "train": 64, "validation": 64})
    executor = Executor(build("rnn"), seed=0)
    batch = make_batch(dataset.validation.examples[:32], executor.report, executor.graph)
    assert connectivity(executor, batch) == {}  # every loss at the end: the step measures it
    run = executor.forward(batch, train=True)
    executor.backward(run)
    found = diagnose(_norms(run), 1.0, gated=False, measured="loss at the end")
    assert found.kind == "vanishing"
    remedies = " ".join(found.remedies)
    assert "gated cell" in remedies and "orthogonal" in remedies and "skip" in remedies
    assert "clipping" not in remedies  # clipping treats exploding only
    assert "Truncated BPTT is no remedy" in found.note


def test_a_relu_rnn_without_clipping_explodes_and_is_told_to_clip():
    """An IRNN (Le et al. 2015: ReLU, recurrent weights the identity) scaled to 1.1: each step
    back multiplies the gradient by about 1.1, so over 100 steps it grows ten thousand fold."""
    graph = build("rnn")
    graph.set_param("memory", "nonlinearity", "relu")
    dataset = TASKS["adding"].generate(0, {"steps": 100, "train": 64, "validation": 64})
    executor = Executor(graph, seed=0)
    weights = executor.get_parameters()
    weights["memory.weight_hh"] = (1.1 * np.eye(32)).astype(np.float32)
    weights["memory.bias_hh"][:] = 0.1
    executor.set_parameters(weights)
    batch = make_batch(dataset.validation.examples[:32], executor.report, executor.graph)
    run = executor.forward(batch, train=True)
    executor.backward(run)
    grad_norm = float(np.linalg.norm(executor.store.grad_flat))
    found = diagnose(_norms(run), grad_norm, gated=False, measured="loss at the end")
    assert found.kind == "exploding" and found.ratio > 1e3
    assert "clipping" in " ".join(found.remedies)
    assert not any("LSTM" in r or "gated" in r for r in found.remedies)


def test_a_gated_cell_that_vanishes_is_told_gating_mitigates_not_removes():
    found = diagnose(np.array([1e-9, 1e-4, 1.0]), 1.0, gated=True)
    assert found.kind == "vanishing" and "forget-gate bias" in " ".join(found.remedies)
    ungated = diagnose(np.array([1e-9, 1e-4, 1.0]), 1.0, gated=False)
    assert "mitigates" in ungated.remedies[0] and "fades too" in ungated.remedies[0]


@pytest.mark.parametrize("every", [0.0, 3600.0])
def test_reports_carry_the_measure_at_most_once_a_period(every):
    project = new_project("many_to_many_equal")
    project.training.epochs = 2
    dataset = load_dataset(project)
    reports = []
    Trainer(
        Executor(project.graph, seed=0), dataset, project.training, reports.append, 0.0,
        connectivity_every=every,
    ).train()  # fmt: skip
    measured = [r for r in reports if r.connectivity]
    if every == 0.0:
        assert len(measured) == len(reports)
    else:
        assert len(measured) == 1  # the first report only
    assert set(measured[0].connectivity) == {"tagger"}

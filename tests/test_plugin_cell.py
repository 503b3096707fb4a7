"""A new cell type added in one file — its node type, its equations and a textbook kernel —
validates, unrolls, trains with exact gradients, steps and explains, with no edit anywhere
else; exporting it is refused in one line (no ONNX or PyTorch mapping yet)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from rnn_builder.engine.cells import GRUCell
from rnn_builder.engine.executor import Executor
from rnn_builder.engine.kernels import reference
from rnn_builder.engine.kernels.textbook import TextbookCell
from rnn_builder.engine.stepping import Stepper
from rnn_builder.errors import ExportError
from rnn_builder.files.serialization import project_from_dict, project_to_dict
from rnn_builder.files.templates import new_project
from rnn_builder.graph.explain import explain_node
from rnn_builder.graph.nodes import BUILTIN_NODE_TYPES
from rnn_builder.graph.nodes.base import CellSpec, Equation
from rnn_builder.graph.nodes.cells import RecurrentCell
from rnn_builder.graph.registry import NodeRegistry, default_registry
from rnn_builder.graph.unroll import unroll
from rnn_builder.graph.validation import validate
from rnn_builder.training.tasks import load_dataset
from rnn_builder.training.trainer import Trainer

from .numerics import gradient_errors, random_batch

sigmoid = reference.sigmoid


def mgu_step(weights, x_t, h_prev):
    """Minimal gated unit (Zhou et al., 2016): one forget gate, which also resets."""
    W_if, W_in = reference.gate_blocks(weights["weight_ih"], 2)
    W_hf, W_hn = reference.gate_blocks(weights["weight_hh"], 2)
    b_if, b_in = reference.gate_blocks(weights["bias_ih"], 2)
    b_hf, b_hn = reference.gate_blocks(weights["bias_hh"], 2)
    f = sigmoid(x_t @ W_if.T + b_if + h_prev @ W_hf.T + b_hf)
    u = h_prev @ W_hn.T + b_hn
    n = np.tanh(x_t @ W_in.T + b_in + f * u)
    h = (1.0 - f) * h_prev + f * n
    return {"x": x_t, "h_prev": h_prev, "f": f, "u": u, "n": n, "h": h}


def mgu_step_backward(weights, step, dh):
    W_if, W_in = reference.gate_blocks(weights["weight_ih"], 2)
    W_hf, W_hn = reference.gate_blocks(weights["weight_hh"], 2)
    x_t, h_prev, f, u, n = (step[k] for k in ("x", "h_prev", "f", "u", "n"))
    da_n = dh * f * (1.0 - n * n)
    df = dh * (n - h_prev) + da_n * u
    da_f = df * f * (1.0 - f)
    du = da_n * f
    return {
        "x": da_f @ W_if + da_n @ W_in,
        "h_prev": dh * (1.0 - f) + da_f @ W_hf + du @ W_hn,
        "weight_ih": np.concatenate([da_f.T @ x_t, da_n.T @ x_t]),
        "weight_hh": np.concatenate([da_f.T @ h_prev, du.T @ h_prev]),
        "bias_ih": np.concatenate([da_f.sum(0), da_n.sum(0)]),
        "bias_hh": np.concatenate([da_f.sum(0), du.sum(0)]),
    }


class MinimalGatedUnit(RecurrentCell):
    type_name = "mgu"
    title = "MGU"
    description = "Minimal gated unit: a GRU with one gate."
    params = default_registry().get("gru").params
    cell = CellSpec(gates=("f", "n"))

    def equations(self, params: dict[str, Any]) -> list[Equation]:
        return [
            Equation("f_t = σ(W_if·x_t + b_if + W_hf·h_(t−1) + b_hf)", "the one gate"),
            Equation("n_t = tanh(W_in·x_t + b_in + f_t ⊙ (W_hn·h_(t−1) + b_hn))", "candidate"),
            Equation("h_t = (1 − f_t) ⊙ h_(t−1) + f_t ⊙ n_t", "keep or take the new"),
        ]

    def kernel(self, params):
        return TextbookCell(2, ("h",), mgu_step, mgu_step_backward)


@pytest.fixture
def project():
    return mgu_project()


def mgu_project():
    """The sentiment template with its LSTM swapped for an MGU, on a registry that has it."""
    registry = NodeRegistry()
    for node_type in (*BUILTIN_NODE_TYPES, MinimalGatedUnit):
        registry.register(node_type)
    document = project_to_dict(new_project("many_to_one"))
    for node in document["graph"]["nodes"]:
        if node["type"] == "lstm":
            node["type"] = "mgu"
            node["params"].pop("forget_bias", None)
    return project_from_dict(document, registry)


def test_it_validates_unrolls_and_explains(project):
    report = validate(project.graph)
    assert report.ok, report.errors
    assert report.parameter_shapes["reader"]["weight_hh"] == (64, 32)  # two gates of 32
    unrolled = unroll(project.graph, 6)
    assert sum(1 for key in unrolled.dag if key.node == "reader") == 6
    rows = explain_node(project.graph, report, "reader")
    assert rows[0][0].startswith("f_t") and "weight_ih (64×16)" in rows[-1][1]


def test_its_gradients_are_exact(project):
    executor = Executor(project.graph, dtype=np.float64, seed=1)
    batch = random_batch(executor, batch=3, steps=5, lengths=[5, 3, 4])
    along, single = gradient_errors(executor, batch, entries=60)
    assert along < 1e-6 and single < 1e-6


def test_it_trains_and_steps_to_what_the_whole_pass_computes(project):
    project.dataset.options["sentences"] = 600
    executor = Executor(project.graph, seed=0)
    losses = []
    trainer = Trainer(
        executor,
        load_dataset(project),
        project.training,
        lambda report: losses.append(report.loss) if report.kind == "step" else None,
        report_every=0.0,
        max_steps=40,
    )
    result = trainer.train()
    assert result.steps == 40 and np.mean(losses[-5:]) < 0.8 * np.mean(losses[:5])
    batch = random_batch(executor, batch=2, steps=4)
    whole = executor.forward(batch, train=False)
    stepper = Stepper(executor, batch)
    stepper.run_to_end()
    np.testing.assert_allclose(
        stepper.value("reader", "y"), whole.values[("reader", "y")], atol=1e-6
    )
    shown = stepper.detail(stepper.steps[1].copies[-1]) if stepper.steps else {}
    assert any(
        "f" in stepper.detail(k) for s in stepper.steps for k in s.copies if k.node == "reader"
    )
    del shown


def test_exporting_it_is_refused_in_one_line(project, tmp_path):
    from rnn_builder.export.onnx import export_onnx
    from rnn_builder.export.pytorch import export_pytorch

    executor = Executor(project.graph)
    with pytest.raises(ExportError) as refused:
        export_onnx(executor)
    assert "reader" in str(refused.value) and "\n" not in str(refused.value)
    with pytest.raises(ExportError) as refused:
        export_pytorch(project, executor, tmp_path / "out")
    assert "reader" in str(refused.value) and "\n" not in str(refused.value)
    assert not (tmp_path / "out").exists()


def test_the_textbook_kernel_runs_the_reference_gru_as_the_fast_kernel_does():
    """The adapter itself, held to a fast kernel: outputs, final state and every gradient."""
    rng = np.random.default_rng(3)
    steps, batch, features, hidden = 5, 3, 4, 6
    weights = reference.float64_weights(
        {
            "weight_ih": rng.standard_normal((3 * hidden, features)) * 0.4,
            "weight_hh": rng.standard_normal((3 * hidden, hidden)) * 0.4,
            "bias_ih": rng.standard_normal(3 * hidden) * 0.1,
            "bias_hh": rng.standard_normal(3 * hidden) * 0.1,
        }
    )
    from rnn_builder.engine.cells import CellWeights

    w = CellWeights(**weights)
    x = rng.standard_normal((steps, batch, features))
    h0 = rng.standard_normal((batch, hidden)) * 0.1
    mask = (np.arange(steps)[:, None] < np.array([5, 2, 4])[None, :]).astype(float)[..., None]
    dy = rng.standard_normal((steps, batch, hidden))
    dh_n = rng.standard_normal((batch, hidden))
    textbook = TextbookCell(3, ("h",), reference.gru_step, reference.gru_step_backward)
    y1, f1, c1 = textbook.forward(w, x, (h0,), mask)
    y2, f2, c2 = GRUCell().forward(w, x, (h0,), mask)
    np.testing.assert_allclose(y1, np.asarray(y2), atol=1e-12)
    np.testing.assert_allclose(f1[0], f2[0], atol=1e-12)
    g1 = textbook.backward(w, c1, dy, (dh_n,))
    g2 = GRUCell().backward(w, c2, dy, (dh_n,))
    np.testing.assert_allclose(g1[0], g2[0], atol=1e-12)  # x
    np.testing.assert_allclose(g1[1][0], g2[1][0], atol=1e-12)  # h_0
    for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
        np.testing.assert_allclose(g1[2][name], g2[2][name], atol=1e-12, err_msg=name)
    np.testing.assert_allclose(g1[3], np.asarray(g2[3]), atol=1e-12)  # gradient at each h

"""The executor's behaviour: stepping, teacher forcing, diagnostics, parameters, bad data."""

from __future__ import annotations

import numpy as np
import pytest

from rnn_builder.engine.cells import CellWeights, GRUCell, LSTMCell
from rnn_builder.engine.executor import Batch, Executor, WeightsFileError
from rnn_builder.engine.stepping import Stepper
from rnn_builder.errors import DataError, GraphInvalidError
from rnn_builder.export.weights_import import load_weights
from rnn_builder.files.templates import TEMPLATES, new_project
from rnn_builder.files.weights_file import save_weights
from rnn_builder.graph.model import Graph
from rnn_builder.graph.unroll import UnrolledKey

from .helpers import many_to_one
from .numerics import random_batch


@pytest.mark.parametrize("teacher", [False, True])
@pytest.mark.parametrize("name", list(TEMPLATES))
def test_stepping_to_the_end_equals_the_whole_sequence_pass(name, teacher):
    executor = Executor(new_project(name).graph, dtype=np.float64, seed=3)
    batch = random_batch(executor, lengths=None)
    whole = executor.forward(batch, train=teacher)
    stepper = Stepper(executor, batch, teacher=teacher)
    count = 0
    while not stepper.done:
        stepper.step()
        count += 1
    assert count == len(stepper.steps) > 0
    for key, value in whole.values.items():
        np.testing.assert_allclose(stepper.values[key], value, atol=1e-12, err_msg=str(key))
    for node, prediction in whole.predictions.items():
        shown = stepper.values.get((node, "prediction"))
        if shown is None:
            shown = stepper.detail(UnrolledKey(node, None))["prediction"]
        np.testing.assert_allclose(shown, prediction, atol=1e-12)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize(
    ("activation", "loss", "vocabulary"),
    [("identity", "mse", 0), ("softmax", "mse", 0), ("tanh", "cross_entropy", 6)],
)
def test_stepping_writes_each_step_where_the_whole_pass_puts_it(
    cell, bidirectional, activation, loss, vocabulary
):
    """Live stepping computes cells and Dense layers straight into their rows of the stored
    outputs, a cell reading an input takes that input's side of every step as one product
    (also from token ids), and an MSE output's prediction is its input: with padding and both
    directions, every value and every step's details still equal the whole-sequence pass."""
    graph = Graph()
    graph.add_node("sequence_input", node_id="x", params={"features": 3, "vocabulary": vocabulary})
    graph.add_node(cell, node_id="cell", params={"hidden_size": 4, "bidirectional": bidirectional})
    graph.add_node("dense", node_id="head", params={"units": 5, "activation": activation})
    graph.add_node("output", node_id="out", params={"loss": loss, "target": "y"})
    graph.connect("x", "y", "cell", "x")
    graph.connect("cell", "y", "head", "x")
    graph.connect("head", "y", "out", "x")
    executor = Executor(graph, dtype=np.float64, seed=2)
    for lengths in (None, [5, 2, 4]):
        batch = random_batch(executor, steps=5, lengths=lengths)
        whole = executor.forward(batch)
        stepper = Stepper(executor, batch)
        stepper.run_to_end()
        for key, value in whole.values.items():
            np.testing.assert_allclose(stepper.values[key], value, atol=1e-12, err_msg=str(key))
        np.testing.assert_allclose(
            stepper.values[("out", "prediction")], whole.predictions["out"], atol=1e-12
        )
        for t in range(5):
            np.testing.assert_allclose(
                stepper.detail(UnrolledKey("head", t))["y"],
                whole.values[("head", "y")][t],
                atol=1e-12,
            )
            if not bidirectional:
                np.testing.assert_allclose(
                    stepper.detail(UnrolledKey("cell", t))["h"],
                    whole.values[("cell", "y")][t],
                    atol=1e-12,
                )


def test_stepping_shows_gates_and_states_step_by_step():
    executor = Executor(new_project("many_to_one").graph, dtype=np.float64)
    batch = random_batch(executor, steps=5)
    stepper = Stepper(executor, batch)
    first = stepper.step()
    assert first.t == 0 and UnrolledKey("reader", 0) in first.copies
    detail = stepper.detail(UnrolledKey("reader", 0))
    assert set(detail) == {"h", "c", "i", "f", "g", "o"}
    assert detail["h"].shape == (3, 32) and np.all((detail["f"] > 0) & (detail["f"] < 1))
    with pytest.raises(KeyError):
        stepper.detail(UnrolledKey("reader", 1))  # not computed yet
    stepper.run_to_end()
    with pytest.raises(IndexError, match="reset"):
        stepper.step()
    stepper.reset()
    assert stepper.position == 0 and not stepper.values


def test_stepping_after_a_reset_uses_the_weights_as_they_are_then():
    """The stepper keeps its single-step weights across resets only while the executor's
    weights are unchanged: after training (here: a nudge), a reset steps with the new ones."""
    executor = Executor(new_project("many_to_one").graph, dtype=np.float64)
    batch = random_batch(executor, steps=5)
    stepper = Stepper(executor, batch)
    stepper.run_to_end()
    before = stepper.values[("reader", "h_n")].copy()
    stepper.reset()
    stepper.run_to_end()
    np.testing.assert_array_equal(stepper.values[("reader", "h_n")], before)
    executor.store.flat[...] *= 1.1
    stepper.reset()
    stepper.run_to_end()
    whole = executor.forward(batch)
    assert not np.allclose(stepper.values[("reader", "h_n")], before)
    np.testing.assert_allclose(
        stepper.values[("reader", "h_n")], whole.values[("reader", "h_n")], atol=1e-12
    )


def test_stepping_with_padding_keeps_the_state_after_the_end():
    executor = Executor(new_project("many_to_one").graph, dtype=np.float64)
    batch = random_batch(executor, steps=4, lengths=[4, 2, 3])
    stepper = Stepper(executor, batch)
    stepper.run_to_end()
    whole = executor.forward(batch)
    np.testing.assert_allclose(stepper.values[("reader", "h_n")], whole.values[("reader", "h_n")])
    np.testing.assert_allclose(
        stepper.values[("reader", "h_n")][1], stepper.values[("reader", "y")][1, 1]
    )


def test_teacher_forcing_feeds_targets_and_free_running_feeds_choices():
    executor = Executor(new_project("encoder_decoder_feedback").graph, dtype=np.float64)
    batch = random_batch(executor, steps=4)
    forced = executor.forward(batch, train=True)
    fed = forced.values[("previous_digit", "y")]
    target = batch.targets["digits"]
    assert np.all(fed[0].argmax(-1) == 10)  # the start token
    assert np.all(fed[1:].argmax(-1) == target[:-1])
    free = executor.forward(batch, train=False)
    chosen = free.values[("digit_scores", "y")].argmax(-1)
    assert np.all(free.values[("previous_digit", "y")][1:].argmax(-1) == chosen[:-1])
    sampled = executor.forward(batch, train=False, temperature=5.0, rng=np.random.default_rng(0))
    assert not np.array_equal(
        sampled.values[("previous_digit", "y")], free.values[("previous_digit", "y")]
    )


def test_hidden_state_gradient_norms_per_step():
    executor = Executor(new_project("bidirectional_tagger").graph)
    run = executor.backward(executor.forward(random_batch(executor, steps=6)))
    norms = run.state_grad_norms["tagger"]
    assert set(norms) == {"forward", "reverse"}
    assert norms["forward"].shape == (6,) and np.all(norms["forward"] > 0)
    per_parameter = executor.gradient_norms()
    assert set(per_parameter) == set(executor.parameters)
    assert per_parameter["tagger.weight_hh_reverse"] > 0


def test_vanishing_gradients_show_in_the_norms():
    graph = many_to_one("rnn")
    graph.set_param("cell", "hidden_size", 8)
    executor = Executor(graph, dtype=np.float64)
    executor.parameters["cell.weight_hh"][...] *= 0.1  # a contracting recurrence
    batch = random_batch(executor, steps=30)
    norms = executor.backward(executor.forward(batch)).state_grad_norms["cell"]["forward"]
    assert norms[0] < 1e-10 * norms[-1]


def test_float32_by_default_and_float64_on_request():
    assert Executor(many_to_one()).parameters["cell.weight_hh"].dtype == np.float32
    executor = Executor(many_to_one(), dtype=np.float64)
    run = executor.forward(random_batch(executor))
    assert run.values[("cell", "y")].dtype == np.float64


def test_initialisation_schemes():
    rng = np.random.default_rng(0)
    hidden, inputs = 16, 5
    lstm = LSTMCell()
    weights = CellWeights(
        np.zeros((64, inputs)), np.zeros((64, hidden)), np.zeros(64), np.zeros(64)
    )
    lstm.initialise(rng, weights, "pytorch", forget_bias=0.0)
    assert np.abs(weights.weight_hh).max() <= 1 / np.sqrt(hidden)
    assert np.abs(weights.bias_ih).max() > 0
    lstm.initialise(rng, weights, "orthogonal", forget_bias=1.0)
    for gate in range(4):
        block = weights.weight_hh[gate * hidden : (gate + 1) * hidden]
        np.testing.assert_allclose(block @ block.T, np.eye(hidden), atol=1e-12)
    assert np.all(weights.bias_ih[hidden : 2 * hidden] == 1.0)
    assert np.all(weights.bias_ih[:hidden] == 0.0)
    gru_weights = CellWeights(
        np.zeros((48, inputs)), np.zeros((48, hidden)), np.zeros(48), np.zeros(48)
    )
    GRUCell().initialise(rng, gru_weights, "xavier")
    assert np.abs(gru_weights.weight_ih).max() <= np.sqrt(6 / (inputs + hidden))


def test_same_seed_same_weights_and_independent_of_other_nodes():
    a = Executor(many_to_one(), seed=5).get_parameters()
    b = Executor(many_to_one(), seed=5).get_parameters()
    assert all(np.array_equal(a[k], b[k]) for k in a)
    bigger = many_to_one()
    bigger.add_node("dense", node_id="aaa_extra", params={"units": 2})
    bigger.connect("dense", "y", "aaa_extra", "x")
    c = Executor(bigger, seed=5).get_parameters()
    assert np.array_equal(a["cell.weight_hh"], c["cell.weight_hh"])
    assert not np.array_equal(
        a["cell.weight_hh"], Executor(many_to_one(), seed=6).parameters["cell.weight_hh"]
    )


def test_weights_round_trip_through_npz_and_refuse_what_does_not_fit(tmp_path):
    executor = Executor(new_project("stacked_lstm").graph, seed=1)
    path = save_weights(executor, tmp_path / "w.npz")
    other = Executor(new_project("stacked_lstm").graph, seed=2)
    load_weights(other, path)
    for name, value in executor.parameters.items():
        np.testing.assert_array_equal(other.parameters[name], value)
    assert "layer_1.weight_ih" in executor.parameters
    wrong = Executor(new_project("many_to_one").graph)
    with pytest.raises(WeightsFileError, match="do not fit"):
        load_weights(wrong, path)
    with pytest.raises(WeightsFileError, match="no weights file"):
        load_weights(other, tmp_path / "missing.npz")
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(WeightsFileError, match="not a readable"):
        load_weights(other, tmp_path / "junk.npz")
    whole = path.read_bytes()
    for name, damaged in (("magic", b"PK\x03\x04 garbage after the magic"), ("cut", whole[:-200])):
        (tmp_path / f"{name}.npz").write_bytes(damaged)
        with pytest.raises(WeightsFileError, match="not a readable"):
            load_weights(other, tmp_path / f"{name}.npz")
    np.save(tmp_path / "objects.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    import zipfile

    with zipfile.ZipFile(tmp_path / "pickled.npz", "w") as archive:
        archive.write(tmp_path / "objects.npy", "layer_1.weight_ih.npy")
    with pytest.raises(WeightsFileError):
        load_weights(other, tmp_path / "pickled.npz")  # never unpickled
    values = executor.get_parameters()
    values["layer_1.weight_ih"] = values["layer_1.weight_ih"][:, :3]
    with pytest.raises(WeightsFileError, match="shape"):
        other.set_parameters(values)


def test_bad_batches_get_clear_messages():
    executor = Executor(new_project("many_to_one").graph)
    good = random_batch(executor, steps=4)
    cases = [
        (Batch({}), "no inputs"),
        (Batch({"words": good.inputs["words"] + 100}, good.targets), "vocabulary of 40"),
        (Batch({"words": good.inputs["words"].astype(float)}, good.targets), "token ids"),
        (Batch(good.inputs, {"sentiment": np.array([0, 5, 1])}), "only 2 classes"),
        (Batch(good.inputs, {"sentiment": np.array([[0, 1, 1]])}), "class numbers shaped"),
        (Batch(good.inputs, good.targets, masks={"words": np.ones((2, 3))}), "mask of 'words'"),
        (Batch(good.inputs, good.targets, masks={"nowhere": np.ones((4, 3))}), "not a time axis"),
    ]
    for batch, words in cases:
        with pytest.raises(DataError, match=words):
            executor.forward(batch)
    features = Executor(many_to_one())
    with pytest.raises(DataError, match="3 features"):
        features.forward(Batch({"x": np.zeros((4, 2, 5))}))
    with pytest.raises(DataError, match="NaN"):
        features.forward(Batch({"x": np.full((4, 2, 3), np.nan)}))


def test_an_invalid_graph_cannot_run():
    graph = many_to_one()
    graph.remove_node("dense")
    with pytest.raises(GraphInvalidError, match="cannot run"):
        Executor(graph)


def test_inference_without_targets_gives_predictions_and_no_loss():
    executor = Executor(new_project("many_to_many_equal").graph)
    batch = random_batch(executor, steps=5)
    run = executor.forward(Batch(batch.inputs), train=False)
    assert run.loss == 0.0 and not run.losses
    probabilities = run.predictions["tags"]
    assert probabilities.shape == (5, 3, 3)
    np.testing.assert_allclose(probabilities.sum(-1), 1.0, rtol=1e-5)


@pytest.mark.parametrize("activation", ["identity", "tanh", "softmax"])
def test_a_dense_layer_takes_a_cells_feature_major_output_as_it_would_a_copy(activation):
    """Cells hand their outputs on as (T, B, H) views of their (T, H, B) arrays, and a Dense
    layer multiplies those step by step; its outputs, its weight gradients and the gradient it
    hands back (feature-major again) equal those for an ordinary contiguous copy."""
    rng = np.random.default_rng(4)
    graph = Graph()
    graph.add_node("sequence_input", node_id="x", params={"features": 3})
    graph.add_node("lstm", node_id="cell", params={"hidden_size": 5})
    graph.add_node("dense", node_id="head", params={"units": 4, "activation": activation})
    graph.add_node("output", node_id="out", params={"loss": "mse", "target": "y"})
    graph.connect("x", "y", "cell", "x")
    graph.connect("cell", "y", "head", "x")
    graph.connect("head", "y", "out", "x")
    executor = Executor(graph, dtype=np.float64, seed=1)
    run = executor.forward(random_batch(executor, steps=6, batch=3))
    view = run.values[("cell", "y")]
    assert view.shape == (6, 3, 5) and view.strides[1] == view.itemsize  # feature-major
    head, dy = executor.ops["head"], rng.standard_normal((6, 3, 4))
    results = []
    for x in (view, np.ascontiguousarray(view)):
        head.grads["weight"][...] = 0.0
        head.grads["bias"][...] = 0.0
        outputs, cache = head.forward(run, {"x": x})
        dx = head.backward(run, cache, {"y": dy})["x"]
        results.append((outputs["y"], dx, head.grads["weight"].copy(), head.grads["bias"].copy()))
    for ours, plain in zip(*results, strict=True):
        np.testing.assert_allclose(ours, plain, atol=1e-12)
    assert results[0][1].strides[1] == results[0][1].itemsize  # handed back feature-major

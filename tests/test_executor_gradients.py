"""Exact gradients: every node type and every template against central finite differences
(float64, relative error below 1e-6)."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from rnn_builder.engine import overlap as chunking
from rnn_builder.engine.executor import Executor
from rnn_builder.files.templates import TEMPLATES, new_project
from rnn_builder.graph.model import Graph
from rnn_builder.graph.nodes import ACTIVATIONS
from rnn_builder.graph.plan import plan_for

from .helpers import wire
from .numerics import gradient_errors, random_batch

TOLERANCE = 1e-6


def assert_exact(graph: Graph, train: bool = True, lengths=None, seed: int = 3) -> None:
    executor = Executor(graph, dtype=np.float64, seed=seed)
    batch = random_batch(executor, lengths=lengths)
    direction, vector = gradient_errors(executor, batch, train=train)
    assert direction < TOLERANCE and vector < TOLERANCE, (direction, vector)
    assert np.abs(executor.store.grad_flat).max() > 0


@pytest.mark.parametrize("name", list(TEMPLATES))
def test_every_template(name, overlap):
    assert_exact(new_project(name).graph)


@pytest.mark.parametrize(
    "name", ["many_to_one", "many_to_many_equal", "bidirectional_tagger", "stacked_lstm"]
)
def test_templates_with_padded_sequences(name, overlap):
    assert_exact(new_project(name).graph, lengths=[4, 2, 3])


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_dense_activations_on_sequences(activation):
    g = Graph()
    g.add_node("sequence_input", node_id="x", params={"features": 3})
    g.add_node("dense", node_id="d", params={"units": 4, "activation": activation})
    g.add_node("dense", node_id="head", params={"units": 2})
    g.add_node("output", node_id="out", params={"loss": "mse"})
    wire(g, "x.y", "d.x", "d.y", "head.x", "head.y", "out.x")
    assert_exact(g)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_cells_with_initial_states_and_both_final_outputs(cell, bidirectional, overlap):
    """Vector → Dense → h_0 (and c_0); y per step and h_n both reach losses."""
    g = Graph()
    width = 4 * (2 if bidirectional else 1)
    g.add_node("sequence_input", node_id="x", params={"features": 3})
    g.add_node("vector_input", node_id="v", params={"features": 2})
    g.add_node("dense", node_id="init", params={"units": width, "activation": "tanh"})
    g.add_node(cell, node_id="cell", params={"hidden_size": 4, "bidirectional": bidirectional})
    g.add_node("dense", node_id="tags", params={"units": 3})
    g.add_node("output", node_id="per_step")
    g.add_node("output", node_id="summary", params={"loss": "mse", "target": "summary"})
    wire(
        g,
        "x.y",
        "cell.x",
        "v.y",
        "init.x",
        "init.y",
        "cell.h_0",
        "cell.y",
        "tags.x",
        "tags.y",
        "per_step.x",
        "cell.h_n",
        "summary.x",
    )
    if cell == "lstm":
        g.add_node("dense", node_id="init_c", params={"units": width})
        g.add_node("output", node_id="memory", params={"loss": "mse", "target": "memory"})
        wire(g, "v.y", "init_c.x", "init_c.y", "cell.c_0", "cell.c_n", "memory.x")
    assert_exact(g)
    assert_exact(g, lengths=[4, 1, 3])


def test_tokens_one_hot_into_a_relu_rnn_mean_and_binary_loss():
    g = Graph()
    g.add_node("sequence_input", node_id="x", params={"vocabulary": 6})
    g.add_node("rnn", node_id="cell", params={"hidden_size": 5, "nonlinearity": "relu"})
    g.add_node("mean_over_time", node_id="mean")
    g.add_node("dense", node_id="head", params={"units": 3})
    g.add_node("output", node_id="out", params={"loss": "binary_cross_entropy"})
    wire(g, "x.y", "cell.x", "cell.y", "mean.x", "mean.y", "head.x", "head.y", "out.x")
    assert_exact(g)
    assert_exact(g, lengths=[2, 4, 3])


def test_repeat_concat_last_step_and_a_delay_outside_any_loop():
    g = Graph()
    g.add_node("vector_input", node_id="v", params={"features": 3})
    g.add_node("repeat", node_id="rep", params={"steps": 4})
    g.add_node("gru", node_id="cell", params={"hidden_size": 4})
    g.add_node("delay", node_id="late")
    g.add_node("concat", node_id="cat")
    g.add_node("lstm", node_id="second", params={"hidden_size": 3})
    g.add_node("last_step", node_id="last")
    g.add_node("dense", node_id="head", params={"units": 2})
    g.add_node("output", node_id="out")
    wire(
        g,
        "v.y",
        "rep.x",
        "rep.y",
        "cell.x",
        "cell.y",
        "late.x",
        "late.y",
        "cat.a",
        "rep.y",
        "cat.b",
        "cat.y",
        "second.x",
        "second.y",
        "last.x",
        "last.y",
        "head.x",
        "head.y",
        "out.x",
    )
    assert_exact(g)


def test_embedding_and_concat_of_vectors():
    g = Graph()
    g.add_node("sequence_input", node_id="words", params={"vocabulary": 7})
    g.add_node("embedding", node_id="embed", params={"vocabulary": 7, "dimension": 3})
    g.add_node("lstm", node_id="reader", params={"hidden_size": 4})
    g.add_node("vector_input", node_id="extra", params={"features": 2})
    g.add_node("concat", node_id="both")
    g.add_node("dense", node_id="head", params={"units": 3})
    g.add_node("output", node_id="out")
    wire(
        g,
        "words.y",
        "embed.tokens",
        "embed.y",
        "reader.x",
        "reader.h_n",
        "both.a",
        "extra.y",
        "both.b",
        "both.y",
        "head.x",
        "head.y",
        "out.x",
    )
    assert_exact(g)


def hidden_state_loop() -> Graph:
    """A loop through a cell's own state, not tied to any output: runs step by step even
    while training."""
    g = Graph()
    g.add_node("sequence_input", node_id="x", params={"features": 3})
    g.add_node("concat", node_id="cat")
    g.add_node("lstm", node_id="cell", params={"hidden_size": 4})
    g.add_node("delay", node_id="d")
    g.add_node("dense", node_id="head", params={"units": 2, "activation": "tanh"})
    g.add_node("output", node_id="out", params={"loss": "mse"})
    wire(
        g,
        "x.y",
        "cat.a",
        "d.y",
        "cat.b",
        "cat.y",
        "cell.x",
        "cell.y",
        "d.x",
        "cell.y",
        "head.x",
        "head.y",
        "out.x",
    )
    return g


def test_a_feedback_loop_trained_step_by_step():
    executor = Executor(hidden_state_loop(), dtype=np.float64)
    assert any(segment.is_loop for segment in plan_for(executor.graph, executor.report))
    assert_exact(hidden_state_loop())
    assert_exact(hidden_state_loop(), lengths=[4, 2, 3])


def test_free_running_decoder_has_exact_gradients_through_its_choices():
    assert_exact(new_project("encoder_decoder_feedback").graph, train=False)


def test_regression_feedback_passes_gradient_through_the_loop():
    g = Graph()
    g.add_node("vector_input", node_id="v", params={"features": 2})
    g.add_node("dense", node_id="start", params={"units": 4, "activation": "tanh"})
    g.add_node("gru", node_id="writer", params={"hidden_size": 4})
    g.add_node("dense", node_id="value", params={"units": 2})
    g.add_node("delay", node_id="previous", params={"steps": 4})
    g.add_node("output", node_id="out", params={"loss": "mse"})
    wire(
        g,
        "v.y",
        "start.x",
        "start.y",
        "writer.h_0",
        "writer.y",
        "value.x",
        "value.y",
        "out.x",
        "value.y",
        "previous.x",
        "previous.y",
        "writer.x",
    )
    assert_exact(g, train=False)  # free running: the fed-back values carry gradient


@pytest.mark.parametrize("name", ["many_to_many_equal", "adding_problem", "bidirectional_tagger"])
def test_chunks_taken_on_the_helper_thread_give_the_same_gradients(name, monkeypatch):
    """RNN, LSTM, bidirectional GRU: with the work split into chunks for the helper thread, the
    helper really takes chunks, and the gradients are those of the work done in one piece."""
    graph = new_project(name).graph
    executor = Executor(graph, dtype=np.float64, seed=5)
    batch = random_batch(executor, steps=9, lengths=[9, 4, 7])
    executor.backward(executor.forward(batch))
    whole = executor.store.grad_flat.copy()

    taken = []  # (steps, thread) of every chunk the helper took
    take_chunks = chunking._take_chunks

    def counting(queue, work, modes):
        def counted(lo, hi):
            taken.append((hi - lo, threading.current_thread().name))
            return work(lo, hi)

        return take_chunks(queue, counted, modes)

    monkeypatch.setattr(chunking, "_take_chunks", counting)
    monkeypatch.setattr(chunking, "OVERLAP_MACS", 0)
    monkeypatch.setattr(chunking, "OVERLAP_ELEMENTS", 0)
    executor.backward(executor.forward(batch))
    assert len(taken) >= 3  # 9 steps: chunks of 2 (and the forward factors of LSTM and GRU)
    assert {thread for _, thread in taken} == {"rnn-builder-overlap_0"}
    np.testing.assert_allclose(executor.store.grad_flat, whole, rtol=1e-12, atol=1e-14)


def test_a_pass_cut_short_leaves_the_helper_free_for_the_next(monkeypatch):
    """A loop that stops in the middle (here: an error after its first chunks went to the
    helper) never asks for its results; the pass's end must still release the helper, or the
    next pass — and the interpreter's exit — would wait for it for ever."""
    monkeypatch.setattr(chunking, "OVERLAP_MACS", 0)
    monkeypatch.setattr(chunking, "OVERLAP_ELEMENTS", 0)
    executor = Executor(new_project("many_to_many_equal").graph, dtype=np.float64, seed=5)
    batch = random_batch(executor, steps=12)
    run = executor.forward(batch)
    ready = chunking.Chunked.ready

    def failing(self, t):
        ready(self, t)
        if self.queue is not None:  # a chunk is with the helper: now the loop fails
            raise FloatingPointError("cut short")

    monkeypatch.setattr(chunking.Chunked, "ready", failing)
    with pytest.raises(FloatingPointError):
        executor.backward(run)
    monkeypatch.setattr(chunking.Chunked, "ready", ready)
    finished = chunking._helper().submit(lambda: "free")
    assert finished.result(timeout=10) == "free"
    executor.backward(executor.forward(batch))  # and a whole pass works as before


def test_a_loop_cut_short_outside_a_pass_does_not_hold_up_the_next(monkeypatch):
    """A cell run directly, not through the executor, that fails in its loop: the next loop
    on the same thread ends the abandoned hand-off before it hands on its own chunks (run on a
    thread of its own, so that a regression fails here instead of hanging the suite)."""
    from rnn_builder.engine.cells import CellWeights, ElmanCell

    monkeypatch.setattr(chunking, "OVERLAP_MACS", 0)
    rng = np.random.default_rng(0)
    weights = CellWeights(*(rng.standard_normal(s) for s in [(3, 2), (3, 3), (3,), (3,)]))
    cell = ElmanCell()
    y, _, cache = cell.forward(weights, rng.standard_normal((12, 4, 2)), (np.zeros((4, 3)),))
    ready = chunking.Chunked.ready
    outcome = []

    def failing(self, t):
        ready(self, t)
        if self.queue is not None and not outcome:
            outcome.append("cut short")
            raise FloatingPointError("cut short")

    def scenario():
        with pytest.raises(FloatingPointError):
            cell.backward(weights, cache, np.ones_like(y), (None,))
        grads = cell.backward(weights, cache, np.ones_like(y), (None,))[2]
        outcome.append(np.isfinite(grads["weight_hh"]).all())

    monkeypatch.setattr(chunking.Chunked, "ready", failing)
    worker = threading.Thread(target=scenario, daemon=True)
    worker.start()
    worker.join(timeout=20)
    assert not worker.is_alive() and outcome == ["cut short", True]
    assert chunking._helper().submit(lambda: "free").result(timeout=10) == "free"


def test_the_helper_thread_handles_floating_point_errors_as_the_caller_does(monkeypatch):
    """NumPy's error handling is per thread: work taken on the helper must follow the
    caller's (the trainer ignores overflow and NaN, and checks the loss itself)."""
    import warnings

    monkeypatch.setattr(chunking, "OVERLAP_MACS", 0)
    monkeypatch.setattr(chunking, "OVERLAP_ELEMENTS", 0)
    g = Graph()
    g.add_node("sequence_input", node_id="x", params={"features": 3})
    g.add_node("gru", node_id="cell", params={"hidden_size": 4})
    g.add_node("output", node_id="out", params={"loss": "mse"})
    wire(g, "x.y", "cell.x", "cell.y", "out.x")
    executor = Executor(g, dtype=np.float64, seed=5)
    parameters = executor.parameters
    parameters["cell.bias_ih"][:4] = -1e3  # r = 0,
    parameters["cell.bias_ih"][4:8] = -1e3  # z = 0,
    parameters["cell.bias_ih"][8:] = 1e3  # n = 1 = h after the first step,
    parameters["cell.weight_hh"][8:] = 1e308  # then W_hn h = inf, and r (W_hn h) = 0 * inf
    batch = random_batch(executor, steps=9)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a warning in either thread fails the test
        with np.errstate(all="ignore"):
            executor.backward(executor.forward(batch))


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_a_cell_over_no_steps_has_zero_weight_gradients(cell):
    from rnn_builder.engine.cells import CellWeights
    from rnn_builder.engine.ops.cell import kernel_of
    from rnn_builder.graph.registry import default_registry

    gates = {"rnn": 1, "lstm": 4, "gru": 3}[cell]
    hidden, features, batch = 3, 2, 4
    weights = CellWeights(
        np.ones((gates * hidden, features)),
        np.ones((gates * hidden, hidden)),
        np.ones(gates * hidden),
        np.ones(gates * hidden),
    )
    unit = kernel_of(default_registry().get(cell), {"hidden_size": hidden})
    initial = tuple(np.zeros((batch, hidden)) for _ in unit.state_names)
    _y, _final, cache = unit.forward(weights, np.zeros((0, batch, features)), initial)
    nothing = tuple(None for _ in unit.state_names)
    _dx, _dinitial, grads, _dhs = unit.backward(weights, cache, None, nothing)
    assert all(np.all(g == 0) for g in grads.values())
